//! The reaper: per process and queue, every `reaper_period` it promotes due delayed jobs,
//! reclaims expired leases and trims retention, each in bounded chunks (looping while a
//! chunk comes back full, up to a small budget per tick). Several reapers on one queue are
//! safe: every step is one atomic, idempotent script.

use std::sync::Arc;

use crate::{Result, client::Shared, keeper::Pause, ops};

/// Chunks per step and tick.
const MAX_CHUNKS_PER_TICK: usize = 20;

/// Aborts the reaper task when dropped (with the queue's shared state).
pub(crate) struct ReaperHandle(tokio::task::JoinHandle<()>);

impl Drop for ReaperHandle {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What one reaper pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReapReport {
    /// Delayed jobs made waiting.
    pub promoted: u64,
    /// Expired leases returned to waiting.
    pub reclaimed: u64,
    /// Expired leases on their last attempt, buried.
    pub buried: u64,
    /// Completed jobs removed after retention.
    pub completed_removed: u64,
    /// Dead jobs removed after retention.
    pub dead_removed: u64,
}

/// Spawns the reaper. It holds its own clones of the connection and config, not `shared`
/// itself, so dropping the last `Shared` (which owns the handle) stops it.
pub(crate) fn spawn(shared: &Arc<Shared>) -> ReaperHandle {
    let weak = Arc::downgrade(shared);
    let period = shared.cfg.reaper_period;
    ReaperHandle(tokio::spawn(async move {
        let mut pause = Pause::new();
        loop {
            tokio::time::sleep(period).await;
            let Some(shared) = weak.upgrade() else { break };
            match reap_once(&shared).await {
                Ok(r) => {
                    pause.reset();
                    if r != ReapReport::default() {
                        tracing::debug!(queue = %shared.cfg.name, ?r, "reaper pass");
                    }
                }
                Err(e) => {
                    tracing::warn!(queue = %shared.cfg.name, error = %e, "reaper pass failed");
                    drop(shared);
                    tokio::time::sleep(pause.bump()).await;
                }
            }
        }
    }))
}

/// One bounded pass.
pub(crate) async fn reap_once(shared: &Shared) -> Result<ReapReport> {
    let mut conn = shared.conn.clone();
    let keys = &shared.keys;
    let cfg = &shared.cfg;
    let chunk = cfg.chunk as u64;
    let mut r = ReapReport::default();
    for _ in 0..MAX_CHUNKS_PER_TICK {
        let (n, _) = ops::promote_due::run(&mut conn, keys, cfg.chunk).await?;
        r.promoted += n;
        if n < chunk {
            break;
        }
    }
    for _ in 0..MAX_CHUNKS_PER_TICK {
        let (n, b) = ops::reclaim_expired::run(&mut conn, keys, cfg.chunk).await?;
        r.reclaimed += n;
        r.buried += b;
        if n + b < chunk {
            break;
        }
    }
    let dead_ms = cfg
        .dead_retention
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(-1);
    for _ in 0..MAX_CHUNKS_PER_TICK {
        let (c, d) = ops::trim_retention::run(
            &mut conn,
            keys,
            ops::ms(cfg.completed_retention),
            dead_ms,
            cfg.chunk,
        )
        .await?;
        r.completed_removed += c;
        r.dead_removed += d;
        if c < chunk && d < chunk {
            break;
        }
    }
    Ok(r)
}
