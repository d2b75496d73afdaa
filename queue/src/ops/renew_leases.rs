//! `renew_leases.lua`: extend held leases, report lost ones, record the worker beat.

use redis::aio::ConnectionManager;

use super::{invocation, strings};
use crate::{Result, keys::Keys};

lua_script!("renew_leases.lua");
pub(crate) const NUM_KEYS: usize = 2;

pub(crate) async fn run(
    conn: &mut ConnectionManager,
    keys: &Keys,
    worker_id: &str,
    lease_ms: u64,
    held: &[(String, String)],
) -> Result<Vec<String>> {
    let mut inv = invocation::<NUM_KEYS>(&SCRIPT, [&keys.active, &keys.workers], keys.tag());
    inv.arg(worker_id).arg(lease_ms);
    for (id, token) in held {
        inv.arg(id).arg(token);
    }
    strings("renew_leases", inv.invoke_async(conn).await?)
}
