//! `hubsync bench <name>`: benchmarks that print numbers (or one JSON object with `--json`).

mod apalis_probe;
mod queue;
mod support;

use clap::{Args, Subcommand};

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub which: Which,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Which {
    /// The job queue, against apalis-redis 1.0.0 as the baseline.
    Queue(queue::QueueBenchArgs),
    /// An apalis-redis 1.0.0 worker process (the baseline's counterpart of `queue-probe`).
    #[command(hide = true)]
    ApalisProbe(apalis_probe::ApalisProbeArgs),
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.which {
        Which::Queue(a) => queue::run(a).await,
        Which::ApalisProbe(a) => apalis_probe::run(a).await,
    }
}
