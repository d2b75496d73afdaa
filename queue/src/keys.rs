//! Redis key names. This module alone formats them; scripts receive the fixed keys in `KEYS`
//! and build the per-job/per-tenant keys from the same prefix `P = {<prefix>:<queue>}`, so
//! every key of a queue hashes to one Cluster slot.
//!
//! | Key | Type | Content | Written by |
//! |---|---|---|---|
//! | `P:job:<id>` | HASH | `payload`, `tenant`, `state` (waiting/delayed/active/completed/dead), `attempts`, `max_attempts`, `deferrals`, `reclaims`, `enq_ms`, `due_ms`, `started_ms`, `done_ms`, `died_ms`, `lease` (fencing token `<worker id>:<lease call>:<n>`), `owner`, `last_error`, `last_defer`, `idem`, `co`, `meta` (JSON) | all scripts |
//! | `P:w:<tenant>` | LIST | waiting job ids of one tenant (FIFO; released/reclaimed jobs go first) | enqueue, lease, release, promote, reclaim, retry_dead, discard |
//! | `P:ring` | LIST | tenants with waiting jobs, served round robin; tenant in ring ⇔ `P:w:<tenant>` non-empty | same |
//! | `P:delayed` | ZSET | id → due ms (scheduled pushes, backoff, retry-at) | enqueue, retry_or_bury, promote, lease |
//! | `P:active` | ZSET | id → lease expiry ms | lease, renew, ack, retry_or_bury, release, reclaim |
//! | `P:dead` | ZSET | id → died ms | retry_or_bury, reclaim, retry_dead, discard, trim |
//! | `P:done` | ZSET | id → completed ms (retention index; job hashes also carry a PEXPIRE) | ack, trim, discard |
//! | `P:idem:<key>` | STRING | job id, with the idempotency TTL | enqueue |
//! | `P:co:<key>` | STRING | id of the pending job of a coalescing key (deleted when leased) | enqueue, lease, discard |
//! | `P:marker` | ZSET | wake-up marker (member `r`) popped by idle workers with BZPOPMIN | enqueue, lease, release, promote, reclaim, retry_dead, resume |
//! | `P:stats` | HASH | counters: enqueued, duplicate, coalesced, started, completed, failed, retried, deferred, dead, reclaimed, released, stale, revived, discarded | all scripts |
//! | `P:tenants` | HASH | `<state>:<tenant>` → jobs of that tenant in waiting/delayed/active/dead (field deleted at 0) | all scripts |
//! | `P:paused` | STRING | present ⇒ `lease_next` leases nothing | admin |
//! | `P:workers` | ZSET | worker id → last renewal ms (observability) | renew, trim |
//! | `P:lat:<minute>` | HASH | `w:<bucket>` / `r:<bucket>` → count of ready-to-start / run times, 2 h TTL | lease, ack, retry_or_bury |

/// All key names of one queue.
#[derive(Debug, Clone)]
pub struct Keys {
    tag: String,
    pub(crate) ring: String,
    pub(crate) active: String,
    pub(crate) delayed: String,
    pub(crate) dead: String,
    pub(crate) done: String,
    pub(crate) marker: String,
    pub(crate) stats: String,
    pub(crate) tenants: String,
    pub(crate) paused: String,
    pub(crate) workers: String,
}

impl Keys {
    /// Keys of queue `queue` under `prefix`: `{<prefix>:<queue>}:<type>`.
    pub fn new(prefix: &str, queue: &str) -> Self {
        let tag = format!("{{{prefix}:{queue}}}");
        let k = |t: &str| format!("{tag}:{t}");
        Self {
            ring: k("ring"),
            active: k("active"),
            delayed: k("delayed"),
            dead: k("dead"),
            done: k("done"),
            marker: k("marker"),
            stats: k("stats"),
            tenants: k("tenants"),
            paused: k("paused"),
            workers: k("workers"),
            tag,
        }
    }

    /// The hash-tagged prefix `{<prefix>:<queue>}` (passed to every script as `ARGV[1]`).
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// `P:job:<id>`.
    pub fn job(&self, id: &str) -> String {
        format!("{}:job:{id}", self.tag)
    }

    /// `P:w:<tenant>`.
    pub fn waiting(&self, tenant: &str) -> String {
        format!("{}:w:{tenant}", self.tag)
    }

    /// `P:lat:<minute>` (minute = unix ms / 60 000).
    pub fn latency(&self, minute: u64) -> String {
        format!("{}:lat:{minute}", self.tag)
    }

    /// SCAN pattern matching every key of the queue. `{`/`}` are not glob characters; the
    /// prefix and queue name are validated to contain no glob characters either.
    pub fn pattern(&self) -> String {
        let escaped: String = self
            .tag
            .chars()
            .flat_map(|c| match c {
                '*' | '?' | '[' | ']' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        format!("{escaped}:*")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_carry_the_hash_tag() {
        let k = Keys::new("hubsync", "realtime");
        assert_eq!(k.tag(), "{hubsync:realtime}");
        assert_eq!(k.ring, "{hubsync:realtime}:ring");
        assert_eq!(k.job("abc"), "{hubsync:realtime}:job:abc");
        assert_eq!(k.waiting("t1"), "{hubsync:realtime}:w:t1");
        assert_eq!(k.pattern(), "{hubsync:realtime}:*");
    }
}
