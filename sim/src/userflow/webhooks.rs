//! Webhook subscriptions (§8) and notifications.
//!
//! Routes: `POST /webhook_subscriptions` (returns `secret`, random 32-byte hex), `GET` list and
//! one, `PATCH` (`url`, `topics`, `disabled`, `api_version`), `DELETE`. Notifications: every
//! [`Change`] becomes one `webhook_notification` (one per request, `api_version` 2020-01-03),
//! sent to each enabled subscription of the environment whose topics match: `*`, the exact
//! topic, a parent topic (`user`, `group`, `event`, `event.tracked` covers all events) or
//! `event.tracked.<name>`. Sending, retries and misbehaviour switches are
//! [`crate::delivery::Deliverer`]'s (partition = subscription id), signing is
//! [`super::signature`]. Each notification is also kept in the [`Outbox`] for inspection.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Env;
use super::errors::{ApiError, ApiResult, JsonBody};
use super::paging::{Params, list_response};
use super::signature::UserflowSigner;
use super::store::{Change, Subscription, subscription_json};
use super::{API_VERSION, Simulator};
use crate::delivery::Delivery;

const OUTBOX_CAP: usize = 10_000;

/// The `object` of a subscription (and the kind named in its 404s).
const SUBSCRIPTION: &str = "webhook_subscription";

/// Notifications produced (whether or not any subscription received them).
#[derive(Default)]
pub struct Outbox {
    items: Mutex<VecDeque<Value>>,
}

impl Outbox {
    /// All kept notifications, oldest first: `{env, topic, subscriptions:[ids], body}`.
    pub fn list(&self) -> Vec<Value> {
        self.items
            .lock()
            .map(|i| i.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Forgets them.
    pub fn clear(&self) {
        if let Ok(mut i) = self.items.lock() {
            i.clear();
        }
    }

    fn push(&self, v: Value) {
        if let Ok(mut i) = self.items.lock() {
            if i.len() >= OUTBOX_CAP {
                i.pop_front();
            }
            i.push_back(v);
        }
    }
}

/// Whether a subscription topic covers a notification topic (and event name).
pub fn topic_matches(sub_topic: &str, topic: &str, event_name: Option<&str>) -> bool {
    if sub_topic == "*" || sub_topic == topic {
        return true;
    }
    if topic.len() > sub_topic.len()
        && topic.starts_with(sub_topic)
        && topic.as_bytes().get(sub_topic.len()) == Some(&b'.')
    {
        return true;
    }
    match (event_name, sub_topic.strip_prefix("event.tracked.")) {
        (Some(name), Some(wanted)) => topic == "event.tracked" && name == wanted,
        _ => false,
    }
}

/// Whether a topic may be subscribed to.
pub fn valid_topic(t: &str) -> bool {
    const FIXED: &[&str] = &[
        "*",
        "user",
        "user.created",
        "user.updated",
        "group",
        "group.created",
        "group.updated",
        "event",
        "event.tracked",
    ];
    FIXED.contains(&t)
        || t.strip_prefix("event.tracked.")
            .is_some_and(super::attributes::valid_name)
}

/// Sends the notifications for `changes` in `env`.
pub fn emit(sim: &Simulator, env: &str, changes: Vec<Change>) {
    if changes.is_empty() {
        return;
    }
    let knobs = sim.knobs();
    let subs: Vec<Subscription> = sim
        .inner
        .store
        .with_env(env, |d| {
            Ok(d.subscriptions
                .iter()
                .filter(|s| !s.disabled)
                .cloned()
                .collect())
        })
        .unwrap_or_default();
    for change in changes {
        let id = uuid::Uuid::new_v4().to_string();
        let body = json!({
            "id": id,
            "object": "webhook_notification",
            "api_version": API_VERSION,
            "created_at": super::attributes::now_iso(),
            "topic": change.topic,
            "data": change.data,
        });
        let bytes = match serde_json::to_vec(&body) {
            Ok(b) => b,
            Err(_) => continue,
        };
        let name = change.event_name.as_deref();
        let targets: Vec<&Subscription> = subs
            .iter()
            .filter(|s| {
                s.topics
                    .iter()
                    .any(|t| topic_matches(t, change.topic, name))
            })
            .collect();
        let object_id = change
            .data
            .pointer("/object/id")
            .and_then(Value::as_str)
            .unwrap_or("");
        for s in &targets {
            sim.inner.deliverer.send(Delivery {
                partition: s.id.clone(),
                url: s.url.clone(),
                body: bytes.clone(),
                signer: Arc::new(UserflowSigner {
                    secret: s.secret.clone(),
                    enabled: knobs.webhook_sign,
                    skew_s: knobs.webhook_signature_skew_s,
                }),
                label: format!("{} {object_id}", change.topic),
            });
        }
        sim.inner.outbox.push(json!({
            "env": env,
            "topic": change.topic,
            "event_name": name,
            "subscriptions": targets.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
            "body": body,
        }));
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    api_version: Option<String>,
    url: String,
    topics: Vec<String>,
    #[serde(default)]
    disabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    topics: Option<Vec<String>>,
    #[serde(default)]
    disabled: Option<bool>,
}

fn check_api_version(v: Option<&str>) -> ApiResult<()> {
    match v {
        Some(API_VERSION) => Ok(()),
        Some(other) => Err(ApiError::bad(
            "invalid_api_version",
            format!("api_version must be {API_VERSION}, got '{other}'"),
        )),
        None => Err(ApiError::bad(
            "invalid_api_version",
            format!("api_version is required ({API_VERSION})"),
        )),
    }
}

fn check_url(u: &str, https_only: bool) -> ApiResult<()> {
    let ok = url::Url::parse(u).ok().is_some_and(|p| {
        (p.scheme() == "https" || (!https_only && p.scheme() == "http")) && p.host().is_some()
    });
    if ok {
        Ok(())
    } else {
        let need = if https_only { "an https" } else { "an http(s)" };
        Err(ApiError::bad(
            "invalid_url",
            format!("url must be {need} URL, got '{u}'"),
        ))
    }
}

fn check_topics(topics: &[String]) -> ApiResult<()> {
    if topics.is_empty() {
        return Err(ApiError::bad(
            "invalid_topics",
            "topics must list at least one topic",
        ));
    }
    if let Some(bad) = topics.iter().find(|t| !valid_topic(t)) {
        return Err(ApiError::bad(
            "invalid_topics",
            format!("Unknown topic '{bad}'"),
        ));
    }
    Ok(())
}

async fn create(
    State(sim): State<Simulator>,
    Env(env): Env,
    JsonBody(b): JsonBody<CreateBody>,
) -> ApiResult<Json<Value>> {
    let knobs = sim.knobs();
    check_api_version(b.api_version.as_deref())?;
    check_url(&b.url, knobs.require_https_webhook_url)?;
    check_topics(&b.topics)?;
    let now = super::attributes::now_iso();
    let sub = Subscription {
        id: uuid::Uuid::new_v4().to_string(),
        api_version: API_VERSION.to_string(),
        url: b.url,
        topics: b.topics,
        disabled: b.disabled.unwrap_or(false),
        secret: hex::encode(rand::random::<[u8; 32]>()),
        created_at: now.clone(),
        updated_at: now,
    };
    let out = subscription_json(&sub, true);
    sim.inner.store.with_env(&env, |d| {
        d.subscriptions.put(&sub.id.clone(), sub);
        Ok(())
    })?;
    Ok(Json(out))
}

async fn list(State(sim): State<Simulator>, Env(env): Env, p: Params) -> ApiResult<Json<Value>> {
    list_response(&sim, &env, "/webhook_subscriptions", &p, |d, lp, knobs| {
        d.subscriptions
            .page(lp, |_| true, |s| subscription_json(s, knobs.secret_on_get))
    })
}

async fn get_one(
    State(sim): State<Simulator>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let with_secret = sim.knobs().secret_on_get;
    sim.inner.store.with_env(&env, |d| {
        let s = d.subscriptions.find(SUBSCRIPTION, &id)?;
        Ok(Json(subscription_json(s, with_secret)))
    })
}

async fn patch(
    State(sim): State<Simulator>,
    Env(env): Env,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<PatchBody>,
) -> ApiResult<Json<Value>> {
    let knobs = sim.knobs();
    if let Some(v) = &b.api_version {
        check_api_version(Some(v))?;
    }
    if let Some(u) = &b.url {
        check_url(u, knobs.require_https_webhook_url)?;
    }
    if let Some(t) = &b.topics {
        check_topics(t)?;
    }
    sim.inner.store.with_env(&env, |d| {
        let s = d.subscriptions.find_mut(SUBSCRIPTION, &id)?;
        if let Some(u) = b.url {
            s.url = u;
        }
        if let Some(t) = b.topics {
            s.topics = t;
        }
        if let Some(dis) = b.disabled {
            s.disabled = dis;
        }
        s.updated_at = super::attributes::now_iso();
        Ok(Json(subscription_json(s, knobs.secret_on_get)))
    })
}

async fn delete(
    State(sim): State<Simulator>,
    Env(env): Env,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    sim.inner
        .store
        .with_env(&env, |d| d.subscriptions.take(SUBSCRIPTION, &id))?;
    Ok(Json(
        json!({"id": id, "object": SUBSCRIPTION, "deleted": true}),
    ))
}

pub(crate) fn routes() -> Router<Simulator> {
    Router::new()
        .route("/webhook_subscriptions", post(create).get(list))
        .route(
            "/webhook_subscriptions/{id}",
            get(get_one).patch(patch).delete(delete),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics() {
        assert!(topic_matches("*", "user.created", None));
        assert!(topic_matches("user", "user.updated", None));
        assert!(!topic_matches("user", "group.updated", None));
        assert!(!topic_matches("use", "user.updated", None));
        assert!(topic_matches("event", "event.tracked", Some("x")));
        assert!(topic_matches("event.tracked", "event.tracked", Some("x")));
        assert!(topic_matches(
            "event.tracked.flow_started",
            "event.tracked",
            Some("flow_started")
        ));
        assert!(!topic_matches(
            "event.tracked.flow_started",
            "event.tracked",
            Some("flow_ended")
        ));
        assert!(!topic_matches("user.created", "user.updated", None));
        assert!(valid_topic("event.tracked.invoice_paid"));
        assert!(!valid_topic("event.tracked."));
        assert!(!valid_topic("user.deleted"));
    }
}
