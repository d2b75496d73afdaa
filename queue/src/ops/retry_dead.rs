//! `retry_dead.lua`: dead letters back to waiting with a fresh attempt budget.

use redis::aio::ConnectionManager;

use super::invocation;
use crate::{Result, keys::Keys};

lua_script!("retry_dead.lua");
pub(crate) const NUM_KEYS: usize = 5;

pub(crate) async fn run(conn: &mut ConnectionManager, keys: &Keys, ids: &[String]) -> Result<u64> {
    let mut inv = invocation::<NUM_KEYS>(
        &SCRIPT,
        [
            &keys.dead,
            &keys.ring,
            &keys.marker,
            &keys.stats,
            &keys.tenants,
        ],
        keys.tag(),
    );
    for id in ids {
        inv.arg(id);
    }
    Ok(inv.invoke_async(conn).await?)
}
