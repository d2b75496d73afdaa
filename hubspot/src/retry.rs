//! When to retry a failed call, as a pure function of the answer.

use std::time::Duration;

use reqwest::header::HeaderMap;

use crate::ratelimit::RateLimitPolicy;

/// What the client does after an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Send the same request again after this wait.
    Retry(Duration),
    /// Give the error to the caller.
    Fail,
}

/// Retry rules of the client (API notes §2.2 and §11).
///
/// Retried statuses and headers:
/// - `423 Locked` (bulk upserts sent too fast; the lock lasts about 2 s): wait 2 s.
/// - `477` (migration in progress): wait `Retry-After` seconds when it is at most
///   [`RetryPolicy::max_wait`], else fail.
/// - `500`, `502`, `503`, `504`, `521`–`524` (transient): exponential backoff from
///   [`RetryPolicy::base_backoff`] (`base · 2^attempt`), or `Retry-After` when sent.
/// - `429` with policy `TEN_SECONDLY_ROLLING` (wait `Retry-After`, else
///   `X-HubSpot-RateLimit-Interval-Milliseconds`, else 10 s), `SECONDLY` or search (wait
///   `Retry-After`, else 1 s), only when [`RetryPolicy::retry_rate_limited`] is on and the wait
///   is at most [`RetryPolicy::max_wait`]. `DAILY` is never retried.
///
/// Every other status (400, 401, 403, 404, 409, 414, …) fails at once. At most
/// [`RetryPolicy::max_retries`] retries are made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Most retries after the first attempt.
    pub max_retries: u32,
    /// First backoff for 5xx answers; doubled per attempt.
    pub base_backoff: Duration,
    /// Retry 429s inside the client (off by default: the job queue reschedules instead).
    pub retry_rate_limited: bool,
    /// Longest wait the client sleeps through itself.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            base_backoff: Duration::from_millis(200),
            retry_rate_limited: false,
            max_wait: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn never() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// Decides after an answer with `status`, its `headers`, the body's rate-limit `policy`
    /// (429 only) and the number of the attempt that got it (0 = the first).
    pub fn decide(
        &self,
        status: u16,
        headers: &HeaderMap,
        policy: Option<&RateLimitPolicy>,
        attempt: u32,
    ) -> Decision {
        if attempt >= self.max_retries {
            return Decision::Fail;
        }
        let retry_after = retry_after(headers);
        let wait = match status {
            423 => Duration::from_secs(2),
            477 => match retry_after {
                Some(w) => w,
                None => return Decision::Fail,
            },
            500 | 502 | 503 | 504 | 521..=524 => retry_after.unwrap_or_else(|| {
                self.base_backoff
                    .saturating_mul(2u32.saturating_pow(attempt.min(16)))
            }),
            429 => {
                if !self.retry_rate_limited {
                    return Decision::Fail;
                }
                match policy {
                    Some(RateLimitPolicy::Daily) => return Decision::Fail,
                    p => rate_limit_wait(p, headers),
                }
            }
            _ => return Decision::Fail,
        };
        if wait > self.max_wait {
            Decision::Fail
        } else {
            Decision::Retry(wait)
        }
    }
}

/// The wait a 429 asks for: `Retry-After` when sent, else by policy (ten-secondly: the
/// interval header or 10 s; secondly and search: 1 s; daily and unknown: 10 s — callers
/// compute the daily reset themselves).
pub fn rate_limit_wait(policy: Option<&RateLimitPolicy>, headers: &HeaderMap) -> Duration {
    if let Some(w) = retry_after(headers) {
        return w;
    }
    match policy {
        Some(RateLimitPolicy::TenSecondlyRolling) => headers
            .get("x-hubspot-ratelimit-interval-milliseconds")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_millis)
            .unwrap_or(Duration::from_secs(10)),
        Some(RateLimitPolicy::Secondly | RateLimitPolicy::Search) => Duration::from_secs(1),
        _ => Duration::from_secs(10),
    }
}

/// `Retry-After` in seconds (HubSpot sends seconds on 477; undocumented on 429).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderValue, RETRY_AFTER};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn retry_decide_5xx_backs_off_exponentially() {
        let p = RetryPolicy::default();
        let h = HeaderMap::new();
        assert_eq!(
            p.decide(503, &h, None, 0),
            Decision::Retry(Duration::from_millis(200))
        );
        assert_eq!(
            p.decide(502, &h, None, 1),
            Decision::Retry(Duration::from_millis(400))
        );
        assert_eq!(
            p.decide(524, &h, None, 0),
            Decision::Retry(Duration::from_millis(200))
        );
        assert_eq!(p.decide(503, &h, None, 2), Decision::Fail);
    }

    #[test]
    fn retry_decide_client_errors_fail() {
        let p = RetryPolicy::default();
        let h = HeaderMap::new();
        for s in [400, 401, 403, 404, 409, 414] {
            assert_eq!(p.decide(s, &h, None, 0), Decision::Fail, "{s}");
        }
    }

    #[test]
    fn retry_decide_423_waits_two_seconds() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.decide(423, &HeaderMap::new(), None, 0),
            Decision::Retry(Duration::from_secs(2))
        );
    }

    #[test]
    fn retry_decide_477_uses_retry_after_within_max_wait() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.decide(477, &headers(&[("retry-after", "3")]), None, 0),
            Decision::Retry(Duration::from_secs(3))
        );
        assert_eq!(
            p.decide(477, &headers(&[("retry-after", "86400")]), None, 0),
            Decision::Fail
        );
        assert_eq!(p.decide(477, &HeaderMap::new(), None, 0), Decision::Fail);
    }

    #[test]
    fn retry_decide_429_off_by_default_and_never_daily() {
        let p = RetryPolicy::default();
        let h = HeaderMap::new();
        assert_eq!(
            p.decide(429, &h, Some(&RateLimitPolicy::Secondly), 0),
            Decision::Fail
        );
        let p = RetryPolicy {
            retry_rate_limited: true,
            ..RetryPolicy::default()
        };
        assert_eq!(
            p.decide(429, &h, Some(&RateLimitPolicy::Secondly), 0),
            Decision::Retry(Duration::from_secs(1))
        );
        assert_eq!(
            p.decide(429, &h, Some(&RateLimitPolicy::Daily), 0),
            Decision::Fail
        );
        let h = headers(&[("x-hubspot-ratelimit-interval-milliseconds", "5000")]);
        assert_eq!(
            p.decide(429, &h, Some(&RateLimitPolicy::TenSecondlyRolling), 0),
            Decision::Retry(Duration::from_secs(5))
        );
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(
            p.decide(429, &h, Some(&RateLimitPolicy::TenSecondlyRolling), 0),
            Decision::Retry(Duration::from_secs(2))
        );
    }

    #[test]
    fn retry_never_policy_never_retries() {
        let p = RetryPolicy::never();
        assert_eq!(p.decide(503, &HeaderMap::new(), None, 0), Decision::Fail);
    }

    #[test]
    fn ratelimit_policy_from_body() {
        assert_eq!(
            RateLimitPolicy::from_body(Some("DAILY"), None),
            RateLimitPolicy::Daily
        );
        assert_eq!(
            RateLimitPolicy::from_body(None, Some("You have reached your secondly limit.")),
            RateLimitPolicy::Search
        );
    }
}
