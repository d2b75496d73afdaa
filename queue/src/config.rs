//! Queue configuration and the retry backoff policy.

use std::time::Duration;

use rand::Rng;

/// Configuration of one queue (one hash tag `{<prefix>:<name>}`).
///
/// Realtime and bulk work are two queues, so two `QueueConfig`s that differ in `name` (and
/// usually in `prefetch` and the worker pool's concurrency).
#[derive(Debug, Clone, PartialEq)]
pub struct QueueConfig {
    /// Key prefix shared by all queues of a deployment (`HUBSYNC_REDIS_PREFIX`), default `hubsync`.
    pub prefix: String,
    /// Queue name, e.g. `realtime` or `bulk`.
    pub name: String,
    /// Lease of a fetched job. The keeper renews it every `lease / 3`; when a worker dies the
    /// job is visible again after at most `lease + reaper_period`. Default 5 s.
    pub lease: Duration,
    /// Jobs leased per fetch (1..=256). Keep it at or below the worker's concurrency. After a
    /// full lease the next one starts when fewer than half remain buffered, so a worker holds
    /// at most `1.5 × prefetch` unstarted jobs. Larger values mean fewer Redis calls per job
    /// (`hubsync bench queue`: ≈35,000 no-op jobs/s at 8, ≈60,000 at 64 with 64 in flight).
    /// Default 8.
    pub prefetch: usize,
    /// How long an idle worker blocks on the wake-up marker before polling again. Enqueue
    /// wakes idle workers at once, so this is only a safety net. Default 1 s.
    pub idle_block: Duration,
    /// Retry policy for failed jobs.
    pub backoff: BackoffPolicy,
    /// A job may say "retry at T" this many times before the deferral counts as a failure.
    /// Default 1000.
    pub max_deferrals: u32,
    /// Default TTL of idempotency keys when a job does not set one. Default 24 h.
    pub idempotency_ttl: Duration,
    /// How long completed jobs are kept (inspectable) before removal. Zero deletes a job at
    /// its acknowledgement. Default 10 min.
    pub completed_retention: Duration,
    /// Keep the payload of completed jobs during the retention window. Default false.
    pub keep_completed_payload: bool,
    /// How long dead letters are kept; `None` keeps them until an operator discards them.
    /// Default `None`.
    pub dead_retention: Option<Duration>,
    /// Period of the reaper (promote due delayed jobs, reclaim expired leases, trim
    /// retention). Default 250 ms.
    pub reaper_period: Duration,
    /// Whether a worker process runs the reaper for this queue (one per process, started by
    /// the first worker). Running it in several processes is safe. Default true.
    pub run_reaper: bool,
    /// Chunk size of every bounded script step (promotion, reclaim, trim). Default 500.
    pub chunk: usize,
    /// Response timeout of the shared (non-blocking) Redis connection. Default 5 s.
    pub command_timeout: Duration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            prefix: "hubsync".to_owned(),
            name: "default".to_owned(),
            lease: Duration::from_secs(5),
            prefetch: 8,
            idle_block: Duration::from_secs(1),
            backoff: BackoffPolicy::default(),
            max_deferrals: 1000,
            idempotency_ttl: Duration::from_secs(24 * 3600),
            completed_retention: Duration::from_secs(600),
            keep_completed_payload: false,
            dead_retention: None,
            reaper_period: Duration::from_millis(250),
            run_reaper: true,
            chunk: 500,
            command_timeout: Duration::from_secs(5),
        }
    }
}

impl QueueConfig {
    /// A default configuration for queue `name` under `prefix`.
    pub fn new(prefix: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
            name: name.into(),
            ..Self::default()
        }
    }

    /// Checks the values the scripts rely on.
    pub fn validate(&self) -> Result<(), crate::QueueError> {
        let bad = |what: &str| Err(crate::QueueError::Config(what.to_owned()));
        if self.prefix.is_empty() || self.name.is_empty() {
            return bad("prefix and name must not be empty");
        }
        if self.prefix.contains(['{', '}']) || self.name.contains(['{', '}']) {
            return bad("prefix and name must not contain braces");
        }
        if self.lease < Duration::from_millis(100) {
            return bad("lease must be at least 100 ms");
        }
        if self.prefetch == 0 || self.prefetch > 256 {
            return bad("prefetch must be in 1..=256");
        }
        if self.idle_block < Duration::from_millis(10) {
            return bad("idle_block must be at least 10 ms");
        }
        if self.chunk == 0 || self.chunk > 1000 {
            return bad("chunk must be in 1..=1000");
        }
        if self.backoff.max_attempts == 0 {
            return bad("backoff.max_attempts must be at least 1");
        }
        Ok(())
    }
}

/// How the random part of a backoff delay is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Jitter {
    /// No randomness: exactly `min(cap, base * 2^(attempt-1))`.
    None,
    /// Half the delay plus a uniform random part up to the other half.
    #[default]
    Equal,
    /// Uniform in `0..=delay`.
    Full,
}

/// Exponential backoff with jitter: `min(cap, base * 2^(attempt-1))`, jittered.
///
/// This is our own policy (the `backoff` crate is unmaintained, RUSTSEC-2025-0012). The
/// attempt count lives in Redis; the policy only computes the delay before the next try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// Delay after the first failed attempt. Default 1 s.
    pub base: Duration,
    /// Upper bound of any delay. Default 5 min.
    pub cap: Duration,
    /// Attempts before a job is dead (jobs may override). Default 10.
    pub max_attempts: u32,
    /// Jitter mode. Default [`Jitter::Equal`].
    pub jitter: Jitter,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(300),
            max_attempts: 10,
            jitter: Jitter::Equal,
        }
    }
}

impl BackoffPolicy {
    /// Un-jittered delay after failed attempt number `attempt` (1-based).
    pub fn raw_delay(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(40);
        let factor = 1u64 << exp;
        let ms = (self.base.as_millis() as u64).saturating_mul(factor);
        Duration::from_millis(ms).min(self.cap)
    }

    /// Jittered delay after failed attempt number `attempt` (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let raw = self.raw_delay(attempt).as_millis() as u64;
        let ms = match self.jitter {
            Jitter::None => raw,
            Jitter::Equal => raw / 2 + rand::rng().random_range(0..=raw - raw / 2),
            Jitter::Full => rand::rng().random_range(0..=raw),
        };
        Duration::from_millis(ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_exponential_capped_and_jittered_within_bounds() {
        let p = BackoffPolicy {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
            max_attempts: 5,
            jitter: Jitter::Equal,
        };
        assert_eq!(p.raw_delay(1), Duration::from_millis(100));
        assert_eq!(p.raw_delay(2), Duration::from_millis(200));
        assert_eq!(p.raw_delay(4), Duration::from_millis(800));
        assert_eq!(p.raw_delay(5), Duration::from_secs(1));
        assert_eq!(p.raw_delay(80), Duration::from_secs(1));
        for attempt in 1..8 {
            let raw = p.raw_delay(attempt);
            for _ in 0..50 {
                let d = p.delay(attempt);
                assert!(d >= raw / 2 && d <= raw, "{d:?} vs {raw:?}");
            }
        }
    }

    #[test]
    fn default_config_is_valid() {
        assert!(QueueConfig::default().validate().is_ok());
        let bad = QueueConfig {
            prefetch: 0,
            ..QueueConfig::default()
        };
        assert!(bad.validate().is_err());
    }
}
