//! Definitions and content (§7), read-only.
//!
//! `GET /attribute_definitions?scope=user|group|membership|group_membership|event` lists
//! `{id:"<scope>:<name>", object:"attribute_definition", name, display_name, data_type, scope,
//! created_at}` (scope shown as `group_membership` for memberships; field set is a simulator
//! choice). `GET /event_definitions` lists `{id:<name>, object:"event_definition", name,
//! display_name, count, created_at, last_tracked_at}` for names tracked in the environment.
//! Content is minimal: `GET /content`, `/content_versions`, `/content_sessions` answer empty
//! lists and `GET /content/{id}` answers 404.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::Simulator;
use super::attributes::{Scope, display_name};
use super::auth::Env;
use super::errors::{ApiError, ApiResult};
use super::paging::{ListParams, Params, list_json, list_params, list_response};

fn page_values(values: Vec<Value>, lp: &ListParams) -> ApiResult<(Vec<Value>, bool)> {
    let mut values = values;
    if lp.descending {
        values.reverse();
    }
    let start = match &lp.starting_after {
        Some(c) => {
            values
                .iter()
                .position(|v| v.get("id").and_then(Value::as_str) == Some(c.as_str()))
                .ok_or_else(|| {
                    ApiError::bad(
                        "invalid_starting_after",
                        format!("No such object for starting_after: '{c}'"),
                    )
                })?
                + 1
        }
        None => 0,
    };
    let rest: Vec<Value> = values.into_iter().skip(start).collect();
    let more = rest.len() > lp.limit;
    Ok((rest.into_iter().take(lp.limit).collect(), more))
}

fn parse_scope(p: &Params) -> ApiResult<Option<Scope>> {
    match p.get("scope") {
        None | Some("") => Ok(None),
        Some(s) => Scope::parse(s).map(Some).ok_or_else(|| {
            ApiError::bad(
                "invalid_parameter",
                format!(
                    "'scope' must be user, group, membership, group_membership or event, got '{s}'"
                ),
            )
        }),
    }
}

async fn attribute_definitions(
    State(sim): State<Simulator>,
    Env(env): Env,
    p: Params,
) -> ApiResult<Json<Value>> {
    list_response(&sim, &env, "/attribute_definitions", &p, |d, lp, _| {
        let scope = parse_scope(&p)?;
        let values = d
            .definitions
            .iter()
            .filter(|((s, _), _)| scope.is_none_or(|w| w == *s))
            .map(|((s, name), def)| {
                json!({
                    "id": format!("{}:{name}", s.as_str()),
                    "object": "attribute_definition",
                    "name": name,
                    "display_name": display_name(name),
                    "data_type": def.data_type,
                    "scope": s.as_str(),
                    "created_at": def.created_at,
                })
            })
            .collect();
        page_values(values, lp)
    })
}

async fn event_definitions(
    State(sim): State<Simulator>,
    Env(env): Env,
    p: Params,
) -> ApiResult<Json<Value>> {
    list_response(&sim, &env, "/event_definitions", &p, |d, lp, _| {
        let values = d
            .event_definitions
            .iter()
            .map(|(name, def)| {
                json!({
                    "id": name,
                    "object": "event_definition",
                    "name": name,
                    "display_name": display_name(name),
                    "count": def.count,
                    "created_at": def.created_at,
                    "last_tracked_at": def.last_tracked_at,
                })
            })
            .collect();
        page_values(values, lp)
    })
}

async fn empty_list(
    State(sim): State<Simulator>,
    uri: axum::http::Uri,
    p: Params,
) -> ApiResult<Json<Value>> {
    list_params(&p, &sim.knobs())?;
    Ok(Json(list_json(uri.path(), &p, Vec::new(), false)))
}

async fn content_one(Path(id): Path<String>) -> ApiError {
    ApiError::not_found("content", &id)
}

pub(crate) fn routes() -> Router<Simulator> {
    Router::new()
        .route("/attribute_definitions", get(attribute_definitions))
        .route("/event_definitions", get(event_definitions))
        .route("/content", get(empty_list))
        .route("/content/{id}", get(content_one))
        .route("/content_versions", get(empty_list))
        .route("/content_sessions", get(empty_list))
}
