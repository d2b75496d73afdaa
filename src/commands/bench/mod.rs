//! `hubsync bench <name>`: benchmarks that print numbers (or one JSON object with `--json`).

use clap::{Args, Subcommand};

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub which: Which,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Which {
    /// The job queue, against apalis-redis 1.0.0 as the baseline.
    Queue,
}

pub async fn run(_args: BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}
