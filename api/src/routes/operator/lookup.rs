//! The ids in operator route paths: a malformed id is a 400 that names it, an unknown
//! integration a 404, so every route answers them alike.

use hubsync_entities::integrations::{Entity, Model};
use sea_orm::EntityTrait;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, Code};
use crate::query::bad;

/// `raw` as a UUID; `what` names it in the 400 (e.g. "mapping id").
pub(crate) fn uuid(raw: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| bad(format!("{what} `{raw}` is not a UUID")))
}

/// The integration `raw` names: 400 if it is not a UUID, 404 if there is none.
pub(crate) async fn integration(state: &AppState, raw: &str) -> Result<Model, ApiError> {
    integration_by_id(state, uuid(raw, "integration id")?).await
}

/// The integration `id`: 404 if there is none.
pub(crate) async fn integration_by_id(state: &AppState, id: Uuid) -> Result<Model, ApiError> {
    Entity::find_by_id(id)
        .one(&state.db)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| no_integration(id))
}

/// The 404 for an integration that does not exist.
pub(crate) fn no_integration(id: Uuid) -> ApiError {
    ApiError::new(Code::NotFound, format!("no integration `{id}`"))
}
