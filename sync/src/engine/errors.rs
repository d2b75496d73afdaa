//! Failure classification (design notes §6): what went wrong, in a category the sync log
//! stores, and what the queue does about it ([`EngineError::into_job_error`]).

use std::time::{Duration, SystemTime};

use hubsync_queue::JobError;

use crate::SyncError;

/// How long a job of an integration whose HubSpot authorization expired waits before it
/// looks again (a reconnect resumes delayed jobs earlier).
pub const AUTHORIZATION_PAUSE: Duration = Duration::from_secs(3600);
/// Wait after a 401 before the job tries again with a refreshed token.
pub const UNAUTHORIZED_PAUSE: Duration = Duration::from_secs(5);

/// Wait of a job whose object another job is syncing.
pub const BUSY_PAUSE: Duration = Duration::from_millis(200);

/// What the queue does with a failed job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Again at this time, without using an attempt (rate limits, paused authorization).
    RetryAt(SystemTime),
    /// Again after this delay, without using an attempt (token refresh).
    RetryAfter(Duration),
    /// Again after the queue's backoff, using an attempt (5xx, timeouts, database).
    Retry,
    /// Never again: dead letter (validation errors, broken configuration).
    Permanent,
}

/// A classified failure of a sync.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{category}: {message}")]
pub struct EngineError {
    /// `sync_log.error_category`: `rate_limited`, `transient`, `unauthorized`,
    /// `authorization_expired`, `validation`, `not_found`, `configuration`, `internal`.
    pub category: &'static str,
    /// What happened, naming the property and quoting the remote message where there is one.
    pub message: String,
    pub action: Action,
}

impl EngineError {
    pub fn new(category: &'static str, message: impl Into<String>, action: Action) -> Self {
        Self {
            category,
            message: message.into(),
            action,
        }
    }

    /// A failure that retrying cannot fix.
    pub fn permanent(category: &'static str, message: impl Into<String>) -> Self {
        Self::new(category, message, Action::Permanent)
    }

    /// A failure worth retrying with backoff.
    pub fn transient(message: impl Into<String>) -> Self {
        Self::new("transient", message, Action::Retry)
    }

    /// Rate limited until `at`.
    pub fn rate_limited(at: SystemTime, message: impl Into<String>) -> Self {
        Self::new("rate_limited", message, Action::RetryAt(at))
    }

    /// Another job syncs the same object right now: run again shortly, after it.
    pub fn busy() -> Self {
        Self::new(
            "busy",
            "another job is syncing this object",
            Action::RetryAfter(BUSY_PAUSE),
        )
    }

    /// Whether the queue runs the job again.
    pub fn is_retryable(&self) -> bool {
        self.action != Action::Permanent
    }

    /// The error the job handler returns to the queue.
    pub fn into_job_error(self) -> JobError {
        let reason = self.to_string();
        match self.action {
            Action::RetryAt(at) => JobError::retry_at(at, reason),
            Action::RetryAfter(after) => JobError::retry_after(after, reason),
            Action::Retry => JobError::retry(reason),
            Action::Permanent => JobError::permanent(reason),
        }
    }
}

/// A HubSpot answer that needs no I/O to classify (a 429 does: see
/// `Engine::hubspot_failure`, which also pauses the shared limiter).
pub fn classify_hubspot(err: &hubsync_hubspot::Error) -> EngineError {
    use hubsync_hubspot::Error as E;
    match err {
        E::RateLimited { retry_after, .. } => EngineError::rate_limited(
            SystemTime::now() + *retry_after,
            format!("HubSpot rate limit: {err}"),
        ),
        E::Unauthorized { message, .. } | E::Expired { message, .. } => EngineError::new(
            "unauthorized",
            format!("HubSpot refused the access token: {message}"),
            Action::RetryAfter(UNAUTHORIZED_PAUSE),
        ),
        E::InvalidGrant { description } => EngineError::new(
            "authorization_expired",
            format!("HubSpot authorization expired: {description}"),
            Action::RetryAt(SystemTime::now() + AUTHORIZATION_PAUSE),
        ),
        E::Validation {
            property,
            code,
            message,
            ..
        } => EngineError::permanent(
            "validation",
            match property {
                Some(p) => format!(
                    "HubSpot rejected property {p:?} ({}): {message}",
                    code.as_deref().unwrap_or("VALIDATION_ERROR")
                ),
                None => format!("HubSpot rejected the request: {message}"),
            },
        ),
        E::Transport(_) | E::Decode { .. } => EngineError::transient(err.to_string()),
        E::Api { .. } if err.is_transient() => EngineError::transient(err.to_string()),
        E::Api { status: 404, .. } => EngineError::permanent("not_found", err.to_string()),
        E::Api { status: 403, .. } => EngineError::permanent("forbidden", err.to_string()),
        E::Api { .. } | E::OAuth { .. } => EngineError::permanent("rejected", err.to_string()),
        E::InvalidRequest(_) => EngineError::permanent("internal", err.to_string()),
        _ => EngineError::transient(err.to_string()),
    }
}

/// A Userflow answer as a failure.
pub fn classify_userflow(err: &hubsync_userflow::Error) -> EngineError {
    use hubsync_userflow::Error as E;
    match err {
        E::RateLimited { retry_after } => EngineError::rate_limited(
            SystemTime::now() + retry_after.unwrap_or(Duration::from_secs(1)),
            format!("Userflow rate limit: {err}"),
        ),
        E::Unauthorized { message } => EngineError::permanent(
            "unauthorized",
            format!("Userflow rejected the API key: {message}"),
        ),
        E::NotFound { .. } => EngineError::permanent("not_found", err.to_string()),
        E::Api { status, .. } if *status >= 500 || *status == 408 || *status == 409 => {
            EngineError::transient(err.to_string())
        }
        E::Api {
            status,
            code,
            message,
        } => EngineError::permanent(
            "validation",
            format!(
                "Userflow rejected the write ({status} {}): {message}",
                code.as_deref().unwrap_or("error")
            ),
        ),
        E::Transport(_) | E::Decode { .. } => EngineError::transient(err.to_string()),
        E::Config(_) => EngineError::permanent("configuration", err.to_string()),
        _ => EngineError::transient(err.to_string()),
    }
}

impl From<SyncError> for EngineError {
    fn from(err: SyncError) -> Self {
        match &err {
            SyncError::Hubspot(e) => classify_hubspot(e),
            SyncError::Userflow(e) => classify_userflow(e),
            SyncError::AuthorizationExpired { .. } => EngineError::new(
                "authorization_expired",
                err.to_string(),
                Action::RetryAt(SystemTime::now() + AUTHORIZATION_PAUSE),
            ),
            SyncError::IntegrationNotFound(_)
            | SyncError::NotReady { .. }
            | SyncError::Settings(_)
            | SyncError::Secret(_) => EngineError::permanent("configuration", err.to_string()),
            SyncError::Database(_) | SyncError::Redis(_) => EngineError::transient(err.to_string()),
        }
    }
}

impl From<sea_orm::DbErr> for EngineError {
    fn from(err: sea_orm::DbErr) -> Self {
        EngineError::transient(format!("database: {err}"))
    }
}

impl From<crate::ratelimit::RateLimitError> for EngineError {
    fn from(err: crate::ratelimit::RateLimitError) -> Self {
        EngineError::transient(format!("rate limiter: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_property_and_is_permanent() {
        let e = classify_hubspot(&hubsync_hubspot::Error::Validation {
            property: Some("userflow_user_seats".into()),
            code: Some("INVALID_INTEGER".into()),
            message: "abc was not a valid number.".into(),
            correlation_id: None,
        });
        assert_eq!(e.category, "validation");
        assert_eq!(e.action, Action::Permanent);
        assert!(e.message.contains("userflow_user_seats"), "{}", e.message);
        assert!(e.message.contains("not a valid number"), "{}", e.message);
        assert!(matches!(e.into_job_error(), JobError::Permanent(_)));
    }

    #[test]
    fn server_errors_retry_with_backoff_and_429_waits() {
        let e = classify_hubspot(&hubsync_hubspot::Error::Api {
            status: 503,
            category: None,
            message: "down".into(),
            correlation_id: None,
        });
        assert_eq!(e.action, Action::Retry);
        let e = classify_userflow(&hubsync_userflow::Error::RateLimited {
            retry_after: Some(Duration::from_secs(3)),
        });
        assert!(matches!(e.action, Action::RetryAt(_)));
        assert!(matches!(e.into_job_error(), JobError::RetryAt { .. }));
        let e = classify_userflow(&hubsync_userflow::Error::Api {
            status: 400,
            code: Some("invalid_request".into()),
            message: "bad".into(),
        });
        assert_eq!(e.action, Action::Permanent);
    }
}
