//! `ack_jobs.lua`: complete jobs whose handler succeeded (fenced by the lease token).

use redis::aio::ConnectionManager;

use super::{invocation, strings};
use crate::{Result, keys::Keys};

lua_script!("ack_jobs.lua");
pub(crate) const NUM_KEYS: usize = 4;

/// Returns the ids whose lease token was stale.
pub(crate) async fn run(
    conn: &mut ConnectionManager,
    keys: &Keys,
    retention_ms: u64,
    keep_payload: bool,
    acks: &[(String, String, u64)],
) -> Result<Vec<String>> {
    let mut inv = invocation::<NUM_KEYS>(
        &SCRIPT,
        [&keys.active, &keys.done, &keys.stats, &keys.tenants],
        keys.tag(),
    );
    inv.arg(retention_ms).arg(u8::from(keep_payload));
    for (id, token, run_ms) in acks {
        inv.arg(id).arg(token).arg(*run_ms);
    }
    strings("ack_jobs", inv.invoke_async(conn).await?)
}
