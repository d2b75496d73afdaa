//! `enqueue_jobs.lua`: idempotency, coalescing, waiting or delayed.

use redis::aio::ConnectionManager;

use super::{array, int, invocation, protocol, string};
use crate::{EnqueueOutcome, JobId, Result, keys::Keys};

lua_script!("enqueue_jobs.lua");
pub(crate) const NUM_KEYS: usize = 5;

/// A job ready for the script (payload already encoded).
pub(crate) struct EncodedJob {
    pub id: String,
    pub tenant: String,
    pub payload: String,
    pub max_attempts: u32,
    pub delay_ms: u64,
    pub idem_key: String,
    pub idem_ttl_ms: u64,
    pub co_key: String,
    pub co_replace: bool,
    pub meta: String,
}

pub(crate) async fn run(
    conn: &mut ConnectionManager,
    keys: &Keys,
    jobs: &[EncodedJob],
) -> Result<Vec<EnqueueOutcome>> {
    let mut inv = invocation::<NUM_KEYS>(
        &SCRIPT,
        [
            &keys.ring,
            &keys.delayed,
            &keys.marker,
            &keys.stats,
            &keys.tenants,
        ],
        keys.tag(),
    );
    for j in jobs {
        inv.arg(&j.id)
            .arg(&j.tenant)
            .arg(&j.payload)
            .arg(j.max_attempts)
            .arg(j.delay_ms)
            .arg(&j.idem_key)
            .arg(j.idem_ttl_ms)
            .arg(&j.co_key)
            .arg(if j.co_replace { "replace" } else { "keep" })
            .arg(&j.meta);
    }
    let reply = array("enqueue_jobs", inv.invoke_async(conn).await?)?;
    if reply.len() != jobs.len() * 2 {
        return Err(protocol(
            "enqueue_jobs",
            format!("{} values for {} jobs", reply.len(), jobs.len()),
        ));
    }
    reply
        .chunks(2)
        .map(|pair| {
            let id = string(&pair[1]).map(JobId::from);
            match (int(&pair[0]), id) {
                (Some(1), Some(id)) => Ok(EnqueueOutcome::Enqueued(id)),
                (Some(2), Some(id)) => Ok(EnqueueOutcome::Scheduled(id)),
                (Some(3), Some(id)) => Ok(EnqueueOutcome::Duplicate(id)),
                (Some(4), Some(id)) => Ok(EnqueueOutcome::Coalesced(id)),
                _ => Err(protocol("enqueue_jobs", format!("bad outcome {pair:?}"))),
            }
        })
        .collect()
}
