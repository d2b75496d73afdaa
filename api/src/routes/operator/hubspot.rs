//! Connecting an integration's HubSpot side, for operators:
//!
//! | route | answers |
//! |---|---|
//! | `POST /integrations/{id}/hubspot/authorize` `{force?}` | `{authorize_url, state, expires_at}`: send the HubSpot admin to `authorize_url` |
//! | `POST /integrations/{id}/hubspot/disconnect` | `{integration_id, status, status_reason, revoked, revoke_error}` |
//!
//! The approval comes back to the public callback ([`crate::routes::oauth`]), where the
//! single-use `state` (ten minutes) stands in for the operator token. `force: true` pairs the
//! portal even when another integration pairs it with a different Userflow environment.
//! Disconnecting revokes the refresh token at HubSpot (a failure is reported, not fatal),
//! clears the stored tokens and stops sync until HubSpot is authorized again.

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use hubsync_entities::IntegrationStatus;
use hubsync_sync::SyncError;
use hubsync_sync::connection;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::auth::Operator;
use crate::error::{ApiError, Code, ErrorBody};
use crate::json::OptionalJson;
use crate::routes::operator::lookup;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/integrations/{id}/hubspot/authorize", post(authorize))
        .route("/integrations/{id}/hubspot/disconnect", post(disconnect))
}

/// The HubSpot connection routes, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(authorize, disconnect),
    tags((name = "hubspot", description = "Connecting an integration's HubSpot portal (OAuth)."))
)]
pub(crate) struct Api;

/// Optional body of `authorize`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuthorizeBody {
    /// Pair the portal even when another integration pairs it with a different Userflow
    /// environment.
    #[serde(default)]
    force: bool,
}

/// Where to send the HubSpot admin.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AuthorizeAnswer {
    /// HubSpot's authorize page with `client_id`, `redirect_uri`, `scope` and `state`.
    authorize_url: String,
    /// The single-use state (also in `authorize_url`).
    state: String,
    /// When the link stops working (ten minutes).
    expires_at: DateTime<Utc>,
}

/// What disconnecting did.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DisconnectAnswer {
    integration_id: Uuid,
    /// `disconnected`.
    #[schema(value_type = String, example = "disconnected")]
    status: IntegrationStatus,
    status_reason: Option<String>,
    /// Kept: reconnecting must bring the same portal back.
    hubspot_portal_id: Option<i64>,
    /// Whether HubSpot revoked the refresh token.
    revoked: bool,
    /// Why revoking failed; the tokens are cleared anyway.
    revoke_error: Option<String>,
}

/// Starts connecting HubSpot: a link to the app's authorize page.
///
/// The HubSpot admin opens `authorize_url`, approves the app and is sent back to
/// `GET /oauth/hubspot/callback`, which stores the tokens. The `state` works once, for ten
/// minutes.
#[utoipa::path(
    post,
    path = "/integrations/{id}/hubspot/authorize",
    operation_id = "authorize_hubspot",
    tag = "hubspot",
    params(("id" = Uuid, Path, description = "Integration id.")),
    request_body(content = Option<AuthorizeBody>, description = "Optional."),
    responses(
        (status = 200, description = "The authorize link.", body = AuthorizeAnswer),
        (status = 400, description = "The id is not a UUID, or a malformed body.", body = ErrorBody),
        (status = 404, description = "No such integration.", body = ErrorBody),
        (status = 409, description = "The cluster lacks the HubSpot app's client id or secret, or the public URL; the message names the flags.", body = ErrorBody),
    )
)]
async fn authorize(
    _op: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<AuthorizeBody>,
) -> Result<Json<AuthorizeAnswer>, ApiError> {
    let model = lookup::integration(&state, &id).await?;
    let missing = connection::missing_oauth_settings(&state.sync);
    if !missing.is_empty() {
        return Err(ApiError::new(
            Code::Conflict,
            format!(
                "HubSpot OAuth is not configured on this cluster: set {} and restart the api",
                missing.join(", ")
            ),
        ));
    }
    let start = connection::start_authorize(&state.sync, model.id, body.force)
        .await
        .map_err(sync_error)?;
    tracing::info!(integration_id = %model.id, force = body.force, "HubSpot authorization started");
    Ok(Json(AuthorizeAnswer {
        authorize_url: start.authorize_url,
        state: start.state,
        expires_at: start.expires_at,
    }))
}

/// Disconnects HubSpot: revokes the refresh token at HubSpot, clears the stored tokens and
/// stops sync (status `disconnected`) until HubSpot is authorized again.
#[utoipa::path(
    post,
    path = "/integrations/{id}/hubspot/disconnect",
    operation_id = "disconnect_hubspot",
    tag = "hubspot",
    params(("id" = Uuid, Path, description = "Integration id.")),
    responses(
        (status = 200, description = "Disconnected; `revoked` says whether HubSpot revoked the token.", body = DisconnectAnswer),
        (status = 400, description = "The id is not a UUID.", body = ErrorBody),
        (status = 404, description = "No such integration.", body = ErrorBody),
    )
)]
async fn disconnect(
    _op: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<DisconnectAnswer>, ApiError> {
    let model = lookup::integration(&state, &id).await?;
    let done = connection::disconnect_hubspot(&state.sync, model)
        .await
        .map_err(sync_error)?;
    let m = &done.integration;
    tracing::info!(integration_id = %m.id, revoked = done.revoked, "HubSpot disconnected");
    Ok(Json(DisconnectAnswer {
        integration_id: m.id,
        status: m.status,
        status_reason: m.status_reason.clone(),
        hubspot_portal_id: m.hubspot_portal_id,
        revoked: done.revoked,
        revoke_error: done.revoke_error,
    }))
}

/// A [`SyncError`] as an answer: missing settings say which (409), the rest is ours (500) or
/// the other system's (503).
pub(crate) fn sync_error(e: SyncError) -> ApiError {
    match e {
        SyncError::Settings(msg) => ApiError::new(Code::Conflict, msg),
        SyncError::IntegrationNotFound(id) => lookup::no_integration(id),
        SyncError::Hubspot(e) => {
            tracing::warn!(error = %e, "HubSpot call failed");
            ApiError::new(
                Code::Unavailable,
                format!("HubSpot could not be reached: {e}"),
            )
        }
        SyncError::Userflow(e) => {
            tracing::warn!(error = %e, "Userflow call failed");
            ApiError::new(
                Code::Unavailable,
                format!("Userflow could not be reached: {e}"),
            )
        }
        other => ApiError::internal(other),
    }
}

#[cfg(test)]
#[path = "hubspot_tests.rs"]
mod tests;
