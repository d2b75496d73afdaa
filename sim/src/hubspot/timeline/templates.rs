//! Event templates and their tokens (§8), developer-key authenticated:
//! `GET/POST {prefix}/{appId}/event-templates`,
//! `GET/PUT/DELETE {prefix}/{appId}/event-templates/{templateId}`,
//! `POST {prefix}/{appId}/event-templates/{templateId}/tokens`,
//! `PUT/DELETE {prefix}/{appId}/event-templates/{templateId}/tokens/{tokenName}`.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use chrono::{SecondsFormat, TimeZone, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::Simulator;
use super::super::auth::DeveloperApp;
use super::super::errors::HubspotError;
use super::super::webhooks::json_body;
use super::{Template, TimelineGuard, TokenDef, TokenOption};

pub(crate) fn iso(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default()
}

pub(crate) fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

const OBJECT_TYPES: [&str; 4] = ["contacts", "companies", "deals", "tickets"];
const TOKEN_TYPES: [&str; 4] = ["date", "enumeration", "number", "string"];

/// A token as the API renders it.
pub fn token_json(t: &TokenDef) -> Value {
    let mut v = json!({
        "name": t.name,
        "label": t.label,
        "type": t.token_type,
        "createdAt": iso(t.created_at_ms),
        "updatedAt": iso(t.updated_at_ms),
    });
    if let Some(o) = v.as_object_mut() {
        if t.token_type == "enumeration" {
            o.insert("options".into(), json!(t.options));
        }
        if let Some(p) = &t.object_property_name {
            o.insert("objectPropertyName".into(), json!(p));
        }
    }
    v
}

/// A template as the API renders it (`id` is a string).
pub fn template_json(t: &Template) -> Value {
    let mut v = json!({
        "id": t.id.to_string(),
        "name": t.name,
        "objectType": t.object_type,
        "tokens": t.tokens.iter().map(token_json).collect::<Vec<_>>(),
        "createdAt": iso(t.created_at_ms),
        "updatedAt": iso(t.updated_at_ms),
    });
    if let Some(o) = v.as_object_mut() {
        if let Some(h) = &t.header_template {
            o.insert("headerTemplate".into(), json!(h));
        }
        if let Some(d) = &t.detail_template {
            o.insert("detailTemplate".into(), json!(d));
        }
    }
    v
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenInput {
    name: Option<String>,
    label: Option<String>,
    #[serde(rename = "type")]
    token_type: Option<String>,
    options: Option<Vec<TokenOption>>,
    object_property_name: Option<String>,
}

fn valid_token_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

fn token_from_input(t: TokenInput, now: i64) -> Result<TokenDef, HubspotError> {
    let name = t.name.unwrap_or_default();
    if !valid_token_name(&name) {
        return Err(HubspotError::validation(format!(
            "Token name '{name}' is invalid: use only letters, digits, '.', '-' and '_'"
        )));
    }
    let Some(label) = t.label.filter(|l| !l.is_empty()) else {
        return Err(HubspotError::validation(format!(
            "Token '{name}' needs a label"
        )));
    };
    let token_type = t.token_type.unwrap_or_default();
    if !TOKEN_TYPES.contains(&token_type.as_str()) {
        return Err(HubspotError::validation(format!(
            "Token '{name}' has invalid type '{token_type}': expected one of date, enumeration, number, string"
        )));
    }
    let options = t.options.unwrap_or_default();
    if token_type == "enumeration" && options.is_empty() {
        return Err(HubspotError::validation(format!(
            "Enumeration token '{name}' needs at least one option"
        )));
    }
    Ok(TokenDef {
        name,
        label,
        token_type,
        options,
        object_property_name: t.object_property_name.filter(|p| !p.is_empty()),
        created_at_ms: now,
        updated_at_ms: now,
    })
}

fn tokens_from_input(tokens: Vec<TokenInput>, now: i64) -> Result<Vec<TokenDef>, HubspotError> {
    let mut out: Vec<TokenDef> = Vec::new();
    for t in tokens {
        let t = token_from_input(t, now)?;
        if out.iter().any(|x| x.name == t.name) {
            return Err(HubspotError::validation(format!(
                "Duplicate token name '{}'",
                t.name
            )));
        }
        out.push(t);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TemplateInput {
    id: Option<Value>,
    name: Option<String>,
    object_type: Option<String>,
    header_template: Option<String>,
    detail_template: Option<String>,
    tokens: Option<Vec<TokenInput>>,
}

/// Checks the developer key against the path's app id.
fn check_app(app: &DeveloperApp, app_id: &str) -> Result<u64, HubspotError> {
    match app_id.parse::<u64>() {
        Ok(id) if id == app.app_id => Ok(id),
        _ => Err(HubspotError::invalid_authentication()),
    }
}

fn template_not_found(id: &str) -> Response {
    HubspotError::new(
        StatusCode::NOT_FOUND,
        "OBJECT_NOT_FOUND",
        format!("Event template {id} not found"),
    )
    .with("context", json!({"id": [id]}))
    .into_response()
}

async fn list_templates(
    _g: TimelineGuard,
    State(sim): State<Simulator>,
    app: DeveloperApp,
    Path(app_id): Path<String>,
) -> Response {
    let app_id = match check_app(&app, &app_id) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let data = sim.inner.timeline.data();
    let results: Vec<Value> = data
        .templates
        .values()
        .filter(|t| t.app_id == app_id)
        .map(template_json)
        .collect();
    Json(json!({"results": results})).into_response()
}

async fn create_template(
    _g: TimelineGuard,
    State(sim): State<Simulator>,
    app: DeveloperApp,
    Path(app_id): Path<String>,
    body: Bytes,
) -> Response {
    let app_id = match check_app(&app, &app_id) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let input: TemplateInput = match json_body(&body) {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    let Some(name) = input.name.filter(|n| !n.is_empty()) else {
        return HubspotError::validation("name is required").into_response();
    };
    let object_type = input
        .object_type
        .unwrap_or_else(|| "contacts".into())
        .to_lowercase();
    if !OBJECT_TYPES.contains(&object_type.as_str()) {
        return HubspotError::validation(format!(
            "objectType '{object_type}' is invalid: expected contacts, companies, deals or tickets"
        ))
        .into_response();
    }
    let Some(tokens) = input.tokens else {
        return HubspotError::validation("tokens is required").into_response();
    };
    let now = now_ms();
    let tokens = match tokens_from_input(tokens, now) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let cap = sim.inner.timeline.knobs().max_templates_per_app;
    let mut data = sim.inner.timeline.data();
    if data
        .templates
        .values()
        .filter(|t| t.app_id == app_id)
        .count()
        >= cap
    {
        return HubspotError::validation(format!(
            "App {app_id} already has the maximum of {cap} event templates"
        ))
        .into_response();
    }
    let id = data.next_template_id;
    data.next_template_id += 1;
    let t = Template {
        id,
        app_id,
        name,
        object_type,
        header_template: input.header_template,
        detail_template: input.detail_template,
        tokens,
        created_at_ms: now,
        updated_at_ms: now,
    };
    let out = template_json(&t);
    data.templates.insert(id, t);
    (StatusCode::CREATED, Json(out)).into_response()
}

async fn get_template(
    _g: TimelineGuard,
    State(sim): State<Simulator>,
    app: DeveloperApp,
    Path((app_id, template_id)): Path<(String, String)>,
) -> Response {
    let app_id = match check_app(&app, &app_id) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let data = sim.inner.timeline.data();
    match template_id
        .parse::<u64>()
        .ok()
        .and_then(|id| data.templates.get(&id))
    {
        Some(t) if t.app_id == app_id => Json(template_json(t)).into_response(),
        _ => template_not_found(&template_id),
    }
}

async fn update_template(
    _g: TimelineGuard,
    State(sim): State<Simulator>,
    app: DeveloperApp,
    Path((app_id, template_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let app_id = match check_app(&app, &app_id) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let input: TemplateInput = match json_body(&body) {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    let body_id = match &input.id {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return HubspotError::validation("id is required").into_response(),
    };
    if body_id != template_id {
        return HubspotError::validation(format!(
            "id {body_id} does not match the template id {template_id} of the path"
        ))
        .into_response();
    }
    let Some(name) = input.name.filter(|n| !n.is_empty()) else {
        return HubspotError::validation("name is required").into_response();
    };
    let Some(tokens) = input.tokens else {
        return HubspotError::validation("tokens is required").into_response();
    };
    let now = now_ms();
    let mut data = sim.inner.timeline.data();
    let Some(t) = template_id
        .parse::<u64>()
        .ok()
        .and_then(|id| data.templates.get_mut(&id))
        .filter(|t| t.app_id == app_id)
    else {
        return template_not_found(&template_id);
    };
    let mut tokens = match tokens_from_input(tokens, now) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    for tok in &mut tokens {
        if let Some(old) = t.tokens.iter().find(|o| o.name == tok.name) {
            tok.created_at_ms = old.created_at_ms;
        }
    }
    t.name = name;
    t.header_template = input.header_template;
    t.detail_template = input.detail_template;
    t.tokens = tokens;
    t.updated_at_ms = now;
    Json(template_json(t)).into_response()
}

async fn delete_template(
    _g: TimelineGuard,
    State(sim): State<Simulator>,
    app: DeveloperApp,
    Path((app_id, template_id)): Path<(String, String)>,
) -> Response {
    let app_id = match check_app(&app, &app_id) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let mut data = sim.inner.timeline.data();
    let id = template_id.parse::<u64>().ok();
    match id.and_then(|id| data.templates.get(&id)) {
        Some(t) if t.app_id == app_id => {
            let id = t.id;
            data.templates.remove(&id);
            // Deleting a template removes its events from every portal (§8).
            data.events.retain(|(_, tid, _), _| *tid != id);
            StatusCode::NO_CONTENT.into_response()
        }
        _ => template_not_found(&template_id),
    }
}

async fn create_token(
    _g: TimelineGuard,
    State(sim): State<Simulator>,
    app: DeveloperApp,
    Path((app_id, template_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let app_id = match check_app(&app, &app_id) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let input: TokenInput = match json_body(&body) {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    let now = now_ms();
    let token = match token_from_input(input, now) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let mut data = sim.inner.timeline.data();
    let Some(t) = template_id
        .parse::<u64>()
        .ok()
        .and_then(|id| data.templates.get_mut(&id))
        .filter(|t| t.app_id == app_id)
    else {
        return template_not_found(&template_id);
    };
    if t.tokens.iter().any(|x| x.name == token.name) {
        return HubspotError::validation(format!(
            "Token '{}' already exists on event template {template_id}",
            token.name
        ))
        .into_response();
    }
    let out = token_json(&token);
    t.tokens.push(token);
    t.updated_at_ms = now;
    Json(out).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenUpdateInput {
    label: Option<String>,
    options: Option<Vec<TokenOption>>,
    object_property_name: Option<String>,
}

fn token_not_found(name: &str, template_id: &str) -> Response {
    HubspotError::new(
        StatusCode::NOT_FOUND,
        "OBJECT_NOT_FOUND",
        format!("Token '{name}' not found on event template {template_id}"),
    )
    .into_response()
}

async fn update_token(
    _g: TimelineGuard,
    State(sim): State<Simulator>,
    app: DeveloperApp,
    Path((app_id, template_id, token_name)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let app_id = match check_app(&app, &app_id) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let input: TokenUpdateInput = match json_body(&body) {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    let now = now_ms();
    let mut data = sim.inner.timeline.data();
    let Some(t) = template_id
        .parse::<u64>()
        .ok()
        .and_then(|id| data.templates.get_mut(&id))
        .filter(|t| t.app_id == app_id)
    else {
        return template_not_found(&template_id);
    };
    let Some(tok) = t.tokens.iter_mut().find(|x| x.name == token_name) else {
        return token_not_found(&token_name, &template_id);
    };
    let Some(label) = input.label.filter(|l| !l.is_empty()) else {
        return HubspotError::validation("label is required").into_response();
    };
    if let Some(options) = input.options {
        if tok.token_type == "enumeration" && options.is_empty() {
            return HubspotError::validation(format!(
                "Enumeration token '{token_name}' needs at least one option"
            ))
            .into_response();
        }
        tok.options = options;
    }
    tok.label = label;
    tok.object_property_name = input.object_property_name.filter(|p| !p.is_empty());
    tok.updated_at_ms = now;
    let out = token_json(tok);
    t.updated_at_ms = now;
    Json(out).into_response()
}

async fn delete_token(
    _g: TimelineGuard,
    State(sim): State<Simulator>,
    app: DeveloperApp,
    Path((app_id, template_id, token_name)): Path<(String, String, String)>,
) -> Response {
    let app_id = match check_app(&app, &app_id) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let mut data = sim.inner.timeline.data();
    let Some(t) = template_id
        .parse::<u64>()
        .ok()
        .and_then(|id| data.templates.get_mut(&id))
        .filter(|t| t.app_id == app_id)
    else {
        return template_not_found(&template_id);
    };
    let before = t.tokens.len();
    t.tokens.retain(|x| x.name != token_name);
    if t.tokens.len() == before {
        return token_not_found(&token_name, &template_id);
    }
    t.updated_at_ms = now_ms();
    StatusCode::NO_CONTENT.into_response()
}

pub(crate) fn routes(prefix: &str) -> Router<Simulator> {
    Router::new()
        .route(
            &format!("{prefix}/{{app_id}}/event-templates"),
            get(list_templates).post(create_template),
        )
        .route(
            &format!("{prefix}/{{app_id}}/event-templates/{{template_id}}"),
            get(get_template)
                .put(update_template)
                .delete(delete_template),
        )
        .route(
            &format!("{prefix}/{{app_id}}/event-templates/{{template_id}}/tokens"),
            post(create_token),
        )
        .route(
            &format!("{prefix}/{{app_id}}/event-templates/{{template_id}}/tokens/{{token_name}}"),
            put(update_token).delete(delete_token),
        )
}
