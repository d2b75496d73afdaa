//! Where jobs go: the cluster's `realtime` and `bulk` queues of [`Job`]s.

use hubsync_core::jobs::{BULK, Job, REALTIME};
use hubsync_queue::{EnqueueOutcome, NewJob, QueueClient, QueueConfig, QueueError};

/// Producers' handles on both queues. Cheap to clone.
#[derive(Clone, Debug)]
pub struct JobQueues {
    pub realtime: QueueClient<Job>,
    pub bulk: QueueClient<Job>,
}

impl JobQueues {
    /// Both queues under `prefix`; connects lazily.
    pub fn new(client: redis::Client, prefix: &str) -> Result<Self, QueueError> {
        Ok(Self {
            realtime: QueueClient::new(client.clone(), QueueConfig::new(prefix, REALTIME))?,
            bulk: QueueClient::new(client, QueueConfig::new(prefix, BULK))?,
        })
    }

    /// `job` as the queue wants it: tenant and coalescing key from the job, plus an optional
    /// idempotency key (a webhook's delivery identity).
    pub fn new_job(job: Job, idempotency_key: Option<String>) -> NewJob<Job> {
        let mut new = NewJob::new(job.tenant(), job.clone());
        if let Some(key) = job.coalesce_key() {
            new = new.coalesce_key(key);
        }
        if let Some(key) = idempotency_key {
            new = new.idempotency_key(key);
        }
        new.meta("kind", job.kind())
    }

    /// Pushes `jobs` to the realtime queue in one atomic call: all or none are queued.
    pub async fn realtime_many(
        &self,
        jobs: Vec<NewJob<Job>>,
    ) -> Result<Vec<EnqueueOutcome>, QueueError> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        self.realtime.enqueue_many(jobs).await
    }

    /// Pushes one job to the realtime queue.
    pub async fn realtime(&self, job: Job) -> Result<EnqueueOutcome, QueueError> {
        self.realtime.enqueue(Self::new_job(job, None)).await
    }

    /// Pushes `jobs` to the bulk queue in one call.
    pub async fn bulk_many(&self, jobs: Vec<Job>) -> Result<Vec<EnqueueOutcome>, QueueError> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        self.bulk
            .enqueue_many(jobs.into_iter().map(|j| Self::new_job(j, None)).collect())
            .await
    }
}
