//! Integrations (one HubSpot portal ↔ one Userflow environment) for operators:
//!
//! | route | answers |
//! |---|---|
//! | `POST /integrations` `{name, hubspot_portal_id?, userflow_environment?, force?}` | 201, the integration |
//! | `GET /integrations?limit=&cursor=` | `{"integrations":[…],"next_cursor"}`, oldest first |
//! | `GET /integrations/{id}` | the integration |
//! | `PATCH /integrations/{id}` `{name}` | the integration |
//! | `DELETE /integrations/{id}` | 204; its mappings, links and logs go with it |
//! | `PUT /integrations/{id}/userflow` `{api_key, webhook_secret?, environment, force?}` | the integration |
//! | `GET /integrations/{id}/status` | status, reason and what is connected |
//!
//! Secrets (HubSpot tokens, the Userflow API key and webhook secret) are sealed with the
//! cluster's [`hubsync_core::secrets::SecretBox`] before they are stored and are never
//! answered: views only say whether each one is set.
//!
//! Pairing rule: a HubSpot portal belongs with one Userflow environment. Pairing a portal
//! that another (not disconnected) integration already pairs with a different environment is
//! refused with 409 `conflict` unless the request says `force: true`.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat, Utc};
use hubsync_entities::integrations::{ActiveModel, Column, Entity, Model};
use hubsync_entities::{IntegrationStatus, StringList};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, ModelTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::AppState;
use crate::auth::Operator;
use crate::error::{ApiError, Code};
use crate::json::ApiJson;
use crate::query::{Params, bad};

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

// ---- shapes ----

/// One integration as answered: never a secret, only whether it is set.
#[derive(Debug, Serialize)]
pub(crate) struct IntegrationView {
    id: Uuid,
    name: String,
    hubspot_portal_id: Option<i64>,
    userflow_environment: Option<String>,
    status: IntegrationStatus,
    status_reason: Option<String>,
    hubspot_access_token_set: bool,
    hubspot_refresh_token_set: bool,
    hubspot_token_expires_at: Option<DateTime<Utc>>,
    hubspot_scopes: Option<StringList>,
    userflow_api_key_set: bool,
    userflow_webhook_secret_set: bool,
    userflow_webhook_subscription_id: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: Option<String>,
    hubspot_portal_id: Option<i64>,
    userflow_environment: Option<String>,
    #[serde(default)]
    force: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserflowBody {
    api_key: Option<String>,
    webhook_secret: Option<String>,
    environment: Option<String>,
    #[serde(default)]
    force: bool,
}

// ---- handlers ----

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

async fn list(
    _op: Operator,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<serde_json::Value>, ApiError> {
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
    let mut rows = query.all(&state.db).await.map_err(ApiError::internal)?;
    let next_cursor = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|m| cursor_of(m.created_at, m.id))
    } else {
        None
    };
    let integrations: Vec<IntegrationView> = rows.into_iter().map(Into::into).collect();
    Ok(Json(serde_json::json!({
        "integrations": integrations,
        "next_cursor": next_cursor,
    })))
}

async fn show(
    _op: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<IntegrationView>, ApiError> {
    Ok(Json(find(&state, &id).await?.into()))
}

async fn rename(
    _op: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PatchBody>,
) -> Result<Json<IntegrationView>, ApiError> {
    let name = required_text("name", body.name, MAX_TEXT)?;
    let model = find(&state, &id).await?;
    let mut am: ActiveModel = model.into();
    am.name = Set(name);
    let model = am.update(&state.db).await.map_err(ApiError::internal)?;
    Ok(Json(model.into()))
}

async fn remove(
    _op: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let model = find(&state, &id).await?;
    model.delete(&state.db).await.map_err(ApiError::internal)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn connect_userflow(
    _op: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UserflowBody>,
) -> Result<Json<IntegrationView>, ApiError> {
    let api_key = required_text("api_key", body.api_key, MAX_SECRET)?;
    let environment = required_text("environment", body.environment, MAX_TEXT)?;
    let webhook_secret = match body.webhook_secret {
        Some(s) => Some(required_text("webhook_secret", Some(s), MAX_SECRET)?),
        None => None,
    };
    let model = find(&state, &id).await?;
    if let Some(portal) = model.hubspot_portal_id
        && !body.force
    {
        check_pairing(&state, Some(model.id), portal, &environment).await?;
    }
    let sealed_key = state.secrets.seal(&api_key).map_err(ApiError::internal)?;
    let sealed_secret = match webhook_secret {
        Some(s) => Some(state.secrets.seal(&s).map_err(ApiError::internal)?),
        None => None,
    };
    let mut am: ActiveModel = model.into();
    am.userflow_environment = Set(Some(environment));
    am.userflow_api_key_enc = Set(Some(sealed_key));
    if let Some(sealed) = sealed_secret {
        am.userflow_webhook_secret_enc = Set(Some(sealed));
    }
    let model = am.update(&state.db).await.map_err(ApiError::internal)?;
    Ok(Json(model.into()))
}

async fn status(
    _op: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let m = find(&state, &id).await?;
    let hubspot_connected = m.hubspot_portal_id.is_some() && m.hubspot_refresh_token_enc.is_some();
    let userflow_connected = m.userflow_environment.is_some() && m.userflow_api_key_enc.is_some();
    Ok(Json(serde_json::json!({
        "id": m.id,
        "status": m.status,
        "reason": m.status_reason,
        "hubspot": {
            "connected": hubspot_connected,
            "portal_id": m.hubspot_portal_id,
            "access_token_set": m.hubspot_access_token_enc.is_some(),
            "refresh_token_set": m.hubspot_refresh_token_enc.is_some(),
            "token_expires_at": m.hubspot_token_expires_at,
            "scopes": m.hubspot_scopes,
        },
        "userflow": {
            "connected": userflow_connected,
            "environment": m.userflow_environment,
            "api_key_set": m.userflow_api_key_enc.is_some(),
            "webhook_secret_set": m.userflow_webhook_secret_enc.is_some(),
            "webhook_subscription_id": m.userflow_webhook_subscription_id,
        },
    })))
}

// ---- helpers ----

/// The integration `raw` names: 400 if it is not a UUID, 404 if there is none.
async fn find(state: &AppState, raw: &str) -> Result<Model, ApiError> {
    let id =
        Uuid::parse_str(raw).map_err(|_| bad(format!("integration id `{raw}` is not a UUID")))?;
    Entity::find_by_id(id)
        .one(&state.db)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::new(Code::NotFound, format!("no integration `{id}`")))
}

/// Refuses to pair `portal` with `environment` when another live integration (not `except`,
/// not disconnected) already pairs it with a different Userflow environment.
async fn check_pairing(
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
