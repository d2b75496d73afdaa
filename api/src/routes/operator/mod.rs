//! The operator API under `/api/v1`: every route requires an operator token
//! ([`crate::auth::Operator`]).

pub(crate) mod cluster;
pub(crate) mod dry_run;
pub(crate) mod full_sync;
pub(crate) mod hubspot;
pub(crate) mod integrations;
pub(crate) mod lookup;
pub(crate) mod mappings;
pub(crate) mod queues;
pub(crate) mod sync_log;

use axum::Router;

use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(cluster::router())
        .merge(dry_run::router())
        .merge(full_sync::router())
        .merge(integrations::router())
        .merge(hubspot::router())
        .merge(queues::router())
        .merge(mappings::router())
        .merge(sync_log::router())
}
