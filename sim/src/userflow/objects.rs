//! The routes users (§3) and groups (§5) share, written once over [`Object`]:
//!
//! | route | answer |
//! | --- | --- |
//! | `POST /{users,groups}` | the object after the upsert (status: knob `upsert_status`) |
//! | `GET /{users,groups}` | a list object (paged; the kind's own filters) |
//! | `GET /{users,groups}/{id}` | the object, 404 `not_found` if unknown |
//! | `DELETE /{users,groups}/{id}` | `{id, object, deleted: true}` |
//! | `DELETE /users/{user_id}/memberships/{group_id}`, `DELETE /groups/{group_id}/memberships/{user_id}` | `{object: "group_membership", user_id, group_id, deleted: true}` |
//!
//! `expand=memberships` adds `memberships` to every object answered.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::Simulator;
use super::auth::Env;
use super::errors::{ApiResult, JsonBody};
use super::knobs::Knobs;
use super::paging::{Params, list_response};
use super::store::{Change, EnvData, ObjectKind, User};
use super::webhooks::emit;

/// What differs between users and groups on the API.
pub(crate) trait Object: Send + Sync + 'static {
    /// Which one.
    const KIND: ObjectKind;
    /// Body of the upsert.
    type Input: DeserializeOwned + Send + 'static;
    /// The id the upsert names.
    fn id(input: &Self::Input) -> &str;
    /// The store write of the upsert.
    fn upsert(d: &mut EnvData, input: Self::Input, knobs: &Knobs) -> ApiResult<Vec<Change>>;
    /// Which rows a list request keeps (from its query string).
    fn list_filter(p: &Params) -> impl Fn(&User) -> bool;
}

/// Runs `write` on `env`, renders the `kind` object `id` afterwards (with memberships when
/// `expand`) and sends the notifications the write caused.
pub(crate) fn write_and_render(
    sim: &Simulator,
    env: &str,
    kind: ObjectKind,
    id: &str,
    expand: bool,
    write: impl FnOnce(&mut EnvData) -> ApiResult<Vec<Change>>,
) -> ApiResult<Value> {
    let (changes, out) = sim.inner.store.with_env(env, |d| {
        let changes = write(d)?;
        Ok((changes, d.render_id(kind, id, expand)?))
    })?;
    emit(sim, env, changes);
    Ok(out)
}

async fn upsert<K: Object>(
    State(sim): State<Simulator>,
    Env(env): Env,
    p: Params,
    JsonBody(input): JsonBody<K::Input>,
) -> ApiResult<Response> {
    let knobs = sim.knobs();
    let id = K::id(&input).to_string();
    let expand = p.expands("memberships");
    let out = write_and_render(&sim, &env, K::KIND, &id, expand, |d| {
        K::upsert(d, input, &knobs)
    })?;
    let status = StatusCode::from_u16(knobs.upsert_status).unwrap_or(StatusCode::OK);
    Ok((status, Json(out)).into_response())
}

async fn list<K: Object>(
    State(sim): State<Simulator>,
    Env(env): Env,
    p: Params,
) -> ApiResult<Json<Value>> {
    let filter = K::list_filter(&p);
    let expand = p.expands("memberships");
    let path = format!("/{}s", K::KIND.as_str());
    list_response(&sim, &env, &path, &p, |d, lp, _| {
        d.table(K::KIND)
            .page(lp, &filter, |o| d.render(K::KIND, o, expand))
    })
}

async fn get_one<K: Object>(
    State(sim): State<Simulator>,
    Env(env): Env,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult<Json<Value>> {
    let expand = p.expands("memberships");
    sim.inner
        .store
        .with_env(&env, |d| d.render_id(K::KIND, &id, expand).map(Json))
}

async fn delete_one<K: Object>(
    State(sim): State<Simulator>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    sim.inner.store.with_env(&env, |d| d.delete(K::KIND, &id))?;
    Ok(Json(
        json!({"id": id, "object": K::KIND.as_str(), "deleted": true}),
    ))
}

/// The path names this object first, the other side of the membership second.
async fn remove_membership<K: Object>(
    State(sim): State<Simulator>,
    Env(env): Env,
    Path((own_id, other_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (user_id, group_id) = match K::KIND {
        ObjectKind::User => (own_id, other_id),
        ObjectKind::Group => (other_id, own_id),
    };
    sim.inner
        .store
        .with_env(&env, |d| d.remove_membership(&group_id, &user_id))?;
    Ok(Json(
        json!({"object": "group_membership", "user_id": user_id, "group_id": group_id, "deleted": true}),
    ))
}

/// `/{kind}s`, `/{kind}s/{id}` and `/{kind}s/{{kind}_id}/memberships/{{other}_id}`.
pub(crate) fn routes<K: Object>() -> Router<Simulator> {
    let (own, other) = (K::KIND.as_str(), K::KIND.other().as_str());
    Router::new()
        .route(&format!("/{own}s"), post(upsert::<K>).get(list::<K>))
        .route(
            &format!("/{own}s/{{id}}"),
            get(get_one::<K>).delete(delete_one::<K>),
        )
        .route(
            &format!("/{own}s/{{{own}_id}}/memberships/{{{other}_id}}"),
            delete(remove_membership::<K>),
        )
}
