//! `promote_due.lua`: move a bounded chunk of due delayed jobs to waiting.

use std::time::Duration;

use redis::aio::ConnectionManager;

use super::{int_pair, invocation};
use crate::{Result, keys::Keys};

lua_script!("promote_due.lua");
pub(crate) const NUM_KEYS: usize = 4;

/// Returns (promoted, time until the next delayed job is due).
pub(crate) async fn run(
    conn: &mut ConnectionManager,
    keys: &Keys,
    chunk: usize,
) -> Result<(u64, Option<Duration>)> {
    let mut inv = invocation::<NUM_KEYS>(
        &SCRIPT,
        [&keys.delayed, &keys.ring, &keys.marker, &keys.tenants],
        keys.tag(),
    );
    inv.arg(chunk);
    let (n, next) = int_pair("promote_due", inv.invoke_async(conn).await?)?;
    let next = u64::try_from(next).ok().map(Duration::from_millis);
    Ok((n.unsigned_abs(), next))
}
