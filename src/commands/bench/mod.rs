//! `hubsync bench <name>`: benchmarks that print numbers (or one JSON object with `--json`).

mod apalis_probe;
mod e2e;
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
    /// End-to-end latency (webhook → write in the other system) and ingest throughput of a
    /// real cluster against both simulators, beside a bare axum → Redis handler.
    E2e(e2e::E2eBenchArgs),
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.which {
        Which::Queue(a) => queue::run(a).await,
        Which::ApalisProbe(a) => apalis_probe::run(a).await,
        Which::E2e(a) => e2e::run(a).await,
    }
}
