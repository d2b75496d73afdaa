//! The `worker` role.
//!
//! Runs in: `hubsync worker` (and `hubsync dev`). Runs every side effect: job handlers
//! registered with apalis on the Redis queues; any number of replicas run at once.

use tokio::sync::watch;

/// Runs the role until `shutdown` turns true.
pub async fn run(
    ctx: hubsync_sync::SyncContext,
    jobs: hubsync_sync::JobQueues,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let _ = (ctx, jobs);
    tracing::info!("worker ready");
    let _ = shutdown.wait_for(|stop| *stop).await;
    tracing::info!("worker stopped");
    Ok(())
}
