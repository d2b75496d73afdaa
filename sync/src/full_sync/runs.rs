//! Runs: starting one (one at a time per integration), cancelling, finishing when every shard
//! has, and the progress view (the sum of the shards).

use std::time::Duration;

use chrono::{DateTime, Utc};
use hubsync_core::jobs::{FullSyncShard, Job};
use hubsync_entities::full_sync_runs::{
    ActiveModel as RunActive, Column as RunCol, Entity as Runs, Model as Run,
};
use hubsync_entities::full_sync_shards::{
    ActiveModel as ShardActive, Column as ShardCol, Entity as Shards, Model as Shard,
};
use hubsync_entities::object_mappings::{Column as MappingCol, Entity as Mappings};
use hubsync_entities::{FullSyncStatus, FullSyncTrigger, IntegrationStatus};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};
use serde::Serialize;
use uuid::Uuid;

use super::state::ShardState;
use crate::{JobQueues, SyncContext, SyncError};

/// A run with no progress for this long no longer blocks a new one: [`start_run`] marks it
/// failed and starts afresh (its shard jobs were lost, e.g. dead-lettered).
pub const STALE_AFTER: Duration = Duration::from_secs(3 * 3600);

/// How long the per-integration start lock lives (it is released at once on success).
const START_LOCK_TTL_MS: u64 = 15_000;

/// Why a run was not started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A run of the integration is pending or running (or being started right now).
    #[error(
        "a full sync of integration {integration} is already {status} (run {run_id}); wait for it \
         to finish or cancel it"
    )]
    AlreadyRunning {
        integration: Uuid,
        run_id: Uuid,
        status: FullSyncStatus,
    },
    /// Another start of the same integration holds the lock this instant.
    #[error("a full sync of integration {0} is being started right now")]
    Starting(Uuid),
    /// Only a connected integration syncs.
    #[error("integration {integration} is {status}; a full sync needs a connected integration")]
    NotConnected {
        integration: Uuid,
        status: IntegrationStatus,
    },
    /// Nothing to page through.
    #[error("integration {0} has no enabled object mapping; nothing to sync")]
    NoMappings(Uuid),
    #[error(transparent)]
    Sync(#[from] SyncError),
}

impl From<sea_orm::DbErr> for StartError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Sync(e.into())
    }
}

impl From<redis::RedisError> for StartError {
    fn from(e: redis::RedisError) -> Self {
        Self::Sync(e.into())
    }
}

impl From<StartError> for SyncError {
    fn from(e: StartError) -> Self {
        match e {
            StartError::Sync(e) => e,
            StartError::AlreadyRunning { integration, .. }
            | StartError::Starting(integration)
            | StartError::NotConnected { integration, .. }
            | StartError::NoMappings(integration) => SyncError::NotReady {
                integration,
                reason: e.to_string(),
            },
        }
    }
}

/// Starts a full sync of `integration_id`: one shard per enabled object mapping (see the module
/// docs for why not more), each queued as a [`Job::FullSyncShard`] on the bulk queue.
///
/// Refuses while another run of the integration is pending or running, unless that run made
/// no progress for [`STALE_AFTER`]: it is then marked failed and replaced.
#[tracing::instrument(skip(ctx, jobs), fields(integration_id = %integration_id))]
pub async fn start_run(
    ctx: &SyncContext,
    jobs: &JobQueues,
    integration_id: Uuid,
    trigger: FullSyncTrigger,
) -> Result<Run, StartError> {
    let tenant = ctx.tenant(integration_id).await?;
    if !tenant.is_active() {
        return Err(StartError::NotConnected {
            integration: integration_id,
            status: tenant.integration.status,
        });
    }
    let lock = StartLock::take(ctx, integration_id).await?;
    let result = create_and_queue(ctx, jobs, integration_id, trigger).await;
    lock.release(ctx).await;
    result
}

async fn create_and_queue(
    ctx: &SyncContext,
    jobs: &JobQueues,
    integration_id: Uuid,
    trigger: FullSyncTrigger,
) -> Result<Run, StartError> {
    if let Some(active) = active_run(&ctx.db, integration_id).await? {
        let last = last_activity(&ctx.db, &active).await?;
        let idle = Utc::now().signed_duration_since(last);
        if idle.to_std().is_ok_and(|idle| idle >= STALE_AFTER) {
            tracing::warn!(run_id = %active.id, %last, "replacing a stalled full sync run");
            fail_run(
                &ctx.db,
                active.id,
                &format!("no progress since {last}; replaced by a new run"),
            )
            .await?;
        } else {
            return Err(StartError::AlreadyRunning {
                integration: integration_id,
                run_id: active.id,
                status: active.status,
            });
        }
    }
    let mappings = Mappings::find()
        .filter(MappingCol::IntegrationId.eq(integration_id))
        .filter(MappingCol::Enabled.eq(true))
        .order_by_asc(MappingCol::CreatedAt)
        .order_by_asc(MappingCol::Id)
        .all(&ctx.db)
        .await?;
    if mappings.is_empty() {
        return Err(StartError::NoMappings(integration_id));
    }
    let shard_count = i32::try_from(mappings.len()).unwrap_or(i32::MAX);
    let txn = ctx.db.begin().await?;
    let run = RunActive {
        integration_id: Set(integration_id),
        trigger: Set(trigger),
        status: Set(FullSyncStatus::Pending),
        shard_count: Set(shard_count),
        processed: Set(0),
        failed: Set(0),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    for (index, mapping) in mappings.iter().enumerate() {
        ShardActive {
            run_id: Set(run.id),
            shard_index: Set(i32::try_from(index).unwrap_or(i32::MAX)),
            cursor: Set(Some(ShardState::new(mapping.id).encode())),
            status: Set(FullSyncStatus::Pending),
            processed: Set(0),
            failed: Set(0),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    let shard_jobs = (0..mappings.len())
        .map(|shard| {
            Job::FullSyncShard(FullSyncShard {
                integration_id,
                run_id: run.id,
                shard: u32::try_from(shard).unwrap_or(u32::MAX),
            })
        })
        .collect();
    if let Err(e) = jobs.bulk_many(shard_jobs).await {
        let reason = format!("could not queue the shard jobs: {e}");
        fail_run(&ctx.db, run.id, &reason).await?;
        return Err(SyncError::NotReady {
            integration: integration_id,
            reason,
        }
        .into());
    }
    tracing::info!(run_id = %run.id, shards = shard_count, trigger = %trigger, "full sync started");
    Ok(run)
}

/// The pending or running run of the integration, newest first.
pub async fn active_run(
    db: &impl ConnectionTrait,
    integration_id: Uuid,
) -> Result<Option<Run>, SyncError> {
    Ok(Runs::find()
        .filter(RunCol::IntegrationId.eq(integration_id))
        .filter(RunCol::Status.is_in([FullSyncStatus::Pending, FullSyncStatus::Running]))
        .order_by_desc(RunCol::CreatedAt)
        .one(db)
        .await?)
}

/// The newest run of the integration, whatever its status.
pub async fn latest_run(
    db: &impl ConnectionTrait,
    integration_id: Uuid,
) -> Result<Option<Run>, SyncError> {
    Ok(Runs::find()
        .filter(RunCol::IntegrationId.eq(integration_id))
        .order_by_desc(RunCol::CreatedAt)
        .order_by_desc(RunCol::Id)
        .one(db)
        .await?)
}

/// The last time the run or one of its shards changed.
async fn last_activity(db: &impl ConnectionTrait, run: &Run) -> Result<DateTime<Utc>, SyncError> {
    let newest_shard = Shards::find()
        .filter(ShardCol::RunId.eq(run.id))
        .order_by_desc(ShardCol::UpdatedAt)
        .one(db)
        .await?;
    Ok(newest_shard.map_or(run.updated_at, |s| Ord::max(s.updated_at, run.updated_at)))
}

/// Cancels run `run_id` of `integration_id` and its unfinished shards. `None` when the run does
/// not exist for that integration; a finished run is answered unchanged.
#[tracing::instrument(skip(db), fields(integration_id = %integration_id))]
pub async fn cancel_run(
    db: &impl ConnectionTrait,
    integration_id: Uuid,
    run_id: Uuid,
    reason: &str,
) -> Result<Option<Run>, SyncError> {
    let Some(run) = find_run(db, integration_id, run_id).await? else {
        return Ok(None);
    };
    if !run.status.is_finished() {
        end_run(db, run_id, FullSyncStatus::Cancelled, Some(reason)).await?;
        tracing::info!(%run_id, reason, "full sync cancelled");
    }
    find_run(db, integration_id, run_id).await
}

/// Cancels every pending or running run of `integration_id` (call it when the integration
/// is disconnected). Answers the runs cancelled.
pub async fn cancel_active_runs(
    db: &impl ConnectionTrait,
    integration_id: Uuid,
    reason: &str,
) -> Result<Vec<Uuid>, SyncError> {
    let active: Vec<Uuid> = Runs::find()
        .filter(RunCol::IntegrationId.eq(integration_id))
        .filter(RunCol::Status.is_in([FullSyncStatus::Pending, FullSyncStatus::Running]))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    for run_id in &active {
        end_run(db, *run_id, FullSyncStatus::Cancelled, Some(reason)).await?;
        tracing::info!(%integration_id, %run_id, reason, "full sync cancelled");
    }
    Ok(active)
}

/// Cancels the pending or running runs of integrations that are disconnected or pending
/// (their shard jobs are dropped before they run, so nothing else would end these runs).
/// Answers the runs cancelled.
pub async fn cancel_runs_of_inactive(db: &impl ConnectionTrait) -> Result<Vec<Uuid>, SyncError> {
    use hubsync_entities::integrations::{Column as IntegrationCol, Entity as Integrations};
    let active = Runs::find()
        .filter(RunCol::Status.is_in([FullSyncStatus::Pending, FullSyncStatus::Running]))
        .all(db)
        .await?;
    if active.is_empty() {
        return Ok(Vec::new());
    }
    let inactive: Vec<(Uuid, IntegrationStatus)> = Integrations::find()
        .select_only()
        .column(IntegrationCol::Id)
        .column(IntegrationCol::Status)
        .filter(IntegrationCol::Id.is_in(active.iter().map(|r| r.integration_id)))
        .filter(
            IntegrationCol::Status
                .is_in([IntegrationStatus::Disconnected, IntegrationStatus::Pending]),
        )
        .into_tuple()
        .all(db)
        .await?;
    let mut cancelled = Vec::new();
    for (integration_id, status) in inactive {
        let reason = format!("integration is {status}");
        cancelled.extend(cancel_active_runs(db, integration_id, &reason).await?);
    }
    Ok(cancelled)
}

/// Marks the run and its unfinished shards failed with `reason`.
pub(crate) async fn fail_run(
    db: &impl ConnectionTrait,
    run_id: Uuid,
    reason: &str,
) -> Result<(), SyncError> {
    end_run(db, run_id, FullSyncStatus::Failed, Some(reason)).await
}

/// Ends an unfinished run and its unfinished shards with `status`.
pub(crate) async fn end_run(
    db: &impl ConnectionTrait,
    run_id: Uuid,
    status: FullSyncStatus,
    reason: Option<&str>,
) -> Result<(), SyncError> {
    let now = hubsync_entities::now();
    let mut update = Runs::update_many()
        .col_expr(RunCol::Status, Expr::value(status.as_str()))
        .col_expr(RunCol::FinishedAt, Expr::value(now))
        .col_expr(RunCol::UpdatedAt, Expr::value(now));
    if let Some(reason) = reason {
        update = update.col_expr(RunCol::Error, Expr::value(reason));
    }
    update
        .filter(RunCol::Id.eq(run_id))
        .filter(RunCol::Status.is_in([FullSyncStatus::Pending, FullSyncStatus::Running]))
        .exec(db)
        .await?;
    Shards::update_many()
        .col_expr(ShardCol::Status, Expr::value(status.as_str()))
        .col_expr(ShardCol::UpdatedAt, Expr::value(now))
        .filter(ShardCol::RunId.eq(run_id))
        .filter(ShardCol::Status.is_in([FullSyncStatus::Pending, FullSyncStatus::Running]))
        .exec(db)
        .await?;
    Ok(())
}

/// Marks a pending run running (the first shard started).
pub(crate) async fn mark_run_running(
    db: &impl ConnectionTrait,
    run_id: Uuid,
) -> Result<(), SyncError> {
    let now = hubsync_entities::now();
    Runs::update_many()
        .col_expr(
            RunCol::Status,
            Expr::value(FullSyncStatus::Running.as_str()),
        )
        .col_expr(RunCol::StartedAt, Expr::value(now))
        .col_expr(RunCol::UpdatedAt, Expr::value(now))
        .filter(RunCol::Id.eq(run_id))
        .filter(RunCol::Status.eq(FullSyncStatus::Pending))
        .exec(db)
        .await?;
    Ok(())
}

/// Adds a page's counts to the run's totals.
pub(crate) async fn add_to_run(
    db: &impl ConnectionTrait,
    run_id: Uuid,
    seen: u64,
    failed: u64,
) -> Result<(), SyncError> {
    let seen = i64::try_from(seen).unwrap_or(i64::MAX);
    let failed = i64::try_from(failed).unwrap_or(i64::MAX);
    Runs::update_many()
        .col_expr(RunCol::Processed, Expr::col(RunCol::Processed).add(seen))
        .col_expr(RunCol::Failed, Expr::col(RunCol::Failed).add(failed))
        .col_expr(RunCol::UpdatedAt, Expr::value(hubsync_entities::now()))
        .filter(RunCol::Id.eq(run_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Ends the run once every shard has ended: failed if a shard failed, cancelled if one was
/// cancelled, else completed. Safe to call from every shard: each calls it after its own
/// final write, so the last one sees all of them.
pub(crate) async fn finish_run_if_done(
    db: &impl ConnectionTrait,
    run_id: Uuid,
) -> Result<Option<FullSyncStatus>, SyncError> {
    let shards = Shards::find()
        .filter(ShardCol::RunId.eq(run_id))
        .all(db)
        .await?;
    if shards.is_empty() || shards.iter().any(|s| !s.status.is_finished()) {
        return Ok(None);
    }
    let status = if shards.iter().any(|s| s.status == FullSyncStatus::Failed) {
        FullSyncStatus::Failed
    } else if shards.iter().any(|s| s.status == FullSyncStatus::Cancelled) {
        FullSyncStatus::Cancelled
    } else {
        FullSyncStatus::Completed
    };
    let error = shards
        .iter()
        .filter_map(|s| ShardState::parse(s.cursor.as_deref()).and_then(|st| st.error))
        .next();
    let seen: i64 = shards.iter().map(|s| s.processed).sum();
    let failed: i64 = shards.iter().map(|s| s.failed).sum();
    let now = hubsync_entities::now();
    let mut update = Runs::update_many()
        .col_expr(RunCol::Status, Expr::value(status.as_str()))
        .col_expr(RunCol::Processed, Expr::value(seen))
        .col_expr(RunCol::Failed, Expr::value(failed))
        .col_expr(RunCol::FinishedAt, Expr::value(now))
        .col_expr(RunCol::UpdatedAt, Expr::value(now));
    if let Some(error) = error {
        update = update.col_expr(RunCol::Error, Expr::value(error));
    }
    let done = update
        .filter(RunCol::Id.eq(run_id))
        .filter(RunCol::Status.is_in([FullSyncStatus::Pending, FullSyncStatus::Running]))
        .exec(db)
        .await?;
    if done.rows_affected > 0 {
        tracing::info!(%run_id, status = %status, seen, failed, "full sync finished");
    }
    Ok(Some(status))
}

/// Run `run_id` if it belongs to `integration_id`.
pub async fn find_run(
    db: &impl ConnectionTrait,
    integration_id: Uuid,
    run_id: Uuid,
) -> Result<Option<Run>, SyncError> {
    Ok(Runs::find_by_id(run_id)
        .filter(RunCol::IntegrationId.eq(integration_id))
        .one(db)
        .await?)
}

/// One shard as the progress view shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShardProgress {
    pub shard: i32,
    pub mapping_id: Option<Uuid>,
    pub status: FullSyncStatus,
    pub pages: u64,
    pub seen: u64,
    pub matched: u64,
    pub queued: u64,
    pub failed: u64,
    pub error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Shard> for ShardProgress {
    fn from(s: &Shard) -> Self {
        let state = ShardState::parse(s.cursor.as_deref());
        let st = state.clone().unwrap_or_default();
        Self {
            shard: s.shard_index,
            mapping_id: state.map(|st| st.mapping_id),
            status: s.status,
            pages: st.pages,
            seen: st.seen,
            matched: st.matched,
            queued: st.queued,
            failed: st.failed,
            error: st.error,
            updated_at: s.updated_at,
        }
    }
}

/// A run and its progress: the sums of its shards.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunProgress {
    pub id: Uuid,
    pub integration_id: Uuid,
    pub trigger: FullSyncTrigger,
    pub status: FullSyncStatus,
    pub error: Option<String>,
    pub shard_count: i32,
    /// Userflow objects read.
    pub seen: u64,
    /// Of those, found in HubSpot.
    pub matched: u64,
    /// Sync jobs queued.
    pub queued: u64,
    /// Objects HubSpot answered an error for.
    pub failed: u64,
    /// Share of shards that have ended, 0–100 (Userflow lists carry no totals, so finer
    /// progress within a shard is unknown).
    pub percent: Option<f64>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub shards: Vec<ShardProgress>,
}

impl RunProgress {
    /// The view of `run` with its `shards` (any order).
    pub fn new(run: &Run, shards: &[Shard]) -> Self {
        let mut views: Vec<ShardProgress> = shards.iter().map(ShardProgress::from).collect();
        views.sort_by_key(|s| s.shard);
        let ended = views.iter().filter(|s| s.status.is_finished()).count();
        let percent = if run.status == FullSyncStatus::Completed {
            Some(100.0)
        } else if views.is_empty() {
            None
        } else {
            #[allow(clippy::cast_precision_loss)]
            let p = ended as f64 * 100.0 / views.len() as f64;
            Some((p * 10.0).round() / 10.0)
        };
        Self {
            id: run.id,
            integration_id: run.integration_id,
            trigger: run.trigger,
            status: run.status,
            error: run.error.clone(),
            shard_count: run.shard_count,
            seen: views.iter().map(|s| s.seen).sum(),
            matched: views.iter().map(|s| s.matched).sum(),
            queued: views.iter().map(|s| s.queued).sum(),
            failed: views.iter().map(|s| s.failed).sum(),
            percent,
            created_at: run.created_at,
            started_at: run.started_at,
            finished_at: run.finished_at,
            updated_at: run.updated_at,
            shards: views,
        }
    }
}

/// The progress of run `run_id` of `integration_id`; `None` when it does not exist for that
/// integration.
pub async fn run_progress(
    db: &impl ConnectionTrait,
    integration_id: Uuid,
    run_id: Uuid,
) -> Result<Option<RunProgress>, SyncError> {
    let Some(run) = find_run(db, integration_id, run_id).await? else {
        return Ok(None);
    };
    let shards = Shards::find()
        .filter(ShardCol::RunId.eq(run.id))
        .all(db)
        .await?;
    Ok(Some(RunProgress::new(&run, &shards)))
}

/// The newest `limit` runs of `integration_id` (newest first) with their progress; `before`
/// pages on (runs created before that run).
pub async fn list_runs(
    db: &impl ConnectionTrait,
    integration_id: Uuid,
    limit: u64,
    before: Option<&Run>,
) -> Result<Vec<RunProgress>, SyncError> {
    let mut query = Runs::find()
        .filter(RunCol::IntegrationId.eq(integration_id))
        .order_by_desc(RunCol::CreatedAt)
        .order_by_desc(RunCol::Id)
        .limit(limit);
    if let Some(b) = before {
        query = query.filter(
            sea_orm::Condition::any()
                .add(RunCol::CreatedAt.lt(b.created_at))
                .add(
                    sea_orm::Condition::all()
                        .add(RunCol::CreatedAt.eq(b.created_at))
                        .add(RunCol::Id.lt(b.id)),
                ),
        );
    }
    let runs = query.all(db).await?;
    if runs.is_empty() {
        return Ok(Vec::new());
    }
    let shards = Shards::find()
        .filter(ShardCol::RunId.is_in(runs.iter().map(|r| r.id)))
        .all(db)
        .await?;
    Ok(runs
        .iter()
        .map(|run| {
            let mine: Vec<Shard> = shards
                .iter()
                .filter(|s| s.run_id == run.id)
                .cloned()
                .collect();
            RunProgress::new(run, &mine)
        })
        .collect())
}

/// A short Redis lock so that two starts of one integration (two api replicas, the api and
/// the scheduler) cannot both pass the "already running" check.
struct StartLock {
    key: String,
    token: String,
}

impl StartLock {
    async fn take(ctx: &SyncContext, integration_id: Uuid) -> Result<Self, StartError> {
        let key = format!("{}:fullsync:{integration_id}:starting", ctx.redis_prefix);
        let token = Uuid::new_v4().to_string();
        let mut conn = ctx.redis.clone();
        let taken: Option<String> = redis::cmd("SET")
            .arg(&key)
            .arg(&token)
            .arg("NX")
            .arg("PX")
            .arg(START_LOCK_TTL_MS)
            .query_async(&mut conn)
            .await?;
        if taken.is_none() {
            return Err(StartError::Starting(integration_id));
        }
        Ok(Self { key, token })
    }

    async fn release(self, ctx: &SyncContext) {
        let script = redis::Script::new(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end \
             return 0",
        );
        let mut conn = ctx.redis.clone();
        let released: Result<i64, _> = script
            .key(&self.key)
            .arg(&self.token)
            .invoke_async(&mut conn)
            .await;
        if let Err(e) = released {
            // The lock expires on its own shortly.
            tracing::warn!(error = %e, "could not release the full sync start lock");
        }
    }
}
