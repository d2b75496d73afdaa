//! `POST /webhooks/userflow/{integration}`: Userflow's notifications for one integration (the
//! URL its webhook subscription points at).
//!
//! 1. Find the integration → 404 when the id is unknown or not a UUID.
//! 2. Verify `Userflow-Signature` (`t=…,v1=…`, 5-minute tolerance) with the integration's
//!    webhook secret → 409 when none is stored, 401 when missing, wrong or stale.
//! 3. Parse the notification → 400.
//! 4. A pending or disconnected integration: 200, dropped (logged).
//! 5. Decide ([`hubsync_core::webhooks::userflow::decide`]): user and group changes sync the
//!    object; tracked events are posted to HubSpot timelines only when an enabled mapping
//!    streams them. Queue with the idempotency key `uf:<integration>:<notification id>` → 200,
//!    or 503 when Redis fails.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use hubsync_core::jobs::UserflowKind;
use hubsync_core::signature::userflow::{TOLERANCE_S, verify};
use hubsync_core::webhooks::Decision;
use hubsync_core::webhooks::userflow::{EventStream, Notification, StreamSelection, decide};
use hubsync_entities::integrations::{Entity as Integrations, Model as Integration};
use hubsync_entities::{EventStreamMode, UserflowObjectType, event_streams, object_mappings};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tracing::Instrument;
use uuid::Uuid;

use super::{
    PlannedEvent, Summary, accepts_jobs, body_or_error, enqueue_all, header, status_reason,
};
use crate::AppState;
use crate::error::{ApiError, Code, ErrorBody};

/// Userflow's notifications for one integration (where its webhook subscription points).
///
/// Verified with the `Userflow-Signature` header and the integration's webhook secret (five
/// minutes' tolerance). User and group changes queue a sync of the object; tracked events are
/// posted to HubSpot timelines when an enabled mapping streams them. Notifications of a
/// pending or disconnected integration are answered 200 and dropped. A notification seen
/// before queues nothing new, so Userflow's retries are safe.
#[utoipa::path(
    post,
    path = "/webhooks/userflow/{integration}",
    operation_id = "userflow_webhook",
    tag = "webhooks",
    security(()),
    params(
        ("integration" = Uuid, Path, description = "Integration id."),
        ("Userflow-Signature" = String, Header,
            description = "`t=<unix seconds>,v1=<hex HMAC-SHA256 with the webhook secret of \
                \"<t>.<body>\">`; several `v1` values are accepted (secret rotation)."),
    ),
    request_body(content = serde_json::Value, content_type = "application/json",
        description = "One Userflow webhook notification: `id`, `topic` (`user.updated`, \
            `group.updated`, `event.tracked`, …), `data`, …"),
    responses(
        (status = 200, description = "The job is queued (or the notification was dropped or seen before).", body = Summary),
        (status = 400, description = "A malformed notification (`malformed_json`) or an unreadable body.", body = ErrorBody),
        (status = 401, description = "Missing, wrong or stale signature (`invalid_signature`).", body = ErrorBody),
        (status = 404, description = "No such integration.", body = ErrorBody),
        (status = 409, description = "No webhook secret is stored for the integration, so its notifications cannot be verified.", body = ErrorBody),
        (status = 413, description = "The body is larger than 1 MiB (`payload_too_large`).", body = ErrorBody),
        (status = 503, description = "Nothing was queued: the job queue is unavailable; deliver again later.", body = ErrorBody),
    )
)]
pub(crate) async fn ingest(
    State(state): State<AppState>,
    Path(integration): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Summary>, ApiError> {
    let span = tracing::info_span!("webhook.userflow", integration_id = %integration);
    handle(state, integration, headers, body)
        .instrument(span)
        .await
        .map(Json)
}

async fn handle(
    state: AppState,
    raw_id: String,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Summary, ApiError> {
    let integration = find(&state, &raw_id).await?;
    let body = body_or_error(body)?;
    let active = accepts_jobs(integration.status);
    match integration.userflow_webhook_secret_enc.as_deref() {
        Some(sealed) => {
            let secret = state.secrets.open(sealed).map_err(ApiError::internal)?;
            let now_s = chrono::Utc::now().timestamp();
            verify(
                &secret,
                header(&headers, "userflow-signature"),
                &body,
                now_s,
                Some(TOLERANCE_S),
            )
            .map_err(|e| {
                tracing::warn!(error = %e, "Userflow webhook refused: bad signature");
                ApiError::new(
                    Code::InvalidSignature,
                    format!("Userflow signature refused: {e}"),
                )
            })?;
        }
        // A disconnected integration's secrets are cleared; answer 2xx so Userflow stops.
        None if !active => {}
        None => {
            tracing::warn!("Userflow webhook refused: no webhook secret stored");
            return Err(ApiError::new(
                Code::Conflict,
                format!(
                    "integration {} has no Userflow webhook secret, so its notifications \
                     cannot be verified; store it with `PUT /api/v1/integrations/{}/userflow` \
                     (`webhook_secret`)",
                    integration.id, integration.id
                ),
            ));
        }
    }
    let notification = Notification::parse(&body)
        .map_err(|e| ApiError::new(Code::MalformedJson, e.to_string()))?;
    let mut summary = Summary {
        received: 1,
        ..Summary::default()
    };
    if !active {
        let reason = status_reason(integration.status);
        tracing::info!(
            notification_id = %notification.id,
            topic = %notification.topic,
            %reason,
            "webhook notification dropped"
        );
        summary.ignore(reason);
        return Ok(summary);
    }
    let streams = if notification.topic.starts_with("event.") {
        load_streams(&state, integration.id).await?
    } else {
        Vec::new()
    };
    match decide(&notification, integration.id, &streams) {
        Decision::Queue(jobs) => {
            let key = notification.idempotency_key(integration.id);
            let jobs = jobs
                .into_iter()
                .enumerate()
                .map(|(n, job)| {
                    let key = if n == 0 {
                        key.clone()
                    } else {
                        format!("{key}:{n}")
                    };
                    (job, key)
                })
                .collect();
            enqueue_all(&state, vec![PlannedEvent { jobs }], &mut summary).await?;
        }
        Decision::Ignore(reason) => {
            tracing::debug!(
                notification_id = %notification.id,
                topic = %notification.topic,
                %reason,
                "webhook notification dropped"
            );
            summary.ignore(reason);
        }
    }
    tracing::info!(
        notification_id = %notification.id,
        topic = %notification.topic,
        queued = summary.queued,
        duplicates = summary.duplicates,
        "userflow webhook ingested"
    );
    Ok(summary)
}

/// The integration `raw` names: 404 when it is not a UUID or there is none.
async fn find(state: &AppState, raw: &str) -> Result<Integration, ApiError> {
    let not_found = || ApiError::new(Code::NotFound, format!("no integration `{raw}`"));
    let id = Uuid::parse_str(raw).map_err(|_| not_found())?;
    Integrations::find_by_id(id)
        .one(&state.db)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(not_found)
}

/// The event streams of the integration's enabled object mappings (mode `off` left out).
async fn load_streams(state: &AppState, integration: Uuid) -> Result<Vec<EventStream>, ApiError> {
    let mappings = object_mappings::Entity::find()
        .filter(object_mappings::Column::IntegrationId.eq(integration))
        .filter(object_mappings::Column::Enabled.eq(true))
        .all(&state.db)
        .await
        .map_err(ApiError::internal)?;
    if mappings.is_empty() {
        return Ok(Vec::new());
    }
    let streams = event_streams::Entity::find()
        .filter(event_streams::Column::ObjectMappingId.is_in(mappings.iter().map(|m| m.id)))
        .all(&state.db)
        .await
        .map_err(ApiError::internal)?;
    Ok(streams
        .into_iter()
        .filter_map(|s| {
            let mapping = mappings.iter().find(|m| m.id == s.object_mapping_id)?;
            let kind = match mapping.userflow_object_type {
                UserflowObjectType::User => UserflowKind::User,
                UserflowObjectType::Group => UserflowKind::Group,
            };
            let selection = match s.mode {
                EventStreamMode::Off => return None,
                EventStreamMode::All => StreamSelection::All,
                EventStreamMode::Selected => StreamSelection::Selected(s.event_names.into()),
            };
            Some(EventStream { kind, selection })
        })
        .collect())
}
