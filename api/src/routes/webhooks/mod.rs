//! Webhook ingest: the routes HubSpot and Userflow deliver changes to.
//!
//! | route | verifies | answers |
//! |---|---|---|
//! | `POST /webhooks/hubspot` | `X-HubSpot-Signature-v3` with the app's client secret | 200 [`Summary`] once every job is queued |
//! | `POST /webhooks/userflow/{integration}` | `Userflow-Signature` with the integration's webhook secret | 200 [`Summary`] once the job is queued |
//!
//! Both are thin: they verify, parse, decide with [`hubsync_core::webhooks`], and queue on the
//! `realtime` queue in ONE atomic call, never calling HubSpot or Userflow. A 2xx means every
//! job is stored in Redis; when Redis fails the answer is 503 and nothing was queued, so the
//! sender's retry is safe. Deliveries seen before (same idempotency key) queue nothing new.
//! Events for unknown or disconnected integrations are answered 2xx and dropped (with a log
//! line), so the sender stops retrying; the answer counts them under `ignored`.

pub(crate) mod hubspot;
pub(crate) mod userflow;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::routing::post;
use hubsync_core::jobs::Job;
use hubsync_core::webhooks::IgnoreReason;
use hubsync_entities::IntegrationStatus;
use hubsync_queue::{EnqueueOutcome, NewJob};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::AppState;
use crate::error::{ApiError, Code};

/// Largest webhook body accepted (HubSpot sends at most 100 events per request, far less).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Most jobs one delivery may queue: the queue stores at most this many in one atomic script
/// call, and a delivery is queued all or nothing.
const MAX_JOBS_PER_DELIVERY: usize = 500;

/// How long queueing may take before the answer is 503. HubSpot gives up on a delivery after
/// 5 s; answering before that keeps its retry schedule honest. A call that completes after
/// the timeout is harmless: the retry finds every job by its idempotency key.
const ENQUEUE_TIMEOUT: Duration = Duration::from_secs(4);

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/hubspot", post(hubspot::ingest))
        .route("/webhooks/userflow/{integration}", post(userflow::ingest))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// The webhook ingest routes, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(hubspot::ingest, userflow::ingest),
    tags((name = "webhooks", description = "Webhook ingest: HubSpot and Userflow deliver \
        changes here, signed; each delivery is verified and queued, never synced inline."))
)]
pub(crate) struct Api;

/// What a delivery led to, as answered.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = WebhookSummary)]
pub(crate) struct Summary {
    /// Events (HubSpot) or notifications (Userflow) in the request.
    pub received: usize,
    /// Events whose jobs are now queued (new, or merged into a waiting job of the same
    /// object).
    pub queued: usize,
    /// Events delivered before: nothing new was queued for them.
    pub duplicates: usize,
    /// Dropped events per reason (`unknown_portal`, `own_change`, …).
    pub ignored: BTreeMap<&'static str, usize>,
    /// Job outcomes of the queue call.
    pub jobs: JobCounts,
}

/// Outcomes of the queue call, per job.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = WebhookJobCounts)]
pub(crate) struct JobCounts {
    /// New jobs.
    pub enqueued: usize,
    /// Merged into a waiting job of the same object.
    pub coalesced: usize,
    /// Already queued by an earlier delivery.
    pub duplicate: usize,
}

impl Summary {
    pub(crate) fn ignore(&mut self, reason: IgnoreReason) {
        *self.ignored.entry(reason.as_str()).or_default() += 1;
    }

    /// Counts one event whose jobs got `outcomes`.
    fn count_event(&mut self, outcomes: &[EnqueueOutcome]) {
        for o in outcomes {
            match o {
                EnqueueOutcome::Enqueued(_) | EnqueueOutcome::Scheduled(_) => {
                    self.jobs.enqueued += 1
                }
                EnqueueOutcome::Coalesced(_) => self.jobs.coalesced += 1,
                EnqueueOutcome::Duplicate(_) => self.jobs.duplicate += 1,
            }
        }
        if outcomes
            .iter()
            .all(|o| matches!(o, EnqueueOutcome::Duplicate(_)))
        {
            self.duplicates += 1;
        } else {
            self.queued += 1;
        }
    }
}

/// The jobs of one event with their idempotency keys.
pub(crate) struct PlannedEvent {
    pub jobs: Vec<(Job, String)>,
}

/// Queues the jobs of every planned event in ONE atomic call and counts the outcomes into
/// `summary`. Fails with 503 when Redis does: nothing was queued then.
pub(crate) async fn enqueue_all(
    state: &AppState,
    planned: Vec<PlannedEvent>,
    summary: &mut Summary,
) -> Result<(), ApiError> {
    let total: usize = planned.iter().map(|p| p.jobs.len()).sum();
    if total > MAX_JOBS_PER_DELIVERY {
        return Err(ApiError::new(
            Code::BadRequest,
            format!(
                "this delivery would queue {total} jobs; at most {MAX_JOBS_PER_DELIVERY} are \
                 queued atomically per request"
            ),
        ));
    }
    let mut sizes = Vec::with_capacity(planned.len());
    let mut jobs: Vec<NewJob<Job>> = Vec::with_capacity(total);
    for event in planned {
        sizes.push(event.jobs.len());
        for (job, key) in event.jobs {
            jobs.push(hubsync_sync::JobQueues::new_job(job, Some(key)));
        }
    }
    let unavailable = || {
        ApiError::new(
            Code::Unavailable,
            "the job queue is unavailable; nothing was queued, deliver again later",
        )
    };
    let outcomes = match tokio::time::timeout(ENQUEUE_TIMEOUT, state.jobs.realtime_many(jobs)).await
    {
        Ok(Ok(outcomes)) => outcomes,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "webhook jobs could not be queued");
            return Err(unavailable());
        }
        Err(_) => {
            tracing::error!(
                timeout_ms = ENQUEUE_TIMEOUT.as_millis() as u64,
                "webhook jobs could not be queued in time"
            );
            return Err(unavailable());
        }
    };
    if outcomes.len() != total {
        return Err(ApiError::internal(format!(
            "the queue answered {} outcomes for {total} jobs",
            outcomes.len()
        )));
    }
    let mut rest = outcomes.as_slice();
    for n in sizes {
        let (mine, tail) = rest.split_at(n);
        summary.count_event(mine);
        rest = tail;
    }
    Ok(())
}

/// Whether jobs of an integration in `status` are queued: connected ones, and those whose
/// HubSpot authorization expired (their jobs wait in the worker until it is renewed).
pub(crate) fn accepts_jobs(status: IntegrationStatus) -> bool {
    matches!(
        status,
        IntegrationStatus::Connected | IntegrationStatus::AuthorizationExpired
    )
}

/// Why events of an integration in `status` are dropped (see [`accepts_jobs`]).
pub(crate) fn status_reason(status: IntegrationStatus) -> IgnoreReason {
    match status {
        IntegrationStatus::Pending => IgnoreReason::IntegrationPending,
        _ => IgnoreReason::IntegrationDisconnected,
    }
}

/// The raw body, or 413 over [`MAX_BODY_BYTES`] (400 when it cannot be read at all).
pub(crate) fn body_or_error(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                Code::PayloadTooLarge,
                format!("webhook bodies are limited to {MAX_BODY_BYTES} bytes"),
            )
        } else {
            ApiError::new(Code::BadRequest, r.body_text())
        }
    })
}

/// A header as text, if present and readable.
pub(crate) fn header<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}
