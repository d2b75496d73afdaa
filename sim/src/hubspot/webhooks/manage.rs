//! The webhooks management API (§9.1, §9.2), developer-key authenticated:
//! `GET/PUT/DELETE /webhooks/{v3|2026-03}/{appId}/settings` and
//! `/webhooks/{v3|2026-03}/{appId}/subscriptions[/{id}|/batch/update]`.
//!
//! Simulator choices (undocumented): a key used for another app's path answers 401
//! `INVALID_AUTHENTICATION`; GET settings before any PUT answers 404 `OBJECT_NOT_FOUND`; a
//! second subscription with the same `eventType`/`propertyName`/`objectTypeId` answers 400;
//! `propertyName` on a non-propertyChange type and `objectTypeId` on a non-`object.*` type
//! answer 400.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{SecondsFormat, TimeZone, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::Simulator;
use super::super::auth::DeveloperApp;
use super::super::errors::HubspotError;
use super::{Settings, Subscription, json_body};

/// Path versions accepted after `/webhooks/`.
const VERSIONS: [&str; 2] = ["v3", "2026-03"];

/// Properties that cannot be subscribed to (§9.2).
const UNSUBSCRIBABLE: [&str; 2] = ["hs_lastmodifieddate", "num_unique_conversion_events"];

fn iso(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default()
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// The object type id a standard subscription prefix refers to.
pub fn object_type_id_for(prefix: &str) -> Option<&'static str> {
    Some(match prefix {
        "contact" => "0-1",
        "company" => "0-2",
        "deal" => "0-3",
        "ticket" => "0-5",
        "product" => "0-7",
        "line_item" => "0-8",
        _ => return None,
    })
}

/// Actions each subscription prefix supports (§9.2).
fn actions_for(prefix: &str) -> Option<&'static [&'static str]> {
    const STANDARD: &[&str] = &[
        "creation",
        "deletion",
        "propertyChange",
        "associationChange",
        "merge",
        "restore",
    ];
    Some(match prefix {
        "contact" => &[
            "creation",
            "deletion",
            "propertyChange",
            "associationChange",
            "merge",
            "restore",
            "privacyDeletion",
        ],
        "company" | "deal" | "ticket" | "line_item" | "object" => STANDARD,
        "product" => &["creation", "deletion", "propertyChange", "merge", "restore"],
        "conversation" => &[
            "creation",
            "deletion",
            "privacyDeletion",
            "propertyChange",
            "newMessage",
        ],
        _ => return None,
    })
}

fn valid_object_type_id(s: &str) -> bool {
    match s.split_once('-') {
        Some((kind, n)) => {
            matches!(kind, "0" | "2") && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// Validates a subscription definition; the message of the 400 on failure.
pub fn validate_subscription(
    event_type: &str,
    property_name: Option<&str>,
    object_type_id: Option<&str>,
) -> Result<(), String> {
    let (prefix, action) = event_type
        .split_once('.')
        .ok_or_else(|| format!("Unknown event type: {event_type}"))?;
    let actions = actions_for(prefix).ok_or_else(|| format!("Unknown event type: {event_type}"))?;
    if !actions.contains(&action) {
        return Err(format!("Unknown event type: {event_type}"));
    }
    if prefix == "object" {
        match object_type_id {
            Some(t) if valid_object_type_id(t) => {}
            Some(t) => return Err(format!("Invalid objectTypeId: {t}")),
            None => {
                return Err(format!(
                    "objectTypeId is required for {event_type} subscriptions"
                ));
            }
        }
    } else if object_type_id.is_some() {
        return Err(format!(
            "objectTypeId is only allowed on object.* subscriptions, not {event_type}"
        ));
    }
    if action == "propertyChange" {
        match property_name {
            None | Some("") => {
                return Err(format!(
                    "propertyName is required for {event_type} subscriptions"
                ));
            }
            Some(p) if UNSUBSCRIBABLE.contains(&p) => {
                return Err(format!("Subscriptions to property {p} are not allowed"));
            }
            Some(_) => {}
        }
    } else if property_name.is_some_and(|p| !p.is_empty()) {
        return Err(format!(
            "propertyName is only allowed on propertyChange subscriptions, not {event_type}"
        ));
    }
    Ok(())
}

/// Settings as the API renders them.
pub fn settings_json(s: &Settings) -> Value {
    json!({
        "targetUrl": s.target_url,
        "throttling": {"maxConcurrentRequests": s.max_concurrent_requests, "period": s.period},
        "createdAt": iso(s.created_at_ms),
        "updatedAt": iso(s.updated_at_ms),
    })
}

/// A subscription as the API renders it (`id` is a string there).
pub fn subscription_json(s: &Subscription) -> Value {
    let mut v = json!({
        "id": s.id.to_string(),
        "eventType": s.event_type,
        "active": s.active,
        "createdAt": iso(s.created_at_ms),
        "updatedAt": iso(s.updated_at_ms),
    });
    if let Some(o) = v.as_object_mut() {
        if let Some(p) = &s.property_name {
            o.insert("propertyName".into(), json!(p));
        }
        if let Some(t) = &s.object_type_id {
            o.insert("objectTypeId".into(), json!(t));
        }
    }
    v
}

/// Checks the path version and that the developer key belongs to the path's app.
fn check(version: &str, app: &DeveloperApp, app_id: &str) -> Result<u64, HubspotError> {
    if !VERSIONS.contains(&version) {
        return Err(HubspotError::plain(StatusCode::NOT_FOUND, "Not found."));
    }
    match app_id.parse::<u64>() {
        Ok(id) if id == app.app_id => Ok(id),
        _ => Err(HubspotError::invalid_authentication()),
    }
}

async fn get_settings(
    State(sim): State<Simulator>,
    app: DeveloperApp,
    Path((version, app_id)): Path<(String, String)>,
) -> Response {
    let app_id = match check(&version, &app, &app_id) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    match sim.inner.webhooks.data().settings.get(&app_id) {
        Some(s) => Json(settings_json(s)).into_response(),
        None => HubspotError::new(
            StatusCode::NOT_FOUND,
            "OBJECT_NOT_FOUND",
            format!("No webhook settings found for app {app_id}"),
        )
        .into_response(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SettingsInput {
    target_url: Option<String>,
    throttling: Option<ThrottlingInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThrottlingInput {
    max_concurrent_requests: Option<i64>,
    period: Option<String>,
}

async fn put_settings(
    State(sim): State<Simulator>,
    app: DeveloperApp,
    Path((version, app_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let app_id = match check(&version, &app, &app_id) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let input: SettingsInput = match json_body(&body) {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    let Some(target_url) = input.target_url.filter(|u| !u.is_empty()) else {
        return HubspotError::validation("targetUrl is required").into_response();
    };
    match url::Url::parse(&target_url) {
        Ok(u) if u.scheme() == "https" || u.scheme() == "http" => {}
        _ => {
            return HubspotError::validation(format!("targetUrl is not a valid URL: {target_url}"))
                .into_response();
        }
    }
    let Some(throttling) = input.throttling else {
        return HubspotError::validation("throttling is required").into_response();
    };
    let max = throttling.max_concurrent_requests.unwrap_or(0);
    if max <= 5 {
        return HubspotError::validation(format!(
            "throttling.maxConcurrentRequests must be greater than 5, got {max}"
        ))
        .into_response();
    }
    let period = throttling.period.unwrap_or_else(|| "SECONDLY".into());
    if period != "SECONDLY" && period != "ROLLING_MINUTE" {
        return HubspotError::validation(format!(
            "throttling.period must be SECONDLY or ROLLING_MINUTE, got {period}"
        ))
        .into_response();
    }
    let now = now_ms();
    let mut data = sim.inner.webhooks.data();
    let created_at_ms = data
        .settings
        .get(&app_id)
        .map(|s| s.created_at_ms)
        .unwrap_or(now);
    let s = Settings {
        target_url,
        max_concurrent_requests: max as u64,
        period,
        created_at_ms,
        updated_at_ms: now,
    };
    let out = settings_json(&s);
    data.settings.insert(app_id, s);
    Json(out).into_response()
}

async fn delete_settings(
    State(sim): State<Simulator>,
    app: DeveloperApp,
    Path((version, app_id)): Path<(String, String)>,
) -> Response {
    let app_id = match check(&version, &app, &app_id) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    sim.inner.webhooks.data().settings.remove(&app_id);
    StatusCode::NO_CONTENT.into_response()
}

async fn list_subscriptions(
    State(sim): State<Simulator>,
    app: DeveloperApp,
    Path((version, app_id)): Path<(String, String)>,
) -> Response {
    let app_id = match check(&version, &app, &app_id) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let results: Vec<Value> = sim
        .inner
        .webhooks
        .subscriptions(app_id)
        .iter()
        .map(subscription_json)
        .collect();
    Json(json!({"results": results})).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubscriptionInput {
    event_type: Option<String>,
    property_name: Option<String>,
    active: Option<bool>,
    object_type_id: Option<String>,
}

async fn create_subscription(
    State(sim): State<Simulator>,
    app: DeveloperApp,
    Path((version, app_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let app_id = match check(&version, &app, &app_id) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let input: SubscriptionInput = match json_body(&body) {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    let Some(event_type) = input.event_type else {
        return HubspotError::validation("eventType is required").into_response();
    };
    let property_name = input.property_name.filter(|p| !p.is_empty());
    if let Err(msg) = validate_subscription(
        &event_type,
        property_name.as_deref(),
        input.object_type_id.as_deref(),
    ) {
        return HubspotError::validation(msg).into_response();
    }
    let cap = sim.inner.webhooks.knobs().max_subscriptions_per_app;
    let mut data = sim.inner.webhooks.data();
    let mine: Vec<&Subscription> = data
        .subscriptions
        .values()
        .filter(|s| s.app_id == app_id)
        .collect();
    if mine.len() >= cap {
        return HubspotError::validation(format!(
            "App {app_id} already has the maximum of {cap} subscriptions"
        ))
        .into_response();
    }
    if mine.iter().any(|s| {
        s.event_type == event_type
            && s.property_name == property_name
            && s.object_type_id == input.object_type_id
    }) {
        return HubspotError::validation(format!(
            "A subscription for {event_type}{} already exists",
            property_name
                .as_deref()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default()
        ))
        .into_response();
    }
    let now = now_ms();
    let id = data.next_subscription_id;
    data.next_subscription_id += 1;
    let sub = Subscription {
        id,
        app_id,
        event_type,
        property_name,
        object_type_id: input.object_type_id,
        active: input.active.unwrap_or(false),
        created_at_ms: now,
        updated_at_ms: now,
    };
    let out = subscription_json(&sub);
    data.subscriptions.insert(id, sub);
    (StatusCode::CREATED, Json(out)).into_response()
}

fn subscription_not_found(id: &str) -> Response {
    HubspotError::new(
        StatusCode::NOT_FOUND,
        "OBJECT_NOT_FOUND",
        format!("Subscription {id} not found"),
    )
    .with("context", json!({"id": [id]}))
    .into_response()
}

async fn get_subscription(
    State(sim): State<Simulator>,
    app: DeveloperApp,
    Path((version, app_id, sub_id)): Path<(String, String, String)>,
) -> Response {
    let app_id = match check(&version, &app, &app_id) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let data = sim.inner.webhooks.data();
    match sub_id
        .parse::<u64>()
        .ok()
        .and_then(|id| data.subscriptions.get(&id))
    {
        Some(s) if s.app_id == app_id => Json(subscription_json(s)).into_response(),
        _ => subscription_not_found(&sub_id),
    }
}

#[derive(Deserialize)]
struct PatchInput {
    active: Option<bool>,
}

async fn patch_subscription(
    State(sim): State<Simulator>,
    app: DeveloperApp,
    Path((version, app_id, sub_id)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let app_id = match check(&version, &app, &app_id) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let input: PatchInput = match json_body(&body) {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    let mut data = sim.inner.webhooks.data();
    match sub_id
        .parse::<u64>()
        .ok()
        .and_then(|id| data.subscriptions.get_mut(&id))
    {
        Some(s) if s.app_id == app_id => {
            if let Some(active) = input.active {
                s.active = active;
                s.updated_at_ms = now_ms();
            }
            Json(subscription_json(s)).into_response()
        }
        _ => subscription_not_found(&sub_id),
    }
}

async fn delete_subscription(
    State(sim): State<Simulator>,
    app: DeveloperApp,
    Path((version, app_id, sub_id)): Path<(String, String, String)>,
) -> Response {
    let app_id = match check(&version, &app, &app_id) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let mut data = sim.inner.webhooks.data();
    let id = sub_id.parse::<u64>().ok();
    match id.and_then(|id| data.subscriptions.get(&id)) {
        Some(s) if s.app_id == app_id => {
            if let Some(id) = id {
                data.subscriptions.remove(&id);
            }
            StatusCode::NO_CONTENT.into_response()
        }
        _ => subscription_not_found(&sub_id),
    }
}

#[derive(Deserialize)]
struct BatchInput {
    inputs: Option<Vec<BatchItem>>,
}

#[derive(Deserialize)]
struct BatchItem {
    id: Value,
    active: Option<bool>,
}

async fn batch_update(
    State(sim): State<Simulator>,
    app: DeveloperApp,
    Path((version, app_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let app_id = match check(&version, &app, &app_id) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let input: BatchInput = match json_body(&body) {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    let Some(inputs) = input.inputs else {
        return HubspotError::validation("inputs is required").into_response();
    };
    let started = iso(now_ms());
    let mut results = Vec::new();
    let mut errors = Vec::new();
    {
        let mut data = sim.inner.webhooks.data();
        for item in inputs {
            let raw = match &item.id {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let found = raw
                .parse::<u64>()
                .ok()
                .and_then(|id| data.subscriptions.get_mut(&id))
                .filter(|s| s.app_id == app_id);
            match (found, item.active) {
                (Some(s), Some(active)) => {
                    s.active = active;
                    s.updated_at_ms = now_ms();
                    results.push(subscription_json(s));
                }
                (Some(_), None) => errors.push(json!({
                    "status": "error",
                    "category": "VALIDATION_ERROR",
                    "message": format!("active is required for subscription {raw}"),
                    "context": {"id": [raw]},
                    "errors": [],
                    "links": {},
                })),
                (None, _) => errors.push(json!({
                    "status": "error",
                    "category": "SUBSCRIPTION_ID_NOT_FOUND",
                    "message": format!("Subscription {raw} not found"),
                    "context": {"id": [raw]},
                    "errors": [],
                    "links": {},
                })),
            }
        }
    }
    let completed = iso(now_ms());
    if errors.is_empty() {
        Json(json!({"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": completed}))
            .into_response()
    } else {
        (
            StatusCode::MULTI_STATUS,
            Json(json!({
                "status": "COMPLETE",
                "results": results,
                "numErrors": errors.len(),
                "errors": errors,
                "startedAt": started,
                "completedAt": completed,
            })),
        )
            .into_response()
    }
}

pub(crate) fn routes() -> Router<Simulator> {
    Router::new()
        .route(
            "/webhooks/{version}/{app_id}/settings",
            get(get_settings).put(put_settings).delete(delete_settings),
        )
        .route(
            "/webhooks/{version}/{app_id}/subscriptions",
            get(list_subscriptions).post(create_subscription),
        )
        .route(
            "/webhooks/{version}/{app_id}/subscriptions/batch/update",
            post(batch_update),
        )
        .route(
            "/webhooks/{version}/{app_id}/subscriptions/{sub_id}",
            get(get_subscription)
                .patch(patch_subscription)
                .delete(delete_subscription),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_follow_section_9_2() {
        assert!(validate_subscription("contact.creation", None, None).is_ok());
        assert!(validate_subscription("line_item.merge", None, None).is_ok());
        assert!(validate_subscription("contact.privacyDeletion", None, None).is_ok());
        assert!(validate_subscription("company.privacyDeletion", None, None).is_err());
        assert!(validate_subscription("product.associationChange", None, None).is_err());
        assert!(validate_subscription("contact.propertyChange", Some("email"), None).is_ok());
        assert!(validate_subscription("contact.propertyChange", None, None).is_err());
        assert!(
            validate_subscription("contact.propertyChange", Some("hs_lastmodifieddate"), None)
                .is_err()
        );
        assert!(validate_subscription("object.creation", None, Some("0-1")).is_ok());
        assert!(validate_subscription("object.creation", None, Some("2-1234")).is_ok());
        assert!(validate_subscription("object.creation", None, None).is_err());
        assert!(validate_subscription("object.creation", None, Some("contacts")).is_err());
        assert!(validate_subscription("contact.creation", None, Some("0-1")).is_err());
        assert!(validate_subscription("contact.creation", Some("email"), None).is_err());
        assert!(validate_subscription("contact", None, None).is_err());
        assert!(validate_subscription("widget.creation", None, None).is_err());
    }
}
