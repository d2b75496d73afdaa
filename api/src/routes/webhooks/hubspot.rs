//! `POST /webhooks/hubspot`: HubSpot's batched CRM change events for every portal our app is
//! installed on.
//!
//! 1. Verify `X-HubSpot-Signature-v3` over `POST` + the public URL HubSpot called
//!    (`--public-url` + `/webhooks/hubspot` + the query string) + body + timestamp, with the
//!    app's client secret and a 5-minute window → 401 when missing, wrong or stale.
//! 2. Parse the JSON array (≤ 100 events) → 400.
//! 3. Route each event by `portalId` to the integrations of that portal; drop events of
//!    unknown portals, of pending or disconnected integrations, our own writes, unsupported
//!    types and changes of properties no enabled mapping reads (all counted in `ignored`).
//! 4. Queue the jobs of the whole batch in one atomic call with the idempotency key
//!    `hs:<portalId>:<subscriptionId>:<eventId>` per event → 200, or 503 when Redis fails.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, Method, Uri};
use hubsync_core::signature::hubspot::{V3_WINDOW_S, V3Request, verify_v3};
use hubsync_core::webhooks::hubspot::{
    BatchError, Event, MappedProperties, Target, decide, job_idempotency_key, parse_batch,
};
use hubsync_core::webhooks::{Decision, IgnoreReason};
use hubsync_entities::integrations::{Column, Entity as Integrations, Model as Integration};
use hubsync_entities::{SyncDirection, field_mappings, object_mappings};
use hubsync_sync::routing::{self, Route};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use tracing::Instrument;
use uuid::Uuid;

use super::{
    PlannedEvent, Summary, accepts_jobs, body_or_error, enqueue_all, header, status_reason,
};
use crate::AppState;
use crate::error::{ApiError, Code, ErrorBody};

/// The path HubSpot is configured to call (the app's webhook target URL ends with it).
pub(crate) const PATH: &str = "/webhooks/hubspot";

/// HubSpot's batched CRM change events, for every portal the app is installed on.
///
/// Verified with the `X-HubSpot-Signature-v3` signature (the app's client secret over `POST`,
/// the public URL called, the body and the timestamp; five minutes' tolerance), routed by
/// `portalId` to the integrations of that portal and queued in one atomic call. Events of
/// unknown portals, of pending or disconnected integrations, hubsync's own writes and
/// properties no mapping reads are answered 200 and counted under `ignored`. A delivery seen
/// before queues nothing new, so HubSpot's retries are safe.
#[utoipa::path(
    post,
    path = "/webhooks/hubspot",
    operation_id = "hubspot_webhook",
    tag = "webhooks",
    security(()),
    params(
        ("X-HubSpot-Signature-v3" = String, Header,
            description = "Base64 HMAC-SHA256 with the app's client secret of `POST` + the URL \
                called + the body + `X-HubSpot-Request-Timestamp`."),
        ("X-HubSpot-Request-Timestamp" = String, Header,
            description = "When HubSpot signed, in unix milliseconds; older than five minutes is refused."),
    ),
    request_body(content = Vec<serde_json::Value>, content_type = "application/json",
        description = "HubSpot's event array (at most 100 events): `eventId`, `subscriptionId`, \
            `portalId`, `appId`, `occurredAt`, `subscriptionType`, `objectId`, \
            `propertyName`, `propertyValue`, `changeSource`, …"),
    responses(
        (status = 200, description = "Every job is queued (or the events were dropped or seen before).", body = Summary),
        (status = 400, description = "Malformed JSON (`malformed_json`), not an array, more than 100 events, a delivery that would queue more than 500 jobs, or an unreadable body.", body = ErrorBody),
        (status = 401, description = "Missing, wrong or stale signature (`invalid_signature`).", body = ErrorBody),
        (status = 413, description = "The body is larger than 1 MiB (`payload_too_large`).", body = ErrorBody),
        (status = 503, description = "Nothing was queued: the job queue is unavailable, or the cluster lacks the HubSpot client secret or the public URL needed to verify; deliver again later.", body = ErrorBody),
    )
)]
pub(crate) async fn ingest(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Summary>, ApiError> {
    let span = tracing::info_span!(
        "webhook.hubspot",
        events = tracing::field::Empty,
        integration_id = tracing::field::Empty,
    );
    handle(state, method, uri, headers, body)
        .instrument(span)
        .await
        .map(Json)
}

async fn handle(
    state: AppState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Summary, ApiError> {
    let body = body_or_error(body)?;
    verify(&state, &method, &uri, &headers, &body)?;
    let raw = parse_batch(&body).map_err(|e| match e {
        BatchError::Malformed(_) => ApiError::new(Code::MalformedJson, e.to_string()),
        BatchError::NotAnArray | BatchError::TooMany { .. } => {
            ApiError::new(Code::BadRequest, e.to_string())
        }
    })?;
    let span = tracing::Span::current();
    span.record("events", raw.len());
    let events: Vec<Option<Event>> = raw.iter().map(Event::from_value).collect();

    let portals: BTreeSet<i64> = events
        .iter()
        .flatten()
        .filter_map(|e| i64::try_from(e.portal_id).ok())
        .collect();
    let routes = routes(&state, &portals).await?;
    let active: Vec<&Integration> = routes
        .values()
        .flat_map(|r| r.integrations.iter())
        .filter(|i| accepts_jobs(i.status))
        .collect();
    if !active.is_empty() {
        let ids: Vec<String> = active.iter().map(|i| i.id.to_string()).collect();
        span.record("integration_id", ids.join(",").as_str());
    }
    let no_mappings = BTreeMap::new();

    let app_id = state.sync.settings.hubspot.app_id;
    let mut summary = Summary {
        received: raw.len(),
        ..Summary::default()
    };
    let mut planned = Vec::new();
    for event in events {
        let Some(event) = event else {
            tracing::info!("webhook event dropped: unreadable event");
            summary.ignore(IgnoreReason::InvalidEvent);
            continue;
        };
        let portal = i64::try_from(event.portal_id).unwrap_or(-1);
        let route = routes.get(&portal);
        let candidates = route.map(|r| r.integrations.as_slice()).unwrap_or(&[]);
        let mapped = route.map(|r| &r.mapped).unwrap_or(&no_mappings);
        match plan_event(&event, candidates, app_id, mapped) {
            Ok(jobs) => planned.push(PlannedEvent { jobs }),
            Err(reason) => {
                log_drop(&event, candidates, reason);
                summary.ignore(reason);
            }
        }
    }
    enqueue_all(&state, planned, &mut summary).await?;
    tracing::info!(
        received = summary.received,
        queued = summary.queued,
        duplicates = summary.duplicates,
        ignored = summary.ignored.values().sum::<usize>(),
        "hubspot webhook batch ingested"
    );
    Ok(summary)
}

/// 401 unless the request carries a valid, fresh v3 signature of our app; 503 when the
/// cluster lacks what verifying needs (the client secret or the public URL), so HubSpot
/// retries once the operator set it.
fn verify(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), ApiError> {
    let settings = &state.sync.settings;
    let Some(secret) = settings.hubspot.client_secret.as_deref() else {
        tracing::error!("HubSpot webhook refused: the HubSpot client secret is not configured");
        return Err(ApiError::new(
            Code::Unavailable,
            "HubSpot webhooks cannot be verified: the HubSpot client secret is not configured",
        ));
    };
    let mut public = settings.public(PATH).map_err(|e| {
        tracing::error!(error = %e, "HubSpot webhook refused: no public URL");
        ApiError::new(
            Code::Unavailable,
            "HubSpot webhooks cannot be verified: the public URL is not configured",
        )
    })?;
    if let Some(q) = uri.query() {
        public.push('?');
        public.push_str(q);
    }
    let request = V3Request {
        method: method.as_str(),
        uri: &public,
        body,
        timestamp: header(headers, "x-hubspot-request-timestamp"),
        signature: header(headers, "x-hubspot-signature-v3"),
    };
    let now_ms = chrono::Utc::now().timestamp_millis();
    verify_v3(secret, request, now_ms, Some(V3_WINDOW_S)).map_err(|e| {
        tracing::warn!(error = %e, "HubSpot webhook refused: bad signature");
        ApiError::new(
            Code::InvalidSignature,
            format!("HubSpot signature refused: {e}"),
        )
    })
}

/// How each portal's events are routed: from this process's cache while the routing version
/// in Redis is unchanged, else from the database (and cached).
async fn routes(
    state: &AppState,
    portals: &BTreeSet<i64>,
) -> Result<BTreeMap<i64, Arc<Route>>, ApiError> {
    let cache = &state.sync.routing;
    // Without the version the cache cannot be trusted; the database still answers.
    let version = routing::version(&state.sync).await.ok();
    let mut out = BTreeMap::new();
    let mut missing = BTreeSet::new();
    for &portal in portals {
        match version.and_then(|v| cache.get(portal, v)) {
            Some(route) => {
                out.insert(portal, route);
            }
            None => {
                missing.insert(portal);
            }
        }
    }
    if missing.is_empty() {
        return Ok(out);
    }
    let mut by_portal = load_integrations(state, &missing).await?;
    for portal in missing {
        let integrations = by_portal.remove(&portal).unwrap_or_default();
        let active: Vec<&Integration> = integrations
            .iter()
            .filter(|i| accepts_jobs(i.status))
            .collect();
        let mapped = load_mapped_properties(state, &active).await?;
        let route = Arc::new(Route {
            integrations,
            mapped,
        });
        if let Some(v) = version {
            cache.put(portal, v, route.clone());
        }
        out.insert(portal, route);
    }
    Ok(out)
}

/// The integrations of each portal, oldest id first.
async fn load_integrations(
    state: &AppState,
    portals: &BTreeSet<i64>,
) -> Result<BTreeMap<i64, Vec<Integration>>, ApiError> {
    let mut by_portal: BTreeMap<i64, Vec<Integration>> = BTreeMap::new();
    if portals.is_empty() {
        return Ok(by_portal);
    }
    let rows = Integrations::find()
        .filter(Column::HubspotPortalId.is_in(portals.iter().copied()))
        .order_by_asc(Column::Id)
        .all(&state.db)
        .await
        .map_err(ApiError::internal)?;
    for row in rows {
        if let Some(portal) = row.hubspot_portal_id {
            by_portal.entry(portal).or_default().push(row);
        }
    }
    Ok(by_portal)
}

/// What the enabled mappings of each integration read from HubSpot.
async fn load_mapped_properties(
    state: &AppState,
    integrations: &[&Integration],
) -> Result<BTreeMap<Uuid, MappedProperties>, ApiError> {
    let mut out: BTreeMap<Uuid, MappedProperties> = integrations
        .iter()
        .map(|i| (i.id, MappedProperties::new()))
        .collect();
    if out.is_empty() {
        return Ok(out);
    }
    let mappings = object_mappings::Entity::find()
        .filter(object_mappings::Column::IntegrationId.is_in(out.keys().copied()))
        .filter(object_mappings::Column::Enabled.eq(true))
        .all(&state.db)
        .await
        .map_err(ApiError::internal)?;
    if mappings.is_empty() {
        return Ok(out);
    }
    let fields = field_mappings::Entity::find()
        .filter(field_mappings::Column::ObjectMappingId.is_in(mappings.iter().map(|m| m.id)))
        .filter(field_mappings::Column::Direction.eq(SyncDirection::HubspotToUserflow))
        .all(&state.db)
        .await
        .map_err(ApiError::internal)?;
    let by_mapping: BTreeMap<Uuid, &object_mappings::Model> =
        mappings.iter().map(|m| (m.id, m)).collect();
    for m in &mappings {
        if let Some(props) = out.get_mut(&m.integration_id) {
            props.add_match(&m.hubspot_object_type, &m.match_hubspot_property);
        }
    }
    for f in &fields {
        if let Some(m) = by_mapping.get(&f.object_mapping_id)
            && let Some(props) = out.get_mut(&m.integration_id)
        {
            props.add_source_path(&m.hubspot_object_type, &f.source_path);
        }
    }
    Ok(out)
}

/// The jobs (with idempotency keys) of one event across the integrations of its portal, or
/// why it is dropped.
fn plan_event(
    event: &Event,
    candidates: &[Integration],
    app_id: Option<u64>,
    mapped: &BTreeMap<Uuid, MappedProperties>,
) -> Result<Vec<(hubsync_core::jobs::Job, String)>, IgnoreReason> {
    let Some(first) = candidates.first() else {
        return Err(IgnoreReason::UnknownPortal);
    };
    let active: Vec<&Integration> = candidates
        .iter()
        .filter(|i| accepts_jobs(i.status))
        .collect();
    if active.is_empty() {
        let pending = candidates
            .iter()
            .find(|i| i.status == hubsync_entities::IntegrationStatus::Pending);
        return Err(status_reason(pending.unwrap_or(first).status));
    }
    let key = event.idempotency_key();
    let mut jobs = Vec::new();
    let mut first_reason = None;
    for integration in active {
        let target = Target {
            integration_id: integration.id,
            app_id,
            mapped: mapped.get(&integration.id),
        };
        match decide(event, target) {
            Decision::Queue(new) => jobs.extend(new),
            Decision::Ignore(reason) => {
                first_reason.get_or_insert(reason);
            }
        }
    }
    if jobs.is_empty() {
        return Err(first_reason.unwrap_or(IgnoreReason::UnsupportedEvent));
    }
    Ok(jobs
        .into_iter()
        .enumerate()
        .map(|(n, job)| (job, job_idempotency_key(&key, n)))
        .collect())
}

fn log_drop(event: &Event, candidates: &[Integration], reason: IgnoreReason) {
    let integration_id = candidates.first().map(|i| i.id.to_string());
    match reason {
        // Routine: our own writes coming back, and properties nobody maps.
        IgnoreReason::OwnChange | IgnoreReason::UnmappedProperty => tracing::debug!(
            portal_id = event.portal_id,
            event_id = %event.event_id,
            subscription_type = %event.subscription_type,
            %reason,
            "webhook event dropped"
        ),
        _ => tracing::info!(
            portal_id = event.portal_id,
            integration_id = integration_id.as_deref().unwrap_or("-"),
            event_id = %event.event_id,
            subscription_type = %event.subscription_type,
            %reason,
            "webhook event dropped"
        ),
    }
}
