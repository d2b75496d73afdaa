//! Event templates and their tokens (§8), developer-key authenticated:
//! `GET/POST {prefix}/{appId}/event-templates`,
//! `GET/PUT/DELETE {prefix}/{appId}/event-templates/{templateId}`,
//! `POST {prefix}/{appId}/event-templates/{templateId}/tokens`,
//! `PUT/DELETE {prefix}/{appId}/event-templates/{templateId}/tokens/{tokenName}`.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::Simulator;
use super::super::auth::DeveloperApp;
use super::super::errors::HubspotError;
use super::super::store::{iso, now_ms};
use super::super::webhooks::json_body;
use super::{Data, Template, TimelineGuard, TokenDef, TokenOption};

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

/// The app of a template route: the timeline is served ([`TimelineGuard`]) and the developer
/// key belongs to the path's `{app_id}`.
struct TemplateApp(u64);

impl FromRequestParts<Simulator> for TemplateApp {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        sim: &Simulator,
    ) -> Result<Self, Self::Rejection> {
        TimelineGuard::from_request_parts(parts, sim).await?;
        let app = DeveloperApp::from_request_parts(parts, sim)
            .await
            .map_err(IntoResponse::into_response)?;
        let app_id = app
            .owned_app_id(parts, sim)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(TemplateApp(app_id))
    }
}

/// The template `template_id` of `app_id`, or 404 `OBJECT_NOT_FOUND`.
fn own_template<'a>(
    data: &'a mut Data,
    app_id: u64,
    template_id: &str,
) -> Result<&'a mut Template, HubspotError> {
    template_id
        .parse::<u64>()
        .ok()
        .and_then(|id| data.templates.get_mut(&id))
        .filter(|t| t.app_id == app_id)
        .ok_or_else(|| {
            HubspotError::new(
                StatusCode::NOT_FOUND,
                "OBJECT_NOT_FOUND",
                format!("Event template {template_id} not found"),
            )
            .with("context", json!({"id": [template_id]}))
        })
}

/// A non-empty `name`, or 400.
fn required_name(name: Option<String>) -> Result<String, HubspotError> {
    name.filter(|n| !n.is_empty())
        .ok_or_else(|| HubspotError::validation("name is required"))
}

type Answer = Result<Response, HubspotError>;

async fn list_templates(TemplateApp(app_id): TemplateApp, State(sim): State<Simulator>) -> Answer {
    let data = sim.inner.timeline.data();
    let results: Vec<Value> = data
        .templates
        .values()
        .filter(|t| t.app_id == app_id)
        .map(template_json)
        .collect();
    Ok(Json(json!({"results": results})).into_response())
}

async fn create_template(
    TemplateApp(app_id): TemplateApp,
    State(sim): State<Simulator>,
    body: Bytes,
) -> Answer {
    let input: TemplateInput = json_body(&body)?;
    let name = required_name(input.name)?;
    let object_type = input
        .object_type
        .unwrap_or_else(|| "contacts".into())
        .to_lowercase();
    if !OBJECT_TYPES.contains(&object_type.as_str()) {
        return Err(HubspotError::validation(format!(
            "objectType '{object_type}' is invalid: expected contacts, companies, deals or tickets"
        )));
    }
    let tokens = input
        .tokens
        .ok_or_else(|| HubspotError::validation("tokens is required"))?;
    let now = now_ms();
    let tokens = tokens_from_input(tokens, now)?;
    let cap = sim.inner.timeline.knobs().max_templates_per_app;
    let mut data = sim.inner.timeline.data();
    if data
        .templates
        .values()
        .filter(|t| t.app_id == app_id)
        .count()
        >= cap
    {
        return Err(HubspotError::validation(format!(
            "App {app_id} already has the maximum of {cap} event templates"
        )));
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
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

async fn get_template(
    TemplateApp(app_id): TemplateApp,
    State(sim): State<Simulator>,
    Path((_, template_id)): Path<(String, String)>,
) -> Answer {
    let mut data = sim.inner.timeline.data();
    let t = own_template(&mut data, app_id, &template_id)?;
    Ok(Json(template_json(t)).into_response())
}

async fn update_template(
    TemplateApp(app_id): TemplateApp,
    State(sim): State<Simulator>,
    Path((_, template_id)): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    let input: TemplateInput = json_body(&body)?;
    let body_id = match &input.id {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(HubspotError::validation("id is required")),
    };
    if body_id != template_id {
        return Err(HubspotError::validation(format!(
            "id {body_id} does not match the template id {template_id} of the path"
        )));
    }
    let name = required_name(input.name)?;
    let tokens = input
        .tokens
        .ok_or_else(|| HubspotError::validation("tokens is required"))?;
    let now = now_ms();
    let mut data = sim.inner.timeline.data();
    let t = own_template(&mut data, app_id, &template_id)?;
    let mut tokens = tokens_from_input(tokens, now)?;
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
    Ok(Json(template_json(t)).into_response())
}

async fn delete_template(
    TemplateApp(app_id): TemplateApp,
    State(sim): State<Simulator>,
    Path((_, template_id)): Path<(String, String)>,
) -> Answer {
    let mut data = sim.inner.timeline.data();
    let id = own_template(&mut data, app_id, &template_id)?.id;
    data.templates.remove(&id);
    // Deleting a template removes its events from every portal (§8).
    data.events.retain(|(_, tid, _), _| *tid != id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn create_token(
    TemplateApp(app_id): TemplateApp,
    State(sim): State<Simulator>,
    Path((_, template_id)): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    let input: TokenInput = json_body(&body)?;
    let now = now_ms();
    let token = token_from_input(input, now)?;
    let mut data = sim.inner.timeline.data();
    let t = own_template(&mut data, app_id, &template_id)?;
    if t.tokens.iter().any(|x| x.name == token.name) {
        return Err(HubspotError::validation(format!(
            "Token '{}' already exists on event template {template_id}",
            token.name
        )));
    }
    let out = token_json(&token);
    t.tokens.push(token);
    t.updated_at_ms = now;
    Ok(Json(out).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenUpdateInput {
    label: Option<String>,
    options: Option<Vec<TokenOption>>,
    object_property_name: Option<String>,
}

fn token_not_found(name: &str, template_id: &str) -> HubspotError {
    HubspotError::new(
        StatusCode::NOT_FOUND,
        "OBJECT_NOT_FOUND",
        format!("Token '{name}' not found on event template {template_id}"),
    )
}

async fn update_token(
    TemplateApp(app_id): TemplateApp,
    State(sim): State<Simulator>,
    Path((_, template_id, token_name)): Path<(String, String, String)>,
    body: Bytes,
) -> Answer {
    let input: TokenUpdateInput = json_body(&body)?;
    let now = now_ms();
    let mut data = sim.inner.timeline.data();
    let t = own_template(&mut data, app_id, &template_id)?;
    let tok = t
        .tokens
        .iter_mut()
        .find(|x| x.name == token_name)
        .ok_or_else(|| token_not_found(&token_name, &template_id))?;
    let label = input
        .label
        .filter(|l| !l.is_empty())
        .ok_or_else(|| HubspotError::validation("label is required"))?;
    if let Some(options) = input.options {
        if tok.token_type == "enumeration" && options.is_empty() {
            return Err(HubspotError::validation(format!(
                "Enumeration token '{token_name}' needs at least one option"
            )));
        }
        tok.options = options;
    }
    tok.label = label;
    tok.object_property_name = input.object_property_name.filter(|p| !p.is_empty());
    tok.updated_at_ms = now;
    let out = token_json(tok);
    t.updated_at_ms = now;
    Ok(Json(out).into_response())
}

async fn delete_token(
    TemplateApp(app_id): TemplateApp,
    State(sim): State<Simulator>,
    Path((_, template_id, token_name)): Path<(String, String, String)>,
) -> Answer {
    let mut data = sim.inner.timeline.data();
    let t = own_template(&mut data, app_id, &template_id)?;
    let before = t.tokens.len();
    t.tokens.retain(|x| x.name != token_name);
    if t.tokens.len() == before {
        return Err(token_not_found(&token_name, &template_id));
    }
    t.updated_at_ms = now_ms();
    Ok(StatusCode::NO_CONTENT.into_response())
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
