//! The `worker` role.
//!
//! Runs in: `hubsync worker` (and `hubsync dev`). Runs every side effect: one apalis worker
//! pool per queue on the durable Redis queues ([`hubsync_queue::RedisQueue`]), realtime
//! (webhook work, `realtime_concurrency` jobs at once) and bulk (full syncs,
//! `bulk_concurrency`), so bulk work never takes realtime slots. Any number of replicas run
//! at once; leases keep a job on one of them.
//!
//! - [`handler`]: what each job does (the sync engine in `hubsync_sync::engine`, schema setup,
//!   full-sync shards) and how failures reach the queue.
//! - [`pools`]: the apalis monitor, graceful shutdown, restarts after Redis errors.

pub mod handler;
mod pools;

use tokio::sync::watch;

pub use handler::{Handler, handle_job};

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

/// Runs the role until `shutdown` turns true: in-flight jobs get a grace period, then the
/// pools stop. Redis errors never end it: a failed worker is restarted.
pub async fn run(
    ctx: hubsync_sync::SyncContext,
    jobs: hubsync_sync::JobQueues,
    opts: WorkerOptions,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    pools::run(ctx, jobs, opts, shutdown).await
}
