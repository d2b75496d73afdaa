//! The `scheduler` role.
//!
//! Runs in: `hubsync scheduler` (and `hubsync dev`). Only enqueues: periodic sharded full syncs, fired once per period across all replicas. Until
//! the schedule lands it waits for shutdown; the binary
//! checks its database and Redis connections and keeps the presence heartbeat every role has.

use tokio::sync::watch;

/// When the scheduler fires.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// Time between two full syncs of one integration.
    pub full_sync_interval: std::time::Duration,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        Self {
            full_sync_interval: std::time::Duration::from_secs(24 * 3600),
        }
    }
}

/// Runs the role until `shutdown` turns true.
pub async fn run(
    ctx: hubsync_sync::SyncContext,
    jobs: hubsync_sync::JobQueues,
    opts: SchedulerOptions,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = (ctx, jobs, opts);
    tracing::info!("scheduler ready");
    let _ = shutdown.wait_for(|stop| *stop).await;
    tracing::info!("scheduler stopped");
}
