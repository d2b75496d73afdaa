//! `GET /api/v1/cluster`: the live replicas of every role, read from the presence keys each
//! process refreshes (`{<prefix>}:presence:<role>:<id>`, see the binary's `roles` module).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::AppState;
use crate::auth::Operator;
use crate::error::ApiError;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/cluster", get(cluster))
}

/// `/cluster`, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(cluster),
    tags((name = "cluster", description = "The live processes of the cluster."))
)]
pub(crate) struct Api;

/// One live process.
#[derive(Debug, Serialize, PartialEq, Eq, ToSchema)]
pub(crate) struct Replica {
    /// Process id: `<HOSTNAME>-<pid>`.
    id: String,
    /// When the process last refreshed its presence, in ms since the Unix epoch.
    last_seen_ms: u64,
}

/// The live replicas of the cluster.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Cluster {
    /// Role (`api`, `worker`, `scheduler`) → its live replicas, in id order. A role without a
    /// live replica is absent.
    roles: BTreeMap<String, Vec<Replica>>,
}

/// The live replicas of every role.
///
/// Read from the presence keys each process refreshes; a process that stopped refreshing
/// drops out when its key expires.
#[utoipa::path(
    get,
    path = "/cluster",
    operation_id = "show_cluster",
    tag = "cluster",
    responses((status = 200, description = "The live replicas by role.", body = Cluster))
)]
async fn cluster(_: Operator, State(state): State<AppState>) -> Result<Json<Cluster>, ApiError> {
    let mut redis = state.redis.clone();
    let prefix = format!("{{{}}}:presence:", state.redis_prefix);
    let pattern = format!("{prefix}*");
    let mut cursor: u64 = 0;
    let mut keys: Vec<String> = Vec::new();
    // SCAN in pages so a large keyspace never blocks Redis.
    loop {
        let (next, page): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(500)
            .query_async(&mut redis)
            .await
            .map_err(ApiError::internal)?;
        keys.extend(page);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    keys.sort();
    keys.dedup();
    let values: Vec<Option<u64>> = if keys.is_empty() {
        Vec::new()
    } else {
        redis::cmd("MGET")
            .arg(&keys)
            .query_async(&mut redis)
            .await
            .map_err(ApiError::internal)?
    };
    let mut roles: BTreeMap<String, Vec<Replica>> = BTreeMap::new();
    for (key, value) in keys.iter().zip(values) {
        let (Some(rest), Some(last_seen_ms)) = (key.strip_prefix(&prefix), value) else {
            continue;
        };
        if let Some((role, id)) = rest.split_once(':') {
            roles.entry(role.to_string()).or_default().push(Replica {
                id: id.to_string(),
                last_seen_ms,
            });
        }
    }
    Ok(Json(Cluster { roles }))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use crate::{AppState, app};

    async fn state(tokens: &[&str]) -> AppState {
        crate::test_support::state(tokens).await
    }

    async fn get(state: AppState, auth: Option<&str>) -> (u16, serde_json::Value) {
        let mut req = Request::get("/api/v1/cluster");
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let resp = app(state)
            .oneshot(req.body(Body::empty()).expect("request"))
            .await
            .expect("response");
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .expect("body");
        (status, serde_json::from_slice(&bytes).expect("json"))
    }

    #[tokio::test]
    async fn operator_token_is_required_and_checked() {
        let s = state(&["old-token", "new-token"]).await;
        let (status, body) = get(s.clone(), None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("missing_operator_token"))
        );
        assert_eq!(body["type"], "auth");
        let (status, body) = get(s.clone(), Some("Bearer wrong")).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("invalid_operator_token"))
        );
        let (status, body) = get(s.clone(), Some("Basic old-token")).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("missing_operator_token"))
        );
        for token in ["old-token", "new-token"] {
            let (status, _) = get(s.clone(), Some(&format!("Bearer {token}"))).await;
            assert_eq!(status, 200, "{token} must be accepted");
        }
    }

    #[tokio::test]
    async fn without_tokens_the_operator_api_is_closed() {
        let (status, body) = get(state(&[]).await, Some("Bearer anything")).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("operator_api_disabled"))
        );
    }

    #[tokio::test]
    async fn lists_live_replicas_by_role() {
        let s = state(&["t"]).await;
        let mut redis = s.redis.clone();
        let p = &s.redis_prefix;
        for (role, id, ms) in [
            ("worker", "h1-1", 10u64),
            ("worker", "h2-7", 20),
            ("api", "h1-2", 30),
        ] {
            let _: () = redis::cmd("SET")
                .arg(format!("{{{p}}}:presence:{role}:{id}"))
                .arg(ms)
                .arg("PX")
                .arg(60_000)
                .query_async(&mut redis)
                .await
                .expect("set");
        }
        let (status, body) = get(s.clone(), Some("Bearer t")).await;
        assert_eq!(status, 200);
        assert_eq!(
            body,
            serde_json::json!({"roles": {
                "api": [{"id": "h1-2", "last_seen_ms": 30}],
                "worker": [{"id": "h1-1", "last_seen_ms": 10}, {"id": "h2-7", "last_seen_ms": 20}],
            }})
        );
        let _: () = redis::cmd("DEL")
            .arg(format!("{{{p}}}:presence:worker:h1-1"))
            .arg(format!("{{{p}}}:presence:worker:h2-7"))
            .arg(format!("{{{p}}}:presence:api:h1-2"))
            .query_async(&mut redis)
            .await
            .expect("del");
    }
}
