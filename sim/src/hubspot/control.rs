//! `/_sim/hubspot/` control routes (never rate-limited, faulted or counted):
//!
//! | Route | What |
//! |---|---|
//! | `GET /_sim/hubspot/calls`, `DELETE …` | API call counts per route template (`GET /crm/v3/objects/{objectType}/{objectId}`), reset |
//! | `GET`/`PUT /_sim/hubspot/rate-limits`, `POST …/reset` | rate-limit knobs, counter reset |
//! | `GET`/`PUT /_sim/hubspot/crm` | CRM knobs (search lag, validation, limits) |
//! | `GET /_sim/hubspot/portals/{portal}/objects/{type}?archived=` | every object of a type, all properties and associations |
//! | `GET /_sim/hubspot/portals/{portal}/objects/{type}/{id}` | one object with full history and associations |
//! | `GET /_sim/hubspot/portals/{portal}/associations` | every association of the portal |
//! | `POST /_sim/hubspot/portals/{portal}/search/flush` | make pending writes searchable now |
//! | `POST /_sim/hubspot/portals/{portal}/ui/objects/{type}` | create "as a person in the UI" (`{properties, associations?}`) |
//! | `PATCH`/`DELETE …/ui/objects/{type}/{id}` | update / archive as a person |
//! | `POST …/ui/objects/{type}/{id}/restore` | restore from the recycle bin as a person (HubSpot's public API has no restore endpoint, only the UI does it); 409 when a unique value is taken meanwhile |
//! | `POST …/ui/contacts/merge` (also `…/ui/objects/{type}/merge`) | merge as a person (`{primaryObjectId, objectIdToMerge}`) |
//! | `PUT`/`DELETE …/ui/associations/{from}/{fromId}/{to}/{toId}` | associate (body: optional `[{associationCategory, associationTypeId}]`, default type when empty) / remove all |
//!
//! UI actions take `?userId=` (default 1) and write with `ChangeSource::ui(userId)`, so
//! webhooks report `changeSource: CRM_UI`. They go through the same validation as the API.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use axum::body::Bytes;
use axum::extract::{MatchedPath, Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::Simulator;
use super::changes::ChangeSource;
use super::crm::associations::{AssocSpec, InlineAssoc};
use super::crm::objects::{CreateError, MergeBody, create_in, update_in};
use super::crm::{CrmKnobs, Query, ReadOpts, parse_body, parse_id, render, resolve_type};
use super::errors::HubspotError;
use super::ratelimit::RateLimitKnobs;
use super::store::{PortalData, Tx};

/// Call counts per route.
#[derive(Default)]
pub struct CallCounter {
    counts: Mutex<HashMap<String, u64>>,
}

impl CallCounter {
    /// Current counts, keyed `"<METHOD> <route template>"`.
    pub fn snapshot(&self) -> HashMap<String, u64> {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Forgets all counts.
    pub fn reset(&self) {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Total calls counted.
    pub fn total(&self) -> u64 {
        self.snapshot().values().sum()
    }
}

/// Middleware counting API calls per route template (the concrete path when no route matched).
pub async fn count_calls(State(sim): State<Simulator>, req: Request, next: Next) -> Response {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let key = format!("{} {}", req.method(), path);
    if let Ok(mut c) = sim.inner.calls.counts.lock() {
        *c.entry(key).or_default() += 1;
    }
    next.run(req).await
}

pub(crate) fn routes() -> Router<Simulator> {
    let p = "/_sim/hubspot/portals/{portal}";
    Router::new()
        .route("/_sim/hubspot/calls", get(calls).delete(reset_calls))
        .route("/_sim/hubspot/rate-limits", get(get_limits).put(put_limits))
        .route("/_sim/hubspot/rate-limits/reset", post(reset_limits))
        .route("/_sim/hubspot/crm", get(get_crm).put(put_crm))
        .route(&format!("{p}/objects/{{objectType}}"), get(dump_objects))
        .route(&format!("{p}/objects/{{objectType}}/{{objectId}}"), get(dump_object))
        .route(&format!("{p}/associations"), get(dump_associations))
        .route(&format!("{p}/search/flush"), post(flush))
        .route(&format!("{p}/ui/objects/{{objectType}}"), post(ui_create))
        .route(&format!("{p}/ui/objects/{{objectType}}/{{objectId}}"), patch(ui_update).delete(ui_archive))
        .route(&format!("{p}/ui/objects/{{objectType}}/{{objectId}}/restore"), post(ui_restore))
        .route(&format!("{p}/ui/objects/{{objectType}}/merge"), post(ui_merge_typed))
        .route(&format!("{p}/ui/contacts/merge"), post(ui_merge_contacts))
        .route(
            &format!("{p}/ui/associations/{{fromObjectType}}/{{fromObjectId}}/{{toObjectType}}/{{toObjectId}}"),
            put(ui_associate).delete(ui_unassociate),
        )
}

async fn calls(State(sim): State<Simulator>) -> Json<Value> {
    let counts = sim.inner.calls.snapshot();
    let total: u64 = counts.values().sum();
    Json(json!({"total": total, "counts": counts}))
}

async fn reset_calls(State(sim): State<Simulator>) -> StatusCode {
    sim.inner.calls.reset();
    StatusCode::NO_CONTENT
}

/// Answers a `PUT` of a knob struct: the parsed knobs are applied and echoed; a body that does
/// not parse (bad JSON, unknown knob) answers HubSpot's 400 and changes nothing.
pub(crate) fn put_knobs<K: Serialize>(
    parsed: Result<K, HubspotError>,
    apply: impl FnOnce(&K),
) -> Response {
    match parsed {
        Ok(k) => {
            apply(&k);
            Json(k).into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn get_limits(State(sim): State<Simulator>) -> Json<RateLimitKnobs> {
    Json(sim.inner.limits.knobs())
}

async fn put_limits(State(sim): State<Simulator>, body: Bytes) -> Response {
    put_knobs(parse_body::<RateLimitKnobs>(&body), |k| {
        sim.inner.limits.set_knobs(k.clone());
    })
}

async fn reset_limits(State(sim): State<Simulator>) -> StatusCode {
    sim.inner.limits.reset();
    StatusCode::NO_CONTENT
}

async fn get_crm(State(sim): State<Simulator>) -> Json<CrmKnobs> {
    Json(sim.inner.store.knobs())
}

async fn put_crm(State(sim): State<Simulator>, body: Bytes) -> Response {
    put_knobs(parse_body::<CrmKnobs>(&body), |k| {
        sim.inner.store.set_knobs(k.clone());
    })
}

fn read<R>(
    sim: &Simulator,
    portal: u64,
    f: impl FnOnce(&PortalData) -> Result<R, HubspotError>,
) -> Result<R, HubspotError> {
    sim.inner
        .store
        .read(portal, f)
        .unwrap_or_else(|| Err(unknown_portal()))
}

fn unknown_portal() -> HubspotError {
    HubspotError::new(StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND", "Unknown portal")
}

type Answer = Result<Response, HubspotError>;

fn full(data: &PortalData, type_id: &str, id: u64, with_history: bool) -> Option<Value> {
    let td = data.type_data(type_id)?;
    let obj = td.objects.get(&id)?;
    let mut opts = ReadOpts::all();
    if with_history {
        opts.history = obj.history.keys().cloned().collect();
        opts.history.sort();
    }
    let mut v = render(data, type_id, obj, &opts);
    let mut assoc = Map::new();
    let mut targets: Vec<String> = vec!["0-1".into(), "0-2".into(), "0-3".into()];
    targets.extend(data.schemas.keys().cloned());
    for to in targets {
        let list: Vec<Value> = data
            .associations(type_id, id, &to)
            .into_iter()
            .map(|(tid, defs)| json!({"id": tid.to_string(), "typeIds": defs.iter().map(|d| d.type_id).collect::<Vec<_>>()}))
            .collect();
        if !list.is_empty() {
            assoc.insert(to, Value::Array(list));
        }
    }
    if let Some(o) = v.as_object_mut() {
        o.insert("associations".into(), Value::Object(assoc));
    }
    Some(v)
}

async fn dump_objects(
    State(sim): State<Simulator>,
    Path((portal, t)): Path<(u64, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = Query::parse(raw.as_deref());
    let archived = q.get("archived").map(str::to_string);
    let r = read(&sim, portal, |data| {
        let type_id = resolve_type(data, &t)?;
        let td = data
            .type_data(&type_id)
            .ok_or_else(|| HubspotError::object_not_found(&t))?;
        let results: Vec<Value> = td
            .objects
            .values()
            .filter(|o| match archived.as_deref() {
                Some("all") => true,
                Some("true") => o.archived,
                _ => !o.archived,
            })
            .filter_map(|o| full(data, &type_id, o.id, false))
            .collect();
        Ok(
            Json(json!({"objectTypeId": type_id, "total": results.len(), "results": results}))
                .into_response(),
        )
    });
    r.unwrap_or_else(IntoResponse::into_response)
}

async fn dump_object(
    State(sim): State<Simulator>,
    Path((portal, t, id)): Path<(u64, String, String)>,
) -> Answer {
    read(&sim, portal, |data| {
        let type_id = resolve_type(data, &t)?;
        let n = parse_id(&id)?;
        let n = data.type_data(&type_id).map_or(n, |td| td.resolve_id(n));
        full(data, &type_id, n, true)
            .map(|v| Json(v).into_response())
            .ok_or_else(|| HubspotError::object_not_found(&id))
    })
}

async fn dump_associations(State(sim): State<Simulator>, Path(portal): Path<u64>) -> Answer {
    read(&sim, portal, |data| {
        let results: Vec<Value> = data
            .all_associations()
            .into_iter()
            .map(|(ft, fi, tt, ti, ids)| {
                json!({"fromObjectTypeId": ft, "fromObjectId": fi, "toObjectTypeId": tt, "toObjectId": ti, "typeIds": ids})
            })
            .collect();
        Ok(Json(json!({"results": results})).into_response())
    })
}

async fn flush(State(sim): State<Simulator>, Path(portal): Path<u64>) -> StatusCode {
    sim.inner.store.flush_index(portal);
    StatusCode::NO_CONTENT
}

/// Runs a UI action on a portal as `?userId=` (default 1), emitting changes with CRM_UI.
fn ui_write<R>(
    sim: &Simulator,
    portal: u64,
    raw_query: Option<&str>,
    f: impl FnOnce(&mut Tx<'_>, &CrmKnobs) -> Result<R, HubspotError>,
) -> Result<R, HubspotError> {
    let user = Query::parse(raw_query)
        .get("userId")
        .and_then(|u| u.parse::<u64>().ok())
        .unwrap_or(1);
    let knobs = sim.inner.store.knobs();
    let inner = &sim.inner;
    inner
        .store
        .write(portal, Some(&inner.changes), ChangeSource::ui(user), |tx| {
            f(tx, &knobs)
        })
        .unwrap_or_else(|| Err(unknown_portal()))
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct UiBody {
    properties: Map<String, Value>,
    associations: Vec<InlineAssoc>,
}

fn object_json(tx: &Tx<'_>, type_id: &str, id: u64) -> Result<Value, HubspotError> {
    let obj = tx
        .data
        .type_data(type_id)
        .and_then(|td| td.objects.get(&id));
    let obj = obj.ok_or_else(|| HubspotError::object_not_found(&id.to_string()))?;
    Ok(render(tx.data, type_id, obj, &ReadOpts::all()))
}

async fn ui_create(
    State(sim): State<Simulator>,
    Path((portal, t)): Path<(u64, String)>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Answer {
    parse_body::<UiBody>(&body).and_then(|b| {
        ui_write(&sim, portal, raw.as_deref(), |tx, knobs| {
            let type_id = resolve_type(tx.data, &t)?;
            let id = create_in(tx, knobs, &type_id, &b.properties, &b.associations)
                .map_err(|e: CreateError| e.into_error(portal))?;
            Ok((StatusCode::CREATED, Json(object_json(tx, &type_id, id)?)).into_response())
        })
    })
}

async fn ui_update(
    State(sim): State<Simulator>,
    Path((portal, t, id)): Path<(u64, String, String)>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Answer {
    parse_body::<UiBody>(&body).and_then(|b| {
        ui_write(&sim, portal, raw.as_deref(), |tx, knobs| {
            let type_id = resolve_type(tx.data, &t)?;
            let n = parse_id(&id)?;
            let n = tx
                .data
                .type_data(&type_id)
                .and_then(|td| td.live(n, true))
                .map(|o| o.id);
            let n = n.ok_or_else(|| HubspotError::object_not_found(&id))?;
            update_in(tx, knobs, &type_id, n, &b.properties).map_err(|e| e.into_error(portal))?;
            Ok(Json(object_json(tx, &type_id, n)?).into_response())
        })
    })
}

async fn ui_archive(
    State(sim): State<Simulator>,
    Path((portal, t, id)): Path<(u64, String, String)>,
    RawQuery(raw): RawQuery,
) -> Answer {
    ui_write(&sim, portal, raw.as_deref(), |tx, _| {
        let type_id = resolve_type(tx.data, &t)?;
        let n = parse_id(&id)?;
        if !tx.archive(&type_id, n) {
            return Err(HubspotError::object_not_found(&id));
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

async fn ui_restore(
    State(sim): State<Simulator>,
    Path((portal, t, id)): Path<(u64, String, String)>,
    RawQuery(raw): RawQuery,
) -> Answer {
    ui_write(&sim, portal, raw.as_deref(), |tx, _| {
        let type_id = resolve_type(tx.data, &t)?;
        let n = parse_id(&id)?;
        let td = tx
            .data
            .type_data(&type_id)
            .ok_or_else(|| HubspotError::object_not_found(&id))?;
        let obj = td
            .objects
            .get(&n)
            .filter(|o| o.archived)
            .ok_or_else(|| HubspotError::object_not_found(&id))?;
        let taken = obj
            .props
            .iter()
            .find_map(|(k, v)| td.find_unique(k, v).map(|other| (k, v, other)));
        if let Some((k, v, other)) = taken {
            return Err(HubspotError::new(
                StatusCode::CONFLICT,
                "CONFLICT",
                format!("Cannot restore {id}: {k} {v} belongs to object {other} now."),
            ));
        }
        tx.restore(&type_id, n);
        Ok(Json(object_json(tx, &type_id, n)?).into_response())
    })
}

fn ui_merge(sim: &Simulator, portal: u64, t: &str, raw: Option<&str>, body: &Bytes) -> Answer {
    parse_body::<MergeBody>(body).and_then(|b| {
        ui_write(sim, portal, raw, |tx, _| {
            let type_id = resolve_type(tx.data, t)?;
            let id = b.apply(tx, &type_id)?;
            Ok(Json(object_json(tx, &type_id, id)?).into_response())
        })
    })
}

async fn ui_merge_contacts(
    State(sim): State<Simulator>,
    Path(portal): Path<u64>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Answer {
    ui_merge(&sim, portal, "contacts", raw.as_deref(), &body)
}

async fn ui_merge_typed(
    State(sim): State<Simulator>,
    Path((portal, t)): Path<(u64, String)>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Answer {
    ui_merge(&sim, portal, &t, raw.as_deref(), &body)
}

type AssocPath = Path<(u64, String, String, String, String)>;

async fn ui_associate(
    State(sim): State<Simulator>,
    Path((portal, f, fid, t, tid)): AssocPath,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    let specs: Result<Vec<AssocSpec>, HubspotError> = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(Vec::new())
    } else {
        parse_body(&body)
    };
    let r = specs.and_then(|specs| {
        ui_write(&sim, portal, raw.as_deref(), |tx, _| {
            let from = resolve_type(tx.data, &f)?;
            let to = resolve_type(tx.data, &t)?;
            let a = parse_id(&fid)?;
            let b = parse_id(&tid)?;
            if tx
                .data
                .type_data(&from)
                .and_then(|td| td.live(a, false))
                .is_none()
            {
                return Err(HubspotError::object_not_found(&fid));
            }
            if tx
                .data
                .type_data(&to)
                .and_then(|td| td.live(b, false))
                .is_none()
            {
                return Err(HubspotError::object_not_found(&tid));
            }
            let mut ids: Vec<u32> = specs.iter().map(|s| s.association_type_id).collect();
            if let Some(d) = tx.data.default_assoc(&from, &to)
                && !ids.contains(&d.type_id)
            {
                ids.push(d.type_id);
            }
            for id in &ids {
                if tx.data.assoc_def(&from, &to, *id).is_none() {
                    return Err(HubspotError::validation(format!(
                        "Association type {id} is not valid from {from} to {to}"
                    )));
                }
            }
            let added = tx.associate(&from, a, &to, b, &ids);
            Ok(
                Json(json!({"added": added, "typeIds": tx.data.pair_types(&from, a, &to, b)}))
                    .into_response(),
            )
        })
    });
    r.unwrap_or_else(IntoResponse::into_response)
}

async fn ui_unassociate(
    State(sim): State<Simulator>,
    Path((portal, f, fid, t, tid)): AssocPath,
    RawQuery(raw): RawQuery,
) -> Answer {
    ui_write(&sim, portal, raw.as_deref(), |tx, _| {
        let from = resolve_type(tx.data, &f)?;
        let to = resolve_type(tx.data, &t)?;
        let a = parse_id(&fid)?;
        let b = parse_id(&tid)?;
        tx.unassociate(&from, a, &to, b, None);
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}
