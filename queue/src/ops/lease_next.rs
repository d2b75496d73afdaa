//! `lease_next.lua`: promote due jobs, then lease up to `max_jobs`, tenants round robin.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use redis::aio::ConnectionManager;

use super::{array, int, invocation, protocol, string};
use crate::{Result, keys::Keys};

lua_script!("lease_next.lua");
pub(crate) const NUM_KEYS: usize = 7;

/// Lease calls made by this process. Tokens are `<worker_id>:<call>:<n>`: unique because
/// worker ids are, and without a per-job counter in Redis.
static CALLS: AtomicU64 = AtomicU64::new(0);

/// One leased job as returned by the script.
#[derive(Debug, Clone)]
pub(crate) struct LeasedJob {
    pub id: String,
    pub token: String,
    pub attempts: u32,
    pub max_attempts: u32,
    pub tenant: String,
    pub enq_ms: u64,
    pub wait_ms: u64,
    pub payload: String,
    pub meta: String,
}

/// When the next delayed job is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NextDue {
    Paused,
    Never,
    In(Duration),
}

pub(crate) struct LeaseBatch {
    pub next_due: NextDue,
    pub jobs: Vec<LeasedJob>,
}

pub(crate) async fn run(
    conn: &mut ConnectionManager,
    keys: &Keys,
    worker_id: &str,
    lease_ms: u64,
    max_jobs: usize,
    promote_chunk: usize,
) -> Result<LeaseBatch> {
    let mut inv = invocation::<NUM_KEYS>(
        &SCRIPT,
        [
            &keys.ring,
            &keys.active,
            &keys.delayed,
            &keys.marker,
            &keys.stats,
            &keys.tenants,
            &keys.paused,
        ],
        keys.tag(),
    );
    inv.arg(worker_id)
        .arg(lease_ms)
        .arg(max_jobs)
        .arg(promote_chunk)
        .arg(CALLS.fetch_add(1, Ordering::Relaxed));
    let reply = array("lease_next", inv.invoke_async(conn).await?)?;
    let Some((head, rest)) = reply.split_first() else {
        return Err(protocol("lease_next", "empty reply".to_owned()));
    };
    let next_due = match int(head) {
        Some(-2) => NextDue::Paused,
        Some(d) if d >= 0 => NextDue::In(Duration::from_millis(d.unsigned_abs())),
        _ => NextDue::Never,
    };
    if rest.len() % 9 != 0 {
        return Err(protocol("lease_next", format!("{} job values", rest.len())));
    }
    let bad = |what: &str| protocol("lease_next", format!("bad {what}"));
    let jobs = rest
        .chunks(9)
        .map(|f| {
            Ok(LeasedJob {
                id: string(&f[0]).ok_or_else(|| bad("id"))?,
                token: string(&f[1]).ok_or_else(|| bad("token"))?,
                attempts: int(&f[2])
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or_else(|| bad("attempts"))?,
                max_attempts: int(&f[3])
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or_else(|| bad("max"))?,
                tenant: string(&f[4]).ok_or_else(|| bad("tenant"))?,
                enq_ms: int(&f[5]).and_then(|v| u64::try_from(v).ok()).unwrap_or(0),
                wait_ms: int(&f[6]).and_then(|v| u64::try_from(v).ok()).unwrap_or(0),
                payload: string(&f[7]).unwrap_or_default(),
                meta: string(&f[8]).unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(LeaseBatch { next_due, jobs })
}
