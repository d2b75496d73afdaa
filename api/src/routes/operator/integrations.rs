//! Integrations (one HubSpot portal ↔ one Userflow environment) for operators:
//!
//! | route | answers |
//! |---|---|
//! | `POST /integrations` `{name, hubspot_portal_id?, userflow_environment?, force?}` | 201, the integration |
//! | `GET /integrations?limit=&cursor=` | `{"integrations":[…],"next_cursor"}`, oldest first |
//! | `GET /integrations/{id}` | the integration |
//! | `PATCH /integrations/{id}` `{name}` | the integration |
//! | `DELETE /integrations/{id}` | 204; its mappings, links and logs go with it |
//! | `PUT /integrations/{id}/userflow` `{api_key, webhook_secret?, environment, force?}` | the integration and `userflow_webhook_subscription` |
//! | `GET /integrations/{id}/status` | status, reason and what is connected |
//!
//! Secrets (HubSpot tokens, the Userflow API key and webhook secret) are sealed with the
//! cluster's [`hubsync_core::secrets::SecretBox`] before they are stored and are never
//! answered: views only say whether each one is set.
//!
//! Pairing rule: a HubSpot portal belongs with one Userflow environment. Pairing a portal
//! that another (not disconnected) integration already pairs with a different environment is
//! refused with 409 `conflict` unless the request says `force: true`.
//!
//! Connecting Userflow with `--public-url` set registers hubsync's webhook subscription in the
//! environment (`/webhooks/userflow/<id>`, topics `user`, `group`, `event`; an existing one is
//! updated, never duplicated) and stores its signing secret; this also proves the API key
//! (a refused key answers 400). Without a public URL the key is stored and the status says why
//! no subscription is registered. Status: `connected` once both sides hold credentials
//! (`pending` before); see [`hubsync_sync::connection::ready_status`].

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat, Utc};
use hubsync_entities::integrations::{ActiveModel, Column, Entity, Model};
use hubsync_entities::{IntegrationStatus, StringList};
use hubsync_sync::connection::{self, ConnectError};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, ModelTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::auth::Operator;
use crate::error::{ApiError, Code, ErrorBody};
use crate::json::ApiJson;
use crate::query::{Params, bad, page};
use crate::routes::operator::lookup;

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 500;
/// Longest name, environment, API key or webhook secret accepted.
const MAX_TEXT: usize = 200;
const MAX_SECRET: usize = 4096;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/integrations", get(list).post(create))
        .route("/integrations/{id}", get(show).patch(rename).delete(remove))
        .route("/integrations/{id}/userflow", put(connect_userflow))
        .route("/integrations/{id}/status", get(status))
}

/// The integration routes, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(create, list, show, rename, remove, connect_userflow, status),
    tags((name = "integrations", description = "Integrations (one HubSpot portal ↔ one \
        Userflow environment): create, list, rename, delete, connect Userflow, status."))
)]
pub(crate) struct Api;

// ---- shapes ----

/// One integration as answered: never a secret, only whether it is set.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Integration)]
pub(crate) struct IntegrationView {
    id: Uuid,
    name: String,
    /// The HubSpot portal (hub) id, once known.
    hubspot_portal_id: Option<i64>,
    /// The Userflow environment, once known.
    userflow_environment: Option<String>,
    #[schema(schema_with = status_schema)]
    status: IntegrationStatus,
    /// Why the integration is in its status (e.g. why authorization expired).
    status_reason: Option<String>,
    hubspot_access_token_set: bool,
    hubspot_refresh_token_set: bool,
    hubspot_token_expires_at: Option<DateTime<Utc>>,
    /// The scopes HubSpot granted.
    #[schema(value_type = Option<Vec<String>>)]
    hubspot_scopes: Option<StringList>,
    userflow_api_key_set: bool,
    userflow_webhook_secret_set: bool,
    /// hubsync's webhook subscription in the Userflow environment, once registered.
    userflow_webhook_subscription_id: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// `status` of an integration as a string enum of every [`IntegrationStatus`].
pub(crate) fn status_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(IntegrationStatus::ALL.iter().map(|s| s.as_str())))
        .description(Some(
            "`pending` (not yet authorized on both sides), `connected` (syncing), \
             `authorization_expired` (the HubSpot refresh token stopped working; reconnect \
             HubSpot) or `disconnected` (credentials cleared).",
        ))
        .build()
}

impl From<Model> for IntegrationView {
    fn from(m: Model) -> Self {
        Self {
            id: m.id,
            name: m.name,
            hubspot_portal_id: m.hubspot_portal_id,
            userflow_environment: m.userflow_environment,
            status: m.status,
            status_reason: m.status_reason,
            hubspot_access_token_set: m.hubspot_access_token_enc.is_some(),
            hubspot_refresh_token_set: m.hubspot_refresh_token_enc.is_some(),
            hubspot_token_expires_at: m.hubspot_token_expires_at,
            hubspot_scopes: m.hubspot_scopes,
            userflow_api_key_set: m.userflow_api_key_enc.is_some(),
            userflow_webhook_secret_set: m.userflow_webhook_secret_enc.is_some(),
            userflow_webhook_subscription_id: m.userflow_webhook_subscription_id,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A page of integrations, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = IntegrationList)]
struct List {
    integrations: Vec<IntegrationView>,
    /// Pass back as `cursor` for the next page; `null` at the end.
    next_cursor: Option<String>,
}

/// The integration after connecting Userflow, with its webhook subscription.
#[derive(Debug, Serialize, ToSchema)]
struct UserflowConnected {
    #[serde(flatten)]
    integration: IntegrationView,
    userflow_webhook_subscription: SubscriptionView,
}

/// Whether hubsync's webhook subscription is registered in the Userflow environment.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UserflowWebhookSubscription)]
struct SubscriptionView {
    /// Registered, with its signing secret stored: notifications are verified and ingested.
    registered: bool,
    /// The subscription id at Userflow.
    id: Option<String>,
    /// Where Userflow delivers (`<public URL>/webhooks/userflow/<integration id>`); `null`
    /// without a public URL.
    url: Option<String>,
    /// The topics subscribed to.
    #[schema(value_type = Vec<String>)]
    topics: &'static [&'static str],
    /// Why it is not registered, and what to do; `null` when it is.
    reason: Option<String>,
}

/// Where an integration stands and what it needs.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = IntegrationStatusReport)]
struct StatusReport {
    id: Uuid,
    #[schema(schema_with = status_schema)]
    status: IntegrationStatus,
    /// Why the integration is in its status.
    reason: Option<String>,
    /// What an operator should do next (a route to call); `null` when nothing is needed.
    action: Option<String>,
    hubspot: HubspotSide,
    /// The HubSpot schema setup (properties, timeline templates) and webhook check:
    /// `{state: not_started|pending|done|failed, updated_at, error, schema, timeline,
    /// webhooks, webhook_report}`.
    #[schema(value_type = Object)]
    setup: serde_json::Value,
    userflow: UserflowSide,
}

/// The HubSpot side of an integration.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = HubspotConnectionStatus)]
struct HubspotSide {
    /// A portal and a refresh token are stored.
    connected: bool,
    portal_id: Option<i64>,
    access_token_set: bool,
    refresh_token_set: bool,
    token_expires_at: Option<DateTime<Utc>>,
    /// Whether the stored access token has expired (it is refreshed when next used).
    token_expired: Option<bool>,
    /// The scopes HubSpot granted.
    #[schema(value_type = Option<Vec<String>>)]
    scopes: Option<StringList>,
    /// Why authorization expired, when the status is `authorization_expired`.
    authorization_expired_reason: Option<String>,
}

/// The Userflow side of an integration.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UserflowConnectionStatus)]
struct UserflowSide {
    /// An environment and an API key are stored.
    connected: bool,
    environment: Option<String>,
    api_key_set: bool,
    webhook_secret_set: bool,
    webhook_subscription_id: Option<String>,
    webhook_subscription: SubscriptionView,
}

/// Body of `POST /integrations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateIntegration)]
struct CreateBody {
    /// Not blank, at most 200 characters.
    #[schema(value_type = String)]
    name: Option<String>,
    /// The HubSpot portal, when known before authorizing (positive).
    hubspot_portal_id: Option<i64>,
    /// The Userflow environment, when known before connecting Userflow.
    userflow_environment: Option<String>,
    /// Pair the portal even when another integration pairs it with a different Userflow
    /// environment.
    #[serde(default)]
    force: bool,
}

/// Body of `PATCH /integrations/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RenameIntegration)]
struct PatchBody {
    /// Not blank, at most 200 characters.
    #[schema(value_type = String)]
    name: Option<String>,
}

/// Body of `PUT /integrations/{id}/userflow`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ConnectUserflow)]
struct UserflowBody {
    /// The environment's API key (stored sealed, never answered).
    #[schema(value_type = String)]
    api_key: Option<String>,
    /// The webhook signing secret, used only when hubsync cannot register its own
    /// subscription (no public URL); stored sealed, never answered.
    webhook_secret: Option<String>,
    /// The Userflow environment.
    #[schema(value_type = String)]
    environment: Option<String>,
    /// Pair even when the portal is paired with another environment.
    #[serde(default)]
    force: bool,
}

// ---- handlers ----

/// Creates an integration (status `pending`).
///
/// Connect HubSpot next (`POST …/hubspot/authorize`) and Userflow (`PUT …/userflow`). A portal
/// and environment given here are checked against the pairing rule.
#[utoipa::path(
    post,
    path = "/integrations",
    operation_id = "create_integration",
    tag = "integrations",
    request_body(content = CreateBody, content_type = "application/json"),
    responses(
        (status = 201, description = "Created.", body = IntegrationView),
        (status = 400, description = "Missing, blank or too long `name`, a bad `hubspot_portal_id` or `userflow_environment`, or malformed JSON / an unknown field.", body = ErrorBody),
        (status = 409, description = "The portal is paired with a different Userflow environment by another integration (send `force: true` to pair anyway).", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`.", body = ErrorBody),
    )
)]
async fn create(
    _op: Operator,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<IntegrationView>), ApiError> {
    let name = required_text("name", body.name, MAX_TEXT)?;
    if let Some(portal) = body.hubspot_portal_id
        && portal <= 0
    {
        return Err(bad("`hubspot_portal_id` must be a positive integer"));
    }
    let environment = optional_text("userflow_environment", body.userflow_environment)?;
    // Without an environment nothing is paired yet; `PUT …/userflow` checks it then.
    if let (Some(portal), Some(env)) = (body.hubspot_portal_id, environment.as_deref())
        && !body.force
    {
        check_pairing(&state, None, portal, env).await?;
    }
    let model = ActiveModel {
        name: Set(name),
        hubspot_portal_id: Set(body.hubspot_portal_id),
        userflow_environment: Set(environment),
        status: Set(IntegrationStatus::Pending),
        ..Default::default()
    }
    .insert(&state.db)
    .await
    .map_err(ApiError::internal)?;
    Ok((StatusCode::CREATED, Json(model.into())))
}

/// A page of integrations, oldest first.
///
/// Page with `cursor` until `next_cursor` is `null`.
#[utoipa::path(
    get,
    path = "/integrations",
    operation_id = "list_integrations",
    tag = "integrations",
    params(
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 500, description = "Page size (default 50)."),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page."),
    ),
    responses(
        (status = 200, description = "A page of integrations.", body = List),
        (status = 400, description = "`limit` out of range, a bad `cursor`, or an unknown parameter.", body = ErrorBody),
    )
)]
async fn list(
    _op: Operator,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<List>, ApiError> {
    let params = Params::parse(raw.as_deref(), &["limit", "cursor"])?;
    let limit = params.int_in("limit", 1..=MAX_LIMIT, DEFAULT_LIMIT)?;
    let mut query = Entity::find()
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .limit(limit + 1);
    if let Some(raw) = params.get("cursor") {
        let (at, id) = parse_cursor(raw)?;
        query = query.filter(
            Condition::any().add(Column::CreatedAt.gt(at)).add(
                Condition::all()
                    .add(Column::CreatedAt.eq(at))
                    .add(Column::Id.gt(id)),
            ),
        );
    }
    let rows = query.all(&state.db).await.map_err(ApiError::internal)?;
    let (rows, next_cursor) = page(rows, limit, |m| cursor_of(m.created_at, m.id));
    Ok(Json(List {
        integrations: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// One integration.
#[utoipa::path(
    get,
    path = "/integrations/{id}",
    operation_id = "show_integration",
    tag = "integrations",
    params(("id" = Uuid, Path, description = "Integration id.")),
    responses(
        (status = 200, description = "The integration.", body = IntegrationView),
        (status = 400, description = "The id is not a UUID.", body = ErrorBody),
        (status = 404, description = "No such integration.", body = ErrorBody),
    )
)]
async fn show(
    _op: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<IntegrationView>, ApiError> {
    Ok(Json(lookup::integration(&state, &id).await?.into()))
}

/// Renames an integration.
#[utoipa::path(
    patch,
    path = "/integrations/{id}",
    operation_id = "rename_integration",
    tag = "integrations",
    params(("id" = Uuid, Path, description = "Integration id.")),
    request_body(content = PatchBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The renamed integration.", body = IntegrationView),
        (status = 400, description = "The id is not a UUID, a missing, blank or too long `name`, or malformed JSON / an unknown field.", body = ErrorBody),
        (status = 404, description = "No such integration.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`.", body = ErrorBody),
    )
)]
async fn rename(
    _op: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PatchBody>,
) -> Result<Json<IntegrationView>, ApiError> {
    let name = required_text("name", body.name, MAX_TEXT)?;
    let model = lookup::integration(&state, &id).await?;
    let mut am: ActiveModel = model.into();
    am.name = Set(name);
    let model = am.update(&state.db).await.map_err(ApiError::internal)?;
    Ok(Json(model.into()))
}

/// Deletes an integration with its mappings, links and logs.
#[utoipa::path(
    delete,
    path = "/integrations/{id}",
    operation_id = "delete_integration",
    tag = "integrations",
    params(("id" = Uuid, Path, description = "Integration id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, description = "The id is not a UUID.", body = ErrorBody),
        (status = 404, description = "No such integration.", body = ErrorBody),
    )
)]
async fn remove(
    _op: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let model = lookup::integration(&state, &id).await?;
    model.delete(&state.db).await.map_err(ApiError::internal)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Connects (or reconnects) the integration's Userflow environment.
///
/// Stores the API key sealed. With a public URL, registers hubsync's webhook subscription in
/// the environment (an existing one is updated, never duplicated) and stores its signing
/// secret, which also proves the key; without one, the key is stored and
/// `userflow_webhook_subscription.reason` says why nothing is registered. The status becomes
/// `connected` once HubSpot is connected too.
#[utoipa::path(
    put,
    path = "/integrations/{id}/userflow",
    operation_id = "connect_userflow",
    tag = "integrations",
    params(("id" = Uuid, Path, description = "Integration id.")),
    request_body(content = UserflowBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Connected; secrets are never answered.", body = UserflowConnected),
        (status = 400, description = "The id is not a UUID, a missing, blank or too long field, malformed JSON / an unknown field, or Userflow refused the API key.", body = ErrorBody),
        (status = 404, description = "No such integration.", body = ErrorBody),
        (status = 409, description = "The portal is paired with a different Userflow environment by another integration (send `force: true` to pair anyway).", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`.", body = ErrorBody),
        (status = 503, description = "Userflow could not be reached.", body = ErrorBody),
    )
)]
async fn connect_userflow(
    _op: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UserflowBody>,
) -> Result<Json<UserflowConnected>, ApiError> {
    let api_key = required_text("api_key", body.api_key, MAX_SECRET)?;
    let environment = required_text("environment", body.environment, MAX_TEXT)?;
    let webhook_secret = match body.webhook_secret {
        Some(s) => Some(required_text("webhook_secret", Some(s), MAX_SECRET)?),
        None => None,
    };
    let model = lookup::integration(&state, &id).await?;
    if let Some(portal) = model.hubspot_portal_id
        && !body.force
    {
        check_pairing(&state, Some(model.id), portal, &environment).await?;
    }
    // A subscription stored for another environment is not reachable with this key.
    let same_environment = model.userflow_environment.as_deref() == Some(environment.as_str());
    let registration = if state.sync.settings.public_url.is_some() {
        let existing = model
            .userflow_webhook_subscription_id
            .as_deref()
            .filter(|_| same_environment);
        let secret_stored = same_environment && model.userflow_webhook_secret_enc.is_some();
        let r = connection::register_userflow_webhook(
            &state.sync,
            model.id,
            &api_key,
            existing,
            secret_stored,
        )
        .await
        .map_err(|e| match e {
            ConnectError::Refused(msg) => bad(msg),
            ConnectError::Sync(e) => super::hubspot::sync_error(e),
        })?;
        tracing::info!(integration_id = %model.id, subscription = %r.subscription_id,
            created = r.created, "Userflow webhook subscription registered");
        Some(r)
    } else {
        None
    };
    let sealed_key = state.secrets.seal(&api_key).map_err(ApiError::internal)?;
    // The registered subscription's secret is what Userflow signs with; one given by the
    // operator is kept only when hubsync could not register its own.
    let secret = match &registration {
        Some(r) => r.secret.clone(),
        None => webhook_secret,
    };
    let sealed_secret = match secret {
        Some(s) => Some(state.secrets.seal(&s).map_err(ApiError::internal)?),
        None => None,
    };
    let previous_status = model.status;
    let mut am: ActiveModel = model.into();
    am.userflow_environment = Set(Some(environment));
    am.userflow_api_key_enc = Set(Some(sealed_key));
    if let Some(sealed) = sealed_secret {
        am.userflow_webhook_secret_enc = Set(Some(sealed));
    } else if !same_environment {
        am.userflow_webhook_secret_enc = Set(None);
    }
    match &registration {
        Some(r) => am.userflow_webhook_subscription_id = Set(Some(r.subscription_id.clone())),
        None if !same_environment => am.userflow_webhook_subscription_id = Set(None),
        None => {}
    }
    let mut model = am.update(&state.db).await.map_err(ApiError::internal)?;
    // Authorization problems are HubSpot's and are left only by reconnecting HubSpot.
    if matches!(
        previous_status,
        IntegrationStatus::Pending | IntegrationStatus::Connected
    ) {
        let status = connection::ready_status(&model);
        if status != model.status {
            let mut am: ActiveModel = model.into();
            am.status = Set(status);
            model = am.update(&state.db).await.map_err(ApiError::internal)?;
        }
    }
    let userflow_webhook_subscription = subscription_view(&state, &model);
    Ok(Json(UserflowConnected {
        integration: model.into(),
        userflow_webhook_subscription,
    }))
}

/// Where an integration stands: its status and reason, what each side holds, the schema
/// setup, and the next action.
#[utoipa::path(
    get,
    path = "/integrations/{id}/status",
    operation_id = "integration_status",
    tag = "integrations",
    params(("id" = Uuid, Path, description = "Integration id.")),
    responses(
        (status = 200, description = "The integration's status.", body = StatusReport),
        (status = 400, description = "The id is not a UUID.", body = ErrorBody),
        (status = 404, description = "No such integration.", body = ErrorBody),
    )
)]
async fn status(
    _op: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<StatusReport>, ApiError> {
    let m = lookup::integration(&state, &id).await?;
    let hubspot_connected = m.hubspot_portal_id.is_some() && m.hubspot_refresh_token_enc.is_some();
    let userflow_connected = m.userflow_environment.is_some() && m.userflow_api_key_enc.is_some();
    let action = match m.status {
        IntegrationStatus::AuthorizationExpired | IntegrationStatus::Disconnected => Some(format!(
            "reconnect HubSpot: POST /api/v1/integrations/{}/hubspot/authorize",
            m.id
        )),
        IntegrationStatus::Pending if !hubspot_connected => Some(format!(
            "connect HubSpot: POST /api/v1/integrations/{}/hubspot/authorize",
            m.id
        )),
        IntegrationStatus::Pending if !userflow_connected => Some(format!(
            "connect Userflow: PUT /api/v1/integrations/{}/userflow",
            m.id
        )),
        _ => None,
    };
    let authorization_expired_reason = (m.status == IntegrationStatus::AuthorizationExpired)
        .then(|| m.status_reason.clone())
        .flatten();
    let token_expired = m
        .hubspot_token_expires_at
        .map(|at| at <= chrono::Utc::now());
    Ok(Json(StatusReport {
        id: m.id,
        status: m.status,
        reason: m.status_reason.clone(),
        action,
        hubspot: HubspotSide {
            connected: hubspot_connected,
            portal_id: m.hubspot_portal_id,
            access_token_set: m.hubspot_access_token_enc.is_some(),
            refresh_token_set: m.hubspot_refresh_token_enc.is_some(),
            token_expires_at: m.hubspot_token_expires_at,
            token_expired,
            scopes: m.hubspot_scopes.clone(),
            authorization_expired_reason,
        },
        setup: hubsync_sync::schema_setup::status_json(&m),
        userflow: UserflowSide {
            connected: userflow_connected,
            environment: m.userflow_environment.clone(),
            api_key_set: m.userflow_api_key_enc.is_some(),
            webhook_secret_set: m.userflow_webhook_secret_enc.is_some(),
            webhook_subscription_id: m.userflow_webhook_subscription_id.clone(),
            webhook_subscription: subscription_view(&state, &m),
        },
    }))
}

/// Whether hubsync's Userflow webhook subscription is registered, and why not.
fn subscription_view(state: &AppState, m: &Model) -> SubscriptionView {
    let url = connection::userflow_webhook_url(&state.sync, m.id).ok();
    let registered =
        m.userflow_webhook_subscription_id.is_some() && m.userflow_webhook_secret_enc.is_some();
    let reason = if registered {
        None
    } else if m.userflow_api_key_enc.is_none() {
        Some("Userflow is not connected: PUT /api/v1/integrations/{id}/userflow".to_owned())
    } else if url.is_none() {
        Some(
            "not registered: --public-url (HUBSYNC_PUBLIC_URL) is not set, so Userflow has no \
             address to deliver to; set it and connect Userflow again"
                .to_owned(),
        )
    } else {
        Some("not registered: connect Userflow again to register it".to_owned())
    };
    SubscriptionView {
        registered,
        id: m.userflow_webhook_subscription_id.clone(),
        url,
        topics: connection::USERFLOW_TOPICS,
        reason,
    }
}

// ---- helpers ----

/// Refuses to pair `portal` with `environment` when another live integration (not `except`,
/// not disconnected) already pairs it with a different Userflow environment.
pub(crate) async fn check_pairing(
    state: &AppState,
    except: Option<Uuid>,
    portal: i64,
    environment: &str,
) -> Result<(), ApiError> {
    let mut query = Entity::find()
        .filter(Column::HubspotPortalId.eq(portal))
        .filter(Column::UserflowEnvironment.is_not_null())
        .filter(Column::Status.ne(IntegrationStatus::Disconnected));
    if let Some(id) = except {
        query = query.filter(Column::Id.ne(id));
    }
    let others = query.all(&state.db).await.map_err(ApiError::internal)?;
    let clash = others
        .iter()
        .find(|o| o.userflow_environment.as_deref() != Some(environment));
    match clash {
        None => Ok(()),
        Some(other) => Err(ApiError::new(
            Code::Conflict,
            format!(
                "HubSpot portal {portal} is already paired with Userflow environment `{}` by \
                 integration {} (`{}`). Pairing one HubSpot portal with a second Userflow \
                 environment (e.g. staging next to production) means test timeline events \
                 would appear in your production HubSpot data and test attributes would \
                 overwrite real contact properties; use a separate test HubSpot account for \
                 staging. Send `\"force\": true` to pair it anyway.",
                other.userflow_environment.as_deref().unwrap_or_default(),
                other.id,
                other.name,
            ),
        )),
    }
}

/// A required, non-blank text field of at most `max` characters (trimmed).
fn required_text(field: &str, value: Option<String>, max: usize) -> Result<String, ApiError> {
    let value = value.ok_or_else(|| bad(format!("`{field}` is required")))?;
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(bad(format!("`{field}` must not be blank")));
    }
    if trimmed.chars().count() > max {
        return Err(bad(format!("`{field}` is longer than {max} characters")));
    }
    Ok(trimmed.to_owned())
}

/// An optional text field: absent stays absent, present must be non-blank.
fn optional_text(field: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    value
        .map(|v| required_text(field, Some(v), MAX_TEXT))
        .transpose()
}

/// `<created_at RFC 3339 with nanoseconds>_<id>`.
fn cursor_of(at: DateTime<Utc>, id: Uuid) -> String {
    format!(
        "{}_{}",
        at.to_rfc3339_opts(SecondsFormat::Nanos, true),
        id.simple()
    )
}

fn parse_cursor(raw: &str) -> Result<(DateTime<Utc>, Uuid), ApiError> {
    let invalid = || {
        bad(format!(
            "`cursor` is not a cursor from this list (got `{raw}`)"
        ))
    };
    let (at, id) = raw.rsplit_once('_').ok_or_else(invalid)?;
    let at = DateTime::parse_from_rfc3339(at)
        .map_err(|_| invalid())?
        .with_timezone(&Utc);
    let id = Uuid::parse_str(id).map_err(|_| invalid())?;
    Ok((at, id))
}

#[cfg(test)]
mod tests {
    use hubsync_entities::{UserflowMatchAttribute, UserflowObjectType, object_mappings};
    use hubsync_migrations::test_support::{Backend, TestDb};
    use serde_json::{Value, json};

    use super::*;
    use crate::test_support::{TestApp, test_secrets};

    const TOKEN: &str = "op-token";

    /// A test app on a migrated `sqlite::memory:` database.
    async fn app() -> TestApp {
        let app = TestApp::new(&[TOKEN]).await;
        hubsync_migrations::migrate(&app.state.db)
            .await
            .expect("migrate");
        app
    }

    async fn call(app: &TestApp, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        app.call(method, path, Some(TOKEN), body).await
    }

    async fn create(app: &TestApp, body: Value) -> Value {
        let (status, v) = call(app, "POST", "/api/v1/integrations", Some(body)).await;
        assert_eq!(status, 201, "{v}");
        v
    }

    async fn row(app: &TestApp, id: &str) -> Model {
        Entity::find_by_id(Uuid::parse_str(id).expect("uuid"))
            .one(&app.state.db)
            .await
            .expect("query")
            .expect("row")
    }

    #[tokio::test]
    async fn create_get_patch_delete() {
        let app = app().await;
        let created = create(
            &app,
            json!({"name": " Acme ", "hubspot_portal_id": 123, "userflow_environment": "env_prod"}),
        )
        .await;
        assert_eq!(created["name"], "Acme");
        assert_eq!(created["hubspot_portal_id"], 123);
        assert_eq!(created["userflow_environment"], "env_prod");
        assert_eq!(created["status"], "pending");
        assert_eq!(created["userflow_api_key_set"], false);
        assert_eq!(created["hubspot_refresh_token_set"], false);
        let id = created["id"].as_str().expect("id").to_owned();
        let path = format!("/api/v1/integrations/{id}");

        let (status, got) = call(&app, "GET", &path, None).await;
        assert_eq!((status, &got), (200, &created));

        let (status, patched) = call(&app, "PATCH", &path, Some(json!({"name": "Acme 2"}))).await;
        assert_eq!(status, 200, "{patched}");
        assert_eq!(patched["name"], "Acme 2");
        assert_eq!(row(&app, &id).await.name, "Acme 2");

        // A mapping goes with its integration.
        object_mappings::ActiveModel {
            integration_id: Set(Uuid::parse_str(&id).expect("uuid")),
            hubspot_object_type: Set("contacts".to_owned()),
            userflow_object_type: Set(UserflowObjectType::User),
            match_hubspot_property: Set("email".to_owned()),
            match_userflow_attribute: Set(UserflowMatchAttribute::Email),
            ..Default::default()
        }
        .insert(&app.state.db)
        .await
        .expect("mapping");

        let (status, body) = call(&app, "DELETE", &path, None).await;
        assert_eq!((status, body), (204, Value::Null));
        let (status, body) = call(&app, "GET", &path, None).await;
        assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
        let mappings = object_mappings::Entity::find()
            .all(&app.state.db)
            .await
            .expect("mappings");
        assert!(mappings.is_empty(), "cascade: {mappings:?}");
    }

    #[tokio::test]
    async fn list_pages_by_cursor() {
        let app = app().await;
        let mut ids = Vec::new();
        for n in 0..5 {
            let v = create(&app, json!({"name": format!("i{n}")})).await;
            ids.push(v["id"].as_str().expect("id").to_owned());
        }
        let mut seen = Vec::new();
        let mut path = "/api/v1/integrations?limit=2".to_owned();
        loop {
            let (status, page) = call(&app, "GET", &path, None).await;
            assert_eq!(status, 200, "{page}");
            let items = page["integrations"].as_array().expect("array");
            assert!(items.len() <= 2);
            seen.extend(
                items
                    .iter()
                    .map(|i| i["id"].as_str().expect("id").to_owned()),
            );
            match page["next_cursor"].as_str() {
                Some(c) => path = format!("/api/v1/integrations?limit=2&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(seen, ids);
        let (status, all) = call(&app, "GET", "/api/v1/integrations", None).await;
        assert_eq!(status, 200);
        assert_eq!(all["integrations"].as_array().map(Vec::len), Some(5));
        assert_eq!(all["next_cursor"], Value::Null);

        for bad in ["limit=0", "limit=501", "cursor=nope", "page=2"] {
            let (status, body) =
                call(&app, "GET", &format!("/api/v1/integrations?{bad}"), None).await;
            assert_eq!(
                (status, body["code"].as_str()),
                (400, Some("bad_request")),
                "{bad}"
            );
        }
    }

    async fn pairing_conflict_and_force(app: &TestApp) {
        create(
            app,
            json!({"name": "prod", "hubspot_portal_id": 42, "userflow_environment": "env_prod"}),
        )
        .await;
        // Same environment again: not a second environment.
        create(
            app,
            json!({"name": "prod again", "hubspot_portal_id": 42, "userflow_environment": "env_prod"}),
        )
        .await;
        // Another portal: fine.
        create(
            app,
            json!({"name": "other", "hubspot_portal_id": 43, "userflow_environment": "env_staging"}),
        )
        .await;

        let staging = json!({"name": "staging", "hubspot_portal_id": 42, "userflow_environment": "env_staging"});
        let (status, body) = call(app, "POST", "/api/v1/integrations", Some(staging)).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (409, Some("conflict")),
            "{body}"
        );
        let message = body["message"].as_str().expect("message");
        assert!(message.contains("env_prod"), "{message}");
        assert!(message.contains("production HubSpot data"), "{message}");
        assert!(
            message.contains("separate test HubSpot account"),
            "{message}"
        );
        assert!(message.contains("force"), "{message}");

        let forced = create(
            app,
            json!({"name": "staging", "hubspot_portal_id": 42, "userflow_environment": "env_staging", "force": true}),
        )
        .await;
        assert_eq!(forced["userflow_environment"], "env_staging");

        // Connecting Userflow to another environment is checked the same way.
        let fresh = create(app, json!({"name": "later", "hubspot_portal_id": 43})).await;
        let path = format!(
            "/api/v1/integrations/{}/userflow",
            fresh["id"].as_str().expect("id")
        );
        let body = json!({"api_key": "ak_1", "environment": "env_prod"});
        let (status, resp) = call(app, "PUT", &path, Some(body)).await;
        assert_eq!(
            (status, resp["code"].as_str()),
            (409, Some("conflict")),
            "{resp}"
        );
        let body = json!({"api_key": "ak_1", "environment": "env_staging"});
        let (status, resp) = call(app, "PUT", &path, Some(body)).await;
        assert_eq!(status, 200, "{resp}");
    }

    #[tokio::test]
    async fn pairing_a_portal_with_a_second_environment_needs_force_sqlite() {
        let app = app().await;
        pairing_conflict_and_force(&app).await;
    }

    #[tokio::test]
    async fn pairing_a_portal_with_a_second_environment_needs_force_postgres() {
        let db = TestDb::migrated(Backend::Postgres)
            .await
            .expect("postgres test database");
        let mut app = TestApp::new(&[TOKEN]).await;
        app.state.db = db.conn().clone();
        pairing_conflict_and_force(&app).await;
        drop(app);
        db.close().await.expect("drop test database");
    }

    #[tokio::test]
    async fn userflow_secrets_are_sealed_and_never_returned() {
        let app = app().await;
        let created = create(&app, json!({"name": "acme"})).await;
        let id = created["id"].as_str().expect("id").to_owned();
        let path = format!("/api/v1/integrations/{id}/userflow");
        let body = json!({"api_key": "ak_live_SECRET", "webhook_secret": "whsec_SECRET", "environment": "env_prod"});
        let (status, text) = {
            let (status, _, text) = app.raw("PUT", &path, Some(TOKEN), Some(body)).await;
            (status, text)
        };
        assert_eq!(status, 200, "{text}");
        assert!(!text.contains("SECRET"), "secret echoed: {text}");
        let view: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(view["userflow_api_key_set"], true);
        assert_eq!(view["userflow_webhook_secret_set"], true);
        assert_eq!(view["userflow_environment"], "env_prod");
        assert_eq!(view["status"], "pending");

        let stored = row(&app, &id).await;
        let key = stored.userflow_api_key_enc.expect("key stored");
        let secret = stored.userflow_webhook_secret_enc.expect("secret stored");
        assert!(
            !key.contains("ak_live_SECRET") && key.starts_with("v1:"),
            "{key}"
        );
        assert!(!secret.contains("whsec_SECRET"), "{secret}");
        let secrets = test_secrets();
        assert_eq!(secrets.open(&key).expect("open key"), "ak_live_SECRET");
        assert_eq!(secrets.open(&secret).expect("open secret"), "whsec_SECRET");

        for path in [
            format!("/api/v1/integrations/{id}"),
            format!("/api/v1/integrations/{id}/status"),
            "/api/v1/integrations".to_owned(),
        ] {
            let (status, _, text) = app.raw("GET", &path, Some(TOKEN), None).await;
            assert_eq!(status, 200, "{path}");
            assert!(
                !text.contains("SECRET") && !text.contains(&key),
                "{path}: {text}"
            );
        }

        // Without a webhook secret the stored one is kept.
        let body = json!({"api_key": "ak_live_OTHER", "environment": "env_prod"});
        let (status, _) = call(&app, "PUT", &path, Some(body)).await;
        assert_eq!(status, 200);
        let stored = row(&app, &id).await;
        assert_eq!(
            stored.userflow_webhook_secret_enc.as_deref(),
            Some(secret.as_str())
        );
        let key = stored.userflow_api_key_enc.expect("key");
        assert_eq!(secrets.open(&key).expect("open"), "ak_live_OTHER");
    }

    #[tokio::test]
    async fn status_says_what_is_connected() {
        let app = app().await;
        let created = create(&app, json!({"name": "acme", "hubspot_portal_id": 7})).await;
        let id = created["id"].as_str().expect("id");
        let path = format!("/api/v1/integrations/{id}/status");
        let (status, body) = call(&app, "GET", &path, None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "pending");
        assert_eq!(body["reason"], Value::Null);
        assert_eq!(body["hubspot"]["connected"], false);
        assert_eq!(body["hubspot"]["portal_id"], 7);
        assert_eq!(body["userflow"]["connected"], false);

        let put = json!({"api_key": "ak", "environment": "env_demo"});
        let (s, _) = call(
            &app,
            "PUT",
            &format!("/api/v1/integrations/{id}/userflow"),
            Some(put),
        )
        .await;
        assert_eq!(s, 200);
        let (_, body) = call(&app, "GET", &path, None).await;
        assert_eq!(body["userflow"]["connected"], true);
        assert_eq!(body["userflow"]["environment"], "env_demo");
        assert_eq!(body["userflow"]["webhook_secret_set"], false);
    }

    #[tokio::test]
    async fn operator_token_is_required() {
        let app = app().await;
        for (method, path) in [
            ("GET", "/api/v1/integrations"),
            ("POST", "/api/v1/integrations"),
            (
                "GET",
                "/api/v1/integrations/00000000-0000-0000-0000-000000000000/status",
            ),
        ] {
            let (status, body) = app
                .call(method, path, None, Some(json!({"name": "x"})))
                .await;
            assert_eq!(status, 401, "{method} {path}: {body}");
            let (status, _) = app
                .call(method, path, Some("wrong"), Some(json!({"name": "x"})))
                .await;
            assert_eq!(status, 401, "{method} {path}");
        }
        let rows = Entity::find().all(&app.state.db).await.expect("rows");
        assert!(rows.is_empty());
    }

    #[tokio::test]
    async fn unknown_integrations_are_404() {
        let app = app().await;
        let id = Uuid::new_v4();
        for (method, suffix, body) in [
            ("GET", "", None),
            ("PATCH", "", Some(json!({"name": "n"}))),
            ("DELETE", "", None),
            ("GET", "/status", None),
            (
                "PUT",
                "/userflow",
                Some(json!({"api_key": "k", "environment": "e"})),
            ),
        ] {
            let path = format!("/api/v1/integrations/{id}{suffix}");
            let (status, resp) = call(&app, method, &path, body).await;
            assert_eq!(
                (status, resp["code"].as_str()),
                (404, Some("not_found")),
                "{method} {path}"
            );
        }
        let (status, resp) = call(&app, "GET", "/api/v1/integrations/not-a-uuid", None).await;
        assert_eq!((status, resp["code"].as_str()), (400, Some("bad_request")));
    }

    #[tokio::test]
    async fn bad_requests_name_the_field() {
        let app = app().await;
        let cases = [
            (json!({}), "name"),
            (json!({"name": "   "}), "name"),
            (json!({"name": "x".repeat(201)}), "name"),
            (
                json!({"name": "a", "hubspot_portal_id": 0}),
                "hubspot_portal_id",
            ),
            (
                json!({"name": "a", "userflow_environment": ""}),
                "userflow_environment",
            ),
        ];
        for (body, field) in cases {
            let (status, resp) =
                call(&app, "POST", "/api/v1/integrations", Some(body.clone())).await;
            assert_eq!(
                (status, resp["code"].as_str()),
                (400, Some("bad_request")),
                "{body}"
            );
            let message = resp["message"].as_str().expect("message");
            assert!(message.contains(field), "{body}: {message}");
        }
        let created = create(&app, json!({"name": "a"})).await;
        let id = created["id"].as_str().expect("id");
        let (status, resp) = call(
            &app,
            "PATCH",
            &format!("/api/v1/integrations/{id}"),
            Some(json!({"name": ""})),
        )
        .await;
        assert_eq!((status, resp["code"].as_str()), (400, Some("bad_request")));
        let path = format!("/api/v1/integrations/{id}/userflow");
        for (body, field) in [
            (json!({"environment": "e"}), "api_key"),
            (json!({"api_key": "k"}), "environment"),
            (
                json!({"api_key": "k", "environment": "e", "webhook_secret": " "}),
                "webhook_secret",
            ),
        ] {
            let (status, resp) = call(&app, "PUT", &path, Some(body.clone())).await;
            assert_eq!(
                (status, resp["code"].as_str()),
                (400, Some("bad_request")),
                "{body}"
            );
            assert!(
                resp["message"].as_str().expect("message").contains(field),
                "{resp}"
            );
        }
        assert!(row(&app, id).await.userflow_api_key_enc.is_none());

        // Malformed JSON and wrong shapes.
        let req = axum::http::Request::builder()
            .method("POST")
            .uri("/api/v1/integrations")
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "application/json")
            .body(axum::body::Body::from("{\"name\":"))
            .expect("request");
        let resp = tower::ServiceExt::oneshot(crate::app(app.state.clone()), req)
            .await
            .expect("response");
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .expect("body");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let v: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(
            (status, v["code"].as_str()),
            (400, Some("malformed_json")),
            "{text}"
        );
        let (status, resp) = call(
            &app,
            "POST",
            "/api/v1/integrations",
            Some(json!({"name": "a", "secret_field": 1})),
        )
        .await;
        assert_eq!(
            (status, resp["code"].as_str()),
            (400, Some("malformed_json")),
            "{resp}"
        );
    }
}
