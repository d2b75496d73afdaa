//! Groups / companies (§5): `POST /groups` (upsert, merge semantics), `GET /groups/{id}`,
//! `GET /groups` (list), `DELETE /groups/{id}` (memberships and events deleted, users stay),
//! and the simulator's remove-membership path `DELETE /groups/{group_id}/memberships/{user_id}`
//! (Userflow's real path is unconfirmed). `expand=memberships` adds memberships.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::Simulator;
use super::auth::Env;
use super::errors::{ApiError, ApiResult, JsonBody};
use super::paging::{Params, list_json, list_params};
use super::store::GroupInput;
use super::webhooks::emit;

async fn upsert(
    State(sim): State<Simulator>,
    Env(env): Env,
    p: Params,
    JsonBody(input): JsonBody<GroupInput>,
) -> ApiResult<Response> {
    let knobs = sim.knobs();
    let id = input.id.clone();
    let expand = p.expands("memberships");
    let (changes, out) = sim.inner.store.with_env(&env, |d| {
        let changes = d.upsert_group(input, &knobs)?;
        let g = d
            .groups
            .get(&id)
            .ok_or_else(|| ApiError::not_found("group", &id))?;
        Ok((changes, d.group_json(g, expand)))
    })?;
    emit(&sim, &env, changes);
    let status = StatusCode::from_u16(knobs.upsert_status).unwrap_or(StatusCode::OK);
    Ok((status, Json(out)).into_response())
}

async fn list(State(sim): State<Simulator>, Env(env): Env, p: Params) -> ApiResult<Json<Value>> {
    let knobs = sim.knobs();
    let lp = list_params(&p, &knobs)?;
    let expand = p.expands("memberships");
    let (data, more) = sim.inner.store.with_env(&env, |d| {
        let (rows, more) = d.groups.page(
            lp.starting_after.as_deref(),
            lp.descending,
            lp.limit,
            |_| true,
        )?;
        Ok((
            rows.into_iter().map(|g| d.group_json(g, expand)).collect(),
            more,
        ))
    })?;
    Ok(Json(list_json("/groups", &p, data, more)))
}

async fn get_one(
    State(sim): State<Simulator>,
    Env(env): Env,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult<Json<Value>> {
    let expand = p.expands("memberships");
    sim.inner.store.with_env(&env, |d| {
        let g = d
            .groups
            .get(&id)
            .ok_or_else(|| ApiError::not_found("group", &id))?;
        Ok(Json(d.group_json(g, expand)))
    })
}

async fn delete_one(
    State(sim): State<Simulator>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    sim.inner.store.with_env(&env, |d| d.delete_group(&id))?;
    Ok(Json(json!({"id": id, "object": "group", "deleted": true})))
}

async fn remove_membership(
    State(sim): State<Simulator>,
    Env(env): Env,
    Path((group_id, user_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    sim.inner
        .store
        .with_env(&env, |d| d.remove_membership(&group_id, &user_id))?;
    Ok(Json(
        json!({"object": "group_membership", "user_id": user_id, "group_id": group_id, "deleted": true}),
    ))
}

pub(crate) fn routes() -> Router<Simulator> {
    Router::new()
        .route("/groups", post(upsert).get(list))
        .route("/groups/{id}", get(get_one).delete(delete_one))
        .route(
            "/groups/{group_id}/memberships/{user_id}",
            delete(remove_membership),
        )
}
