//! The `api` role: HTTP ingest of HubSpot and Userflow webhooks and the operator REST API.
//!
//! Runs in: `hubsync api` (and `hubsync dev`). Owns: the HTTP routes. Must not: call HubSpot or
//! Userflow on the request path; every side effect is a queued job run by a worker.
//! Today it serves the health probes that orchestrators and the test harness use; the ingest
//! and operator routes are added under `/webhooks` and `/api/v1`.

mod routes;

use axum::Router;
use sea_orm::DatabaseConnection;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// Application database (Postgres, or SQLite for a single node).
    pub db: DatabaseConnection,
    /// Redis: queues, rate limits, locks.
    pub redis: redis::aio::ConnectionManager,
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(routes::health::router())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}
