//! Timeline events (§8), OAuth-bearer authenticated: `POST {prefix}/events` (201),
//! `POST {prefix}/events/batch/create` (201 / 207), `GET {prefix}/events/{templateId}/{eventId}`
//! plus `/detail` (`{details}`) and `/render` (HTML of the header, or of the detail with
//! `?detail=true`; `{{token}}` placeholders replaced, other Handlebars dropped).

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::super::Simulator;
use super::super::auth::Caller;
use super::super::crm::batch_response;
use super::super::errors::HubspotError;
use super::super::store::{iso, now_ms};
use super::super::webhooks::json_body;
use super::{DuplicateIdPolicy, Event, EventCaller, Template, objects};

/// An event as the API renders it (with `objectType` and `createdAt`).
pub fn event_json(e: &Event) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), json!(e.id));
    o.insert("eventTemplateId".into(), json!(e.template_id.to_string()));
    o.insert("objectId".into(), json!(e.object_id.to_string()));
    if let Some(v) = &e.email {
        o.insert("email".into(), json!(v));
    }
    if let Some(v) = &e.utk {
        o.insert("utk".into(), json!(v));
    }
    if let Some(v) = &e.domain {
        o.insert("domain".into(), json!(v));
    }
    o.insert("timestamp".into(), json!(e.timestamp));
    o.insert("tokens".into(), json!(e.tokens));
    if let Some(v) = &e.extra_data {
        o.insert("extraData".into(), v.clone());
    }
    if let Some(v) = &e.timeline_iframe {
        o.insert("timelineIFrame".into(), v.clone());
    }
    o.insert("objectType".into(), json!(e.object_type));
    o.insert("createdAt".into(), json!(iso(e.created_at_ms)));
    Value::Object(o)
}

/// A string field that may also arrive as a number; `Ok(None)` when absent or null.
fn opt_string(input: &Value, key: &str) -> Result<Option<String>, HubspotError> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(HubspotError::validation(format!("{key} must be a string"))),
    }
}

fn not_found(message: String, key: &str, value: &str) -> HubspotError {
    HubspotError::new(StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND", message)
        .with("context", json!({key: [value]}))
}

fn validate_token_value(t: &Template, name: &str, value: &str) -> Result<(), HubspotError> {
    let Some(def) = t.tokens.iter().find(|d| d.name == name) else {
        return Err(HubspotError::validation(format!(
            "Token '{name}' is not defined on event template {}",
            t.id
        ))
        .with("context", json!({"tokenName": [name]})));
    };
    let ok = match def.token_type.as_str() {
        "number" => value.trim().parse::<f64>().is_ok_and(f64::is_finite),
        "date" => !value.is_empty() && value.trim().parse::<i64>().is_ok(),
        "enumeration" => def.options.iter().any(|o| o.value == value),
        _ => true,
    };
    if ok {
        return Ok(());
    }
    let why = match def.token_type.as_str() {
        "number" => "is not a valid number".to_string(),
        "date" => "is not a valid date (epoch milliseconds)".to_string(),
        _ => format!(
            "is not one of the allowed options: [{}]",
            def.options
                .iter()
                .map(|o| o.value.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Err(
        HubspotError::validation(format!("Token '{name}' value '{value}' {why}"))
            .with("context", json!({"tokenName": [name]})),
    )
}

/// Validates and stores one event for `caller`; the rendered event on success.
fn create_event(sim: &Simulator, caller: &Caller, input: &Value) -> Result<Value, HubspotError> {
    if !input.is_object() {
        return Err(HubspotError::validation("Each event must be a JSON object"));
    }
    let Some(template_id) = opt_string(input, "eventTemplateId")? else {
        return Err(HubspotError::validation("eventTemplateId is required"));
    };
    let template = template_id
        .parse::<u64>()
        .ok()
        .and_then(|id| sim.inner.timeline.data().templates.get(&id).cloned())
        .filter(|t| Some(t.app_id) == caller.app_id)
        .ok_or_else(|| {
            not_found(
                format!("Event template {template_id} not found"),
                "eventTemplateId",
                &template_id,
            )
        })?;
    let tokens = match input.get("tokens") {
        Some(Value::Object(m)) => m,
        _ => {
            return Err(HubspotError::validation(
                "tokens is required and must be an object",
            ));
        }
    };
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in tokens {
        let v = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => {
                return Err(HubspotError::validation(format!(
                    "Token '{k}' must be a string"
                )));
            }
        };
        validate_token_value(&template, k, &v)?;
        values.insert(k.clone(), v);
    }
    let email = opt_string(input, "email")?;
    let utk = opt_string(input, "utk")?;
    let domain = opt_string(input, "domain")?;
    let object_type = template.object_type.clone();
    let object_id = match opt_string(input, "objectId")? {
        Some(raw) => raw
            .trim()
            .parse::<u64>()
            .ok()
            .and_then(|id| objects::find_by_id(sim, caller.portal_id, &object_type, id))
            .ok_or_else(|| {
                not_found(
                    format!("Could not find {object_type} object with id {raw}"),
                    "objectId",
                    &raw,
                )
            })?,
        None if object_type == "contacts" => match (&email, &utk) {
            (Some(e), _) => {
                objects::find_contact_by_email(sim, caller.portal_id, e).ok_or_else(|| {
                    not_found(
                        format!("Could not find a contact with email {e}"),
                        "email",
                        e,
                    )
                })?
            }
            (None, Some(_)) => {
                return Err(HubspotError::validation(
                    "The simulator cannot resolve a utk to a contact: send objectId or email",
                ));
            }
            (None, None) => {
                return Err(HubspotError::validation(
                    "objectId is required (or email / utk for contact events)",
                ));
            }
        },
        None => return Err(HubspotError::validation("objectId is required")),
    };
    let uuid = uuid::Uuid::new_v4().to_string();
    let id = match opt_string(input, "id")? {
        Some(id) if !id.is_empty() => id.replace("{{uuid}}", &uuid),
        _ => uuid,
    };
    let now = now_ms();
    let timestamp = match input.get("timestamp") {
        None | Some(Value::Null) => iso(now),
        Some(Value::String(s)) => match s.parse::<i64>() {
            Ok(ms) => iso(ms),
            Err(_) if chrono::DateTime::parse_from_rfc3339(s).is_ok() => s.clone(),
            Err(_) => {
                return Err(HubspotError::validation(format!(
                    "timestamp '{s}' is not a valid date-time"
                )));
            }
        },
        Some(Value::Number(n)) => match n.as_i64() {
            Some(ms) => iso(ms),
            None => {
                return Err(HubspotError::validation(
                    "timestamp is not a valid date-time",
                ));
            }
        },
        Some(_) => {
            return Err(HubspotError::validation(
                "timestamp must be a date-time string",
            ));
        }
    };
    let app_id = template.app_id;
    let event = Event {
        id: id.clone(),
        app_id,
        template_id: template.id,
        portal_id: caller.portal_id,
        object_id,
        object_type: object_type.clone(),
        email,
        utk,
        domain,
        timestamp,
        tokens: values,
        extra_data: input.get("extraData").filter(|v| !v.is_null()).cloned(),
        timeline_iframe: input
            .get("timelineIFrame")
            .filter(|v| !v.is_null())
            .cloned(),
        created_at_ms: now,
    };
    let policy = sim.inner.timeline.knobs().timeline_duplicate_id;
    let key = (app_id, template.id, id.clone());
    {
        let mut data = sim.inner.timeline.data();
        if let Some(existing) = data.events.get(&key) {
            match policy {
                DuplicateIdPolicy::Replace => {}
                DuplicateIdPolicy::KeepFirst => return Ok(event_json(existing)),
                DuplicateIdPolicy::Reject => {
                    return Err(HubspotError::new(
                        StatusCode::CONFLICT,
                        "CONFLICT",
                        format!(
                            "An event with id {id} already exists for event template {}",
                            template.id
                        ),
                    )
                    .with("context", json!({"id": [id]})));
                }
            }
        }
        data.events.insert(key, event.clone());
    }
    let copies: Vec<(String, String)> = template
        .tokens
        .iter()
        .filter_map(|d| {
            let prop = d.object_property_name.as_ref()?;
            event.tokens.get(&d.name).map(|v| (prop.clone(), v.clone()))
        })
        .collect();
    objects::copy_to_properties(
        sim,
        caller.portal_id,
        &object_type,
        object_id,
        Some(app_id),
        &copies,
    );
    Ok(event_json(&event))
}

type Answer = Result<Response, HubspotError>;

async fn create_single(
    EventCaller(caller): EventCaller,
    State(sim): State<Simulator>,
    body: Bytes,
) -> Answer {
    let input: Value = json_body(&body)?;
    let event = create_event(&sim, &caller, &input)?;
    Ok((StatusCode::CREATED, Json(event)).into_response())
}

async fn create_batch(
    EventCaller(caller): EventCaller,
    State(sim): State<Simulator>,
    body: Bytes,
) -> Answer {
    let input: Value = json_body(&body)?;
    let inputs = input
        .get("inputs")
        .and_then(Value::as_array)
        .ok_or_else(|| HubspotError::validation("inputs is required"))?;
    let max = sim.inner.timeline.knobs().batch_max_inputs;
    if inputs.len() > max {
        return Err(HubspotError::validation(format!(
            "Too many inputs: {} given, at most {max} allowed",
            inputs.len()
        )));
    }
    let started = now_ms();
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for item in inputs {
        match create_event(&sim, &caller, item) {
            Ok(v) => results.push(v),
            Err(e) => {
                let mut err = e.body.clone();
                if let Some(o) = err.as_object_mut() {
                    o.entry("context").or_insert_with(|| json!({}));
                    o.entry("errors").or_insert_with(|| json!([]));
                    o.entry("links").or_insert_with(|| json!({}));
                    if let Some(id) = item.get("id").and_then(Value::as_str) {
                        o.insert("id".into(), json!(id));
                    }
                }
                errors.push(err);
            }
        }
    }
    Ok(batch_response(
        StatusCode::CREATED,
        results,
        errors,
        started,
    ))
}

/// The event `event_id` of `template_id` written by the caller's app in the caller's portal.
fn find_event(
    sim: &Simulator,
    caller: &Caller,
    template_id: &str,
    event_id: &str,
) -> Result<(Event, Option<Template>), HubspotError> {
    let data = sim.inner.timeline.data();
    let found = match (caller.app_id, template_id.parse::<u64>()) {
        (Some(app), Ok(tid)) => data
            .events
            .get(&(app, tid, event_id.to_string()))
            .filter(|e| e.portal_id == caller.portal_id)
            .cloned(),
        _ => None,
    };
    match found {
        Some(e) => {
            let t = data.templates.get(&e.template_id).cloned();
            Ok((e, t))
        }
        None => Err(not_found(
            format!("Event {event_id} not found"),
            "id",
            event_id,
        )),
    }
}

async fn get_event(
    EventCaller(caller): EventCaller,
    State(sim): State<Simulator>,
    Path((template_id, event_id)): Path<(String, String)>,
) -> Answer {
    let (e, _) = find_event(&sim, &caller, &template_id, &event_id)?;
    Ok(Json(event_json(&e)).into_response())
}

/// Replaces `{{name}}` placeholders with token values (and `{{extraData.x}}` with extra data);
/// block helpers and unknown names render empty.
pub fn render(template: &str, e: &Event) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let key = after[..end]
            .trim()
            .trim_start_matches('{')
            .trim_end_matches('}')
            .trim();
        if let Some(v) = e.tokens.get(key) {
            out.push_str(v);
        } else if let Some(path) = key.strip_prefix("extraData.") {
            let v = path
                .split('.')
                .try_fold(e.extra_data.as_ref(), |acc, k| {
                    Some(acc.and_then(|a| a.get(k)))
                })
                .flatten();
            match v {
                Some(Value::String(s)) => out.push_str(s),
                Some(other) => out.push_str(&other.to_string()),
                None => {}
            }
        }
        rest = after[end + 2..].trim_start_matches('}');
    }
    out.push_str(rest);
    out
}

async fn get_detail(
    EventCaller(caller): EventCaller,
    State(sim): State<Simulator>,
    Path((template_id, event_id)): Path<(String, String)>,
) -> Answer {
    let (e, t) = find_event(&sim, &caller, &template_id, &event_id)?;
    let detail = t.and_then(|t| t.detail_template).unwrap_or_default();
    Ok(Json(json!({"details": render(&detail, &e)})).into_response())
}

async fn get_render(
    EventCaller(caller): EventCaller,
    State(sim): State<Simulator>,
    Path((template_id, event_id)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    let (e, t) = find_event(&sim, &caller, &template_id, &event_id)?;
    let detail = q.get("detail").is_some_and(|d| d == "true");
    let source = t
        .and_then(|t| {
            if detail {
                t.detail_template
            } else {
                t.header_template
            }
        })
        .unwrap_or_default();
    Ok((
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        render(&source, &e),
    )
        .into_response())
}

pub(crate) fn routes(prefix: &str) -> Router<Simulator> {
    Router::new()
        .route(&format!("{prefix}/events"), post(create_single))
        .route(&format!("{prefix}/events/batch/create"), post(create_batch))
        .route(
            &format!("{prefix}/events/{{template_id}}/{{event_id}}"),
            get(get_event),
        )
        .route(
            &format!("{prefix}/events/{{template_id}}/{{event_id}}/detail"),
            get(get_detail),
        )
        .route(
            &format!("{prefix}/events/{{template_id}}/{{event_id}}/render"),
            get(get_render),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_replaces_tokens_and_extra_data() {
        let mut tokens = BTreeMap::new();
        tokens.insert("plan".to_string(), "Pro".to_string());
        let e = Event {
            id: "1".into(),
            app_id: 1,
            template_id: 2,
            portal_id: 3,
            object_id: 4,
            object_type: "contacts".into(),
            email: None,
            utk: None,
            domain: None,
            timestamp: String::new(),
            tokens,
            extra_data: Some(json!({"a": {"b": "deep"}})),
            timeline_iframe: None,
            created_at_ms: 0,
        };
        assert_eq!(
            render(
                "Plan {{ plan }} / {{extraData.a.b}} / {{#if x}}{{missing}}{{/if}}!",
                &e
            ),
            "Plan Pro / deep / !"
        );
        assert_eq!(render("open {{ plan", &e), "open {{ plan");
    }
}
