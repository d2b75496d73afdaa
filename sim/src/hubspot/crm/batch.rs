//! Object batch endpoints (`docs/hubspot-api.md` §2.4, §3, §3.1): read, create, update,
//! upsert, archive, with the input limit and HubSpot's 207 multi-status shapes.

use std::collections::{HashMap, HashSet};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::associations::InlineAssoc;
use super::objects::{
    CreateError, commit_create, locate, non_unique_id_property, prepare_create, prepare_update,
};
use super::{
    Api, ApiResult, CrmKnobs, Inputs, Query, ReadOpts, batch_body, batch_error, batch_response,
    check_len, json_response, no_content, parse_body, render, resolve_type, validate, value_string,
};
use crate::hubspot::Simulator;
use crate::hubspot::errors::HubspotError;
use crate::hubspot::store::{PortalData, now_ms};

pub(crate) fn routes(prefix: &str) -> Router<Simulator> {
    let b = format!("{prefix}/{{objectType}}/batch");
    Router::new()
        .route(&format!("{b}/read"), post(read))
        .route(&format!("{b}/create"), post(create))
        .route(&format!("{b}/update"), post(update))
        .route(&format!("{b}/upsert"), post(upsert))
        .route(&format!("{b}/archive"), post(archive))
}

#[derive(Debug, Deserialize)]
struct IdInput {
    id: Value,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReadBody {
    inputs: Vec<IdInput>,
    #[serde(default)]
    properties: Vec<String>,
    #[serde(default)]
    properties_with_history: Vec<String>,
    #[serde(default)]
    id_property: Option<String>,
}

async fn read(api: Api, Path(t): Path<String>, RawQuery(raw): RawQuery, body: Bytes) -> Response {
    let started = now_ms();
    let q = Query::parse(raw.as_deref());
    let r = (|| -> ApiResult {
        let b: ReadBody = parse_body(&body)?;
        check_len(b.inputs.len(), api.knobs.batch_max_inputs)?;
        let archived = q.flag("archived");
        let opts = ReadOpts {
            properties: (!b.properties.is_empty()).then(|| b.properties.clone()),
            history: b.properties_with_history.clone(),
            associations: Vec::new(),
            all: false,
        };
        api.read(|data| {
            let type_id = resolve_type(data, &t)?;
            let mut results = Vec::new();
            let mut missing = Vec::new();
            let mut seen = HashSet::new();
            for i in &b.inputs {
                let raw = value_string(&i.id);
                let found = locate(data, &type_id, &raw, b.id_property.as_deref(), archived, true)?;
                let obj = found.and_then(|id| data.type_data(&type_id).and_then(|td| td.objects.get(&id)));
                match obj {
                    Some(o) => {
                        if seen.insert(o.id) {
                            results.push(render(data, &type_id, o, &opts));
                        }
                    }
                    None => missing.push(raw),
                }
            }
            let mut errors = Vec::new();
            if !missing.is_empty() {
                errors.push(batch_error(
                    "OBJECT_NOT_FOUND",
                    &format!(
                        "Could not get some {} objects, they may be deleted or not exist. Check that ids are valid.",
                        data.type_label(&type_id)
                    ),
                    json!({"ids": missing}),
                ));
            }
            Ok(batch_response(StatusCode::OK, results, errors, started))
        })
    })();
    api.done(r)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateInput {
    #[serde(default)]
    properties: Map<String, Value>,
    #[serde(default)]
    associations: Vec<InlineAssoc>,
    #[serde(default)]
    object_write_trace_id: Option<String>,
}

/// Whether partial success is allowed: every input has a unique trace id (or the knob is off).
fn partial_allowed<'a>(
    mut traces: impl Iterator<Item = Option<&'a str>>,
    knobs: &CrmKnobs,
) -> bool {
    if !knobs.batch_create_partial_requires_trace_id {
        return true;
    }
    let mut seen = HashSet::new();
    traces.all(|t| t.is_some_and(|t| seen.insert(t)))
}

/// A per-input error entry of a 207 (identified by its trace id).
fn input_error(portal: u64, err: CreateError, trace: Option<&str>) -> Value {
    let ctx = json!({"objectWriteTraceId": [trace.unwrap_or_default()]});
    match err {
        CreateError::Props(e) => {
            batch_error("VALIDATION_ERROR", &validate::message(portal, &e), ctx)
        }
        CreateError::Other(e) => {
            let cat = e.body["category"]
                .as_str()
                .unwrap_or("VALIDATION_ERROR")
                .to_string();
            let msg = e.body["message"].as_str().unwrap_or_default().to_string();
            batch_error(&cat, &msg, ctx)
        }
    }
}

/// Unique values inside one batch: the second input with the same unique value fails.
fn batch_duplicate(
    data: &PortalData,
    type_id: &str,
    props: &[(String, String)],
    seen: &mut HashMap<(String, String), usize>,
    index: usize,
) -> Option<CreateError> {
    let td = data.type_data(type_id)?;
    for (k, v) in props {
        if v.is_empty() || !td.is_unique(k) {
            continue;
        }
        if let Some(first) = seen.insert((k.clone(), v.to_lowercase()), index) {
            return Some(CreateError::Other(HubspotError::new(
                StatusCode::CONFLICT,
                "CONFLICT",
                format!("Duplicate {k} \"{v}\" in batch input (inputs {first} and {index})"),
            )));
        }
    }
    None
}

async fn create(api: Api, Path(t): Path<String>, body: Bytes) -> Response {
    let started = now_ms();
    let r = (|| -> ApiResult {
        let b: Inputs<CreateInput> = parse_body(&body)?;
        check_len(b.inputs.len(), api.knobs.batch_max_inputs)?;
        let traces = b.inputs.iter().map(|i| i.object_write_trace_id.as_deref());
        let partial = partial_allowed(traces, &api.knobs);
        let portal = api.portal();
        api.write(|tx| {
            let type_id = resolve_type(tx.data, &t)?;
            let mut prepared = Vec::new();
            let mut errors = Vec::new();
            let mut seen = HashMap::new();
            for (n, i) in b.inputs.iter().enumerate() {
                let p = prepare_create(
                    tx.data,
                    &api.knobs,
                    &type_id,
                    &i.properties,
                    &i.associations,
                )
                .and_then(|p| {
                    match batch_duplicate(tx.data, &type_id, &p.props, &mut seen, n) {
                        Some(e) => Err(e),
                        None => Ok(p),
                    }
                });
                match p {
                    Ok(p) => prepared.push(p),
                    Err(e) if partial => {
                        errors.push(input_error(portal, e, i.object_write_trace_id.as_deref()))
                    }
                    Err(e) => return Err(e.into_error(portal)),
                }
            }
            let mut results = Vec::new();
            for p in &prepared {
                let id = commit_create(tx, &type_id, p)?;
                if let Some(o) = tx
                    .data
                    .type_data(&type_id)
                    .and_then(|td| td.objects.get(&id))
                {
                    results.push(render(tx.data, &type_id, o, &ReadOpts::all()));
                }
            }
            Ok(batch_response(
                StatusCode::CREATED,
                results,
                errors,
                started,
            ))
        })
    })();
    api.done(r)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateInput {
    id: Value,
    #[serde(default)]
    id_property: Option<String>,
    #[serde(default)]
    properties: Map<String, Value>,
    #[serde(default)]
    object_write_trace_id: Option<String>,
}

async fn update(api: Api, Path(t): Path<String>, body: Bytes) -> Response {
    let started = now_ms();
    let r = (|| -> ApiResult {
        let b: Inputs<UpdateInput> = parse_body(&body)?;
        check_len(b.inputs.len(), api.knobs.batch_max_inputs)?;
        let traces = b.inputs.iter().map(|i| i.object_write_trace_id.as_deref());
        let partial = partial_allowed(traces, &api.knobs);
        let portal = api.portal();
        api.write(|tx| {
            let type_id = resolve_type(tx.data, &t)?;
            let mut ready: Vec<(u64, Vec<(String, String)>)> = Vec::new();
            let mut errors = Vec::new();
            let mut missing = Vec::new();
            let mut seen = HashSet::new();
            for i in &b.inputs {
                let raw = value_string(&i.id);
                // Merged-away ids are not followed here (they are on single PATCH).
                let Some(id) = locate(tx.data, &type_id, &raw, i.id_property.as_deref(), false, false)? else {
                    missing.push(raw);
                    continue;
                };
                if !seen.insert(id) {
                    return Err(HubspotError::validation(format!("Duplicate IDs found in batch input: [{raw}]")));
                }
                match prepare_update(tx.data, &api.knobs, &type_id, id, &i.properties) {
                    Ok(p) => ready.push((id, p)),
                    Err(e) if partial => errors.push(input_error(portal, e, i.object_write_trace_id.as_deref())),
                    Err(e) => return Err(e.into_error(portal)),
                }
            }
            if !missing.is_empty() {
                errors.push(batch_error(
                    "OBJECT_NOT_FOUND",
                    &format!(
                        "Could not update some {} objects, they may be deleted, merged or not exist. Check that ids are valid.",
                        tx.data.type_label(&type_id)
                    ),
                    json!({"ids": missing}),
                ));
            }
            let mut results = Vec::new();
            for (id, props) in &ready {
                tx.update(&type_id, *id, props);
                if let Some(o) = tx.data.type_data(&type_id).and_then(|td| td.objects.get(id)) {
                    results.push(render(tx.data, &type_id, o, &ReadOpts::all()));
                }
            }
            Ok(batch_response(StatusCode::OK, results, errors, started))
        })
    })();
    api.done(r)
}

async fn upsert(api: Api, Path(t): Path<String>, body: Bytes) -> Response {
    let started = now_ms();
    let r = (|| -> ApiResult {
        let b: Inputs<UpdateInput> = parse_body(&body)?;
        check_len(b.inputs.len(), api.knobs.batch_max_inputs)?;
        let portal = api.portal();
        api.sim.inner.limits.check_upsert(portal)?;
        api.write(|tx| {
            let type_id = resolve_type(tx.data, &t)?;
            let td = tx
                .data
                .type_data(&type_id)
                .ok_or_else(|| HubspotError::validation("Unknown object type"))?;
            // Phase 1: resolve and validate everything; any problem fails the whole batch.
            enum Plan {
                Update(u64, Vec<(String, String)>),
                Create(super::objects::Prepared),
            }
            let mut plans = Vec::new();
            let mut seen = HashSet::new();
            for i in &b.inputs {
                let raw = value_string(&i.id);
                let prop = i
                    .id_property
                    .clone()
                    .ok_or_else(|| HubspotError::validation("idProperty is required for upsert"))?;
                if !td.is_unique(&prop) {
                    return Err(non_unique_id_property(&type_id, &prop, portal));
                }
                if !seen.insert(raw.to_lowercase()) {
                    return Err(HubspotError::validation(format!(
                        "Duplicate IDs found in batch input: [{raw}]"
                    )));
                }
                match td.find_unique(&prop, &raw) {
                    Some(id) => {
                        let p = prepare_update(tx.data, &api.knobs, &type_id, id, &i.properties)
                            .map_err(|e| e.into_error(portal))?;
                        plans.push(Plan::Update(id, p));
                    }
                    None => {
                        let mut props = i.properties.clone();
                        props.insert(prop.clone(), Value::String(raw.clone()));
                        let p = prepare_create(tx.data, &api.knobs, &type_id, &props, &[])
                            .map_err(|e| e.into_error(portal))?;
                        plans.push(Plan::Create(p));
                    }
                }
            }
            let mut results = Vec::new();
            for plan in plans {
                let (id, new) = match plan {
                    Plan::Update(id, props) => {
                        tx.update(&type_id, id, &props);
                        (id, false)
                    }
                    Plan::Create(p) => (commit_create(tx, &type_id, &p)?, true),
                };
                if let Some(o) = tx
                    .data
                    .type_data(&type_id)
                    .and_then(|td| td.objects.get(&id))
                {
                    let mut v = render(tx.data, &type_id, o, &ReadOpts::all());
                    if let Some(m) = v.as_object_mut() {
                        m.insert("new".into(), json!(new));
                    }
                    results.push(v);
                }
            }
            Ok(json_response(
                StatusCode::OK,
                batch_body(results, Vec::new(), started),
            ))
        })
    })();
    api.done(r)
}

async fn archive(api: Api, Path(t): Path<String>, body: Bytes) -> Response {
    let r = (|| -> ApiResult {
        let b: Inputs<IdInput> = parse_body(&body)?;
        check_len(b.inputs.len(), api.knobs.batch_max_inputs)?;
        api.write(|tx| {
            let type_id = resolve_type(tx.data, &t)?;
            for i in &b.inputs {
                if let Ok(id) = value_string(&i.id).parse::<u64>() {
                    tx.archive(&type_id, id);
                }
            }
            Ok(no_content())
        })
    })();
    api.done(r)
}
