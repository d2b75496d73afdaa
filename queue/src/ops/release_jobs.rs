//! `release_jobs.lua`: give back leased-but-unstarted jobs at shutdown.

use redis::aio::ConnectionManager;

use super::invocation;
use crate::{Result, keys::Keys};

lua_script!("release_jobs.lua");
pub(crate) const NUM_KEYS: usize = 5;

pub(crate) async fn run(
    conn: &mut ConnectionManager,
    keys: &Keys,
    held: &[(String, String)],
) -> Result<u64> {
    let mut inv = invocation::<NUM_KEYS>(
        &SCRIPT,
        [
            &keys.ring,
            &keys.active,
            &keys.marker,
            &keys.stats,
            &keys.tenants,
        ],
        keys.tag(),
    );
    for (id, token) in held {
        inv.arg(id).arg(token);
    }
    Ok(inv.invoke_async(conn).await?)
}
