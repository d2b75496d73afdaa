//! Job types: what producers push ([`NewJob`]), what they get back ([`EnqueueOutcome`]),
//! what handlers can read ([`JobInfo`]) and what operators see ([`JobRecord`]).

use std::{collections::BTreeMap, fmt, time::Duration};

use serde::{Deserialize, Serialize};

/// A job id (a UUID string unless the producer chose one).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub String);

impl JobId {
    /// A fresh random id.
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for JobId {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for JobId {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// A job to enqueue. Build with [`NewJob::new`] and the setters.
#[derive(Debug, Clone)]
pub struct NewJob<T> {
    /// Tenant (integration id); jobs of different tenants are served round robin.
    pub tenant: String,
    /// The job arguments, stored as JSON.
    pub payload: T,
    /// Explicit id; `None` generates one.
    pub id: Option<JobId>,
    /// Idempotency key: a second push with the same key while the key lives returns the
    /// first job's id ([`EnqueueOutcome::Duplicate`]).
    pub idempotency_key: Option<String>,
    /// TTL of the idempotency key; `None` uses [`crate::QueueConfig::idempotency_ttl`].
    pub idempotency_ttl: Option<Duration>,
    /// Coalescing key: at most one *pending* (waiting or delayed, never started) job per key;
    /// a push while one is pending is merged into it ([`EnqueueOutcome::Coalesced`]). A push
    /// after the job was leased creates a new job.
    pub coalesce_key: Option<String>,
    /// When coalescing, replace the pending job's payload and metadata with this push's
    /// (default false: keep the first).
    pub coalesce_replace: bool,
    /// Run no earlier than this delay after the push (measured on the Redis clock).
    pub delay: Duration,
    /// Attempts before the job is dead; `None` uses the queue's backoff policy.
    pub max_attempts: Option<u32>,
    /// String metadata (trace context, correlation ids), handed to the handler's
    /// `MetadataStore`.
    pub metadata: BTreeMap<String, String>,
}

impl<T> NewJob<T> {
    /// A job for `tenant` with `payload` and default options.
    pub fn new(tenant: impl Into<String>, payload: T) -> Self {
        Self {
            tenant: tenant.into(),
            payload,
            id: None,
            idempotency_key: None,
            idempotency_ttl: None,
            coalesce_key: None,
            coalesce_replace: false,
            delay: Duration::ZERO,
            max_attempts: None,
            metadata: BTreeMap::new(),
        }
    }

    /// Sets an explicit job id.
    pub fn id(mut self, id: impl Into<JobId>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets the idempotency key (TTL from the queue config unless set).
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// Sets the idempotency key's TTL.
    pub fn idempotency_ttl(mut self, ttl: Duration) -> Self {
        self.idempotency_ttl = Some(ttl);
        self
    }

    /// Sets the coalescing key (merge into the pending job of this key).
    pub fn coalesce_key(mut self, key: impl Into<String>) -> Self {
        self.coalesce_key = Some(key.into());
        self
    }

    /// When coalescing, replace the pending job's payload with this one.
    pub fn coalesce_replace(mut self, replace: bool) -> Self {
        self.coalesce_replace = replace;
        self
    }

    /// Delays the job.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Overrides the maximum attempts.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = Some(n);
        self
    }

    /// Adds a metadata entry.
    pub fn meta(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }
}

/// The result of one push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnqueueOutcome {
    /// A new job, waiting (visible to workers at once).
    Enqueued(JobId),
    /// A new job, delayed.
    Scheduled(JobId),
    /// The idempotency key was seen; this is the existing job's id. Nothing was stored.
    Duplicate(JobId),
    /// Merged into this pending job of the same coalescing key.
    Coalesced(JobId),
}

impl EnqueueOutcome {
    /// The id of the new or existing job.
    pub fn id(&self) -> &JobId {
        match self {
            Self::Enqueued(id)
            | Self::Scheduled(id)
            | Self::Duplicate(id)
            | Self::Coalesced(id) => id,
        }
    }

    /// Whether a new job was stored.
    pub fn is_new(&self) -> bool {
        matches!(self, Self::Enqueued(_) | Self::Scheduled(_))
    }
}

/// The state of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// In its tenant's waiting list.
    Waiting,
    /// Scheduled (delay, backoff, retry-at).
    Delayed,
    /// Leased by a worker.
    Active,
    /// Finished, kept for the retention window.
    Completed,
    /// Dead letter.
    Dead,
}

impl JobState {
    /// All states.
    pub const ALL: [JobState; 5] = [
        JobState::Waiting,
        JobState::Delayed,
        JobState::Active,
        JobState::Completed,
        JobState::Dead,
    ];

    /// The name stored in Redis.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Delayed => "delayed",
            Self::Active => "active",
            Self::Completed => "completed",
            Self::Dead => "dead",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Facts about the running job, in the task's data: handlers take `Data<JobInfo>`.
#[derive(Debug, Clone)]
pub struct JobInfo {
    /// Job id.
    pub id: JobId,
    /// Tenant (integration id).
    pub tenant: String,
    /// Queue name.
    pub queue: String,
    /// This attempt (1-based, counted in Redis; kept across lease expiry).
    pub attempt: u32,
    /// Attempts before the job is dead.
    pub max_attempts: u32,
    /// Push time, unix ms (Redis clock).
    pub enqueued_ms: u64,
    /// Time from due to lease.
    pub wait: Duration,
    pub(crate) token: String,
}

/// A job as stored, for operators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    /// Job id.
    pub id: JobId,
    /// State.
    pub state: JobState,
    /// Tenant.
    pub tenant: String,
    /// Attempts used.
    pub attempts: u32,
    /// Attempt budget.
    pub max_attempts: u32,
    /// Times the job said "retry at".
    pub deferrals: u32,
    /// Times its lease expired.
    pub reclaims: u32,
    /// Push time (unix ms).
    pub enqueued_ms: u64,
    /// When it is/was due (unix ms).
    pub due_ms: Option<u64>,
    /// Last lease time (unix ms).
    pub started_ms: Option<u64>,
    /// Completion time (unix ms).
    pub done_ms: Option<u64>,
    /// Death time (unix ms).
    pub died_ms: Option<u64>,
    /// Last error text.
    pub last_error: Option<String>,
    /// Reason of the last "retry at".
    pub last_defer: Option<String>,
    /// Payload JSON (absent for completed jobs unless kept).
    pub payload: Option<String>,
    /// Metadata.
    pub metadata: BTreeMap<String, String>,
    /// Idempotency key.
    pub idempotency_key: Option<String>,
    /// Coalescing key.
    pub coalesce_key: Option<String>,
    /// Current lease owner (worker id), when active.
    pub owner: Option<String>,
}

impl JobRecord {
    pub(crate) fn from_fields(id: &str, fields: &BTreeMap<String, String>) -> Option<Self> {
        let get = |k: &str| fields.get(k).filter(|v| !v.is_empty()).cloned();
        let num = |k: &str| fields.get(k).and_then(|v| v.parse::<u64>().ok());
        let small = |k: &str| {
            fields
                .get(k)
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0)
        };
        Some(Self {
            id: JobId::from(id),
            state: JobState::parse(fields.get("state")?)?,
            tenant: fields.get("tenant").cloned().unwrap_or_default(),
            attempts: small("attempts"),
            max_attempts: small("max_attempts"),
            deferrals: small("deferrals"),
            reclaims: small("reclaims"),
            enqueued_ms: num("enq_ms").unwrap_or(0),
            due_ms: num("due_ms"),
            started_ms: num("started_ms"),
            done_ms: num("done_ms"),
            died_ms: num("died_ms"),
            last_error: get("last_error"),
            last_defer: get("last_defer"),
            payload: fields.get("payload").cloned(),
            metadata: fields
                .get("meta")
                .and_then(|m| serde_json::from_str(m).ok())
                .unwrap_or_default(),
            idempotency_key: get("idem"),
            coalesce_key: get("co"),
            owner: get("owner"),
        })
    }
}
