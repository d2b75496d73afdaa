//! `reclaim_expired.lua`: a bounded chunk of expired leases back to waiting (or dead).

use redis::aio::ConnectionManager;

use super::{int_pair, invocation};
use crate::{Result, keys::Keys};

lua_script!("reclaim_expired.lua");
pub(crate) const NUM_KEYS: usize = 6;

/// Returns (reclaimed, buried).
pub(crate) async fn run(
    conn: &mut ConnectionManager,
    keys: &Keys,
    chunk: usize,
) -> Result<(u64, u64)> {
    let mut inv = invocation::<NUM_KEYS>(
        &SCRIPT,
        [
            &keys.active,
            &keys.ring,
            &keys.dead,
            &keys.marker,
            &keys.stats,
            &keys.tenants,
        ],
        keys.tag(),
    );
    inv.arg(chunk);
    let (r, b) = int_pair("reclaim_expired", inv.invoke_async(conn).await?)?;
    Ok((r.unsigned_abs(), b.unsigned_abs()))
}
