//! The sync log (one row per record sync attempt, written by the workers), newest first:
//!
//! | route | answers |
//! |---|---|
//! | `GET /integrations/{id}/sync-log?…` | `{"entries":[…],"next_cursor"}` |
//! | `GET /sync-log?integration=&…` | the same across integrations |
//!
//! Filters: `object` (a HubSpot object type such as `contacts`, or an object mapping id),
//! `hubspot_object_id`, `userflow_object_id`, `outcome` (synced|skipped|failed), `direction`
//! (hubspot_to_userflow|userflow_to_hubspot), `since`/`until` (RFC 3339, inclusive/exclusive),
//! `limit` (1..=500, default 50) and `cursor` (the `next_cursor` of the previous page). Pages
//! are keyset pages on the row id, so rows written while paging never shift a page.

use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use hubsync_entities::sync_log::{Column, Entity, Model};
use hubsync_entities::{StringList, SyncDirection, SyncOutcome};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use serde::Serialize;
use utoipa::openapi::schema::Object;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::auth::Operator;
use crate::error::{ApiError, ErrorBody};
use crate::openapi::string_enum;
use crate::query::{Params, bad};
use crate::routes::operator::lookup;

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 500;
const FILTERS: [&str; 9] = [
    "object",
    "hubspot_object_id",
    "userflow_object_id",
    "outcome",
    "direction",
    "since",
    "until",
    "limit",
    "cursor",
];

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/integrations/{id}/sync-log", get(for_integration))
        .route("/sync-log", get(across))
}

/// The sync log routes, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(for_integration, across),
    tags((name = "sync-log", description = "The sync log: one entry per record sync attempt, \
        newest first, with filters."))
)]
pub(crate) struct Api;

/// One sync attempt of one record.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SyncLogEntry)]
struct Entry {
    /// Increases with time; the keyset of the pages.
    id: i64,
    integration_id: Uuid,
    /// The object mapping synced, when known.
    object_mapping_id: Option<Uuid>,
    /// The queue job that made the attempt.
    job_id: Option<String>,
    #[schema(schema_with = direction_schema)]
    direction: SyncDirection,
    hubspot_object_type: Option<String>,
    hubspot_object_id: Option<String>,
    userflow_object_id: Option<String>,
    #[schema(schema_with = outcome_schema)]
    outcome: SyncOutcome,
    /// Why nothing was written, when skipped.
    reason: Option<String>,
    /// The target fields written.
    #[schema(value_type = Vec<String>)]
    fields_changed: StringList,
    /// The kind of failure, when failed.
    error_category: Option<String>,
    /// What failed, when failed.
    error_message: Option<String>,
    created_at: DateTime<Utc>,
}

/// A page of the sync log, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SyncLogPage)]
struct Page {
    entries: Vec<Entry>,
    /// Pass as `cursor` for the next page; `null` on the last.
    next_cursor: Option<String>,
}

fn direction_schema() -> Object {
    string_enum(
        SyncDirection::ALL.iter().map(|d| d.as_str()),
        "Which way the record synced.",
    )
}

fn outcome_schema() -> Object {
    string_enum(
        SyncOutcome::ALL.iter().map(|o| o.as_str()),
        "`synced` (changes written), `skipped` (nothing to write; see `reason`) or `failed` \
         (see `error_category` and `error_message`).",
    )
}

impl From<Model> for Entry {
    fn from(m: Model) -> Self {
        Entry {
            id: m.id,
            integration_id: m.integration_id,
            object_mapping_id: m.object_mapping_id,
            job_id: m.job_id,
            direction: m.direction,
            hubspot_object_type: m.hubspot_object_type,
            hubspot_object_id: m.hubspot_object_id,
            userflow_object_id: m.userflow_object_id,
            outcome: m.outcome,
            reason: m.reason,
            fields_changed: m.fields_changed,
            error_category: m.error_category,
            error_message: m.error_message,
            created_at: m.created_at,
        }
    }
}

fn time(params: &Params, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    params
        .get(name)
        .map(|raw| {
            DateTime::parse_from_rfc3339(raw)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| bad(format!("`{name}` must be an RFC 3339 time (got `{raw}`)")))
        })
        .transpose()
}

/// Applies the filters, the cursor and the limit of `params` to `query`; answers the page.
async fn page(
    state: &AppState,
    mut query: Select<Entity>,
    params: &Params,
) -> Result<Json<Page>, ApiError> {
    let limit = params.int_in("limit", 1..=MAX_LIMIT, DEFAULT_LIMIT)?;
    if let Some(object) = params.get("object") {
        query = match Uuid::parse_str(object) {
            Ok(mapping) => query.filter(Column::ObjectMappingId.eq(mapping)),
            Err(_) => query.filter(Column::HubspotObjectType.eq(object)),
        };
    }
    if let Some(v) = params.get("hubspot_object_id") {
        query = query.filter(Column::HubspotObjectId.eq(v));
    }
    if let Some(v) = params.get("userflow_object_id") {
        query = query.filter(Column::UserflowObjectId.eq(v));
    }
    if let Some(v) = params.get("outcome") {
        let outcome: SyncOutcome = v.parse().map_err(|_| {
            bad(format!(
                "`outcome` must be synced, skipped or failed (got `{v}`)"
            ))
        })?;
        query = query.filter(Column::Outcome.eq(outcome));
    }
    if let Some(v) = params.get("direction") {
        let direction: SyncDirection = v.parse().map_err(|_| {
            bad(format!(
                "`direction` must be hubspot_to_userflow or userflow_to_hubspot (got `{v}`)"
            ))
        })?;
        query = query.filter(Column::Direction.eq(direction));
    }
    if let Some(t) = time(params, "since")? {
        query = query.filter(Column::CreatedAt.gte(t));
    }
    if let Some(t) = time(params, "until")? {
        query = query.filter(Column::CreatedAt.lt(t));
    }
    if let Some(raw) = params.get("cursor") {
        let before: i64 = raw.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
            bad(format!(
                "`cursor` is not a cursor from this list (got `{raw}`)"
            ))
        })?;
        query = query.filter(Column::Id.lt(before));
    }
    let rows = query
        .order_by_desc(Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await
        .map_err(ApiError::internal)?;
    let (rows, next_cursor) = crate::query::page(rows, limit, |m| m.id.to_string());
    Ok(Json(Page {
        entries: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// The sync log of an integration, newest first.
#[utoipa::path(
    get,
    path = "/integrations/{id}/sync-log",
    operation_id = "integration_sync_log",
    tag = "sync-log",
    params(
        ("id" = Uuid, Path, description = "Integration id."),
        ("object" = Option<String>, Query, description = "A HubSpot object type (e.g. `contacts`) or an object mapping id."),
        ("hubspot_object_id" = Option<String>, Query, description = "One HubSpot record."),
        ("userflow_object_id" = Option<String>, Query, description = "One Userflow user or group."),
        ("outcome" = Option<String>, Query, description = "`synced`, `skipped` or `failed`."),
        ("direction" = Option<String>, Query, description = "`hubspot_to_userflow` or `userflow_to_hubspot`."),
        ("since" = Option<DateTime<Utc>>, Query, description = "Entries at or after this time (RFC 3339)."),
        ("until" = Option<DateTime<Utc>>, Query, description = "Entries before this time (RFC 3339)."),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 500, description = "Page size (default 50)."),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page."),
    ),
    responses(
        (status = 200, description = "A page of entries.", body = Page),
        (status = 400, description = "The id is not a UUID, a bad filter, `limit` or `cursor`, or an unknown parameter.", body = ErrorBody),
        (status = 404, description = "No such integration.", body = ErrorBody),
    )
)]
async fn for_integration(
    _op: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page>, ApiError> {
    let params = Params::parse(raw.as_deref(), &FILTERS)?;
    let id = lookup::integration(&state, &id).await?.id;
    page(
        &state,
        Entity::find().filter(Column::IntegrationId.eq(id)),
        &params,
    )
    .await
}

/// The sync log across integrations, newest first.
#[utoipa::path(
    get,
    path = "/sync-log",
    operation_id = "sync_log",
    tag = "sync-log",
    params(
        ("integration" = Option<Uuid>, Query, description = "Only this integration's entries."),
        ("object" = Option<String>, Query, description = "A HubSpot object type (e.g. `contacts`) or an object mapping id."),
        ("hubspot_object_id" = Option<String>, Query, description = "One HubSpot record."),
        ("userflow_object_id" = Option<String>, Query, description = "One Userflow user or group."),
        ("outcome" = Option<String>, Query, description = "`synced`, `skipped` or `failed`."),
        ("direction" = Option<String>, Query, description = "`hubspot_to_userflow` or `userflow_to_hubspot`."),
        ("since" = Option<DateTime<Utc>>, Query, description = "Entries at or after this time (RFC 3339)."),
        ("until" = Option<DateTime<Utc>>, Query, description = "Entries before this time (RFC 3339)."),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 500, description = "Page size (default 50)."),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page."),
    ),
    responses(
        (status = 200, description = "A page of entries.", body = Page),
        (status = 400, description = "A bad `integration`, filter, `limit` or `cursor`, or an unknown parameter.", body = ErrorBody),
    )
)]
async fn across(
    _op: Operator,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page>, ApiError> {
    let mut allowed = FILTERS.to_vec();
    allowed.push("integration");
    let params = Params::parse(raw.as_deref(), &allowed)?;
    let mut query = Entity::find();
    if let Some(raw) = params.get("integration") {
        let id = Uuid::parse_str(raw).map_err(|_| {
            bad(format!(
                "`integration` must be an integration id (got `{raw}`)"
            ))
        })?;
        query = query.filter(Column::IntegrationId.eq(id));
    }
    page(&state, query, &params).await
}

#[cfg(test)]
mod tests {
    use hubsync_entities::{IntegrationStatus, integrations, sync_log};
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    use serde_json::Value;

    use super::*;
    use crate::test_support::TestApp;

    const TOKEN: &str = "op-token";

    async fn app() -> TestApp {
        let app = TestApp::new(&[TOKEN]).await;
        hubsync_migrations::migrate(&app.state.db)
            .await
            .expect("migrate");
        app
    }

    async fn integration(app: &TestApp, name: &str) -> Uuid {
        integrations::ActiveModel {
            name: Set(name.to_owned()),
            status: Set(IntegrationStatus::Connected),
            ..Default::default()
        }
        .insert(&app.state.db)
        .await
        .expect("integration")
        .id
    }

    #[allow(clippy::too_many_arguments)]
    async fn row(
        app: &TestApp,
        integration: Uuid,
        n: i64,
        object: &str,
        outcome: SyncOutcome,
        direction: SyncDirection,
    ) {
        let at = DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
            .expect("time")
            .with_timezone(&Utc)
            + chrono::Duration::seconds(n);
        sync_log::ActiveModel {
            integration_id: Set(integration),
            direction: Set(direction),
            hubspot_object_type: Set(Some(object.to_owned())),
            hubspot_object_id: Set(Some(format!("{}", 100 + n % 3))),
            userflow_object_id: Set(Some(format!("u_{n}"))),
            outcome: Set(outcome),
            fields_changed: Set(StringList::from_iter(["plan"])),
            created_at: Set(at),
            ..Default::default()
        }
        .insert(&app.state.db)
        .await
        .expect("log row");
    }

    async fn get(app: &TestApp, path: &str) -> Value {
        let (status, body) = app.call("GET", path, Some(TOKEN), None).await;
        assert_eq!(status, 200, "{path}: {body}");
        body
    }

    fn ids(body: &Value) -> Vec<String> {
        body["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| e["userflow_object_id"].as_str().expect("uf id").to_owned())
            .collect()
    }

    #[tokio::test]
    async fn filters_and_pages_newest_first() {
        let app = app().await;
        let a = integration(&app, "a").await;
        let b = integration(&app, "b").await;
        for n in 0..7 {
            let outcome = if n % 2 == 0 {
                SyncOutcome::Synced
            } else {
                SyncOutcome::Skipped
            };
            let object = if n < 5 { "contacts" } else { "companies" };
            row(
                &app,
                a,
                n,
                object,
                outcome,
                SyncDirection::HubspotToUserflow,
            )
            .await;
        }
        row(
            &app,
            b,
            100,
            "contacts",
            SyncOutcome::Failed,
            SyncDirection::UserflowToHubspot,
        )
        .await;

        let base = format!("/api/v1/integrations/{a}/sync-log");
        let all = get(&app, &base).await;
        assert_eq!(ids(&all), ["u_6", "u_5", "u_4", "u_3", "u_2", "u_1", "u_0"]);
        assert_eq!(all["next_cursor"], Value::Null);

        // Keyset pages of 3 cover everything once, newest first.
        let mut seen = Vec::new();
        let mut path = format!("{base}?limit=3");
        loop {
            let page = get(&app, &path).await;
            assert!(ids(&page).len() <= 3);
            seen.extend(ids(&page));
            match page["next_cursor"].as_str() {
                Some(c) => path = format!("{base}?limit=3&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(seen, ids(&all));

        let synced = get(&app, &format!("{base}?outcome=synced")).await;
        assert_eq!(ids(&synced), ["u_6", "u_4", "u_2", "u_0"]);
        let companies = get(&app, &format!("{base}?object=companies")).await;
        assert_eq!(ids(&companies), ["u_6", "u_5"]);
        let one = get(
            &app,
            &format!("{base}?hubspot_object_id=101&outcome=skipped"),
        )
        .await;
        assert_eq!(ids(&one), ["u_1"]);
        let by_user = get(&app, &format!("{base}?userflow_object_id=u_3")).await;
        assert_eq!(ids(&by_user), ["u_3"]);
        let window = get(
            &app,
            &format!("{base}?since=2026-11-28T10:00:02Z&until=2026-11-28T10:00:04Z"),
        )
        .await;
        assert_eq!(ids(&window), ["u_3", "u_2"]);
        let none = get(&app, &format!("{base}?direction=userflow_to_hubspot")).await;
        assert_eq!(ids(&none), Vec::<String>::new());

        // Another integration's rows stay apart; the cluster-wide list has both.
        let other = get(&app, &format!("/api/v1/integrations/{b}/sync-log")).await;
        assert_eq!(ids(&other), ["u_100"]);
        assert_eq!(other["entries"][0]["outcome"], "failed");
        let everything = get(&app, "/api/v1/sync-log").await;
        assert_eq!(ids(&everything).len(), 8);
        let only_b = get(
            &app,
            &format!("/api/v1/sync-log?integration={b}&direction=userflow_to_hubspot"),
        )
        .await;
        assert_eq!(ids(&only_b), ["u_100"]);

        for q in [
            "outcome=done",
            "direction=up",
            "since=yesterday",
            "cursor=x",
            "limit=0",
            "page=2",
        ] {
            let (status, body) = app
                .call("GET", &format!("{base}?{q}"), Some(TOKEN), None)
                .await;
            assert_eq!(
                (status, body["code"].as_str()),
                (400, Some("bad_request")),
                "{q}"
            );
        }
        let (status, _) = app
            .call(
                "GET",
                &format!("/api/v1/integrations/{}/sync-log", Uuid::new_v4()),
                Some(TOKEN),
                None,
            )
            .await;
        assert_eq!(status, 404);
        let (status, _) = app.call("GET", &base, None, None).await;
        assert_eq!(status, 401);
    }
}
