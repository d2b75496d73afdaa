//! `resume_tenant.lua`: one tenant's delayed jobs to waiting now, a bounded slice per call.

use redis::aio::ConnectionManager;

use super::{array, int, invocation, protocol};
use crate::{Result, keys::Keys};

lua_script!("resume_tenant.lua");
pub(crate) const NUM_KEYS: usize = 5;

/// One slice: what was moved and examined, and the rank to continue at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slice {
    pub moved: u64,
    pub scanned: u64,
    pub next_start: u64,
}

pub(crate) async fn run(
    conn: &mut ConnectionManager,
    keys: &Keys,
    tenant: &str,
    start: u64,
    chunk: usize,
) -> Result<Slice> {
    let mut inv = invocation::<NUM_KEYS>(
        &SCRIPT,
        [
            &keys.delayed,
            &keys.ring,
            &keys.marker,
            &keys.tenants,
            &keys.stats,
        ],
        keys.tag(),
    );
    inv.arg(tenant).arg(start).arg(chunk);
    let reply = array("resume_tenant", inv.invoke_async(conn).await?)?;
    let field = |i: usize| {
        reply
            .get(i)
            .and_then(int)
            .map(i64::unsigned_abs)
            .ok_or_else(|| {
                protocol(
                    "resume_tenant",
                    format!("expected three integers, got {reply:?}"),
                )
            })
    };
    Ok(Slice {
        moved: field(0)?,
        scanned: field(1)?,
        next_start: field(2)?,
    })
}
