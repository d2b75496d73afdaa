//! The `worker` role.
//!
//! Runs in: `hubsync worker` (and `hubsync dev`). Runs every side effect: job handlers
//! registered with apalis on the Redis queues; any number of replicas run at once.

use tokio::sync::watch;

/// How many jobs one worker process runs at once, per queue.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    pub realtime_concurrency: usize,
    pub bulk_concurrency: usize,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            realtime_concurrency: 32,
            bulk_concurrency: 8,
        }
    }
}

/// Runs the role until `shutdown` turns true.
pub async fn run(
    ctx: hubsync_sync::SyncContext,
    jobs: hubsync_sync::JobQueues,
    opts: WorkerOptions,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let _ = (ctx, jobs, opts);
    tracing::info!("worker ready");
    let _ = shutdown.wait_for(|stop| *stop).await;
    tracing::info!("worker stopped");
    Ok(())
}
