//! `hubsync queue-probe` (hidden): a worker process on a test queue, for the queue's
//! durability tests and benchmarks.

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct ProbeArgs {}

pub async fn run(_args: ProbeArgs) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}
