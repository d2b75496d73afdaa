//! Liveness and readiness probes.
//!
//! `GET /healthz` answers as long as the process serves HTTP. `GET /readyz` also checks the
//! database and Redis, so a load balancer stops sending webhooks to a replica that could not
//! queue them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// The probes, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(healthz, readyz),
    tags((name = "health", description = "Liveness and readiness probes (no token)."))
)]
pub(crate) struct Api;

/// Answer of `GET /healthz`.
#[derive(Debug, Serialize, ToSchema)]
struct Liveness {
    /// Always `ok`.
    #[schema(example = "ok")]
    status: &'static str,
}

/// Answer of `GET /readyz`.
#[derive(Debug, Serialize, ToSchema)]
struct Readiness {
    /// `ready` when every dependency answered, else `not_ready`.
    #[schema(schema_with = ready_schema)]
    status: &'static str,
    /// The database: `ok` or `unreachable`.
    #[schema(schema_with = dependency_schema)]
    database: &'static str,
    /// Redis: `ok` or `unreachable`.
    #[schema(schema_with = dependency_schema)]
    redis: &'static str,
}

fn ready_schema() -> utoipa::openapi::schema::Object {
    string_enum(&["ready", "not_ready"])
}

fn dependency_schema() -> utoipa::openapi::schema::Object {
    string_enum(&["ok", "unreachable"])
}

fn string_enum(values: &[&str]) -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(values.iter().copied()))
        .build()
}

fn health_word(ok: bool) -> &'static str {
    if ok { "ok" } else { "unreachable" }
}

/// Liveness: answers as long as the process serves HTTP.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    responses((status = 200, description = "The process is up.", body = Liveness))
)]
async fn healthz() -> Json<Liveness> {
    Json(Liveness { status: "ok" })
}

/// Readiness: the database and Redis answer.
///
/// A load balancer should stop sending webhooks to a replica that answers 503. Which
/// dependency failed is named; the cause stays in the server log.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    responses(
        (status = 200, description = "Ready: every dependency answered.", body = Readiness),
        (status = 503, description = "Not ready: a dependency is unreachable.", body = Readiness),
    )
)]
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let db = state.db.ping().await.map_err(|e| e.to_string());
    let mut redis = state.redis.clone();
    let pong: Result<String, String> = redis::cmd("PING")
        .query_async(&mut redis)
        .await
        .map_err(|e| e.to_string());
    let ready = db.is_ok() && pong.is_ok();
    if let Err(e) = &db {
        tracing::warn!(error = %e, "readiness: database unreachable");
    }
    if let Err(e) = &pong {
        tracing::warn!(error = %e, "readiness: redis unreachable");
    }
    // Internal error text stays in the log; the probe only says which dependency failed.
    let body = Readiness {
        status: if ready { "ready" } else { "not_ready" },
        database: health_word(db.is_ok()),
        redis: health_word(pong.is_ok()),
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use crate::{AppState, app};

    async fn state() -> AppState {
        crate::test_support::state(&["op-token"]).await
    }

    async fn get(state: AppState, path: &str) -> (u16, serde_json::Value) {
        let resp = app(state)
            .oneshot(Request::get(path).body(Body::empty()).expect("request"))
            .await
            .expect("response");
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .expect("body");
        (status, serde_json::from_slice(&bytes).expect("json"))
    }

    #[tokio::test]
    async fn healthz_answers_ok() {
        assert_eq!(
            get(state().await, "/healthz").await,
            (200, serde_json::json!({"status": "ok"}))
        );
    }

    #[tokio::test]
    async fn readyz_reports_each_dependency() {
        let s = state().await;
        let (status, body) = get(s.clone(), "/readyz").await;
        assert_eq!(status, 200);
        assert_eq!(body["database"], "ok");
        assert_eq!(body["redis"], "ok");
        s.db.clone().close().await.expect("close");
        let (status, body) = get(s, "/readyz").await;
        assert_eq!(status, 503);
        assert_eq!(
            body,
            serde_json::json!({"status": "not_ready", "database": "unreachable", "redis": "ok"})
        );
    }
}
