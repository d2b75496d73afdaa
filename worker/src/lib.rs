//! The `worker` role.
//!
//! Runs in: `hubsync worker` (and `hubsync dev`). Runs every side effect: job handlers registered with apalis on the Redis queue; any number of
//! replicas run at once. Until the job handlers land it waits for shutdown; the binary
//! checks its database and Redis connections and keeps the presence heartbeat every role has.

pub mod ratelimit;

use tokio::sync::watch;

/// Runs the role until `shutdown` turns true.
pub async fn run(mut shutdown: watch::Receiver<bool>) {
    tracing::info!("worker ready");
    let _ = shutdown.wait_for(|stop| *stop).await;
    tracing::info!("worker stopped");
}
