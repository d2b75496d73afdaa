//! A Redis lock with an owner: `SET key owner NX PX ttl`, released only by its owner (a
//! compare-and-delete script), so a holder that outlived its TTL cannot release a newer
//! holder's lock. One lock per thing that must happen once at a time across the cluster:
//! a token refresh per integration, a sync per object.

use std::sync::LazyLock;
use std::time::Duration;

use redis::aio::ConnectionManager;
use uuid::Uuid;

static RELEASE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then \
           return redis.call('DEL', KEYS[1]) \
         end \
         return 0",
    )
});

/// One lock key and this holder's owner value.
pub struct RedisLock {
    conn: ConnectionManager,
    key: String,
    owner: String,
    ttl: Duration,
}

impl RedisLock {
    /// A lock on `key` that expires `ttl` after it is taken if its holder dies.
    pub fn new(conn: ConnectionManager, key: String, ttl: Duration) -> Self {
        Self {
            conn,
            key,
            owner: Uuid::new_v4().simple().to_string(),
            ttl,
        }
    }

    /// Takes the lock; `false` when another owner holds it.
    pub async fn acquire(&self) -> Result<bool, redis::RedisError> {
        let mut conn = self.conn.clone();
        let set: Option<String> = redis::cmd("SET")
            .arg(&self.key)
            .arg(&self.owner)
            .arg("NX")
            .arg("PX")
            .arg(u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX))
            .query_async(&mut conn)
            .await?;
        Ok(set.is_some())
    }

    /// Best effort: a failed release only delays the next holder by the TTL.
    pub async fn release(&self) {
        let mut conn = self.conn.clone();
        let released: redis::RedisResult<i64> = RELEASE
            .key(&self.key)
            .arg(&self.owner)
            .invoke_async(&mut conn)
            .await;
        if let Err(e) = released {
            tracing::warn!(key = %self.key, error = %e, "could not release a lock");
        }
    }
}
