//! The `scheduler` role.
//!
//! Runs in: `hubsync scheduler` (and `hubsync dev`). Only enqueues: every tick it looks at the
//! connected integrations and starts a `scheduled` full sync
//! ([`hubsync_sync::full_sync::start_run`]) for each one that is due ([`slots`]): once per
//! `full_sync_interval`, at a slot spread over the interval by the integration id. Any number
//! of replicas may run: a Redis `SET NX` claim on `<prefix>:fullsync:<integration>:<period>`
//! lets one of them start a period's run, and `start_run` refuses while a run is going.
//! Database and Redis errors are logged and retried on the next tick; the loop only ends on
//! shutdown.

pub mod slots;
mod tick;

use std::time::Duration;

use tokio::sync::watch;

pub use tick::{TickReport, claim, claim_key, tick};

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

impl SchedulerOptions {
    /// How often [`run`] looks for due integrations: a 48th of the interval, between 1 s and
    /// 30 s (30 s for the default day).
    pub fn tick(&self) -> Duration {
        (self.full_sync_interval / 48).clamp(Duration::from_secs(1), Duration::from_secs(30))
    }
}

/// Runs the role until `shutdown` turns true, looking for due integrations every
/// [`SchedulerOptions::tick`].
pub async fn run(
    ctx: hubsync_sync::SyncContext,
    jobs: hubsync_sync::JobQueues,
    opts: SchedulerOptions,
    shutdown: watch::Receiver<bool>,
) {
    let every = opts.tick();
    run_every(ctx, jobs, opts, every, shutdown).await;
}

/// [`run`] with an explicit tick.
pub async fn run_every(
    ctx: hubsync_sync::SyncContext,
    jobs: hubsync_sync::JobQueues,
    opts: SchedulerOptions,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let interval = opts.full_sync_interval.max(Duration::from_millis(1));
    tracing::info!(
        full_sync_interval_s = interval.as_secs_f64(),
        tick_ms = every.as_millis(),
        "scheduler ready"
    );
    loop {
        if *shutdown.borrow() {
            break;
        }
        match tick::tick(&ctx, &jobs, interval).await {
            Ok(report)
                if !report.started.is_empty()
                    || !report.cancelled.is_empty()
                    || report.errors > 0 =>
            {
                tracing::info!(
                    checked = report.checked,
                    started = report.started.len(),
                    cancelled = report.cancelled.len(),
                    errors = report.errors,
                    "scheduler tick"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "scheduler tick failed; retrying next tick"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            changed = shutdown.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
    }
    tracing::info!("scheduler stopped");
}

#[cfg(test)]
mod tests;
