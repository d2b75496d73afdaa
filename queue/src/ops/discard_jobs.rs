//! `discard_jobs.lua`: delete jobs that are not running.

use redis::aio::ConnectionManager;

use super::invocation;
use crate::{Result, keys::Keys};

lua_script!("discard_jobs.lua");
pub(crate) const NUM_KEYS: usize = 6;

pub(crate) async fn run(conn: &mut ConnectionManager, keys: &Keys, ids: &[String]) -> Result<u64> {
    let mut inv = invocation::<NUM_KEYS>(
        &SCRIPT,
        [
            &keys.dead,
            &keys.delayed,
            &keys.done,
            &keys.ring,
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
