//! What one job does, and how its failure reaches the queue.
//!
//! | job | does |
//! |---|---|
//! | `sync_from_hubspot` | HubSpot object → Userflow attributes (changed fields only) |
//! | `sync_from_userflow` | Userflow user/group → `userflow_*` HubSpot properties |
//! | `post_timeline_event` | Userflow event → HubSpot timeline event (or last-event property) |
//! | `hubspot_removed` | deletion → unlink; merge → move the link to the survivor |
//! | `ensure_schema` | `hubsync_sync::schema_setup::ensure_schema` |
//! | `full_sync_shard` | `hubsync_sync::full_sync::run_shard` |
//!
//! Every job first passes the integration gate ([`hubsync_sync::engine::gate`]): gone →
//! done; disconnected or pending → done as a no-op (`skipped: disconnected`); authorization
//! expired → again in an hour without using an attempt. Failures are classified
//! ([`hubsync_sync::engine::errors`]) into `retry_at` (rate limits), `retry_after` (token
//! refresh), `retry` (backoff) or `permanent` (dead letter).

use hubsync_core::jobs::Job;
use hubsync_entities::SyncDirection;
use hubsync_queue::{JobError, JobInfo};
use hubsync_sync::engine::{self, EngineError, Gate, log};
use hubsync_sync::lock::RedisLock;
use hubsync_sync::{JobQueues, SyncContext, Tenant, full_sync, schema_setup};
use tracing::Instrument;

/// What every job handler of a process shares.
#[derive(Debug, Clone)]
pub struct Handler {
    pub ctx: SyncContext,
    pub jobs: JobQueues,
}

impl Handler {
    pub fn new(ctx: SyncContext, jobs: JobQueues) -> Self {
        Self { ctx, jobs }
    }

    /// Runs `job` leased as `info`.
    pub async fn handle(&self, job: Job, info: &JobInfo) -> Result<(), JobError> {
        let span = tracing::info_span!(
            "job",
            integration_id = %job.integration_id(),
            job_id = %info.id.as_str(),
            kind = job.kind(),
            attempt = info.attempt,
        );
        handle_job(&self.ctx, &self.jobs, &job, Some(info.id.as_str()))
            .instrument(span)
            .await
    }
}

/// Runs `job` (outside the queue too: tests and tools call this directly).
pub async fn handle_job(
    ctx: &SyncContext,
    jobs: &JobQueues,
    job: &Job,
    job_id: Option<&str>,
) -> Result<(), JobError> {
    let res = run(ctx, jobs, job, job_id).await;
    match &res {
        Ok(()) => tracing::debug!("job done"),
        Err(e) if e.is_retryable() => {
            tracing::warn!(category = e.category, error = %e.message, "job will run again");
        }
        Err(e) => tracing::error!(category = e.category, error = %e.message, "job failed for good"),
    }
    res.map_err(EngineError::into_job_error)
}

async fn run(
    ctx: &SyncContext,
    jobs: &JobQueues,
    job: &Job,
    job_id: Option<&str>,
) -> Result<(), EngineError> {
    let tenant = match engine::gate(ctx, job.integration_id(), job, job_id).await? {
        Gate::Run(t) => *t,
        Gate::Done(note) => {
            tracing::info!(note, "job finished without work");
            return Ok(());
        }
    };
    match job {
        Job::EnsureSchema(_) => {
            let report = schema_setup::ensure_schema(&tenant)
                .await
                .map_err(EngineError::from);
            let report = logged(&tenant, job_id, report).await?;
            if report.problems.is_empty() {
                tracing::info!("HubSpot schema in place");
            } else {
                tracing::warn!(problems = ?report.problems, "HubSpot schema set up with problems");
            }
            Ok(())
        }
        Job::FullSyncShard(shard) => {
            let outcome = full_sync::run_shard(&tenant, jobs, shard)
                .await
                .map_err(EngineError::from);
            let outcome = logged(&tenant, job_id, outcome).await?;
            tracing::info!(
                run_id = %shard.run_id,
                shard = shard.shard,
                ?outcome,
                "full sync shard step done"
            );
            Ok(())
        }
        _ => {
            // Coalescing merges waiting jobs only: a change that arrives while its object's
            // sync runs makes a second job, which would read the same old target value and
            // write the same change again. One sync per object at a time.
            let lock = job.coalesce_key().map(|key| {
                RedisLock::new(
                    ctx.redis.clone(),
                    format!("{}:object-lock:{key}", ctx.redis_prefix),
                    OBJECT_LOCK_TTL,
                )
            });
            if let Some(lock) = &lock
                && !lock
                    .acquire()
                    .await
                    .map_err(|e| EngineError::from(hubsync_sync::SyncError::from(e)))?
            {
                return Err(EngineError::busy());
            }
            let report = engine::run_object_job(tenant, job, job_id.map(str::to_owned)).await;
            if let Some(lock) = &lock {
                lock.release().await;
            }
            for o in &report?.objects {
                tracing::debug!(mapping_id = %o.mapping_id, outcome = ?o.outcome, "object done");
            }
            Ok(())
        }
    }
}

/// How long an object stays locked if its worker dies mid-sync.
const OBJECT_LOCK_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// Writes a `failed` sync log row for a failed integration-wide step (schema, full sync).
async fn logged<T>(
    tenant: &Tenant,
    job_id: Option<&str>,
    res: Result<T, EngineError>,
) -> Result<T, EngineError> {
    if let Err(e) = &res {
        let mut entry = log::Entry::new(tenant.id(), SyncDirection::UserflowToHubspot);
        entry.job_id = job_id.map(str::to_owned);
        if let Err(db) = entry.failed(&tenant.ctx.db, e).await {
            tracing::warn!(error = %db, "could not write the sync log");
        }
    }
    res
}
