//! Users (§3): `POST /users` (upsert with merge semantics, `groups` or `memberships`,
//! `prune_memberships`), `GET /users/{id}`, `GET /users` (list; `email=` filter, compared
//! case-insensitively), `DELETE /users/{id}`, and the simulator's remove-membership path
//! `DELETE /users/{user_id}/memberships/{group_id}`. `expand=memberships` adds memberships.

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
use super::store::UserInput;
use super::webhooks::emit;

async fn upsert(
    State(sim): State<Simulator>,
    Env(env): Env,
    p: Params,
    JsonBody(input): JsonBody<UserInput>,
) -> ApiResult<Response> {
    let knobs = sim.knobs();
    let id = input.id.clone();
    let expand = p.expands("memberships");
    let (changes, out) = sim.inner.store.with_env(&env, |d| {
        let changes = d.upsert_user(input, &knobs)?;
        let u = d
            .users
            .get(&id)
            .ok_or_else(|| ApiError::not_found("user", &id))?;
        Ok((changes, d.user_json(u, expand)))
    })?;
    emit(&sim, &env, changes);
    let status = StatusCode::from_u16(knobs.upsert_status).unwrap_or(StatusCode::OK);
    Ok((status, Json(out)).into_response())
}

async fn list(State(sim): State<Simulator>, Env(env): Env, p: Params) -> ApiResult<Json<Value>> {
    let knobs = sim.knobs();
    let lp = list_params(&p, &knobs)?;
    let email = p.get("email").map(str::to_lowercase);
    let expand = p.expands("memberships");
    let (data, more) = sim.inner.store.with_env(&env, |d| {
        let (rows, more) = d.users.page(
            lp.starting_after.as_deref(),
            lp.descending,
            lp.limit,
            |u| match &email {
                Some(e) => u
                    .attributes
                    .get("email")
                    .and_then(Value::as_str)
                    .is_some_and(|v| v.to_lowercase() == *e),
                None => true,
            },
        )?;
        Ok((
            rows.into_iter().map(|u| d.user_json(u, expand)).collect(),
            more,
        ))
    })?;
    Ok(Json(list_json("/users", &p, data, more)))
}

async fn get_one(
    State(sim): State<Simulator>,
    Env(env): Env,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult<Json<Value>> {
    let expand = p.expands("memberships");
    sim.inner.store.with_env(&env, |d| {
        let u = d
            .users
            .get(&id)
            .ok_or_else(|| ApiError::not_found("user", &id))?;
        Ok(Json(d.user_json(u, expand)))
    })
}

async fn delete_one(
    State(sim): State<Simulator>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    sim.inner.store.with_env(&env, |d| d.delete_user(&id))?;
    Ok(Json(json!({"id": id, "object": "user", "deleted": true})))
}

async fn remove_membership(
    State(sim): State<Simulator>,
    Env(env): Env,
    Path((user_id, group_id)): Path<(String, String)>,
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
        .route("/users", post(upsert).get(list))
        .route("/users/{id}", get(get_one).delete(delete_one))
        .route(
            "/users/{user_id}/memberships/{group_id}",
            delete(remove_membership),
        )
}
