//! One shard: page through the Userflow objects of its mapping from the checkpoint, look the
//! page up in HubSpot, queue per-object syncs for the pairs found, checkpoint, repeat.
//!
//! A job works through at most [`ShardOptions::pages_per_job`] pages (or
//! [`ShardOptions::time_budget`]), then queues its continuation as a new
//! [`Job::FullSyncShard`] and returns: no job holds a worker for hours, the bulk queue stays
//! fair between integrations, and a shutdown loses at most one page of work. The checkpoint
//! write is a compare-and-set on the previous cursor, so when a job runs twice (a lease
//! expired and the reaper re-queued it while the first copy still ran) only one copy advances
//! and counts each page; the other stops.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use hubsync_core::jobs::{FullSyncShard, Job, SyncFromHubspot, SyncFromUserflow, UserflowKind};
use hubsync_entities::full_sync_runs::{Entity as Runs, Model as Run};
use hubsync_entities::full_sync_shards::{Column as ShardCol, Entity as Shards, Model as Shard};
use hubsync_entities::object_mappings::{Entity as Mappings, Model as Mapping};
use hubsync_entities::{FullSyncStatus, IntegrationStatus, UserflowObjectType};
use hubsync_userflow::Request as _;
use hubsync_userflow::models::AttributeMap;
use hubsync_userflow::requests::{Order, groups, users};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::lookup::{self, Lookup};
use super::runs;
use super::state::ShardState;
use crate::error::{Result, SyncError};
use crate::{JobQueues, Tenant};

/// How much one shard job does before handing over to its continuation.
#[derive(Debug, Clone)]
pub struct ShardOptions {
    /// Userflow page size (Userflow's maximum is 100; so is HubSpot's batch read).
    pub page_size: u32,
    /// Pages one job reads before queueing its continuation.
    pub pages_per_job: u32,
    /// Time after which a job queues its continuation (checked between pages).
    pub time_budget: Duration,
    /// Waits for the HubSpot rate limiter up to this long are slept through in the job;
    /// longer ones end the job and delay the continuation instead.
    pub max_inline_wait: Duration,
}

impl Default for ShardOptions {
    fn default() -> Self {
        Self {
            page_size: 100,
            pages_per_job: 20,
            time_budget: Duration::from_secs(60),
            max_inline_wait: Duration::from_secs(15),
        }
    }
}

/// How a shard job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardEnd {
    /// The shard has ended with this status (also when it had ended before this job).
    Finished(FullSyncStatus),
    /// The shard goes on in a continuation job, due after this delay.
    Continues { after: Duration },
    /// Another copy of this job advanced the shard first; that copy goes on.
    Superseded,
}

/// What one call of [`run_shard`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardOutcome {
    /// Pages read by this call.
    pub pages: u64,
    /// Userflow objects read by this call.
    pub seen: u64,
    /// Of those, found in HubSpot.
    pub matched: u64,
    /// Sync jobs queued by this call.
    pub queued: u64,
    /// How it ended.
    pub end: ShardEnd,
}

impl ShardOutcome {
    fn ended(end: ShardEnd) -> Self {
        Self {
            pages: 0,
            seen: 0,
            matched: 0,
            queued: 0,
            end,
        }
    }

    /// Whether the shard has nothing left to do.
    pub fn is_finished(&self) -> bool {
        matches!(self.end, ShardEnd::Finished(_))
    }
}

/// Runs shard `job.shard` of run `job.run_id` from its checkpoint with the default
/// [`ShardOptions`]. Errors are transient (Userflow or HubSpot unreachable, database, Redis):
/// the queue retries the job and it resumes at the checkpoint.
pub async fn run_shard(
    tenant: &Tenant,
    jobs: &JobQueues,
    job: &FullSyncShard,
) -> Result<ShardOutcome> {
    run_shard_with(tenant, jobs, job, &ShardOptions::default()).await
}

/// [`run_shard`] with explicit limits.
#[tracing::instrument(
    skip(tenant, jobs, opts),
    fields(integration_id = %job.integration_id, run_id = %job.run_id, shard = job.shard)
)]
pub async fn run_shard_with(
    tenant: &Tenant,
    jobs: &JobQueues,
    job: &FullSyncShard,
    opts: &ShardOptions,
) -> Result<ShardOutcome> {
    let db = &tenant.ctx.db;
    let Some((run, shard)) = load(tenant, job).await? else {
        tracing::info!("full sync shard no longer exists");
        return Ok(ShardOutcome::ended(ShardEnd::Finished(
            FullSyncStatus::Cancelled,
        )));
    };
    if run.status.is_finished() || shard.status.is_finished() {
        runs::finish_run_if_done(db, run.id).await?;
        return Ok(ShardOutcome::ended(ShardEnd::Finished(shard.status)));
    }
    if matches!(
        tenant.integration.status,
        IntegrationStatus::Disconnected | IntegrationStatus::Pending
    ) {
        let reason = format!("integration is {}", tenant.integration.status);
        runs::end_run(db, run.id, FullSyncStatus::Cancelled, Some(&reason)).await?;
        tracing::info!(%reason, "full sync cancelled");
        return Ok(ShardOutcome::ended(ShardEnd::Finished(
            FullSyncStatus::Cancelled,
        )));
    }
    let mut state =
        ShardState::parse(shard.cursor.as_deref()).ok_or_else(|| SyncError::NotReady {
            integration: job.integration_id,
            reason: format!("full sync shard {} has no readable checkpoint", shard.id),
        })?;
    let mapping = Mappings::find_by_id(state.mapping_id).one(db).await?;
    let Some(mapping) = mapping.filter(|m| m.enabled && m.integration_id == job.integration_id)
    else {
        // Mapping removed or disabled since the run started: nothing left to page through.
        let status = finish_shard(tenant, &shard, &state, FullSyncStatus::Completed).await?;
        return Ok(ShardOutcome::ended(ShardEnd::Finished(status)));
    };
    runs::mark_run_running(db, run.id).await?;
    Shards::update_many()
        .col_expr(
            ShardCol::Status,
            Expr::value(FullSyncStatus::Running.as_str()),
        )
        .col_expr(ShardCol::UpdatedAt, Expr::value(hubsync_entities::now()))
        .filter(ShardCol::Id.eq(shard.id))
        .filter(ShardCol::Status.eq(FullSyncStatus::Pending))
        .exec(db)
        .await?;

    let userflow = tenant.userflow()?;
    let hubspot = tenant.hubspot().await?;
    let portal = tenant.portal_id()?;
    let started = Instant::now();
    let mut outcome = ShardOutcome::ended(ShardEnd::Superseded);
    let mut cursor = shard.cursor.clone();
    loop {
        if still_running(tenant, run.id).await?.is_none() {
            let status = current_shard_status(tenant, shard.id).await?;
            outcome.end = ShardEnd::Finished(status);
            return Ok(outcome);
        }
        let page = match list_page(&userflow, &mapping, state.after.as_deref(), opts).await {
            Err(SyncError::Userflow(hubsync_userflow::Error::Api {
                status: 400,
                code: Some(code),
                ..
            })) if code == "invalid_starting_after" && state.after.is_some() => {
                // The object the checkpoint names was deleted: its position in the list is
                // gone. Start the listing over; pages read again are counted again, and the
                // syncs they queue are idempotent.
                tracing::warn!(after = ?state.after, "checkpoint object deleted; listing again from the start");
                state.after = None;
                list_page(&userflow, &mapping, None, opts).await?
            }
            other => other?,
        };
        let keys: Vec<(String, Option<String>)> = page
            .items
            .iter()
            .map(|(id, attrs)| (id.clone(), lookup::match_key(&mapping, id, attrs)))
            .collect();
        let wanted: Vec<String> = unique(keys.iter().filter_map(|(_, k)| k.clone()));
        let found = match lookup::read_hubspot(
            tenant,
            &hubspot,
            portal,
            &mapping,
            &wanted,
            opts.max_inline_wait,
        )
        .await?
        {
            Lookup::Found(found) => found,
            Lookup::Wait(after) => {
                queue_continuation(jobs, job, &state, Continuation::After(after)).await?;
                outcome.end = ShardEnd::Continues { after };
                return Ok(outcome);
            }
            Lookup::Refused(reason) => {
                tracing::warn!(%reason, "HubSpot refused the lookup; shard failed");
                state.error = Some(reason);
                let status = finish_shard(tenant, &shard, &state, FullSyncStatus::Failed).await?;
                outcome.end = ShardEnd::Finished(status);
                return Ok(outcome);
            }
        };
        let pairs = pairs(&keys, &found.ids);
        let sync_jobs = sync_jobs(job, &mapping, &pairs);
        let queued = sync_jobs.len() as u64;
        jobs.bulk_many(sync_jobs)
            .await
            .map_err(|e| queue_error(job, e))?;

        let mut next = state.clone();
        next.pages += 1;
        next.seen += page.items.len() as u64;
        next.matched += pairs.len() as u64;
        next.queued += queued;
        next.failed += found.failed;
        if let Some(last) = page.items.last() {
            next.after = Some(last.0.clone());
        }
        let next_cursor = next.encode();
        let advanced = Shards::update_many()
            .col_expr(ShardCol::Cursor, Expr::value(next_cursor.clone()))
            .col_expr(ShardCol::Processed, Expr::value(next.seen_i64()))
            .col_expr(ShardCol::Failed, Expr::value(next.failed_i64()))
            .col_expr(ShardCol::UpdatedAt, Expr::value(hubsync_entities::now()))
            .filter(ShardCol::Id.eq(shard.id))
            .filter(ShardCol::Status.eq(FullSyncStatus::Running))
            .filter(match &cursor {
                Some(c) => ShardCol::Cursor.eq(c.clone()),
                None => ShardCol::Cursor.is_null(),
            })
            .exec(db)
            .await?;
        if advanced.rows_affected == 0 {
            // Cancelled, or another copy of this job checkpointed this page first.
            let status = current_shard_status(tenant, shard.id).await?;
            outcome.end = if status.is_finished() {
                ShardEnd::Finished(status)
            } else {
                tracing::info!("another job advanced this shard; stopping");
                ShardEnd::Superseded
            };
            return Ok(outcome);
        }
        runs::add_to_run(db, run.id, page.items.len() as u64, found.failed).await?;
        outcome.pages += 1;
        outcome.seen += page.items.len() as u64;
        outcome.matched += pairs.len() as u64;
        outcome.queued += queued;
        state = next;
        cursor = Some(next_cursor);
        tracing::debug!(
            pages = state.pages,
            seen = state.seen,
            matched = state.matched,
            "full sync page done"
        );

        if !page.has_more {
            let status = finish_shard(tenant, &shard, &state, FullSyncStatus::Completed).await?;
            outcome.end = ShardEnd::Finished(status);
            return Ok(outcome);
        }
        if outcome.pages >= u64::from(opts.pages_per_job) || started.elapsed() >= opts.time_budget {
            queue_continuation(jobs, job, &state, Continuation::NextPage).await?;
            outcome.end = ShardEnd::Continues {
                after: Duration::ZERO,
            };
            return Ok(outcome);
        }
    }
}

/// The run and shard of `job`, when both exist for the job's integration.
async fn load(tenant: &Tenant, job: &FullSyncShard) -> Result<Option<(Run, Shard)>> {
    let db = &tenant.ctx.db;
    let Some(run) = runs::find_run(db, job.integration_id, job.run_id).await? else {
        return Ok(None);
    };
    let index = i32::try_from(job.shard).unwrap_or(i32::MAX);
    let shard = Shards::find()
        .filter(ShardCol::RunId.eq(run.id))
        .filter(ShardCol::ShardIndex.eq(index))
        .one(db)
        .await?;
    Ok(shard.map(|s| (run, s)))
}

/// The run while it is still pending or running.
async fn still_running(tenant: &Tenant, run_id: uuid::Uuid) -> Result<Option<Run>> {
    Ok(Runs::find_by_id(run_id)
        .one(&tenant.ctx.db)
        .await?
        .filter(|r| !r.status.is_finished()))
}

async fn current_shard_status(tenant: &Tenant, shard_id: uuid::Uuid) -> Result<FullSyncStatus> {
    Ok(Shards::find_by_id(shard_id)
        .one(&tenant.ctx.db)
        .await?
        .map_or(FullSyncStatus::Cancelled, |s| s.status))
}

/// Ends the shard with `status` and its final checkpoint, then the run if it was the last.
async fn finish_shard(
    tenant: &Tenant,
    shard: &Shard,
    state: &ShardState,
    status: FullSyncStatus,
) -> Result<FullSyncStatus> {
    let db = &tenant.ctx.db;
    Shards::update_many()
        .col_expr(ShardCol::Status, Expr::value(status.as_str()))
        .col_expr(ShardCol::Cursor, Expr::value(state.encode()))
        .col_expr(ShardCol::Processed, Expr::value(state.seen_i64()))
        .col_expr(ShardCol::Failed, Expr::value(state.failed_i64()))
        .col_expr(ShardCol::UpdatedAt, Expr::value(hubsync_entities::now()))
        .filter(ShardCol::Id.eq(shard.id))
        .filter(ShardCol::Status.is_in([FullSyncStatus::Pending, FullSyncStatus::Running]))
        .exec(db)
        .await?;
    runs::finish_run_if_done(db, shard.run_id).await?;
    let now = current_shard_status(tenant, shard.id).await?;
    tracing::info!(status = %now, seen = state.seen, matched = state.matched, "full sync shard ended");
    Ok(now)
}

/// Queues the job that goes on from `state`. After a page (`Continuation::NextPage`) the
/// idempotency key names the new position, so two copies of one job that reach the same
/// checkpoint queue one continuation. A rate-limit wait has no new position (the running
/// job itself was queued under the current one), so it goes without a key: each copy queues
/// one successor, and the checkpoint's compare-and-set stops all but one at the next page.
async fn queue_continuation(
    jobs: &JobQueues,
    job: &FullSyncShard,
    state: &ShardState,
    kind: Continuation,
) -> Result<()> {
    let (key, after) = match kind {
        Continuation::NextPage => (
            Some(format!(
                "fullsync:{}:{}:{}",
                job.run_id, job.shard, state.pages
            )),
            Duration::ZERO,
        ),
        Continuation::After(after) => (None, after),
    };
    let new = JobQueues::new_job(Job::FullSyncShard(job.clone()), key).delay(after);
    jobs.bulk
        .enqueue(new)
        .await
        .map_err(|e| queue_error(job, e))?;
    tracing::debug!(
        pages = state.pages,
        delay_ms = after.as_millis(),
        "full sync shard continues"
    );
    Ok(())
}

/// Why a shard job hands over to a new one.
#[derive(Debug, Clone, Copy)]
enum Continuation {
    /// The page budget is spent.
    NextPage,
    /// The HubSpot rate limit asks to wait this long.
    After(Duration),
}

fn queue_error(job: &FullSyncShard, e: hubsync_queue::QueueError) -> SyncError {
    match e {
        hubsync_queue::QueueError::Redis(e) => SyncError::Redis(e),
        other => SyncError::NotReady {
            integration: job.integration_id,
            reason: format!("could not queue full sync jobs: {other}"),
        },
    }
}

/// One page of Userflow objects: `(id, attributes)` in list order.
struct Page {
    items: Vec<(String, AttributeMap)>,
    has_more: bool,
}

async fn list_page(
    client: &hubsync_userflow::Client,
    mapping: &Mapping,
    after: Option<&str>,
    opts: &ShardOptions,
) -> Result<Page> {
    let limit = opts.page_size.clamp(1, 100);
    let page = match mapping.userflow_object_type {
        UserflowObjectType::User => {
            let mut req = users::List::new().limit(limit).order(Order::CreatedAsc);
            if let Some(a) = after {
                req = req.starting_after(a);
            }
            let list = req.send(client).await?;
            Page {
                has_more: list.has_more,
                items: list
                    .data
                    .into_iter()
                    .map(|u| (u.id.0, u.attributes))
                    .collect(),
            }
        }
        UserflowObjectType::Group => {
            let mut req = groups::List::new().limit(limit).order(Order::CreatedAsc);
            if let Some(a) = after {
                req = req.starting_after(a);
            }
            let list = req.send(client).await?;
            Page {
                has_more: list.has_more,
                items: list
                    .data
                    .into_iter()
                    .map(|g| (g.id.0, g.attributes))
                    .collect(),
            }
        }
    };
    Ok(page)
}

fn unique(keys: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    keys.filter(|k| seen.insert(k.clone())).collect()
}

/// `(userflow id, hubspot id)` for every object of the page whose key HubSpot knows.
fn pairs(
    keys: &[(String, Option<String>)],
    found: &HashMap<String, String>,
) -> Vec<(String, String)> {
    keys.iter()
        .filter_map(|(id, key)| {
            let hs = found.get(key.as_ref()?)?;
            Some((id.clone(), hs.clone()))
        })
        .collect()
}

/// Both directions for every pair: each job re-reads its source and writes only what differs.
fn sync_jobs(job: &FullSyncShard, mapping: &Mapping, pairs: &[(String, String)]) -> Vec<Job> {
    let kind = match mapping.userflow_object_type {
        UserflowObjectType::User => UserflowKind::User,
        UserflowObjectType::Group => UserflowKind::Group,
    };
    let mut out = Vec::with_capacity(pairs.len() * 2);
    let mut hubspot_ids = std::collections::HashSet::new();
    for (uf, hs) in pairs {
        out.push(Job::SyncFromUserflow(SyncFromUserflow {
            integration_id: job.integration_id,
            kind,
            id: uf.clone(),
            changed: Vec::new(),
        }));
        if hubspot_ids.insert(hs.clone()) {
            out.push(Job::SyncFromHubspot(SyncFromHubspot {
                integration_id: job.integration_id,
                object_type: mapping.hubspot_object_type.clone(),
                object_id: hs.clone(),
            }));
        }
    }
    out
}
