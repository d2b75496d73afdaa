//! Retry policy: a pure decision from (status, headers, attempt).

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// What to do with an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Hand the answer to the caller (success, or an error that is not retried).
    Done,
    /// Wait, then send the same request again.
    RetryAfter(Duration),
    /// The status is retryable but the attempts are used up; return the error.
    GiveUp,
}

/// When and how long to retry.
///
/// Retried statuses and headers (from `docs/userflow-api.md`):
/// - `429 Too Many Requests`: Userflow limits requests per API key (numbers undocumented, §11).
///   The wait is the `Retry-After` header in whole seconds when present (unconfirmed for Userflow,
///   sent by our simulator), capped at [`RetryPolicy::max_retry_after`]; a longer wait gives up
///   so the caller (the job queue) can reschedule. Without the header: exponential backoff.
/// - `500`, `502`, `503`, `504`: internal errors (§2); exponential backoff
///   `base_delay * 2^(attempt-1)`, capped at `max_delay`.
/// - Nothing else is retried: 400 (validation), 401 (key), 404, 405 are final.
///
/// Connection failures (the request never left) are retried with the same backoff by the client;
/// timeouts are not, since a tracked event could then be recorded twice.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Total attempts including the first (1 = never retry).
    pub max_attempts: u32,
    /// Backoff of the first retry.
    pub base_delay: Duration,
    /// Largest backoff.
    pub max_delay: Duration,
    /// Largest `Retry-After` honoured in-process.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries (the caller handles every error).
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Whether a status is retried at all.
    pub fn is_retryable(status: u16) -> bool {
        matches!(status, 429 | 500 | 502 | 503 | 504)
    }

    /// Backoff before retry number `attempt` (1-based attempt that just failed).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(16);
        self.base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay)
    }

    /// Decides what to do after attempt number `attempt` (1-based) answered `status`.
    pub fn decide(&self, status: u16, headers: &HeaderMap, attempt: u32) -> Decision {
        if !Self::is_retryable(status) {
            return Decision::Done;
        }
        if attempt >= self.max_attempts {
            return Decision::GiveUp;
        }
        if status == 429
            && let Some(wait) = retry_after(headers)
        {
            if wait > self.max_retry_after {
                return Decision::GiveUp;
            }
            return Decision::RetryAfter(wait);
        }
        Decision::RetryAfter(self.backoff(attempt))
    }
}

/// Parses `Retry-After` as whole seconds (the HTTP-date form is not used by Userflow's notes).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(250),
            max_retry_after: Duration::from_secs(5),
        }
    }

    #[test]
    fn retry_decide_success_and_client_errors_are_done() {
        let h = HeaderMap::new();
        for s in [200, 201, 400, 401, 404, 405, 409, 422] {
            assert_eq!(policy().decide(s, &h, 1), Decision::Done, "status {s}");
        }
    }

    #[test]
    fn retry_decide_5xx_backs_off_exponentially_capped() {
        let h = HeaderMap::new();
        for s in [500, 502, 503, 504] {
            assert_eq!(
                policy().decide(s, &h, 1),
                Decision::RetryAfter(Duration::from_millis(100))
            );
            assert_eq!(
                policy().decide(s, &h, 2),
                Decision::RetryAfter(Duration::from_millis(200))
            );
            assert_eq!(policy().decide(s, &h, 3), Decision::GiveUp);
        }
        let mut p = policy();
        p.max_attempts = 10;
        assert_eq!(
            p.decide(503, &h, 5),
            Decision::RetryAfter(Duration::from_millis(250))
        );
    }

    #[test]
    fn retry_decide_429_honours_retry_after() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(
            policy().decide(429, &h, 1),
            Decision::RetryAfter(Duration::from_secs(2))
        );
        h.insert(RETRY_AFTER, HeaderValue::from_static("60"));
        assert_eq!(policy().decide(429, &h, 1), Decision::GiveUp);
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(
            policy().decide(429, &h, 1),
            Decision::RetryAfter(Duration::from_millis(100))
        );
        assert_eq!(policy().decide(429, &HeaderMap::new(), 3), Decision::GiveUp);
    }

    #[test]
    fn retry_none_never_retries() {
        assert_eq!(
            RetryPolicy::none().decide(503, &HeaderMap::new(), 1),
            Decision::GiveUp
        );
    }
}
