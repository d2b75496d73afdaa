//! The job queues (`realtime`, `bulk`; see [`crate::Queues`]) for operators, over
//! [`hubsync_queue::QueueAdmin`]:
//!
//! | route | answers |
//! |---|---|
//! | `GET /queues?window_s=` | `{"queues":[summary…]}`, realtime first |
//! | `GET /queues/{queue}?window_s=` | one summary with per-tenant counts |
//! | `GET /queues/{queue}/jobs?state=&tenant=&error=&limit=&cursor=` | `{"jobs":[job…],"next_cursor"}` |
//! | `DELETE /queues/{queue}/jobs?state=` | purge a state: `{"count"}` |
//! | `GET /queues/{queue}/jobs/{id}` | one job |
//! | `POST /queues/{queue}/jobs/{id}/retry` | a dead job back to waiting; the job |
//! | `POST /queues/{queue}/jobs/{id}/discard` | delete a job that is not running; the job as it was |
//! | `POST /queues/{queue}/retry` `{tenant?, error?}` | retry every matching dead job: `{"count"}` |
//! | `POST /queues/{queue}/discard` `{state, tenant?, error?}` | delete every matching job: `{"count"}` |
//! | `POST /queues/{queue}/pause`, `…/resume` | the summary |
//!
//! A summary holds the counts per state, whether the queue is paused, the live workers, the
//! lifetime event counters, and wait (due → start) and run latency p50/p95/p99 in ms over the
//! last `window_s` seconds (default 300, at most 7200, rounded up to whole minutes). Latency
//! percentiles are the upper bounds of the queue's ≈19 %-wide buckets, `null` without samples.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use hubsync_queue::{JobFilter, JobRecord, JobState, LatencyHistogram, QueueAdmin, StateCounts};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::AppState;
use crate::auth::Operator;
use crate::error::{ApiError, Code, ErrorBody};
use crate::json::{ApiJson, OptionalJson};
use crate::query::{Params, bad};

/// Default latency window of summaries and `/metrics`.
pub(crate) const DEFAULT_WINDOW_S: u64 = 300;
/// Longest latency window (the queue keeps two hours of per-minute histograms).
pub(crate) const MAX_WINDOW_S: u64 = 7200;
const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 500;

/// The queue's lifetime counters, always reported (0 until the first event) so that clients
/// and Prometheus see every series from the start. Counters the queue adds later are
/// reported too.
pub(crate) const EVENTS: [&str; 15] = [
    "enqueued",
    "duplicate",
    "coalesced",
    "started",
    "completed",
    "failed",
    "retried",
    "deferred",
    "dead",
    "reclaimed",
    "released",
    "stale",
    "revived",
    "discarded",
    "resumed",
];

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/queues", get(list_queues))
        .route("/queues/{queue}", get(show_queue))
        .route("/queues/{queue}/jobs", get(list_jobs).delete(purge))
        .route("/queues/{queue}/jobs/{id}", get(show_job))
        .route("/queues/{queue}/jobs/{id}/retry", post(retry_job))
        .route("/queues/{queue}/jobs/{id}/discard", post(discard_job))
        .route("/queues/{queue}/retry", post(retry_matching))
        .route("/queues/{queue}/discard", post(discard_matching))
        .route("/queues/{queue}/pause", post(pause))
        .route("/queues/{queue}/resume", post(resume))
}

/// The queue routes, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(
        list_queues,
        show_queue,
        list_jobs,
        purge,
        show_job,
        retry_job,
        discard_job,
        retry_matching,
        discard_matching,
        pause,
        resume
    ),
    tags((name = "queues", description = "The job queues (`realtime`, `bulk`): \
        counts, latency, dead letters, retry, discard, pause."))
)]
pub(crate) struct Api;

// ---- response shapes ----

/// One queue.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct QueueSummary {
    /// `realtime` or `bulk`.
    name: String,
    /// Whether workers are kept from leasing jobs.
    paused: bool,
    counts: QueueCounts,
    /// Workers that renewed their leases within three lease periods.
    live_workers: u64,
    /// The latency window actually used (whole minutes).
    window_s: u64,
    /// Due → start.
    wait: Latency,
    /// Handler run time.
    run: Latency,
    /// Lifetime event counters (`enqueued`, `started`, `completed`, `failed`, `dead`, …);
    /// every known event is present, 0 until it first happens.
    counters: BTreeMap<String, u64>,
    /// Per tenant (not for the list of all queues).
    #[serde(skip_serializing_if = "Option::is_none")]
    tenants: Option<BTreeMap<String, TenantCounts>>,
}

/// Percentiles of one latency histogram, in ms (`null` without samples).
#[derive(Debug, Serialize, ToSchema)]
struct Latency {
    /// Samples in the window.
    samples: u64,
    p50_ms: Option<f64>,
    p95_ms: Option<f64>,
    p99_ms: Option<f64>,
}

impl Latency {
    fn of(h: &LatencyHistogram) -> Self {
        let q = |q: f64| {
            h.quantile(q)
                .map(|d| (d.as_secs_f64() * 1_000_000.0).round() / 1000.0)
        };
        Self {
            samples: h.count(),
            p50_ms: q(0.50),
            p95_ms: q(0.95),
            p99_ms: q(0.99),
        }
    }
}

/// Jobs of one queue per state.
#[derive(Debug, Serialize, ToSchema)]
struct QueueCounts {
    waiting: u64,
    delayed: u64,
    /// Leased by a worker.
    active: u64,
    /// Finished, within the retention window.
    completed: u64,
    /// Dead letters.
    dead: u64,
}

impl From<StateCounts> for QueueCounts {
    fn from(c: StateCounts) -> Self {
        Self {
            waiting: c.waiting,
            delayed: c.delayed,
            active: c.active,
            completed: c.completed,
            dead: c.dead,
        }
    }
}

/// The state of a job: `waiting` (in its tenant's waiting list), `delayed` (scheduled: delay,
/// backoff, retry-at), `active` (leased by a worker), `completed` (finished, kept for the
/// retention window), `dead` (dead letter).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = JobState)]
enum JobStateView {
    Waiting,
    Delayed,
    Active,
    Completed,
    Dead,
}

impl From<JobState> for JobStateView {
    fn from(s: JobState) -> Self {
        match s {
            JobState::Waiting => Self::Waiting,
            JobState::Delayed => Self::Delayed,
            JobState::Active => Self::Active,
            JobState::Completed => Self::Completed,
            JobState::Dead => Self::Dead,
        }
    }
}

/// Jobs of one tenant per state (completed jobs are not counted per tenant).
#[derive(Debug, Serialize, ToSchema)]
struct TenantCounts {
    waiting: u64,
    delayed: u64,
    active: u64,
    dead: u64,
}

/// One job.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct JobView {
    id: String,
    queue: String,
    state: JobStateView,
    /// The integration the job acts for (jobs of one tenant never run concurrently).
    tenant: String,
    attempts: u32,
    max_attempts: u32,
    deferrals: u32,
    reclaims: u32,
    last_error: Option<String>,
    last_defer: Option<String>,
    enqueued_ms: u64,
    due_ms: Option<u64>,
    started_ms: Option<u64>,
    done_ms: Option<u64>,
    died_ms: Option<u64>,
    /// The payload as JSON (a string if it is not valid JSON; `null` for completed jobs unless
    /// the queue keeps their payload).
    payload: Option<serde_json::Value>,
    metadata: BTreeMap<String, String>,
    idempotency_key: Option<String>,
    coalesce_key: Option<String>,
    /// The worker holding the lease, when active.
    owner: Option<String>,
}

impl JobView {
    fn new(queue: &str, r: JobRecord) -> Self {
        let payload = r
            .payload
            .map(|p| serde_json::from_str(&p).unwrap_or(serde_json::Value::String(p)));
        Self {
            id: r.id.0,
            queue: queue.to_owned(),
            state: r.state.into(),
            tenant: r.tenant,
            attempts: r.attempts,
            max_attempts: r.max_attempts,
            deferrals: r.deferrals,
            reclaims: r.reclaims,
            last_error: r.last_error,
            last_defer: r.last_defer,
            enqueued_ms: r.enqueued_ms,
            due_ms: r.due_ms,
            started_ms: r.started_ms,
            done_ms: r.done_ms,
            died_ms: r.died_ms,
            payload,
            metadata: r.metadata,
            idempotency_key: r.idempotency_key,
            coalesce_key: r.coalesce_key,
            owner: r.owner,
        }
    }
}

/// Every queue, realtime first.
#[derive(Debug, Serialize, ToSchema)]
struct QueueList {
    queues: Vec<QueueSummary>,
}

/// A page of jobs.
#[derive(Debug, Serialize, ToSchema)]
struct JobList {
    jobs: Vec<JobView>,
    /// Pass back as `cursor` for the next page; `null` at the end. A page may hold fewer
    /// than `limit` jobs before the end (filters skip jobs), so page until this is `null`.
    next_cursor: Option<String>,
}

/// How many jobs a bulk operation touched.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = JobCount)]
struct Count {
    count: u64,
}

// ---- request shapes ----

/// Body of `POST /queues/{queue}/retry`; empty body = every dead job.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RetryBody {
    /// Only this tenant's dead jobs (omit for all; must not be empty).
    tenant: Option<String>,
    /// Only dead jobs whose last error contains this text, case-insensitively (omit for all;
    /// must not be empty).
    error: Option<String>,
}

/// Body of `POST /queues/{queue}/discard`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct DiscardBody {
    /// The state of the jobs to delete: `waiting`, `delayed`, `completed` or `dead` (active
    /// jobs are running and cannot be deleted).
    #[schema(example = "dead")]
    state: String,
    /// Only this tenant's jobs (omit for all; must not be empty).
    tenant: Option<String>,
    /// Only jobs whose last error contains this text, case-insensitively (omit for all; must
    /// not be empty).
    error: Option<String>,
}

// ---- helpers ----

fn admin<'a>(state: &'a AppState, name: &str) -> Result<&'a QueueAdmin, ApiError> {
    state.queues.get(name).ok_or_else(|| {
        ApiError::new(
            Code::NotFound,
            format!("unknown queue `{name}` (queues: {})", state.queues.names()),
        )
    })
}

/// The job `id` of `queue`, or 404.
async fn find_job(admin: &QueueAdmin, queue: &str, id: &str) -> Result<JobRecord, ApiError> {
    admin
        .job(id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| job_not_found(queue, id))
}

fn job_not_found(queue: &str, id: &str) -> ApiError {
    ApiError::new(
        Code::NotFound,
        format!("no job `{id}` in queue `{queue}` (completed jobs are removed after retention)"),
    )
}

fn parse_state(name: &str, raw: Option<&str>) -> Result<JobState, ApiError> {
    let one_of = || {
        JobState::ALL
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let raw = raw.ok_or_else(|| bad(format!("`{name}` is required (one of {})", one_of())))?;
    JobState::parse(raw).ok_or_else(|| {
        bad(format!(
            "`{name}` must be one of {} (got `{raw}`)",
            one_of()
        ))
    })
}

/// A state whose jobs may be deleted (running jobs may not).
fn deletable(name: &str, state: JobState) -> Result<JobState, ApiError> {
    if state == JobState::Active {
        return Err(bad(format!(
            "`{name}`: active jobs are running and cannot be deleted; pause the queue and wait, \
             or discard them once they settle"
        )));
    }
    Ok(state)
}

/// A filter from optional body fields; an empty string is refused so that an unset variable
/// in a script cannot widen a bulk operation to every job.
fn body_filter(tenant: Option<String>, error: Option<String>) -> Result<JobFilter, ApiError> {
    let mut filter = JobFilter::all();
    for (name, value) in [("tenant", &tenant), ("error", &error)] {
        if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
            return Err(bad(format!(
                "`{name}` must not be empty (omit it to match every job)"
            )));
        }
    }
    filter.tenant = tenant;
    filter.error_contains = error;
    Ok(filter)
}

fn window(params: &Params) -> Result<Duration, ApiError> {
    Ok(Duration::from_secs(params.int_in(
        "window_s",
        1..=MAX_WINDOW_S,
        DEFAULT_WINDOW_S,
    )?))
}

/// Lifetime counters with every known event present.
pub(crate) fn counters(raw: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    let mut out: BTreeMap<String, u64> = EVENTS.iter().map(|e| ((*e).to_owned(), 0)).collect();
    out.extend(raw.iter().map(|(k, v)| (k.clone(), *v)));
    out
}

/// The summary of one queue.
async fn summary(
    admin: &QueueAdmin,
    window: Duration,
    with_tenants: bool,
) -> Result<QueueSummary, ApiError> {
    let stats = admin.stats(window).await.map_err(ApiError::internal)?;
    let minutes = window.as_secs().div_ceil(60).clamp(1, MAX_WINDOW_S / 60);
    let tenants = with_tenants.then(|| {
        stats
            .tenants
            .iter()
            .map(|(t, c)| {
                (
                    t.clone(),
                    TenantCounts {
                        waiting: c.waiting,
                        delayed: c.delayed,
                        active: c.active,
                        dead: c.dead,
                    },
                )
            })
            .collect()
    });
    Ok(QueueSummary {
        name: stats.queue.clone(),
        paused: stats.paused,
        counts: stats.counts.into(),
        live_workers: stats.live_workers,
        window_s: minutes * 60,
        wait: Latency::of(&stats.wait),
        run: Latency::of(&stats.run),
        counters: counters(&stats.counters),
        tenants,
    })
}

// ---- handlers ----

/// Summaries of every queue.
///
/// Counts per state, paused, live workers, lifetime counters, and wait and run latency
/// percentiles over the window; realtime first. No per-tenant counts here.
#[utoipa::path(
    get,
    path = "/queues",
    tag = "queues",
    params(("window_s" = Option<u64>, Query, minimum = 1, maximum = 7200,
            description = "Latency window in seconds (default 300; rounded up to whole minutes).")),
    responses(
        (status = 200, description = "Every queue.", body = QueueList),
        (status = 400, description = "Unknown query parameter or a value out of range.", body = ErrorBody),
    )
)]
async fn list_queues(
    _: Operator,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<QueueList>, ApiError> {
    let params = Params::parse(query.as_deref(), &["window_s"])?;
    let window = window(&params)?;
    let mut queues = Vec::new();
    for admin in state.queues.iter() {
        queues.push(summary(admin, window, false).await?);
    }
    tracing::debug!(
        queues = queues.len(),
        window_s = window.as_secs(),
        "queue summaries"
    );
    Ok(Json(QueueList { queues }))
}

/// One queue's summary, with per-tenant counts.
#[utoipa::path(
    get,
    path = "/queues/{queue}",
    tag = "queues",
    params(("queue" = String, Path, description = "Queue name: `realtime` or `bulk`.", example = "realtime"), ("window_s" = Option<u64>, Query, minimum = 1, maximum = 7200,
            description = "Latency window in seconds (default 300; rounded up to whole minutes).")),
    responses(
        (status = 200, description = "The queue, with `tenants`.", body = QueueSummary),
        (status = 400, description = "Unknown query parameter or a value out of range.", body = ErrorBody),
        (status = 404, description = "No such queue.", body = ErrorBody),
    )
)]
async fn show_queue(
    _: Operator,
    State(state): State<AppState>,
    Path(queue): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<QueueSummary>, ApiError> {
    let admin = admin(&state, &queue)?;
    let params = Params::parse(query.as_deref(), &["window_s"])?;
    let window = window(&params)?;
    tracing::debug!(queue = %queue, window_s = window.as_secs(), "queue summary");
    Ok(Json(summary(admin, window, true).await?))
}

/// A page of jobs in one state.
///
/// Page with `cursor` until `next_cursor` is `null`: a page may hold fewer than `limit` jobs
/// before the end, since filters skip jobs.
#[utoipa::path(
    get,
    path = "/queues/{queue}/jobs",
    tag = "queues",
    params(
        ("queue" = String, Path, description = "Queue name: `realtime` or `bulk`.", example = "realtime"),
        ("state" = inline(JobStateView), Query, description = "The state to list (required)."),
        ("tenant" = Option<String>, Query, description = "Only this tenant's jobs."),
        ("error" = Option<String>, Query,
            description = "Only jobs whose last error contains this text, case-insensitively."),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 500,
            description = "Page size (default 50)."),
        ("cursor" = Option<String>, Query,
            description = "`next_cursor` of the previous page."),
    ),
    responses(
        (status = 200, description = "A page of jobs.", body = JobList),
        (status = 400, description = "Missing or unknown `state`, bad `limit` or `cursor`, or an unknown parameter.", body = ErrorBody),
        (status = 404, description = "No such queue.", body = ErrorBody),
    )
)]
async fn list_jobs(
    _: Operator,
    State(state): State<AppState>,
    Path(queue): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<JobList>, ApiError> {
    let admin = admin(&state, &queue)?;
    let params = Params::parse(
        query.as_deref(),
        &["state", "tenant", "error", "limit", "cursor"],
    )?;
    let job_state = parse_state("state", params.get("state"))?;
    let limit = params.int_in("limit", 1..=MAX_LIMIT, DEFAULT_LIMIT)?;
    let cursor = params.get("cursor");
    if let Some(c) = cursor {
        let valid = c
            .split_once('.')
            .is_some_and(|(a, b)| a.parse::<usize>().is_ok() && b.parse::<usize>().is_ok());
        if !valid {
            return Err(bad(format!(
                "`cursor` must be a `next_cursor` from a previous page (got `{c}`)"
            )));
        }
    }
    let filter = JobFilter {
        tenant: params.get("tenant").map(str::to_owned),
        error_contains: params.get("error").map(str::to_owned),
    };
    let usize_limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let page = admin
        .list(job_state, &filter, usize_limit, cursor)
        .await
        .map_err(ApiError::internal)?;
    tracing::debug!(
        queue = %queue,
        state = %job_state,
        tenant = filter.tenant.as_deref(),
        jobs = page.jobs.len(),
        "listed jobs"
    );
    Ok(Json(JobList {
        jobs: page
            .jobs
            .into_iter()
            .map(|r| JobView::new(&queue, r))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One job.
#[utoipa::path(
    get,
    path = "/queues/{queue}/jobs/{id}",
    tag = "queues",
    params(("queue" = String, Path, description = "Queue name: `realtime` or `bulk`.", example = "realtime"), ("id" = String, Path, description = "Job id.")),
    responses(
        (status = 200, description = "The job.", body = JobView),
        (status = 404, description = "No such queue, or no such job (completed jobs are removed after retention).", body = ErrorBody),
    )
)]
async fn show_job(
    _: Operator,
    State(state): State<AppState>,
    Path((queue, id)): Path<(String, String)>,
) -> Result<Json<JobView>, ApiError> {
    let admin = admin(&state, &queue)?;
    let rec = find_job(admin, &queue, &id).await?;
    tracing::debug!(queue = %queue, job_id = %id, tenant = %rec.tenant, state = %rec.state, "job");
    Ok(Json(JobView::new(&queue, rec)))
}

/// Retries one dead job.
///
/// The job goes back to waiting with a fresh attempt budget.
#[utoipa::path(
    post,
    path = "/queues/{queue}/jobs/{id}/retry",
    tag = "queues",
    params(("queue" = String, Path, description = "Queue name: `realtime` or `bulk`.", example = "realtime"), ("id" = String, Path, description = "Job id.")),
    responses(
        (status = 200, description = "The job as it is now (waiting).", body = JobView),
        (status = 404, description = "No such queue, or no such job (completed jobs are removed after retention).", body = ErrorBody),
        (status = 409, description = "The job is not dead.", body = ErrorBody),
    )
)]
async fn retry_job(
    _: Operator,
    State(state): State<AppState>,
    Path((queue, id)): Path<(String, String)>,
) -> Result<Json<JobView>, ApiError> {
    let admin = admin(&state, &queue)?;
    let not_dead = |rec: &JobRecord| {
        tracing::info!(queue = %queue, job_id = %id, tenant = %rec.tenant, state = %rec.state, "retry refused: job is not dead");
        ApiError::new(
            Code::Conflict,
            format!("job `{id}` is {}; only dead jobs can be retried", rec.state),
        )
    };
    let before = find_job(admin, &queue, &id).await?;
    if before.state != JobState::Dead {
        return Err(not_dead(&before));
    }
    let retried = admin.retry(&id).await.map_err(ApiError::internal)?;
    let after = find_job(admin, &queue, &id).await?;
    if !retried {
        // Settled in between (retried or discarded by someone else).
        return Err(not_dead(&after));
    }
    tracing::info!(queue = %queue, job_id = %id, tenant = %after.tenant, "operator retried a dead job");
    Ok(Json(JobView::new(&queue, after)))
}

/// Deletes one job that is not running.
#[utoipa::path(
    post,
    path = "/queues/{queue}/jobs/{id}/discard",
    tag = "queues",
    params(("queue" = String, Path, description = "Queue name: `realtime` or `bulk`.", example = "realtime"), ("id" = String, Path, description = "Job id.")),
    responses(
        (status = 200, description = "The job as it was before it was deleted.", body = JobView),
        (status = 404, description = "No such queue, or no such job (completed jobs are removed after retention).", body = ErrorBody),
        (status = 409, description = "The job is active (leased by a worker).", body = ErrorBody),
    )
)]
async fn discard_job(
    _: Operator,
    State(state): State<AppState>,
    Path((queue, id)): Path<(String, String)>,
) -> Result<Json<JobView>, ApiError> {
    let admin = admin(&state, &queue)?;
    let running = |rec: &JobRecord| {
        tracing::info!(queue = %queue, job_id = %id, tenant = %rec.tenant, "discard refused: job is active");
        ApiError::new(
            Code::Conflict,
            format!(
                "job `{id}` is active (leased by {}); it can be discarded once it settles",
                rec.owner.as_deref().unwrap_or("a worker")
            ),
        )
    };
    let before = find_job(admin, &queue, &id).await?;
    if before.state == JobState::Active {
        return Err(running(&before));
    }
    if !admin.discard(&id).await.map_err(ApiError::internal)? {
        // Leased or removed in between.
        return match admin.job(&id).await.map_err(ApiError::internal)? {
            Some(now) => Err(running(&now)),
            None => Err(job_not_found(&queue, &id)),
        };
    }
    tracing::info!(queue = %queue, job_id = %id, tenant = %before.tenant, state = %before.state, "operator discarded a job");
    Ok(Json(JobView::new(&queue, before)))
}

/// Retries every matching dead job.
///
/// Without a body, every dead job of the queue.
#[utoipa::path(
    post,
    path = "/queues/{queue}/retry",
    operation_id = "retry_dead_jobs",
    tag = "queues",
    params(("queue" = String, Path, description = "Queue name: `realtime` or `bulk`.", example = "realtime")),
    request_body(content = Option<RetryBody>, description = "Filters; optional.",
        content_type = "application/json"),
    responses(
        (status = 200, description = "How many jobs went back to waiting.", body = Count),
        (status = 400, description = "Malformed body, unknown field or an empty filter.", body = ErrorBody),
        (status = 404, description = "No such queue.", body = ErrorBody),
    )
)]
async fn retry_matching(
    _: Operator,
    State(state): State<AppState>,
    Path(queue): Path<String>,
    OptionalJson(body): OptionalJson<RetryBody>,
) -> Result<Json<Count>, ApiError> {
    let admin = admin(&state, &queue)?;
    let filter = body_filter(body.tenant, body.error)?;
    let count = admin
        .retry_matching(&filter)
        .await
        .map_err(ApiError::internal)?;
    tracing::info!(
        queue = %queue,
        tenant = filter.tenant.as_deref(),
        error = filter.error_contains.as_deref(),
        count,
        "operator retried dead jobs"
    );
    Ok(Json(Count { count }))
}

/// Deletes every matching job in one state.
#[utoipa::path(
    post,
    path = "/queues/{queue}/discard",
    operation_id = "discard_jobs",
    tag = "queues",
    params(("queue" = String, Path, description = "Queue name: `realtime` or `bulk`.", example = "realtime")),
    request_body(content = DiscardBody, content_type = "application/json"),
    responses(
        (status = 200, description = "How many jobs were deleted.", body = Count),
        (status = 400, description = "Malformed body, unknown field, a bad or active `state`, or an empty filter.", body = ErrorBody),
        (status = 404, description = "No such queue.", body = ErrorBody),
    )
)]
async fn discard_matching(
    _: Operator,
    State(state): State<AppState>,
    Path(queue): Path<String>,
    ApiJson(body): ApiJson<DiscardBody>,
) -> Result<Json<Count>, ApiError> {
    let admin = admin(&state, &queue)?;
    let job_state = deletable("state", parse_state("state", Some(body.state.as_str()))?)?;
    let filter = body_filter(body.tenant, body.error)?;
    let count = admin
        .discard_matching(job_state, &filter)
        .await
        .map_err(ApiError::internal)?;
    tracing::info!(
        queue = %queue,
        state = %job_state,
        tenant = filter.tenant.as_deref(),
        error = filter.error_contains.as_deref(),
        count,
        "operator discarded jobs"
    );
    Ok(Json(Count { count }))
}

/// Deletes every job in one state.
#[utoipa::path(
    delete,
    path = "/queues/{queue}/jobs",
    operation_id = "purge_jobs",
    tag = "queues",
    params(
        ("queue" = String, Path, description = "Queue name: `realtime` or `bulk`.", example = "realtime"),
        ("state" = inline(JobStateView), Query,
            description = "The state to purge (required; not `active`)."),
    ),
    responses(
        (status = 200, description = "How many jobs were deleted.", body = Count),
        (status = 400, description = "Missing, unknown or `active` `state`, or an unknown parameter.", body = ErrorBody),
        (status = 404, description = "No such queue.", body = ErrorBody),
    )
)]
async fn purge(
    _: Operator,
    State(state): State<AppState>,
    Path(queue): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Count>, ApiError> {
    let admin = admin(&state, &queue)?;
    let params = Params::parse(query.as_deref(), &["state"])?;
    let job_state = deletable("state", parse_state("state", params.get("state"))?)?;
    let count = admin.purge(job_state).await.map_err(ApiError::internal)?;
    tracing::info!(queue = %queue, state = %job_state, count, "operator purged jobs");
    Ok(Json(Count { count }))
}

/// Pauses a queue: workers lease nothing until it is resumed.
///
/// Running jobs finish.
#[utoipa::path(
    post,
    path = "/queues/{queue}/pause",
    operation_id = "pause_queue",
    tag = "queues",
    params(("queue" = String, Path, description = "Queue name: `realtime` or `bulk`.", example = "realtime")),
    responses(
        (status = 200, description = "The queue's summary (paused), with `tenants`.", body = QueueSummary),
        (status = 404, description = "No such queue.", body = ErrorBody),
    )
)]
async fn pause(
    _: Operator,
    State(state): State<AppState>,
    Path(queue): Path<String>,
) -> Result<Json<QueueSummary>, ApiError> {
    let admin = admin(&state, &queue)?;
    admin.pause().await.map_err(ApiError::internal)?;
    tracing::info!(queue = %queue, "operator paused the queue");
    Ok(Json(
        summary(admin, Duration::from_secs(DEFAULT_WINDOW_S), true).await?,
    ))
}

/// Resumes a paused queue.
#[utoipa::path(
    post,
    path = "/queues/{queue}/resume",
    operation_id = "resume_queue",
    tag = "queues",
    params(("queue" = String, Path, description = "Queue name: `realtime` or `bulk`.", example = "realtime")),
    responses(
        (status = 200, description = "The queue's summary, with `tenants`.", body = QueueSummary),
        (status = 404, description = "No such queue.", body = ErrorBody),
    )
)]
async fn resume(
    _: Operator,
    State(state): State<AppState>,
    Path(queue): Path<String>,
) -> Result<Json<QueueSummary>, ApiError> {
    let admin = admin(&state, &queue)?;
    admin.resume().await.map_err(ApiError::internal)?;
    tracing::info!(queue = %queue, "operator resumed the queue");
    Ok(Json(
        summary(admin, Duration::from_secs(DEFAULT_WINDOW_S), true).await?,
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Arc;
    use std::time::Duration;

    use hubsync_queue::NewJob;
    use serde_json::{Value, json};
    use tokio::sync::Semaphore;

    use crate::test_support::{Behavior, RunningWorker, TestApp, TestJob, eventually};

    const T: Option<&str> = Some("op");

    async fn app() -> TestApp {
        TestApp::new(&["op"]).await
    }

    async fn enqueue(app: &TestApp, queue: &str, tenant: &str, ns: std::ops::Range<u64>) {
        let jobs = ns.map(|n| NewJob::new(tenant, TestJob { n })).collect();
        app.producer(queue)
            .enqueue_many(jobs)
            .await
            .expect("enqueue");
    }

    async fn summary(app: &TestApp, queue: &str) -> Value {
        let (status, body) = app
            .call("GET", &format!("/api/v1/queues/{queue}"), T, None)
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Runs `behavior` on `queue` until `counter` reaches `n`, then stops the worker.
    async fn run_until(app: &TestApp, queue: &str, behavior: Behavior, counter: &str, n: u64) {
        let worker = RunningWorker::spawn(app.backend(queue), 4, behavior);
        eventually(&format!("{queue}: {counter} = {n}"), || async {
            summary(app, queue).await["counters"][counter] == n
        })
        .await;
        worker.stop().await;
    }

    fn ids(body: &Value) -> Vec<String> {
        body["jobs"]
            .as_array()
            .expect("jobs")
            .iter()
            .map(|j| j["id"].as_str().expect("id").to_owned())
            .collect()
    }

    #[tokio::test]
    async fn queue_routes_require_an_operator_token() {
        let app = app().await;
        let routes = [
            ("GET", "/api/v1/queues"),
            ("GET", "/api/v1/queues/realtime"),
            ("GET", "/api/v1/queues/realtime/jobs?state=dead"),
            ("DELETE", "/api/v1/queues/realtime/jobs?state=dead"),
            ("GET", "/api/v1/queues/realtime/jobs/x"),
            ("POST", "/api/v1/queues/realtime/jobs/x/retry"),
            ("POST", "/api/v1/queues/realtime/jobs/x/discard"),
            ("POST", "/api/v1/queues/realtime/retry"),
            ("POST", "/api/v1/queues/realtime/discard"),
            ("POST", "/api/v1/queues/realtime/pause"),
            ("POST", "/api/v1/queues/realtime/resume"),
        ];
        for (method, path) in routes {
            let (status, body) = app.call(method, path, None, None).await;
            assert_eq!(
                (status, body["code"].as_str()),
                (401, Some("missing_operator_token")),
                "{method} {path}"
            );
            let (status, body) = app.call(method, path, Some("wrong"), None).await;
            assert_eq!(
                (status, body["code"].as_str()),
                (401, Some("invalid_operator_token")),
                "{method} {path}"
            );
        }
        // Nothing was paused without a token.
        assert_eq!(summary(&app, "realtime").await["paused"], false);
    }

    #[tokio::test]
    async fn unknown_queues_and_jobs_are_404() {
        let app = app().await;
        for (method, path) in [
            ("GET", "/api/v1/queues/nope"),
            ("GET", "/api/v1/queues/nope/jobs?state=dead"),
            ("DELETE", "/api/v1/queues/nope/jobs?state=dead"),
            ("GET", "/api/v1/queues/nope/jobs/x"),
            ("POST", "/api/v1/queues/nope/jobs/x/retry"),
            ("POST", "/api/v1/queues/nope/jobs/x/discard"),
            ("POST", "/api/v1/queues/nope/retry"),
            ("POST", "/api/v1/queues/nope/pause"),
            ("POST", "/api/v1/queues/nope/resume"),
        ] {
            let (status, body) = app.call(method, path, T, None).await;
            assert_eq!(
                (status, body["code"].as_str()),
                (404, Some("not_found")),
                "{method} {path}"
            );
            assert!(
                body["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("`nope`") && m.contains("realtime, bulk")),
                "{body}"
            );
        }
        let (status, body) = app
            .call(
                "POST",
                "/api/v1/queues/nope/discard",
                T,
                Some(json!({"state": "dead"})),
            )
            .await;
        assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
        for (method, path) in [
            ("GET", "/api/v1/queues/bulk/jobs/missing"),
            ("POST", "/api/v1/queues/bulk/jobs/missing/retry"),
            ("POST", "/api/v1/queues/bulk/jobs/missing/discard"),
        ] {
            let (status, body) = app.call(method, path, T, None).await;
            assert_eq!(
                (status, body["code"].as_str()),
                (404, Some("not_found")),
                "{method} {path}"
            );
            assert!(
                body["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("`missing`")),
                "{body}"
            );
        }
    }

    #[tokio::test]
    async fn bad_parameters_and_bodies_are_400_naming_the_parameter() {
        let app = app().await;
        let jobs = "/api/v1/queues/realtime/jobs";
        for (query, param) in [
            ("", "state"),
            ("?state=buried", "state"),
            ("?state=dead&limit=0", "limit"),
            ("?state=dead&limit=501", "limit"),
            ("?state=dead&limit=ten", "limit"),
            ("?state=dead&cursor=abc", "cursor"),
            ("?state=dead&stat=dead", "stat"),
            ("?state=dead&state=waiting", "state"),
        ] {
            let (status, body) = app.call("GET", &format!("{jobs}{query}"), T, None).await;
            assert_eq!(
                (status, body["code"].as_str(), body["type"].as_str()),
                (400, Some("bad_request"), Some("invalid_request")),
                "{query}"
            );
            assert!(
                body["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(&format!("`{param}`"))),
                "{query}: {body}"
            );
        }
        for path in [
            "/api/v1/queues?window_s=0",
            "/api/v1/queues/bulk?window_s=7201",
            "/api/v1/metrics?window_s=x",
        ] {
            let path = path.replace("/api/v1/metrics", "/metrics");
            let (status, body) = app.call("GET", &path, T, None).await;
            assert_eq!(
                (status, body["code"].as_str()),
                (400, Some("bad_request")),
                "{path}"
            );
            assert!(
                body["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("`window_s`"))
            );
        }
        // Purge and bulk discard refuse running jobs and unknown states.
        for query in ["?state=active", "", "?state=all"] {
            let (status, body) = app.call("DELETE", &format!("{jobs}{query}"), T, None).await;
            assert_eq!(
                (status, body["code"].as_str()),
                (400, Some("bad_request")),
                "{query}"
            );
            assert!(
                body["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("`state`"))
            );
        }
        let discard = "/api/v1/queues/realtime/discard";
        for (body, code, needle) in [
            (json!({"state": "active"}), "bad_request", "`state`"),
            (json!({"state": "gone"}), "bad_request", "`state`"),
            (
                json!({"state": "dead", "tenant": ""}),
                "bad_request",
                "`tenant`",
            ),
            (
                json!({"state": "dead", "error": " "}),
                "bad_request",
                "`error`",
            ),
            (json!({"tenant": "a"}), "malformed_json", "state"),
            (
                json!({"state": "dead", "tennant": "a"}),
                "malformed_json",
                "tennant",
            ),
        ] {
            let (status, resp) = app.call("POST", discard, T, Some(body.clone())).await;
            assert_eq!((status, resp["code"].as_str()), (400, Some(code)), "{body}");
            assert!(
                resp["message"].as_str().is_some_and(|m| m.contains(needle)),
                "{body}: {resp}"
            );
        }
        let (status, resp) = app
            .call(
                "POST",
                "/api/v1/queues/realtime/retry",
                T,
                Some(json!({"tenant": ""})),
            )
            .await;
        assert_eq!((status, resp["code"].as_str()), (400, Some("bad_request")));
        let (status, resp) = app
            .call(
                "POST",
                "/api/v1/queues/realtime/retry",
                T,
                Some(json!({"everything": true})),
            )
            .await;
        assert_eq!(
            (status, resp["code"].as_str()),
            (400, Some("malformed_json"))
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn summaries_show_counts_latency_counters_tenants_and_workers() {
        let app = app().await;
        enqueue(&app, "realtime", "a", 0..4).await;
        enqueue(&app, "realtime", "b", 4..6).await;
        let worker = RunningWorker::spawn(app.backend("realtime"), 4, Behavior::Succeed);
        eventually("6 completed, a live worker", || async {
            let s = summary(&app, "realtime").await;
            s["counters"]["completed"] == 6 && s["live_workers"] == 1
        })
        .await;
        worker.stop().await;
        enqueue(&app, "realtime", "a", 6..8).await;
        app.producer("realtime")
            .enqueue(NewJob::new("b", TestJob { n: 8 }).delay(Duration::from_secs(3600)))
            .await
            .expect("enqueue");
        enqueue(&app, "bulk", "c", 0..1).await;

        let (status, body) = app.call("GET", "/api/v1/queues", T, None).await;
        assert_eq!(status, 200, "{body}");
        let queues = body["queues"].as_array().expect("queues");
        let names: Vec<_> = queues.iter().map(|q| q["name"].clone()).collect();
        assert_eq!(names, [json!("realtime"), json!("bulk")]);
        let (rt, bulk) = (&queues[0], &queues[1]);
        assert_eq!(
            rt["counts"],
            json!({"waiting": 2, "delayed": 1, "active": 0, "completed": 6, "dead": 0})
        );
        assert_eq!(
            (rt["paused"].clone(), rt["live_workers"].clone()),
            (json!(false), json!(0))
        );
        assert_eq!(rt["window_s"], 300);
        for kind in ["wait", "run"] {
            assert_eq!(rt[kind]["samples"], 6, "{kind}");
            let (p50, p95, p99) = (
                rt[kind]["p50_ms"].as_f64().expect("p50"),
                rt[kind]["p95_ms"].as_f64().expect("p95"),
                rt[kind]["p99_ms"].as_f64().expect("p99"),
            );
            assert!(
                p50 <= p95 && p95 <= p99 && p99 < 5_000.0,
                "{kind}: {p50} {p95} {p99}"
            );
        }
        assert_eq!(rt["counters"]["enqueued"], 9);
        assert_eq!(rt["counters"]["started"], 6);
        assert_eq!(rt["counters"]["completed"], 6);
        assert_eq!(
            rt["counters"]["dead"], 0,
            "known counters are always present"
        );
        assert!(
            rt.get("tenants").is_none(),
            "the list has no per-tenant counts"
        );
        assert_eq!(
            bulk["counts"],
            json!({"waiting": 1, "delayed": 0, "active": 0, "completed": 0, "dead": 0})
        );
        assert_eq!(
            bulk["wait"],
            json!({"samples": 0, "p50_ms": null, "p95_ms": null, "p99_ms": null})
        );

        let rt = summary(&app, "realtime").await;
        assert_eq!(
            rt["tenants"],
            json!({
                "a": {"waiting": 2, "delayed": 0, "active": 0, "dead": 0},
                "b": {"waiting": 0, "delayed": 1, "active": 0, "dead": 0},
            })
        );
        assert_eq!(rt["counts"]["waiting"], 2);
        let (_, rt90) = app
            .call("GET", "/api/v1/queues/realtime?window_s=90", T, None)
            .await;
        assert_eq!(rt90["window_s"], 120, "whole minutes");
        assert_eq!(
            summary(&app, "bulk").await["tenants"],
            json!({"c": {"waiting": 1, "delayed": 0, "active": 0, "dead": 0}})
        );

        // Completed jobs are listed (without payload) and can be purged.
        let (status, done) = app
            .call(
                "GET",
                "/api/v1/queues/realtime/jobs?state=completed",
                T,
                None,
            )
            .await;
        assert_eq!(status, 200, "{done}");
        assert_eq!(ids(&done).len(), 6);
        assert_eq!(done["jobs"][0]["state"], "completed");
        assert!(done["jobs"][0]["done_ms"].as_u64().is_some());
        let (status, delayed) = app
            .call("GET", "/api/v1/queues/realtime/jobs?state=delayed", T, None)
            .await;
        assert_eq!(status, 200);
        assert_eq!(delayed["jobs"][0]["payload"], json!({"n": 8}));
        assert!(delayed["jobs"][0]["due_ms"].as_u64() > delayed["jobs"][0]["enqueued_ms"].as_u64());
        for (state, n) in [("completed", 6), ("delayed", 1), ("waiting", 2)] {
            let (status, body) = app
                .call(
                    "DELETE",
                    &format!("/api/v1/queues/realtime/jobs?state={state}"),
                    T,
                    None,
                )
                .await;
            assert_eq!((status, body), (200, json!({"count": n})), "{state}");
        }
        let rt = summary(&app, "realtime").await;
        assert_eq!(
            rt["counts"],
            json!({"waiting": 0, "delayed": 0, "active": 0, "completed": 0, "dead": 0})
        );
        assert_eq!(rt["tenants"], json!({}));
        assert_eq!(rt["counters"]["discarded"], 9);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dead_letters_are_listed_inspected_retried_and_discarded() {
        let app = app().await;
        enqueue(&app, "realtime", "a", 0..5).await;
        enqueue(&app, "realtime", "b", 5..12).await;
        run_until(&app, "realtime", Behavior::Fail, "dead", 12).await;
        let list = |query: String| {
            let app = &app;
            async move {
                let (status, body) = app
                    .call(
                        "GET",
                        &format!("/api/v1/queues/realtime/jobs?{query}"),
                        T,
                        None,
                    )
                    .await;
                assert_eq!(status, 200, "{query}: {body}");
                body
            }
        };

        // Paging.
        let page1 = list("state=dead&limit=5".into()).await;
        assert_eq!(ids(&page1).len(), 5);
        let cursor = page1["next_cursor"]
            .as_str()
            .expect("more pages")
            .to_owned();
        let page2 = list(format!("state=dead&limit=100&cursor={cursor}")).await;
        assert_eq!(ids(&page2).len(), 7);
        assert_eq!(page2["next_cursor"], Value::Null);
        let all: HashSet<String> = ids(&page1).into_iter().chain(ids(&page2)).collect();
        assert_eq!(all.len(), 12, "pages do not overlap");
        // Default limit and filters.
        assert_eq!(ids(&list("state=dead".into()).await).len(), 12);
        assert_eq!(ids(&list("state=waiting".into()).await).len(), 0);
        let only_a = list("state=dead&tenant=a".into()).await;
        assert_eq!(ids(&only_a).len(), 5);
        let by_text = list("state=dead&error=BOOM-b%20JOB%207".into()).await;
        assert_eq!(ids(&by_text).len(), 1);

        // Inspect one.
        let id = ids(&by_text)[0].clone();
        let (status, job) = app
            .call(
                "GET",
                &format!("/api/v1/queues/realtime/jobs/{id}"),
                T,
                None,
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(job, by_text["jobs"][0]);
        assert_eq!(
            (
                job["queue"].as_str(),
                job["state"].as_str(),
                job["tenant"].as_str(),
                job["attempts"].as_u64(),
                job["max_attempts"].as_u64(),
            ),
            (Some("realtime"), Some("dead"), Some("b"), Some(1), Some(10))
        );
        assert_eq!(job["payload"], json!({"n": 7}));
        assert!(
            job["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("boom-b job 7")),
            "{job}"
        );
        assert!(job["died_ms"].as_u64().is_some() && job["enqueued_ms"].as_u64() > Some(0));
        assert!(job["started_ms"].as_u64().is_some());

        // Retry one: back to waiting with a fresh budget; a second retry conflicts.
        let retry = format!("/api/v1/queues/realtime/jobs/{id}/retry");
        let (status, revived) = app.call("POST", &retry, T, None).await;
        assert_eq!(status, 200, "{revived}");
        assert_eq!(
            (
                revived["id"].as_str(),
                revived["state"].as_str(),
                revived["attempts"].as_u64()
            ),
            (Some(id.as_str()), Some("waiting"), Some(0))
        );
        let (status, body) = app.call("POST", &retry, T, None).await;
        assert_eq!((status, body["code"].as_str()), (409, Some("conflict")));
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("waiting")),
            "{body}"
        );

        // Discard one: answered as it was, then gone.
        let victim = ids(&only_a)[0].clone();
        let discard = format!("/api/v1/queues/realtime/jobs/{victim}/discard");
        let (status, gone) = app.call("POST", &discard, T, None).await;
        assert_eq!(status, 200, "{gone}");
        assert_eq!(
            (gone["id"].as_str(), gone["state"].as_str()),
            (Some(victim.as_str()), Some("dead"))
        );
        let (status, _) = app
            .call(
                "GET",
                &format!("/api/v1/queues/realtime/jobs/{victim}"),
                T,
                None,
            )
            .await;
        assert_eq!(status, 404);
        let (status, _) = app.call("POST", &discard, T, None).await;
        assert_eq!(status, 404);

        // All matching: retry tenant b's dead jobs, discard tenant a's by error text.
        let (status, body) = app
            .call(
                "POST",
                "/api/v1/queues/realtime/retry",
                T,
                Some(json!({"tenant": "b"})),
            )
            .await;
        assert_eq!((status, body), (200, json!({"count": 6})));
        let (status, body) = app
            .call(
                "POST",
                "/api/v1/queues/realtime/discard",
                T,
                Some(json!({"state": "dead", "error": "BOOM-A JOB"})),
            )
            .await;
        assert_eq!((status, body), (200, json!({"count": 4})));
        let s = summary(&app, "realtime").await;
        assert_eq!(
            (s["counts"]["dead"].clone(), s["counts"]["waiting"].clone()),
            (json!(0), json!(7))
        );
        assert_eq!(s["counters"]["revived"], 7);
        assert_eq!(s["counters"]["discarded"], 5);
        // Bulk discard with a tenant filter, then purge the rest.
        let (status, body) = app
            .call(
                "POST",
                "/api/v1/queues/realtime/discard",
                T,
                Some(json!({"state": "waiting", "tenant": "b", "error": "job 1"})),
            )
            .await;
        assert_eq!((status, body), (200, json!({"count": 2})), "jobs 10 and 11");
        let (status, body) = app
            .call(
                "DELETE",
                "/api/v1/queues/realtime/jobs?state=waiting",
                T,
                None,
            )
            .await;
        assert_eq!((status, body), (200, json!({"count": 5})));
        assert_eq!(summary(&app, "realtime").await["tenants"], json!({}));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn retry_all_without_a_body_revives_every_dead_job() {
        let app = app().await;
        enqueue(&app, "bulk", "x", 0..3).await;
        enqueue(&app, "bulk", "y", 3..5).await;
        run_until(&app, "bulk", Behavior::Fail, "dead", 5).await;
        let (status, body) = app.call("POST", "/api/v1/queues/bulk/retry", T, None).await;
        assert_eq!((status, body), (200, json!({"count": 5})));
        let (status, body) = app.call("POST", "/api/v1/queues/bulk/retry", T, None).await;
        assert_eq!((status, body), (200, json!({"count": 0})), "none left dead");
        let s = summary(&app, "bulk").await;
        assert_eq!(
            (s["counts"]["dead"].clone(), s["counts"]["waiting"].clone()),
            (json!(0), json!(5))
        );
        assert_eq!(s["tenants"]["y"]["waiting"], 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn only_dead_jobs_are_retried_and_running_jobs_are_not_discarded() {
        let app = app().await;
        let gate = Arc::new(Semaphore::new(0));
        let worker =
            RunningWorker::spawn(app.backend("realtime"), 1, Behavior::Block(gate.clone()));
        let id = app
            .producer("realtime")
            .enqueue(NewJob::new("t", TestJob { n: 1 }))
            .await
            .expect("enqueue")
            .id()
            .to_string();
        let path = format!("/api/v1/queues/realtime/jobs/{id}");
        eventually("job active", || async {
            app.call("GET", &path, T, None).await.1["state"] == "active"
        })
        .await;
        let (_, job) = app.call("GET", &path, T, None).await;
        assert!(
            job["owner"].as_str().is_some_and(|o| !o.is_empty()),
            "{job}"
        );
        let (status, body) = app.call("POST", &format!("{path}/discard"), T, None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (409, Some("conflict")),
            "{body}"
        );
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("active"))
        );
        let (status, body) = app.call("POST", &format!("{path}/retry"), T, None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (409, Some("conflict")),
            "{body}"
        );
        let (status, active) = app
            .call("GET", "/api/v1/queues/realtime/jobs?state=active", T, None)
            .await;
        assert_eq!((status, ids(&active)), (200, vec![id.clone()]));
        assert_eq!(summary(&app, "realtime").await["tenants"]["t"]["active"], 1);

        // A waiting job cannot be retried either (bulk has no worker).
        let waiting = app
            .producer("bulk")
            .enqueue(NewJob::new("t", TestJob { n: 2 }))
            .await
            .expect("enqueue")
            .id()
            .to_string();
        let (status, body) = app
            .call(
                "POST",
                &format!("/api/v1/queues/bulk/jobs/{waiting}/retry"),
                T,
                None,
            )
            .await;
        assert_eq!((status, body["code"].as_str()), (409, Some("conflict")));
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("waiting"))
        );

        // Once the job completes it is still not retryable, but may be discarded.
        gate.add_permits(1);
        eventually("job completed", || async {
            app.call("GET", &path, T, None).await.1["state"] == "completed"
        })
        .await;
        let (status, _) = app.call("POST", &format!("{path}/retry"), T, None).await;
        assert_eq!(status, 409);
        let (status, body) = app.call("POST", &format!("{path}/discard"), T, None).await;
        assert_eq!((status, body["state"].as_str()), (200, Some("completed")));
        worker.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pause_and_resume_are_reflected_in_the_summary() {
        let app = app().await;
        let (status, body) = app.call("POST", "/api/v1/queues/bulk/pause", T, None).await;
        assert_eq!(
            (status, body["name"].as_str(), body["paused"].as_bool()),
            (200, Some("bulk"), Some(true))
        );
        assert!(
            body["tenants"].is_object(),
            "the pause answer is the full summary"
        );
        let (_, all) = app.call("GET", "/api/v1/queues", T, None).await;
        assert_eq!(all["queues"][0]["paused"], false);
        assert_eq!(all["queues"][1]["paused"], true);

        // A paused queue leases nothing, even with a worker running.
        let worker = RunningWorker::spawn(app.backend("bulk"), 2, Behavior::Succeed);
        enqueue(&app, "bulk", "t", 0..3).await;
        tokio::time::sleep(Duration::from_millis(700)).await;
        let s = summary(&app, "bulk").await;
        assert_eq!(
            (
                s["counts"]["waiting"].clone(),
                s["counters"]["started"].clone()
            ),
            (json!(3), json!(0))
        );

        let (status, body) = app
            .call("POST", "/api/v1/queues/bulk/resume", T, None)
            .await;
        assert_eq!((status, body["paused"].as_bool()), (200, Some(false)));
        eventually("3 completed after resume", || async {
            summary(&app, "bulk").await["counters"]["completed"] == 3
        })
        .await;
        worker.stop().await;
        assert_eq!(summary(&app, "bulk").await["paused"], false);
    }
}
