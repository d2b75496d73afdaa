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
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::Simulator;
use super::super::auth::DeveloperApp;
use super::super::crm::{batch_error, batch_response};
use super::super::errors::HubspotError;
use super::super::store::{iso, now_ms};
use super::{Data, Settings, Subscription, json_body};

/// Path versions accepted after `/webhooks/`.
const VERSIONS: [&str; 2] = ["v3", "2026-03"];

/// Properties that cannot be subscribed to (§9.2).
const UNSUBSCRIBABLE: [&str; 2] = ["hs_lastmodifieddate", "num_unique_conversion_events"];

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

/// The app of a management route: a developer key, a known path version (else 404), and the
/// key's app in the path (else 401).
struct WebhookApp(u64);

impl FromRequestParts<Simulator> for WebhookApp {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        sim: &Simulator,
    ) -> Result<Self, Self::Rejection> {
        let app = DeveloperApp::from_request_parts(parts, sim)
            .await
            .map_err(IntoResponse::into_response)?;
        let version = parts.uri.path().split('/').nth(2).unwrap_or_default();
        if !VERSIONS.contains(&version) {
            return Err(HubspotError::plain(StatusCode::NOT_FOUND, "Not found.").into_response());
        }
        let app_id = app
            .owned_app_id(parts, sim)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(WebhookApp(app_id))
    }
}

/// The subscription `sub_id` of `app_id`, or 404 `OBJECT_NOT_FOUND`.
fn own_subscription<'a>(
    data: &'a mut Data,
    app_id: u64,
    sub_id: &str,
) -> Result<&'a mut Subscription, HubspotError> {
    sub_id
        .parse::<u64>()
        .ok()
        .and_then(|id| data.subscriptions.get_mut(&id))
        .filter(|s| s.app_id == app_id)
        .ok_or_else(|| {
            HubspotError::new(
                StatusCode::NOT_FOUND,
                "OBJECT_NOT_FOUND",
                format!("Subscription {sub_id} not found"),
            )
            .with("context", json!({"id": [sub_id]}))
        })
}

type Answer = Result<Response, HubspotError>;

async fn get_settings(WebhookApp(app_id): WebhookApp, State(sim): State<Simulator>) -> Answer {
    match sim.inner.webhooks.data().settings.get(&app_id) {
        Some(s) => Ok(Json(settings_json(s)).into_response()),
        None => Err(HubspotError::new(
            StatusCode::NOT_FOUND,
            "OBJECT_NOT_FOUND",
            format!("No webhook settings found for app {app_id}"),
        )),
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
    WebhookApp(app_id): WebhookApp,
    State(sim): State<Simulator>,
    body: Bytes,
) -> Answer {
    let input: SettingsInput = json_body(&body)?;
    let target_url = input
        .target_url
        .filter(|u| !u.is_empty())
        .ok_or_else(|| HubspotError::validation("targetUrl is required"))?;
    match url::Url::parse(&target_url) {
        Ok(u) if u.scheme() == "https" || u.scheme() == "http" => {}
        _ => {
            return Err(HubspotError::validation(format!(
                "targetUrl is not a valid URL: {target_url}"
            )));
        }
    }
    let throttling = input
        .throttling
        .ok_or_else(|| HubspotError::validation("throttling is required"))?;
    let max = throttling.max_concurrent_requests.unwrap_or(0);
    if max <= 5 {
        return Err(HubspotError::validation(format!(
            "throttling.maxConcurrentRequests must be greater than 5, got {max}"
        )));
    }
    let period = throttling.period.unwrap_or_else(|| "SECONDLY".into());
    if period != "SECONDLY" && period != "ROLLING_MINUTE" {
        return Err(HubspotError::validation(format!(
            "throttling.period must be SECONDLY or ROLLING_MINUTE, got {period}"
        )));
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
    Ok(Json(out).into_response())
}

async fn delete_settings(WebhookApp(app_id): WebhookApp, State(sim): State<Simulator>) -> Answer {
    sim.inner.webhooks.data().settings.remove(&app_id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_subscriptions(
    WebhookApp(app_id): WebhookApp,
    State(sim): State<Simulator>,
) -> Answer {
    let results: Vec<Value> = sim
        .inner
        .webhooks
        .subscriptions(app_id)
        .iter()
        .map(subscription_json)
        .collect();
    Ok(Json(json!({"results": results})).into_response())
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
    WebhookApp(app_id): WebhookApp,
    State(sim): State<Simulator>,
    body: Bytes,
) -> Answer {
    let input: SubscriptionInput = json_body(&body)?;
    let event_type = input
        .event_type
        .ok_or_else(|| HubspotError::validation("eventType is required"))?;
    let property_name = input.property_name.filter(|p| !p.is_empty());
    validate_subscription(
        &event_type,
        property_name.as_deref(),
        input.object_type_id.as_deref(),
    )
    .map_err(HubspotError::validation)?;
    let cap = sim.inner.webhooks.knobs().max_subscriptions_per_app;
    let mut data = sim.inner.webhooks.data();
    let mine: Vec<&Subscription> = data
        .subscriptions
        .values()
        .filter(|s| s.app_id == app_id)
        .collect();
    if mine.len() >= cap {
        return Err(HubspotError::validation(format!(
            "App {app_id} already has the maximum of {cap} subscriptions"
        )));
    }
    if mine.iter().any(|s| {
        s.event_type == event_type
            && s.property_name == property_name
            && s.object_type_id == input.object_type_id
    }) {
        return Err(HubspotError::validation(format!(
            "A subscription for {event_type}{} already exists",
            property_name
                .as_deref()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default()
        )));
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
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

async fn get_subscription(
    WebhookApp(app_id): WebhookApp,
    State(sim): State<Simulator>,
    Path((_, _, sub_id)): Path<(String, String, String)>,
) -> Answer {
    let mut data = sim.inner.webhooks.data();
    let s = own_subscription(&mut data, app_id, &sub_id)?;
    Ok(Json(subscription_json(s)).into_response())
}

#[derive(Deserialize)]
struct PatchInput {
    active: Option<bool>,
}

async fn patch_subscription(
    WebhookApp(app_id): WebhookApp,
    State(sim): State<Simulator>,
    Path((_, _, sub_id)): Path<(String, String, String)>,
    body: Bytes,
) -> Answer {
    let input: PatchInput = json_body(&body)?;
    let mut data = sim.inner.webhooks.data();
    let s = own_subscription(&mut data, app_id, &sub_id)?;
    if let Some(active) = input.active {
        s.active = active;
        s.updated_at_ms = now_ms();
    }
    Ok(Json(subscription_json(s)).into_response())
}

async fn delete_subscription(
    WebhookApp(app_id): WebhookApp,
    State(sim): State<Simulator>,
    Path((_, _, sub_id)): Path<(String, String, String)>,
) -> Answer {
    let mut data = sim.inner.webhooks.data();
    let id = own_subscription(&mut data, app_id, &sub_id)?.id;
    data.subscriptions.remove(&id);
    Ok(StatusCode::NO_CONTENT.into_response())
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
    WebhookApp(app_id): WebhookApp,
    State(sim): State<Simulator>,
    body: Bytes,
) -> Answer {
    let input: BatchInput = json_body(&body)?;
    let inputs = input
        .inputs
        .ok_or_else(|| HubspotError::validation("inputs is required"))?;
    let started = now_ms();
    let mut results = Vec::new();
    let mut errors = Vec::new();
    let mut data = sim.inner.webhooks.data();
    for item in inputs {
        let raw = match &item.id {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let context = json!({"id": [raw]});
        match (own_subscription(&mut data, app_id, &raw), item.active) {
            (Ok(s), Some(active)) => {
                s.active = active;
                s.updated_at_ms = now_ms();
                results.push(subscription_json(s));
            }
            (Ok(_), None) => errors.push(batch_error(
                "VALIDATION_ERROR",
                &format!("active is required for subscription {raw}"),
                context,
            )),
            (Err(_), _) => errors.push(batch_error(
                "SUBSCRIPTION_ID_NOT_FOUND",
                &format!("Subscription {raw} not found"),
                context,
            )),
        }
    }
    Ok(batch_response(StatusCode::OK, results, errors, started))
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
