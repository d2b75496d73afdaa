//! `/_sim/userflow/` control routes (never faulted, limited or authenticated):
//!
//! - `GET /_sim/userflow/envs`: environments with counts.
//! - `GET /_sim/userflow/envs/{env}/dump`: users (with memberships), groups, memberships,
//!   events, subscriptions (with secrets), attribute and event definitions.
//! - `POST /_sim/userflow/envs/{env}/identify` `{user_id, attributes?}`: like
//!   `userflow.identify` (attributes accept the §4 operations).
//! - `POST /_sim/userflow/envs/{env}/group` `{user_id, group_id, attributes?,
//!   membership_attributes?}`: like `userflow.group` (the user joins the group).
//! - `POST /_sim/userflow/envs/{env}/track` `{name, user_id?, group_id?, attributes?, time?}`:
//!   like `userflow.track`, or the product emitting a built-in event (`flow_started`, …),
//!   whose default attributes (§10) are filled in under the given ones.
//! - `POST /_sim/userflow/envs/{env}/seed` (a [`super::SeedSpec`]).
//! - `GET`/`DELETE /_sim/userflow/requests`: request counts (incl. `Userflow-Version`
//!   presence and values, per route) and the recent requests.
//! - `GET`/`PUT /_sim/userflow/knobs`: [`super::Knobs`] (a `PUT` also refills rate buckets).
//! - `GET`/`DELETE /_sim/userflow/notifications`: notifications produced.
//! - `GET`/`DELETE /_sim/userflow/webhooks/deliveries`, `GET`/`PUT
//!   /_sim/userflow/webhooks/knobs`: the sender's ([`crate::delivery`]).
//!
//! The "as the product would" actions go through the same store and produce the same
//! notifications as the API.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::errors::{ApiResult, JsonBody};
use super::events::{built_in_attributes, track_and_emit};
use super::objects::write_and_render;
use super::seed::SeedSpec;
use super::store::{EventInput, GroupInput, MembershipInput, ObjectKind, UserInput};
use super::{Knobs, Simulator};

async fn envs(State(sim): State<Simulator>) -> Json<Value> {
    let store = sim.inner.store.lock();
    let out: Vec<Value> = sim
        .inner
        .config
        .environments
        .iter()
        .map(|e| {
            let d = store.get(&e.id);
            json!({
                "id": e.id,
                "name": e.name,
                "api_keys": e.api_keys,
                "users": d.map_or(0, |d| d.users.len()),
                "groups": d.map_or(0, |d| d.groups.len()),
                "memberships": d.map_or(0, |d| d.memberships.len()),
                "events": d.map_or(0, |d| d.events.len()),
                "subscriptions": d.map_or(0, |d| d.subscriptions.len()),
            })
        })
        .collect();
    Json(Value::Array(out))
}

async fn dump(State(sim): State<Simulator>, Path(env): Path<String>) -> ApiResult<Json<Value>> {
    sim.inner.store.with_env(&env, |d| Ok(Json(d.dump())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentifyBody {
    user_id: String,
    #[serde(default)]
    attributes: Option<Map<String, Value>>,
}

/// Upserts `input` "as the product would" and answers the user with its memberships.
fn upsert_user(sim: &Simulator, env: &str, input: UserInput) -> ApiResult<Json<Value>> {
    let knobs = sim.knobs();
    let id = input.id.clone();
    write_and_render(sim, env, ObjectKind::User, &id, true, |d| {
        d.upsert_user(input, &knobs)
    })
    .map(Json)
}

async fn identify(
    State(sim): State<Simulator>,
    Path(env): Path<String>,
    JsonBody(b): JsonBody<IdentifyBody>,
) -> ApiResult<Json<Value>> {
    let input = UserInput {
        id: b.user_id,
        attributes: b.attributes,
        ..UserInput::default()
    };
    upsert_user(&sim, &env, input)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupBody {
    user_id: String,
    group_id: String,
    #[serde(default)]
    attributes: Option<Map<String, Value>>,
    #[serde(default)]
    membership_attributes: Option<Map<String, Value>>,
}

async fn group(
    State(sim): State<Simulator>,
    Path(env): Path<String>,
    JsonBody(b): JsonBody<GroupBody>,
) -> ApiResult<Json<Value>> {
    let input = UserInput {
        id: b.user_id,
        memberships: Some(vec![MembershipInput {
            attributes: b.membership_attributes,
            group: GroupInput {
                id: b.group_id,
                attributes: b.attributes,
            },
        }]),
        ..UserInput::default()
    };
    upsert_user(&sim, &env, input)
}

async fn track(
    State(sim): State<Simulator>,
    Path(env): Path<String>,
    JsonBody(mut input): JsonBody<EventInput>,
) -> ApiResult<Json<Value>> {
    let mut attrs = built_in_attributes(&input.name);
    attrs.extend(input.attributes.take().unwrap_or_default());
    input.attributes = Some(attrs);
    track_and_emit(&sim, &env, input)
}

async fn seed(
    State(sim): State<Simulator>,
    Path(env): Path<String>,
    JsonBody(spec): JsonBody<SeedSpec>,
) -> ApiResult<Json<Value>> {
    sim.inner.store.with_env(&env, |_| Ok(()))?;
    super::seed::apply(&sim, &env, &spec);
    let users = sim.inner.store.with_env(&env, |d| Ok(d.users.len()))?;
    Ok(Json(json!({"env": env, "users": users})))
}

async fn requests(State(sim): State<Simulator>) -> Json<Value> {
    Json(json!({"counts": sim.inner.requests.counts(), "recent": sim.inner.requests.recent()}))
}

async fn reset_requests(State(sim): State<Simulator>) -> axum::http::StatusCode {
    sim.inner.requests.reset();
    axum::http::StatusCode::NO_CONTENT
}

async fn get_knobs(State(sim): State<Simulator>) -> Json<Knobs> {
    Json(sim.knobs())
}

async fn put_knobs(State(sim): State<Simulator>, JsonBody(k): JsonBody<Knobs>) -> Json<Knobs> {
    sim.set_knobs(k.clone());
    sim.inner.limiter.reset();
    Json(k)
}

async fn notifications(State(sim): State<Simulator>) -> Json<Value> {
    Json(Value::Array(sim.inner.outbox.list()))
}

async fn clear_notifications(State(sim): State<Simulator>) -> axum::http::StatusCode {
    sim.inner.outbox.clear();
    axum::http::StatusCode::NO_CONTENT
}

pub(crate) fn routes() -> Router<Simulator> {
    Router::new()
        .route("/_sim/userflow/envs", get(envs))
        .route("/_sim/userflow/envs/{env}/dump", get(dump))
        .route("/_sim/userflow/envs/{env}/identify", post(identify))
        .route("/_sim/userflow/envs/{env}/group", post(group))
        .route("/_sim/userflow/envs/{env}/track", post(track))
        .route("/_sim/userflow/envs/{env}/seed", post(seed))
        .route(
            "/_sim/userflow/requests",
            get(requests).delete(reset_requests),
        )
        .route("/_sim/userflow/knobs", get(get_knobs).put(put_knobs))
        .route(
            "/_sim/userflow/notifications",
            get(notifications).delete(clear_notifications),
        )
}
