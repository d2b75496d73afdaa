//! `GET /oauth/hubspot/callback?code=&state=`: where HubSpot sends the admin back after
//! approving the app. Public (HubSpot's redirect carries no operator token): the single-use
//! `state` from `POST /api/v1/integrations/{id}/hubspot/authorize` is the credential.
//!
//! The code is exchanged for tokens, the portal is checked (the same portal as before on a
//! reconnect; the pairing rule of [`super::operator::integrations`] unless the authorize call
//! said `force`), the tokens are stored sealed, and the integration's parked jobs are resumed.
//! Answers `{integration_id, status, hubspot_portal_id}`; errors use the API's envelope (400
//! for a bad, expired or used state or a refusal at HubSpot, 409 for a portal conflict).

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use hubsync_entities::IntegrationStatus;
use hubsync_sync::connection::{self, ConnectError};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, Code, ErrorBody};
use crate::query::bad;
use crate::routes::operator::hubspot::sync_error;
use crate::routes::operator::integrations::check_pairing;
use crate::routes::operator::lookup;

pub(crate) fn router() -> axum::Router<AppState> {
    Router::new().route(connection::CALLBACK_PATH, get(callback))
}

/// The OAuth callback, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(callback),
    tags((name = "oauth", description = "Where HubSpot sends the admin back after approving the app."))
)]
pub(crate) struct Api;

/// The connected integration.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CallbackAnswer {
    integration_id: Uuid,
    /// `connected`, or `pending` while Userflow is not connected.
    #[schema(value_type = String, example = "connected")]
    status: IntegrationStatus,
    hubspot_portal_id: Option<i64>,
    /// Delayed jobs of the integration moved to run now (parked while it was not connected).
    resumed_jobs: u64,
}

/// HubSpot's redirect after the admin approved (or declined) the app.
///
/// No operator token: the single-use `state` from the authorize call is the credential.
#[utoipa::path(
    get,
    path = "/oauth/hubspot/callback",
    operation_id = "hubspot_oauth_callback",
    tag = "oauth",
    security(()),
    params(
        ("code" = Option<String>, Query, description = "Authorization code (single-use)."),
        ("state" = Option<String>, Query, description = "The state of the authorize link."),
        ("error" = Option<String>, Query, description = "Set by HubSpot when the app was not authorized."),
        ("error_description" = Option<String>, Query, description = "HubSpot's explanation of `error`."),
    ),
    responses(
        (status = 200, description = "HubSpot is connected.", body = CallbackAnswer),
        (status = 400, description = "Unknown, expired or used `state`, a missing `code`, `error` from HubSpot, or HubSpot refused the code.", body = ErrorBody),
        (status = 404, description = "The integration was deleted meanwhile.", body = ErrorBody),
        (status = 409, description = "A different portal than the integration's, or the portal is paired with another Userflow environment (authorize with `force` to pair anyway).", body = ErrorBody),
        (status = 503, description = "HubSpot could not be reached.", body = ErrorBody),
    )
)]
async fn callback(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<CallbackAnswer>, ApiError> {
    // Unknown parameters are ignored: the redirect is HubSpot's to shape.
    let params = CallbackParams::parse(raw.as_deref());
    // The state is spent whatever happens next: an authorize link works once.
    let pending = match params.get("state") {
        Some(s) => connection::take_state(&state.sync, s)
            .await
            .map_err(sync_error)?,
        None => None,
    };
    if let Some(error) = params.get("error") {
        let detail = params.get("error_description").unwrap_or_default();
        return Err(bad(format!(
            "HubSpot did not authorize the app: {error} {detail}; start again with POST \
             /api/v1/integrations/{{id}}/hubspot/authorize"
        )));
    }
    let Some(pending) = pending else {
        return Err(bad(
            "unknown, expired or already used `state`: authorize links work once, for ten \
             minutes; start again with POST /api/v1/integrations/{id}/hubspot/authorize",
        ));
    };
    let code = params
        .get("code")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| bad("`code` is required"))?;
    let model = lookup::integration_by_id(&state, pending.integration).await?;
    let id = model.id;

    let grant = connection::exchange_code(&state.sync, code)
        .await
        .map_err(connect_error)?;
    if let Some(before) = model.hubspot_portal_id
        && before != grant.portal_id
    {
        connection::revoke_unused(&state.sync, &grant).await;
        return Err(ApiError::new(
            Code::Conflict,
            format!(
                "integration {id} belongs to HubSpot portal {before}, but the app was approved \
                 in portal {}; log in to portal {before} and authorize again, or create a new \
                 integration for portal {}",
                grant.portal_id, grant.portal_id
            ),
        ));
    }
    if let Some(environment) = model.userflow_environment.as_deref()
        && !pending.force
        && let Err(conflict) = check_pairing(&state, Some(id), grant.portal_id, environment).await
    {
        connection::revoke_unused(&state.sync, &grant).await;
        return Err(conflict);
    }
    let was = model.status;
    let model = connection::store_grant(&state.sync, model, grant)
        .await
        .map_err(sync_error)?;
    tracing::info!(integration_id = %id, portal = ?model.hubspot_portal_id, status = %model.status, "HubSpot connected");

    let mut resumed = 0;
    if model.status == IntegrationStatus::Connected {
        let tenant = id.to_string();
        for queue in state.queues.iter() {
            match queue.resume_tenant(&tenant).await {
                Ok(n) => resumed += n,
                // The connection is stored; parked jobs still run at their own time.
                Err(e) => {
                    tracing::warn!(integration_id = %id, queue = %queue.config().name, error = %e,
                    "could not resume the integration's delayed jobs")
                }
            }
        }
        if resumed > 0 {
            tracing::info!(integration_id = %id, resumed, previous_status = %was, "delayed jobs resumed");
        }
    }
    // The portal and status just changed: webhook routing must see it on every replica.
    hubsync_sync::routing::bump(&state.sync).await;
    Ok(Json(CallbackAnswer {
        integration_id: id,
        status: model.status,
        hubspot_portal_id: model.hubspot_portal_id,
        resumed_jobs: resumed,
    }))
}

fn connect_error(e: ConnectError) -> ApiError {
    match e {
        ConnectError::Refused(msg) => bad(msg),
        ConnectError::Sync(e) => sync_error(e),
    }
}

/// The callback's query: first value of each name.
struct CallbackParams(Vec<(String, String)>);

impl CallbackParams {
    fn parse(raw: Option<&str>) -> Self {
        Self(
            form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}
