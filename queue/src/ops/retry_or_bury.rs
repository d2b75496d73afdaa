//! `retry_or_bury.lua`: retry with backoff, defer without using an attempt, or bury.

use redis::aio::ConnectionManager;

use super::{array, int, invocation, protocol};
use crate::{Result, keys::Keys};

lua_script!("retry_or_bury.lua");
pub(crate) const NUM_KEYS: usize = 5;

/// What to do with a failed job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailMode {
    /// Uses an attempt; retried after the delay while attempts remain, else dead.
    Fail,
    /// Retried after the delay without using an attempt.
    Defer,
    /// Dead at once.
    Abort,
}

#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub id: String,
    pub token: String,
    pub mode: FailMode,
    pub delay_ms: u64,
    pub error: String,
    pub run_ms: u64,
}

/// Outcome per failure, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Settled {
    Stale,
    Retried,
    Deferred,
    Dead,
}

pub(crate) async fn run(
    conn: &mut ConnectionManager,
    keys: &Keys,
    max_deferrals: u32,
    failures: &[Failure],
) -> Result<Vec<Settled>> {
    let mut inv = invocation::<NUM_KEYS>(
        &SCRIPT,
        [
            &keys.active,
            &keys.delayed,
            &keys.dead,
            &keys.stats,
            &keys.tenants,
        ],
        keys.tag(),
    );
    inv.arg(max_deferrals);
    for f in failures {
        let mode = match f.mode {
            FailMode::Fail => "fail",
            FailMode::Defer => "defer",
            FailMode::Abort => "abort",
        };
        inv.arg(&f.id)
            .arg(&f.token)
            .arg(mode)
            .arg(f.delay_ms)
            .arg(&f.error)
            .arg(f.run_ms);
    }
    let reply = array("retry_or_bury", inv.invoke_async(conn).await?)?;
    if reply.len() != failures.len() {
        return Err(protocol(
            "retry_or_bury",
            format!("{} codes for {} jobs", reply.len(), failures.len()),
        ));
    }
    reply
        .iter()
        .map(|v| match int(v) {
            Some(0) => Ok(Settled::Stale),
            Some(1) => Ok(Settled::Retried),
            Some(2) => Ok(Settled::Deferred),
            Some(3) => Ok(Settled::Dead),
            _ => Err(protocol("retry_or_bury", format!("bad code {v:?}"))),
        })
        .collect()
}
