//! The `api` role: HTTP ingest of HubSpot and Userflow webhooks and the operator REST API.
//!
//! Runs in: `hubsync api` (and `hubsync dev`). Owns: the HTTP routes. Webhook ingest never
//! calls HubSpot or Userflow: it verifies, queues jobs and answers, and workers do the sync.
//! Operator-initiated actions do call them on the request path: the OAuth callback (code
//! exchange) and HubSpot disconnect (token revocation), `PUT /api/v1/integrations/{id}/userflow`
//! (webhook subscription), mapping validation and dry runs.
//! Routes: health probes and Prometheus metrics (`/metrics`) at the root, the operator API
//! under `/api/v1` (bearer operator tokens, [`auth`]; queues in [`queues`]), webhook ingest
//! under `/webhooks`. Errors use one envelope ([`error`]).

pub mod auth;
pub mod error;
pub mod json;
mod openapi;
mod query;
pub mod queues;
mod routes;
#[cfg(test)]
mod test_support;

use axum::Router;
use sea_orm::DatabaseConnection;

pub use queues::Queues;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// Application database (Postgres, or SQLite for a single node).
    pub db: DatabaseConnection,
    /// Redis: queues, rate limits, locks.
    pub redis: redis::aio::ConnectionManager,
    /// Prefix of every Redis key of this cluster.
    pub redis_prefix: String,
    /// Bearer tokens accepted on `/api/v1`; empty disables the operator API.
    pub operator_tokens: std::sync::Arc<[String]>,
    /// The cluster's job queues (`realtime`, `bulk`) under `redis_prefix`.
    pub queues: Queues,
    /// Whether `GET /metrics` also needs an operator token (default false: open, as
    /// Prometheus scrapers expect; keep the port private or set this).
    pub metrics_require_token: bool,
    /// Seals secrets before they are stored and opens them again (AES-256-GCM).
    pub secrets: hubsync_core::secrets::SecretBox,
    /// Acting for integrations: settings, clients, the shared HubSpot limiter.
    pub sync: hubsync_sync::SyncContext,
    /// Where ingest and operator actions queue jobs.
    pub jobs: hubsync_sync::JobQueues,
}

/// After an operator write that succeeded (integrations, connections, mappings), tells every
/// api replica to re-read webhook routing ([`hubsync_sync::routing`]).
async fn routing_changes(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let write = request.method() != axum::http::Method::GET
        && request.uri().path().contains("/integrations");
    let response = next.run(request).await;
    if write && response.status().is_success() {
        hubsync_sync::routing::bump(&state.sync).await;
    }
    response
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(routes::health::router())
        .merge(routes::metrics::router())
        .merge(routes::oauth::router())
        .merge(routes::webhooks::router())
        .nest(
            "/api/v1",
            routes::operator::router().layer(axum::middleware::from_fn_with_state(
                state.clone(),
                routing_changes,
            )),
        )
        .merge(openapi::router())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}
