//! The operator API under `/api/v1`: every route requires an operator token
//! ([`crate::auth::Operator`]).

pub(crate) mod cluster;
pub(crate) mod integrations;
pub(crate) mod queues;

use axum::Router;

use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(cluster::router())
        .merge(integrations::router())
        .merge(queues::router())
}
