//! Events (§6): `POST /events` `{name, user_id?, group_id?, attributes?, time?}`; at least one
//! of `user_id`/`group_id` (400 otherwise); `time` defaults to the time of receipt. Answers the
//! event object `{id, object:"event", name, user_id, group_id, attributes, time, created_at}`.
//! Also the built-in event names and their (unconfirmed, §10) default attributes, used by the
//! control route `track`.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::Simulator;
use super::auth::Env;
use super::errors::{ApiResult, JsonBody};
use super::store::EventInput;
use super::webhooks::emit;

/// Built-in event names (§10).
pub const BUILT_IN_EVENTS: &[&str] = &[
    "flow_started",
    "flow_step_seen",
    "flow_completed",
    "flow_ended",
    "tooltip_target_missing",
    "checklist_started",
    "checklist_shown",
    "checklist_hidden",
    "checklist_task_clicked",
    "checklist_task_completed",
    "checklist_completed",
    "checklist_ended",
    "question_answered",
    "launcher_seen",
    "launcher_activated",
    "launcher_dismissed",
    "resource_center_opened",
    "resource_center_closed",
    "resource_center_clicked",
    "announcement_seen",
    "banner_seen",
    "banner_dismissed",
    "assistant_message_sent",
    "assistant_rating_submitted",
    "assistant_feedback_submitted",
    "page_viewed",
    "random_ab_assigned",
    "random_number_assigned",
];

/// Default attributes of a built-in event, named as in §10 (unconfirmed names). Empty for
/// other events. Values are fixed demo values; given attributes override them.
pub fn built_in_attributes(name: &str) -> Map<String, Value> {
    let common = json!({"page_url": "https://app.example.com/", "viewport_width": 1280,
                        "viewport_height": 800, "locale_code": "en-US"});
    let specific = if name.starts_with("flow_") || name == "tooltip_target_missing" {
        let mut v = json!({"flow_id": "flow_demo", "flow_name": "Onboarding", "flow_version_id": "fv_demo",
                           "flow_version_number": 1, "flow_session_id": "fs_demo"});
        let extra = match name {
            "flow_started" => json!({"flow_start_reason": "action"}),
            "flow_step_seen" | "tooltip_target_missing" => json!({"flow_step_id": "step_1",
                "flow_step_cvid": "cv_1", "flow_step_name": "Welcome", "flow_step_number": 1,
                "flow_step_progress": 0.5}),
            "flow_ended" => json!({"flow_end_reason": "dismissed"}),
            _ => json!({}),
        };
        merge(&mut v, extra);
        v
    } else if name.starts_with("checklist_") {
        let mut v = json!({"checklist_id": "cl_demo", "checklist_name": "Getting started",
                           "checklist_session_id": "cs_demo", "checklist_version_id": "cv_demo",
                           "checklist_version_number": 1});
        if name.starts_with("checklist_task") {
            merge(
                &mut v,
                json!({"checklist_task_id": "task_1", "checklist_task_cvid": "tcv_1",
                                 "checklist_task_name": "Invite a teammate"}),
            );
        }
        v
    } else if name.starts_with("launcher_") {
        json!({"launcher_id": "ln_demo", "launcher_name": "Help beacon", "launcher_session_id": "ls_demo",
               "launcher_version_id": "lv_demo", "launcher_version_number": 1})
    } else if name == "question_answered" {
        json!({"flow_id": "flow_demo", "question_cvid": "q_1", "question_name": "How likely are you to recommend us?",
               "question_type": "nps", "number_answer": 9})
    } else if BUILT_IN_EVENTS.contains(&name) {
        json!({})
    } else {
        return Map::new();
    };
    let mut out = common;
    merge(&mut out, specific);
    out.as_object().cloned().unwrap_or_default()
}

fn merge(into: &mut Value, from: Value) {
    if let (Some(a), Value::Object(b)) = (into.as_object_mut(), from) {
        a.extend(b);
    }
}

/// Records `input` in `env` and sends its notifications; answers the event object. Shared by
/// `POST /events` and the control route `track`.
pub(crate) fn track_and_emit(
    sim: &Simulator,
    env: &str,
    input: EventInput,
) -> ApiResult<Json<Value>> {
    let knobs = sim.knobs();
    let (out, changes) = sim.inner.store.with_env(env, |d| d.track(input, &knobs))?;
    emit(sim, env, changes);
    Ok(Json(out))
}

async fn track(
    State(sim): State<Simulator>,
    Env(env): Env,
    JsonBody(input): JsonBody<EventInput>,
) -> ApiResult<Json<Value>> {
    track_and_emit(&sim, &env, input)
}

pub(crate) fn routes() -> Router<Simulator> {
    Router::new().route("/events", post(track))
}
