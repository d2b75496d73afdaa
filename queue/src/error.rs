//! Errors of the queue API ([`QueueError`]) and of job handlers ([`JobError`]).

use std::time::{Duration, SystemTime};

use apalis_core::error::BoxDynError;

/// Errors returned by the producer, admin and backend APIs.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// Redis answered with an error or could not be reached.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// A payload could not be encoded.
    #[error("payload encoding: {0}")]
    Encode(#[source] serde_json::Error),
    /// Invalid configuration.
    #[error("invalid queue configuration: {0}")]
    Config(String),
    /// Invalid job (for example an empty tenant).
    #[error("invalid job: {0}")]
    InvalidJob(String),
    /// A script answered with something its wrapper does not understand.
    #[error("unexpected reply from {script}: {detail}")]
    Protocol {
        /// Script name.
        script: &'static str,
        /// What was wrong.
        detail: String,
    },
}

/// Result alias of this crate.
pub type Result<T, E = QueueError> = std::result::Result<T, E>;

/// The error a job handler returns. The backend layer downcasts it to decide what happens to
/// the job:
///
/// | Variant | Effect |
/// |---|---|
/// | [`JobError::Retry`] | retried after the queue's backoff; uses an attempt; dead after the last |
/// | [`JobError::RetryAfter`] / [`JobError::RetryAt`] | retried later **without** using an attempt (rate limits, `Retry-After`, token refresh) |
/// | [`JobError::Permanent`] | dead letter at once |
///
/// apalis's own `RetryAfterError` and `AbortError` are honoured the same way. Any other
/// error is treated like [`JobError::Retry`]. Do not convert handler errors into
/// `anyhow::Error` first: that hides the type from the downcast.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// A failure worth retrying with backoff.
    #[error("{0}")]
    Retry(#[source] BoxDynError),
    /// Retry after this delay without using an attempt.
    #[error("retry after {after:?}: {reason}")]
    RetryAfter {
        /// Delay before the next try.
        after: Duration,
        /// Why (stored on the job as `last_defer`).
        reason: String,
    },
    /// Retry at this wall-clock time without using an attempt.
    #[error("retry at {at:?}: {reason}")]
    RetryAt {
        /// Time of the next try.
        at: SystemTime,
        /// Why (stored on the job as `last_defer`).
        reason: String,
    },
    /// A failure that retrying cannot fix: the job becomes a dead letter at once.
    #[error("permanent: {0}")]
    Permanent(#[source] BoxDynError),
}

impl JobError {
    /// A retryable failure.
    pub fn retry(err: impl Into<BoxDynError>) -> Self {
        Self::Retry(err.into())
    }

    /// Retry after `after` without using an attempt.
    pub fn retry_after(after: Duration, reason: impl Into<String>) -> Self {
        Self::RetryAfter {
            after,
            reason: reason.into(),
        }
    }

    /// Retry at `at` without using an attempt.
    pub fn retry_at(at: SystemTime, reason: impl Into<String>) -> Self {
        Self::RetryAt {
            at,
            reason: reason.into(),
        }
    }

    /// A permanent failure (dead letter at once).
    pub fn permanent(err: impl Into<BoxDynError>) -> Self {
        Self::Permanent(err.into())
    }

    /// A retryable failure built from a handler panic payload (for
    /// `CatchPanicLayer::with_panic_handler`).
    pub fn panic(payload: Box<dyn std::any::Any + Send>) -> Self {
        Self::Retry(panic_message(&payload).into())
    }
}

impl From<String> for JobError {
    fn from(s: String) -> Self {
        Self::Retry(s.into())
    }
}

impl From<&str> for JobError {
    fn from(s: &str) -> Self {
        Self::Retry(s.into())
    }
}

pub(crate) fn panic_message(payload: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        format!("panic: {s}")
    } else if let Some(s) = payload.downcast_ref::<String>() {
        format!("panic: {s}")
    } else {
        "panic".to_owned()
    }
}
