//! The producer API ([`QueueClient`]) and the connection state shared by a queue's clients,
//! backends and admin handle.

use std::{marker::PhantomData, sync::Arc};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::Serialize;
use tracing::Instrument;

use crate::{
    EnqueueOutcome, JobId, NewJob, QueueAdmin, QueueConfig, QueueError, Result,
    keys::Keys,
    ops::{self, enqueue_jobs::EncodedJob},
};

/// Jobs per `enqueue_jobs` call.
const ENQUEUE_CHUNK: usize = 500;

/// State shared by everything built from one queue configuration.
pub(crate) struct Shared {
    pub cfg: QueueConfig,
    pub keys: Keys,
    pub client: redis::Client,
    /// Multiplexed connection for scripts and reads (never for blocking commands).
    pub conn: ConnectionManager,
    /// The process's reaper for this queue, started by the first worker.
    pub reaper: std::sync::Mutex<Option<crate::reaper::ReaperHandle>>,
}

impl Shared {
    pub(crate) fn new(client: redis::Client, cfg: QueueConfig) -> Result<Arc<Self>> {
        cfg.validate()?;
        let mcfg = ConnectionManagerConfig::new()
            .set_response_timeout(Some(cfg.command_timeout))
            .set_connection_timeout(Some(cfg.command_timeout));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), mcfg)?;
        Ok(Arc::new(Self {
            keys: Keys::new(&cfg.prefix, &cfg.name),
            cfg,
            client,
            conn,
            reaper: std::sync::Mutex::new(None),
        }))
    }
}

/// Pushes jobs of type `T` onto one queue. Cheap to clone.
pub struct QueueClient<T> {
    pub(crate) shared: Arc<Shared>,
    _t: PhantomData<fn(T)>,
}

impl<T> Clone for QueueClient<T> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
            _t: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for QueueClient<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueClient")
            .field("queue", &self.shared.keys.tag())
            .finish()
    }
}

impl<T> QueueClient<T> {
    pub(crate) fn from_shared(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            _t: PhantomData,
        }
    }
}

impl<T: Serialize> QueueClient<T> {
    /// A client for the queue described by `cfg`. Connects lazily (no I/O here).
    pub fn new(client: redis::Client, cfg: QueueConfig) -> Result<Self> {
        Ok(Self::from_shared(Shared::new(client, cfg)?))
    }

    /// The queue's configuration.
    pub fn config(&self) -> &QueueConfig {
        &self.shared.cfg
    }

    /// The operator handle of this queue.
    pub fn admin(&self) -> QueueAdmin {
        QueueAdmin::from_shared(self.shared.clone())
    }

    /// Pushes one job. When this returns `Ok`, the job is stored in Redis (durable as far as
    /// Redis's AOF policy makes it) and, if not delayed, visible to workers.
    pub async fn enqueue(&self, job: NewJob<T>) -> Result<EnqueueOutcome> {
        let mut out = self.enqueue_many(vec![job]).await?;
        out.pop()
            .ok_or_else(|| ops::protocol("enqueue_jobs", "no outcome".to_owned()))
    }

    /// Pushes many jobs, in script calls of at most 500 jobs. Outcomes are in input order.
    /// Each call is atomic; if one fails, earlier chunks stay stored.
    pub async fn enqueue_many(&self, jobs: Vec<NewJob<T>>) -> Result<Vec<EnqueueOutcome>> {
        let cfg = &self.shared.cfg;
        let mut encoded = Vec::with_capacity(jobs.len());
        for job in jobs {
            if job.tenant.is_empty() {
                return Err(QueueError::InvalidJob("empty tenant".to_owned()));
            }
            if job.max_attempts == Some(0) {
                return Err(QueueError::InvalidJob(
                    "max_attempts must be at least 1".to_owned(),
                ));
            }
            encoded.push(EncodedJob {
                id: job.id.unwrap_or_else(JobId::random).0,
                payload: serde_json::to_string(&job.payload).map_err(QueueError::Encode)?,
                meta: serde_json::to_string(&job.metadata).map_err(QueueError::Encode)?,
                max_attempts: job.max_attempts.unwrap_or(cfg.backoff.max_attempts),
                delay_ms: ops::ms(job.delay),
                idem_ttl_ms: ops::ms(job.idempotency_ttl.unwrap_or(cfg.idempotency_ttl)),
                idem_key: job.idempotency_key.unwrap_or_default(),
                co_key: job.coalesce_key.unwrap_or_default(),
                co_replace: job.coalesce_replace,
                tenant: job.tenant,
            });
        }
        let span = tracing::debug_span!("queue.enqueue", queue = %cfg.name, jobs = encoded.len());
        async {
            let mut conn = self.shared.conn.clone();
            let mut out = Vec::with_capacity(encoded.len());
            for chunk in encoded.chunks(ENQUEUE_CHUNK) {
                out.extend(ops::enqueue_jobs::run(&mut conn, &self.shared.keys, chunk).await?);
            }
            Ok(out)
        }
        .instrument(span)
        .await
    }
}
