//! Rate limit (§12: off by default): a token bucket per API key, refilled at
//! `rate_limit.per_second` up to `rate_limit.burst`; an empty bucket answers 429
//! `rate_limited`, with `Retry-After` when `rate_limit.retry_after` is on.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::http::StatusCode;

use super::errors::ApiError;
use super::knobs::RateLimitKnobs;

/// Token buckets per API key.
#[derive(Default)]
pub struct Limiter {
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Limiter {
    /// Takes one token for `key`, or answers the 429 to send.
    pub fn check(&self, key: &str, knobs: &RateLimitKnobs) -> Result<(), ApiError> {
        if !knobs.enabled {
            return Ok(());
        }
        let burst = f64::from(knobs.burst.max(1));
        let rate = knobs.per_second.max(0.0);
        let now = Instant::now();
        let mut map = match self.buckets.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        let (tokens, last) = map.entry(key.to_string()).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate).min(burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            return Ok(());
        }
        let mut err = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many requests; slow down and retry later",
        );
        if knobs.retry_after {
            let wait = if rate > 0.0 {
                ((1.0 - *tokens) / rate).ceil()
            } else {
                60.0
            };
            err.retry_after = Some((wait as u64).max(1));
        }
        Err(err)
    }

    /// Refills every bucket (e.g. after changing knobs).
    pub fn reset(&self) {
        if let Ok(mut m) = self.buckets.lock() {
            m.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_429_with_retry_after() {
        let l = Limiter::default();
        let k = RateLimitKnobs {
            enabled: true,
            per_second: 0.5,
            burst: 2,
            retry_after: true,
        };
        assert!(l.check("a", &k).is_ok());
        assert!(l.check("a", &k).is_ok());
        let e = l.check("a", &k).err();
        assert_eq!(e.as_ref().map(|e| e.status.as_u16()), Some(429));
        assert_eq!(e.and_then(|e| e.retry_after), Some(2));
        // Another key has its own bucket.
        assert!(l.check("b", &k).is_ok());
    }

    #[test]
    fn disabled_never_limits() {
        let l = Limiter::default();
        let k = RateLimitKnobs {
            burst: 1,
            ..Default::default()
        };
        for _ in 0..50 {
            assert!(l.check("a", &k).is_ok());
        }
    }
}
