//! `trim_retention.lua`: remove completed/dead jobs past their retention, in chunks.

use redis::aio::ConnectionManager;

use super::{int_pair, invocation};
use crate::{Result, keys::Keys};

lua_script!("trim_retention.lua");
pub(crate) const NUM_KEYS: usize = 4;

/// Returns (completed removed, dead removed). `dead_retention_ms < 0` keeps dead jobs.
pub(crate) async fn run(
    conn: &mut ConnectionManager,
    keys: &Keys,
    done_retention_ms: u64,
    dead_retention_ms: i64,
    chunk: usize,
) -> Result<(u64, u64)> {
    let mut inv = invocation::<NUM_KEYS>(
        &SCRIPT,
        [&keys.done, &keys.dead, &keys.workers, &keys.tenants],
        keys.tag(),
    );
    inv.arg(done_retention_ms).arg(dead_retention_ms).arg(chunk);
    let (c, d) = int_pair("trim_retention", inv.invoke_async(conn).await?)?;
    Ok((c.unsigned_abs(), d.unsigned_abs()))
}
