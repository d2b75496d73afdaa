//! Full syncs of an integration for operators (design notes §8):
//!
//! | route | answers |
//! |---|---|
//! | `POST /integrations/{id}/full-sync` | 202, the new run; 409 `conflict` while one is pending or running |
//! | `GET /integrations/{id}/full-syncs?limit=&cursor=` | `{"full_syncs":[…],"next_cursor"}`, newest first |
//! | `GET /integrations/{id}/full-syncs/{run_id}` | the run's progress |
//! | `POST /integrations/{id}/full-syncs/{run_id}/cancel` | the cancelled run; 409 if it had already ended |
//!
//! A run's counts are the sums of its shards (one shard per enabled object mapping). A run id
//! answers only under its own integration.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use hubsync_entities::{FullSyncStatus, FullSyncTrigger};
use hubsync_sync::full_sync::{self, RunProgress, ShardProgress, StartError};
use serde::Serialize;
use utoipa::openapi::schema::Object;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::auth::Operator;
use crate::error::{ApiError, Code, ErrorBody};
use crate::openapi::string_enum;
use crate::query::{Params, bad, page};
use crate::routes::operator::lookup;

const DEFAULT_LIMIT: u64 = 20;
const MAX_LIMIT: u64 = 200;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/integrations/{id}/full-sync", post(start))
        .route("/integrations/{id}/full-syncs", get(list))
        .route("/integrations/{id}/full-syncs/{run_id}", get(show))
        .route(
            "/integrations/{id}/full-syncs/{run_id}/cancel",
            post(cancel),
        )
}

/// The full sync routes, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(start, list, show, cancel),
    tags((name = "full-syncs", description = "Full syncs of an integration: start one, follow \
        its progress, cancel it. The scheduler also starts one per integration every \
        `--full-sync-interval-secs`."))
)]
pub(crate) struct Api;

// ---- shapes ----

/// One shard of a run: the Userflow objects of one object mapping.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FullSyncShardProgress {
    /// Index of the shard within the run (0-based).
    shard: i32,
    /// The object mapping it pages through.
    mapping_id: Option<Uuid>,
    #[schema(schema_with = status_schema)]
    status: FullSyncStatus,
    /// Userflow pages read (100 objects each).
    pages: u64,
    /// Userflow objects read.
    seen: u64,
    /// Of those, found in HubSpot by the mapping's match key.
    matched: u64,
    /// Sync jobs queued (one per direction per pair).
    queued: u64,
    /// Objects HubSpot answered an error for.
    failed: u64,
    /// Why the shard failed, when it did.
    error: Option<String>,
    updated_at: DateTime<Utc>,
}

impl From<ShardProgress> for FullSyncShardProgress {
    fn from(s: ShardProgress) -> Self {
        Self {
            shard: s.shard,
            mapping_id: s.mapping_id,
            status: s.status,
            pages: s.pages,
            seen: s.seen,
            matched: s.matched,
            queued: s.queued,
            failed: s.failed,
            error: s.error,
            updated_at: s.updated_at,
        }
    }
}

/// A full sync run and its progress: the sums of its shards.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FullSyncRun {
    id: Uuid,
    integration_id: Uuid,
    #[schema(schema_with = trigger_schema)]
    trigger: FullSyncTrigger,
    #[schema(schema_with = status_schema)]
    status: FullSyncStatus,
    /// Why the run failed or was cancelled.
    error: Option<String>,
    /// Shards: one per enabled object mapping.
    shard_count: i32,
    /// Userflow objects read.
    seen: u64,
    /// Of those, found in HubSpot.
    matched: u64,
    /// Sync jobs queued.
    queued: u64,
    /// Objects HubSpot answered an error for.
    failed: u64,
    /// Share of shards that have ended, 0–100 (Userflow lists carry no totals).
    percent: Option<f64>,
    created_at: DateTime<Utc>,
    /// When the first shard started.
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
    shards: Vec<FullSyncShardProgress>,
}

impl From<RunProgress> for FullSyncRun {
    fn from(r: RunProgress) -> Self {
        Self {
            id: r.id,
            integration_id: r.integration_id,
            trigger: r.trigger,
            status: r.status,
            error: r.error,
            shard_count: r.shard_count,
            seen: r.seen,
            matched: r.matched,
            queued: r.queued,
            failed: r.failed,
            percent: r.percent,
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            updated_at: r.updated_at,
            shards: r.shards.into_iter().map(Into::into).collect(),
        }
    }
}

fn status_schema() -> Object {
    string_enum(
        FullSyncStatus::ALL.iter().map(|s| s.as_str()),
        "`pending` (not started), `running`, `completed` (possibly with failed records), \
         `failed` (see `error`) or `cancelled`.",
    )
}

fn trigger_schema() -> Object {
    string_enum(
        FullSyncTrigger::ALL.iter().map(|t| t.as_str()),
        "`manual` (this API) or `scheduled` (the scheduler).",
    )
}

/// A page of runs, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FullSyncRunList {
    full_syncs: Vec<FullSyncRun>,
    /// Pass as `cursor` for the next page; `null` on the last.
    next_cursor: Option<String>,
}

// ---- handlers ----

/// Start a full sync of the integration.
///
/// Creates a run with one shard per enabled object mapping and queues the shards on the bulk
/// queue; the workers page through Userflow and queue a sync of each object found in both
/// systems.
#[utoipa::path(
    post,
    path = "/integrations/{id}/full-sync",
    operation_id = "start_full_sync",
    tag = "full-syncs",
    params(("id" = Uuid, Path, description = "Integration id.")),
    responses(
        (status = 202, description = "The run, queued.", body = FullSyncRun),
        (status = 400, description = "Bad id, or the integration is not connected or has no \
            enabled object mapping.", body = ErrorBody),
        (status = 404, description = "No such integration.", body = ErrorBody),
        (status = 409, description = "A full sync of the integration is pending or running.", body = ErrorBody),
    )
)]
async fn start(
    _op: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<FullSyncRun>), ApiError> {
    let integration = lookup::integration(&state, &id).await?;
    let run = full_sync::start_run(
        &state.sync,
        &state.jobs,
        integration.id,
        FullSyncTrigger::Manual,
    )
    .await
    .map_err(start_error)?;
    let progress = progress(&state, integration.id, run.id).await?;
    Ok((StatusCode::ACCEPTED, Json(progress)))
}

/// List the integration's full syncs, newest first.
#[utoipa::path(
    get,
    path = "/integrations/{id}/full-syncs",
    operation_id = "list_full_syncs",
    tag = "full-syncs",
    params(
        ("id" = Uuid, Path, description = "Integration id."),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 200, description = "Page size (default 20)."),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page."),
    ),
    responses(
        (status = 200, description = "A page of runs.", body = FullSyncRunList),
        (status = 400, description = "Bad id, unknown query parameter or bad cursor.", body = ErrorBody),
        (status = 404, description = "No such integration.", body = ErrorBody),
    )
)]
async fn list(
    _op: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<FullSyncRunList>, ApiError> {
    let params = Params::parse(raw.as_deref(), &["limit", "cursor"])?;
    let limit = params.int_in("limit", 1..=MAX_LIMIT, DEFAULT_LIMIT)?;
    let integration = lookup::integration(&state, &id).await?;
    let before = match params.get("cursor") {
        Some(raw) => {
            let invalid = || {
                bad(format!(
                    "`cursor` is not a cursor from this list (got `{raw}`)"
                ))
            };
            let run_id = Uuid::parse_str(raw).map_err(|_| invalid())?;
            Some(
                full_sync::find_run(&state.db, integration.id, run_id)
                    .await
                    .map_err(ApiError::internal)?
                    .ok_or_else(invalid)?,
            )
        }
        None => None,
    };
    let runs = full_sync::list_runs(&state.db, integration.id, limit + 1, before.as_ref())
        .await
        .map_err(ApiError::internal)?;
    let (runs, next_cursor) = page(runs, limit, |r| r.id.to_string());
    Ok(Json(FullSyncRunList {
        full_syncs: runs.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// Show a full sync and its progress.
#[utoipa::path(
    get,
    path = "/integrations/{id}/full-syncs/{run_id}",
    operation_id = "show_full_sync",
    tag = "full-syncs",
    params(
        ("id" = Uuid, Path, description = "Integration id."),
        ("run_id" = Uuid, Path, description = "Full sync run id."),
    ),
    responses(
        (status = 200, description = "The run.", body = FullSyncRun),
        (status = 400, description = "An id is not a UUID.", body = ErrorBody),
        (status = 404, description = "No such integration, or no such run of it.", body = ErrorBody),
    )
)]
async fn show(
    _op: Operator,
    State(state): State<AppState>,
    Path((id, run_id)): Path<(String, String)>,
) -> Result<Json<FullSyncRun>, ApiError> {
    let integration = lookup::integration(&state, &id).await?;
    let run_id = lookup::uuid(&run_id, "full sync id")?;
    Ok(Json(progress(&state, integration.id, run_id).await?))
}

/// Cancel a full sync.
///
/// Its shards stop at their next page; sync jobs already queued still run.
#[utoipa::path(
    post,
    path = "/integrations/{id}/full-syncs/{run_id}/cancel",
    operation_id = "cancel_full_sync",
    tag = "full-syncs",
    params(
        ("id" = Uuid, Path, description = "Integration id."),
        ("run_id" = Uuid, Path, description = "Full sync run id."),
    ),
    responses(
        (status = 200, description = "The cancelled run.", body = FullSyncRun),
        (status = 400, description = "An id is not a UUID.", body = ErrorBody),
        (status = 404, description = "No such integration, or no such run of it.", body = ErrorBody),
        (status = 409, description = "The run had already ended.", body = ErrorBody),
    )
)]
async fn cancel(
    _op: Operator,
    State(state): State<AppState>,
    Path((id, run_id)): Path<(String, String)>,
) -> Result<Json<FullSyncRun>, ApiError> {
    let integration = lookup::integration(&state, &id).await?;
    let run_id = lookup::uuid(&run_id, "full sync id")?;
    let before = full_sync::find_run(&state.db, integration.id, run_id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| no_run(run_id))?;
    if before.status.is_finished() {
        return Err(ApiError::new(
            Code::Conflict,
            format!("full sync {run_id} has already ended ({})", before.status),
        ));
    }
    full_sync::cancel_run(
        &state.db,
        integration.id,
        run_id,
        "cancelled by an operator",
    )
    .await
    .map_err(ApiError::internal)?;
    Ok(Json(progress(&state, integration.id, run_id).await?))
}

// ---- helpers ----

fn no_run(run_id: Uuid) -> ApiError {
    ApiError::new(
        Code::NotFound,
        format!("no full sync `{run_id}` for this integration"),
    )
}

async fn progress(
    state: &AppState,
    integration: Uuid,
    run_id: Uuid,
) -> Result<FullSyncRun, ApiError> {
    full_sync::run_progress(&state.db, integration, run_id)
        .await
        .map_err(ApiError::internal)?
        .map(Into::into)
        .ok_or_else(|| no_run(run_id))
}

fn start_error(e: StartError) -> ApiError {
    match e {
        StartError::AlreadyRunning { .. } | StartError::Starting(_) => {
            ApiError::new(Code::Conflict, e.to_string())
        }
        StartError::NotConnected { .. } | StartError::NoMappings(_) => bad(e.to_string()),
        StartError::Sync(hubsync_sync::SyncError::IntegrationNotFound(id)) => {
            lookup::no_integration(id)
        }
        StartError::Sync(e) => ApiError::internal(e),
    }
}

#[cfg(test)]
mod tests {
    use hubsync_entities::{
        IntegrationStatus, UserflowMatchAttribute, UserflowObjectType, full_sync_shards,
        integrations, object_mappings,
    };
    use hubsync_sync::full_sync::ShardState;
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
    use serde_json::{Value, json};

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

    async fn call(app: &TestApp, method: &str, path: &str) -> (u16, Value) {
        app.call(method, path, Some(TOKEN), None).await
    }

    /// An integration with `mappings` enabled contacts ↔ users mappings.
    async fn integration(app: &TestApp, status: IntegrationStatus, mappings: usize) -> Uuid {
        let id = integrations::ActiveModel {
            name: Set("Acme".into()),
            status: Set(status),
            ..Default::default()
        }
        .insert(&app.state.db)
        .await
        .expect("integration")
        .id;
        for _ in 0..mappings {
            object_mappings::ActiveModel {
                integration_id: Set(id),
                hubspot_object_type: Set("contacts".into()),
                userflow_object_type: Set(UserflowObjectType::User),
                match_hubspot_property: Set("email".into()),
                match_userflow_attribute: Set(UserflowMatchAttribute::Email),
                enabled: Set(true),
                ..Default::default()
            }
            .insert(&app.state.db)
            .await
            .expect("mapping");
        }
        id
    }

    /// Writes a shard's checkpoint as a worker would after some pages.
    async fn progress_shard(app: &TestApp, run: &str, shard: i32, seen: u64, matched: u64) {
        let row = full_sync_shards::Entity::find()
            .filter(full_sync_shards::Column::RunId.eq(Uuid::parse_str(run).expect("uuid")))
            .filter(full_sync_shards::Column::ShardIndex.eq(shard))
            .one(&app.state.db)
            .await
            .expect("query")
            .expect("shard");
        let mut state = ShardState::parse(row.cursor.as_deref()).expect("state");
        state.after = Some(format!("u_{seen}"));
        state.pages = seen.div_ceil(100);
        state.seen = seen;
        state.matched = matched;
        state.queued = 2 * matched;
        let mut am: full_sync_shards::ActiveModel = row.into();
        am.cursor = Set(Some(state.encode()));
        am.update(&app.state.db).await.expect("update");
    }

    #[tokio::test]
    async fn start_conflict_progress_cancel_and_list() {
        let app = app().await;
        let id = integration(&app, IntegrationStatus::Connected, 2).await;
        let base = format!("/api/v1/integrations/{id}");

        let (status, run) = call(&app, "POST", &format!("{base}/full-sync")).await;
        assert_eq!(status, 202, "{run}");
        assert_eq!(run["status"], "pending");
        assert_eq!(run["trigger"], "manual");
        assert_eq!(run["shard_count"], 2);
        assert_eq!(run["shards"].as_array().map(Vec::len), Some(2));
        assert_eq!(run["seen"], 0);
        let run_id = run["id"].as_str().expect("id").to_owned();

        let (status, err) = call(&app, "POST", &format!("{base}/full-sync")).await;
        assert_eq!(status, 409, "{err}");
        assert_eq!(err["code"], "conflict");
        assert!(err["message"].as_str().expect("message").contains(&run_id));

        progress_shard(&app, &run_id, 0, 250, 40).await;
        progress_shard(&app, &run_id, 1, 30, 5).await;
        let (status, p) = call(&app, "GET", &format!("{base}/full-syncs/{run_id}")).await;
        assert_eq!(status, 200, "{p}");
        assert_eq!(
            (p["seen"].as_u64(), p["matched"].as_u64()),
            (Some(280), Some(45))
        );
        assert_eq!(p["queued"], 90);
        assert_eq!(p["shards"][0]["seen"], 250);
        assert_eq!(p["shards"][0]["pages"], 3);
        assert_eq!(p["shards"][1]["matched"], 5);
        assert_eq!(p["percent"], 0.0);
        assert!(p["started_at"].is_null() && p["finished_at"].is_null());

        let (status, c) = call(&app, "POST", &format!("{base}/full-syncs/{run_id}/cancel")).await;
        assert_eq!(status, 200, "{c}");
        assert_eq!(c["status"], "cancelled");
        assert_eq!(c["shards"][0]["status"], "cancelled");
        assert_eq!(c["seen"], 280, "progress kept");
        assert!(c["finished_at"].is_string());
        let (status, again) =
            call(&app, "POST", &format!("{base}/full-syncs/{run_id}/cancel")).await;
        assert_eq!(status, 409, "{again}");

        let (status, second) = call(&app, "POST", &format!("{base}/full-sync")).await;
        assert_eq!(status, 202, "{second}");
        let (status, list) = call(&app, "GET", &format!("{base}/full-syncs")).await;
        assert_eq!(status, 200, "{list}");
        let ids: Vec<&str> = list["full_syncs"]
            .as_array()
            .expect("runs")
            .iter()
            .filter_map(|r| r["id"].as_str())
            .collect();
        assert_eq!(
            ids,
            vec![second["id"].as_str().expect("id"), run_id.as_str()]
        );
        assert!(list["next_cursor"].is_null());

        let (_, page1) = call(&app, "GET", &format!("{base}/full-syncs?limit=1")).await;
        assert_eq!(page1["full_syncs"][0]["id"], second["id"]);
        let cursor = page1["next_cursor"].as_str().expect("cursor").to_owned();
        let (_, page2) = call(
            &app,
            "GET",
            &format!("{base}/full-syncs?limit=1&cursor={cursor}"),
        )
        .await;
        assert_eq!(page2["full_syncs"][0]["id"], run_id.as_str());
        assert!(page2["next_cursor"].is_null());
    }

    #[tokio::test]
    async fn runs_answer_only_under_their_integration() {
        let app = app().await;
        let a = integration(&app, IntegrationStatus::Connected, 1).await;
        let b = integration(&app, IntegrationStatus::Connected, 1).await;
        let (status, run) =
            call(&app, "POST", &format!("/api/v1/integrations/{a}/full-sync")).await;
        assert_eq!(status, 202, "{run}");
        let run_id = run["id"].as_str().expect("id");

        let (status, _) = call(
            &app,
            "GET",
            &format!("/api/v1/integrations/{b}/full-syncs/{run_id}"),
        )
        .await;
        assert_eq!(status, 404);
        let (status, _) = call(
            &app,
            "POST",
            &format!("/api/v1/integrations/{b}/full-syncs/{run_id}/cancel"),
        )
        .await;
        assert_eq!(status, 404);
        let (_, list) = call(&app, "GET", &format!("/api/v1/integrations/{b}/full-syncs")).await;
        assert_eq!(list["full_syncs"], json!([]));
        let (status, _) = call(
            &app,
            "GET",
            &format!("/api/v1/integrations/{b}/full-syncs?cursor={run_id}"),
        )
        .await;
        assert_eq!(status, 400, "another integration's run is no cursor here");
        // B's own run is not blocked by A's.
        let (status, _) = call(&app, "POST", &format!("/api/v1/integrations/{b}/full-sync")).await;
        assert_eq!(status, 202);
        let (status, still) = call(
            &app,
            "GET",
            &format!("/api/v1/integrations/{a}/full-syncs/{run_id}"),
        )
        .await;
        assert_eq!((status, &still["status"]), (200, &json!("pending")));

        let (status, _) = app
            .call(
                "POST",
                &format!("/api/v1/integrations/{a}/full-sync"),
                None,
                None,
            )
            .await;
        assert_eq!(status, 401);
        let (status, _) = call(
            &app,
            "POST",
            &format!("/api/v1/integrations/{}/full-sync", Uuid::new_v4()),
        )
        .await;
        assert_eq!(status, 404);
        let (status, _) = call(&app, "GET", "/api/v1/integrations/nope/full-syncs").await;
        assert_eq!(status, 400);
        let (status, _) = call(
            &app,
            "GET",
            &format!("/api/v1/integrations/{a}/full-syncs/nope"),
        )
        .await;
        assert_eq!(status, 400);
    }

    #[test]
    fn the_routes_are_described_for_the_document() {
        let doc = serde_json::to_value(Api::openapi()).expect("document");
        let ids: Vec<&str> = [
            ("/integrations/{id}/full-sync", "post"),
            ("/integrations/{id}/full-syncs", "get"),
            ("/integrations/{id}/full-syncs/{run_id}", "get"),
            ("/integrations/{id}/full-syncs/{run_id}/cancel", "post"),
        ]
        .iter()
        .filter_map(|(path, method)| doc["paths"][path][method]["operationId"].as_str())
        .collect();
        assert_eq!(
            ids,
            vec![
                "start_full_sync",
                "list_full_syncs",
                "show_full_sync",
                "cancel_full_sync"
            ]
        );
        let run = &doc["components"]["schemas"]["FullSyncRun"]["properties"];
        for field in ["status", "seen", "matched", "queued", "percent", "shards"] {
            assert!(run.get(field).is_some(), "FullSyncRun.{field}");
        }
    }

    #[tokio::test]
    async fn refuses_without_connection_or_mappings() {
        let app = app().await;
        let pending = integration(&app, IntegrationStatus::Pending, 1).await;
        let (status, err) = call(
            &app,
            "POST",
            &format!("/api/v1/integrations/{pending}/full-sync"),
        )
        .await;
        assert_eq!(status, 400, "{err}");
        assert!(
            err["message"]
                .as_str()
                .expect("message")
                .contains("connected")
        );
        let unmapped = integration(&app, IntegrationStatus::Connected, 0).await;
        let (status, err) = call(
            &app,
            "POST",
            &format!("/api/v1/integrations/{unmapped}/full-sync"),
        )
        .await;
        assert_eq!(status, 400, "{err}");
        assert!(
            err["message"]
                .as_str()
                .expect("message")
                .contains("mapping")
        );
    }
}
