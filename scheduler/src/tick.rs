//! One pass of the scheduler: start the scheduled full syncs that are due.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hubsync_entities::integrations::{Column as IntegrationCol, Entity as Integrations};
use hubsync_entities::{FullSyncTrigger, IntegrationStatus};
use hubsync_sync::full_sync::{self, StartError};
use hubsync_sync::{JobQueues, SyncContext, SyncError};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::slots;

/// What one tick did, for logs and tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TickReport {
    /// Connected integrations looked at.
    pub checked: usize,
    /// Runs this replica started.
    pub started: Vec<Uuid>,
    /// Integrations that failed (logged); retried next tick.
    pub errors: usize,
    /// Runs cancelled because their integration is no longer connected.
    pub cancelled: Vec<Uuid>,
}

/// Looks at every connected integration and starts a `scheduled` run for those due. A failure
/// of one integration is logged and does not stop the others; only listing the integrations
/// fails the tick.
pub async fn tick(
    ctx: &SyncContext,
    jobs: &JobQueues,
    interval: Duration,
) -> Result<TickReport, SyncError> {
    let cancelled = full_sync::cancel_runs_of_inactive(&ctx.db).await?;
    if !cancelled.is_empty() {
        tracing::info!(runs = ?cancelled, "cancelled full syncs of disconnected integrations");
    }
    let ids: Vec<Uuid> = Integrations::find()
        .select_only()
        .column(IntegrationCol::Id)
        .filter(IntegrationCol::Status.eq(IntegrationStatus::Connected))
        .into_tuple()
        .all(&ctx.db)
        .await?;
    let mut report = TickReport {
        checked: ids.len(),
        cancelled,
        ..TickReport::default()
    };
    for id in ids {
        match consider(ctx, jobs, interval, id).await {
            Ok(Some(run)) => report.started.push(run),
            Ok(None) => {}
            Err(e) => {
                report.errors += 1;
                tracing::warn!(integration_id = %id, error = %e, "scheduled full sync not started; retrying next tick");
            }
        }
    }
    Ok(report)
}

/// Starts the integration's scheduled run if it is due and this replica wins the period's
/// claim.
async fn consider(
    ctx: &SyncContext,
    jobs: &JobQueues,
    interval: Duration,
    integration: Uuid,
) -> Result<Option<Uuid>, SyncError> {
    let now = Utc::now();
    let last = full_sync::latest_run(&ctx.db, integration).await?;
    if !slots::is_due(integration, interval, now, last.map(|r| r.created_at)) {
        return Ok(None);
    }
    let period = slots::period_index(integration, interval, now);
    let key = claim_key(&ctx.redis_prefix, integration, period);
    if !claim(ctx, &key, interval).await? {
        return Ok(None);
    }
    match full_sync::start_run(ctx, jobs, integration, FullSyncTrigger::Scheduled).await {
        Ok(run) => {
            tracing::info!(integration_id = %integration, run_id = %run.id, period, "scheduled full sync started");
            Ok(Some(run.id))
        }
        // Someone else is syncing it, or there is nothing to sync: this period is settled.
        Err(e @ (StartError::AlreadyRunning { .. } | StartError::NoMappings(_))) => {
            tracing::info!(integration_id = %integration, reason = %e, "scheduled full sync skipped");
            Ok(None)
        }
        // Transient: give the period back so the next tick tries again.
        Err(e) => {
            release(ctx, &key).await;
            Err(e.into())
        }
    }
}

/// `<prefix>:fullsync:<integration>:<period index>`.
pub fn claim_key(prefix: &str, integration: Uuid, period: i64) -> String {
    format!("{prefix}:fullsync:{integration}:{period}")
}

/// Takes the period's claim (`SET NX`) for two intervals; `true` for the one replica that
/// got it.
pub async fn claim(ctx: &SyncContext, key: &str, interval: Duration) -> Result<bool, SyncError> {
    let ttl_ms = u64::try_from(interval.as_millis().saturating_mul(2))
        .unwrap_or(u64::MAX)
        .max(1_000);
    let mut conn = ctx.redis.clone();
    let set: Option<String> = redis::cmd("SET")
        .arg(key)
        .arg(at_now())
        .arg("NX")
        .arg("PX")
        .arg(ttl_ms)
        .query_async(&mut conn)
        .await?;
    Ok(set.is_some())
}

async fn release(ctx: &SyncContext, key: &str) {
    let mut conn = ctx.redis.clone();
    let deleted: Result<i64, _> = redis::cmd("DEL").arg(key).query_async(&mut conn).await;
    if let Err(e) = deleted {
        tracing::warn!(error = %e, key, "could not release a full sync claim");
    }
}

fn at_now() -> String {
    let now: DateTime<Utc> = Utc::now();
    now.to_rfc3339()
}
