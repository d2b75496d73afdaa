//! Associations v4 (`docs/hubspot-api.md` §6) and inline associations on create.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Api, ApiResult, Inputs, Query, batch_body, batch_error, batch_response, check_len,
    json_response, no_content, parse_body, resolve_type, value_string,
};
use crate::hubspot::Simulator;
use crate::hubspot::errors::HubspotError;
use crate::hubspot::store::{PortalData, Tx, now_ms};

/// `{id}` reference (string or number).
#[derive(Debug, Clone, Deserialize)]
pub struct IdRef {
    /// The id.
    pub id: Value,
}

/// `{associationCategory, associationTypeId}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssocSpec {
    /// `HUBSPOT_DEFINED`, `USER_DEFINED`, …
    pub association_category: String,
    /// Type id.
    pub association_type_id: u32,
}

/// One inline association of a create: `{to:{id}, types:[…]}`.
#[derive(Debug, Clone, Deserialize)]
pub struct InlineAssoc {
    /// Target.
    pub to: IdRef,
    /// Types (from the created object's side).
    pub types: Vec<AssocSpec>,
}

fn id_of(v: &Value) -> Result<u64, HubspotError> {
    let s = value_string(v);
    s.parse::<u64>()
        .map_err(|_| HubspotError::validation(format!("Invalid object id: {s}")))
}

/// Resolves inline associations to `(to type, to id, type ids)`, checking that every type id
/// exists from `from` and every target is a live object.
pub fn resolve_inline(
    data: &PortalData,
    from: &str,
    list: &[InlineAssoc],
) -> Result<Vec<(String, u64, Vec<u32>)>, HubspotError> {
    let mut out = Vec::new();
    for a in list {
        let to_id = id_of(&a.to.id)?;
        let mut to_type: Option<String> = None;
        let mut ids = Vec::new();
        for spec in &a.types {
            let def = data
                .assoc_defs
                .iter()
                .find(|d| {
                    d.from == from
                        && d.type_id == spec.association_type_id
                        && d.category == spec.association_category
                })
                .ok_or_else(|| {
                    HubspotError::validation(format!(
                        "{} {} is not a valid association type from {from}",
                        spec.association_category, spec.association_type_id
                    ))
                })?;
            if to_type.as_ref().is_some_and(|t| *t != def.to) {
                return Err(HubspotError::validation(
                    "All types of one association must target the same object type",
                ));
            }
            to_type = Some(def.to.clone());
            ids.push(def.type_id);
        }
        let Some(to_type) = to_type else { continue };
        if data
            .type_data(&to_type)
            .and_then(|t| t.live(to_id, true))
            .is_none()
        {
            return Err(HubspotError::validation(format!(
                "{} {to_id} does not exist, so it can't be associated",
                data.type_label(&to_type)
            )));
        }
        let to_id = data
            .type_data(&to_type)
            .map_or(to_id, |t| t.resolve_id(to_id));
        out.push((to_type, to_id, ids));
    }
    Ok(out)
}

pub(crate) fn routes() -> Router<Simulator> {
    let obj = "/crm/v4/objects/{fromObjectType}/{fromObjectId}/associations";
    let batch = "/crm/v4/associations/{fromObjectType}/{toObjectType}";
    Router::new()
        .route(
            &format!("{obj}/default/{{toObjectType}}/{{toObjectId}}"),
            put(put_default),
        )
        .route(
            &format!("{obj}/{{toObjectType}}/{{toObjectId}}"),
            put(put_labeled).delete(delete_pair),
        )
        .route(&format!("{obj}/{{toObjectType}}"), get(list))
        .route(
            &format!("{batch}/batch/associate/default"),
            post(batch_default),
        )
        .route(&format!("{batch}/batch/create"), post(batch_create))
        .route(&format!("{batch}/batch/read"), post(batch_read))
        .route(&format!("{batch}/batch/archive"), post(batch_archive))
        .route(
            &format!("{batch}/batch/labels/archive"),
            post(batch_labels_archive),
        )
        .route(&format!("{batch}/labels"), get(labels).post(create_label))
}

/// Resolved ends of an association call.
struct Ends {
    from: String,
    from_id: u64,
    to: String,
    to_id: u64,
}

fn ends(
    data: &PortalData,
    from: &str,
    from_id: &str,
    to: &str,
    to_id: &str,
) -> Result<Ends, HubspotError> {
    let from = resolve_type(data, from)?;
    let to = resolve_type(data, to)?;
    let fid = from_id
        .parse::<u64>()
        .map_err(|_| HubspotError::object_not_found(from_id))?;
    let tid = to_id
        .parse::<u64>()
        .map_err(|_| HubspotError::object_not_found(to_id))?;
    let f = data
        .type_data(&from)
        .and_then(|t| t.live(fid, true))
        .ok_or_else(|| HubspotError::object_not_found(from_id))?;
    let t = data
        .type_data(&to)
        .and_then(|t| t.live(tid, true))
        .ok_or_else(|| HubspotError::object_not_found(to_id))?;
    Ok(Ends {
        from,
        from_id: f.id,
        to,
        to_id: t.id,
    })
}

fn default_type(data: &PortalData, from: &str, to: &str) -> Result<u32, HubspotError> {
    data.default_assoc(from, to)
        .map(|d| d.type_id)
        .ok_or_else(|| {
            HubspotError::validation(format!("No default association type from {from} to {to}"))
        })
}

fn default_result(data: &PortalData, e: &Ends, type_id: u32) -> Vec<Value> {
    let mut v = vec![
        json!({"from": {"id": e.from_id.to_string()}, "to": {"id": e.to_id.to_string()},
        "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}}),
    ];
    if let Some(d) = data.assoc_def(&e.from, &e.to, type_id)
        && (e.from != e.to || d.inverse != type_id)
    {
        v.push(json!({"from": {"id": e.to_id.to_string()}, "to": {"id": e.from_id.to_string()},
            "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": d.inverse}}));
    }
    v
}

async fn put_default(
    api: Api,
    Path((f, fid, t, tid)): Path<(String, String, String, String)>,
) -> Response {
    let started = now_ms();
    let r = api.write(|tx| {
        let e = ends(tx.data, &f, &fid, &t, &tid)?;
        let ty = default_type(tx.data, &e.from, &e.to)?;
        tx.associate(&e.from, e.from_id, &e.to, e.to_id, &[ty]);
        Ok(json_response(
            StatusCode::OK,
            batch_body(default_result(tx.data, &e, ty), vec![], started),
        ))
    });
    api.done(r)
}

fn labeled_result(data: &PortalData, e: &Ends) -> Value {
    let labels: Vec<String> = data
        .pair_types(&e.from, e.from_id, &e.to, e.to_id)
        .iter()
        .filter_map(|t| {
            data.assoc_def(&e.from, &e.to, *t)
                .and_then(|d| d.label.clone())
        })
        .collect();
    json!({"fromObjectTypeId": e.from, "fromObjectId": e.from_id, "toObjectTypeId": e.to,
        "toObjectId": e.to_id, "labels": labels})
}

fn check_specs(
    data: &PortalData,
    from: &str,
    to: &str,
    specs: &[AssocSpec],
) -> Result<Vec<u32>, HubspotError> {
    specs
        .iter()
        .map(|s| {
            data.assoc_def(from, to, s.association_type_id)
                .filter(|d| d.category == s.association_category)
                .map(|d| d.type_id)
                .ok_or_else(|| {
                    HubspotError::validation(format!(
                        "{} {} is not a valid association type between {from} and {to}",
                        s.association_category, s.association_type_id
                    ))
                })
        })
        .collect()
}

/// Sets exactly `types` (plus the unlabeled default) on a pair, replacing what was there.
fn replace_types(tx: &mut Tx<'_>, e: &Ends, types: &[u32]) {
    let mut want: Vec<u32> = types.to_vec();
    if let Some(d) = tx.data.default_assoc(&e.from, &e.to)
        && !want.contains(&d.type_id)
    {
        want.push(d.type_id);
    }
    let current = tx.data.pair_types(&e.from, e.from_id, &e.to, e.to_id);
    let drop: Vec<u32> = current
        .iter()
        .copied()
        .filter(|t| !want.contains(t))
        .collect();
    tx.remove_types(&e.from, e.from_id, &e.to, e.to_id, &drop);
    tx.associate(&e.from, e.from_id, &e.to, e.to_id, &want);
}

async fn put_labeled(
    api: Api,
    Path((f, fid, t, tid)): Path<(String, String, String, String)>,
    body: Bytes,
) -> Response {
    let r = (|| {
        let specs: Vec<AssocSpec> = parse_body_array(&body)?;
        api.write(|tx| {
            let e = ends(tx.data, &f, &fid, &t, &tid)?;
            let types = check_specs(tx.data, &e.from, &e.to, &specs)?;
            replace_types(tx, &e, &types);
            Ok(json_response(
                StatusCode::CREATED,
                labeled_result(tx.data, &e),
            ))
        })
    })();
    api.done(r)
}

fn parse_body_array<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<Vec<T>, HubspotError> {
    if body.is_empty() {
        return Ok(Vec::new());
    }
    parse_body(body)
}

async fn delete_pair(
    api: Api,
    Path((f, fid, t, tid)): Path<(String, String, String, String)>,
) -> Response {
    let r = api.write(|tx| {
        let from = resolve_type(tx.data, &f)?;
        let to = resolve_type(tx.data, &t)?;
        if let (Ok(a), Ok(b)) = (fid.parse::<u64>(), tid.parse::<u64>()) {
            tx.unassociate(&from, a, &to, b, None);
        }
        Ok(no_content())
    });
    api.done(r)
}

fn assoc_entries(data: &PortalData, from: &str, from_id: u64, to: &str) -> Vec<Value> {
    data.associations(from, from_id, to)
        .into_iter()
        .map(|(id, defs)| {
            json!({"toObjectId": id, "associationTypes": defs.iter().map(|d| d.type_json()).collect::<Vec<_>>()})
        })
        .collect()
}

async fn list(
    api: Api,
    Path((f, fid, t)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = Query::parse(raw.as_deref());
    let r = (|| -> ApiResult {
        let max = api.knobs.assoc_list_max;
        let limit = q.number("limit")?.unwrap_or(max);
        if limit > max {
            return Err(HubspotError::validation(format!(
                "limit must be less than or equal to {max}, got {limit}"
            )));
        }
        let limit = limit.max(1);
        let offset = match q.get("after").filter(|a| !a.is_empty()) {
            None => 0,
            Some(a) => a
                .parse::<usize>()
                .map_err(|_| HubspotError::validation(format!("Invalid after value: {a}")))?,
        };
        api.read(|data| {
            let from = resolve_type(data, &f)?;
            let to = resolve_type(data, &t)?;
            let id = fid
                .parse::<u64>()
                .map_err(|_| HubspotError::object_not_found(&fid))?;
            let id = data.type_data(&from).map_or(id, |td| td.resolve_id(id));
            let all = assoc_entries(data, &from, id, &to);
            let total = all.len();
            let results: Vec<Value> = all.into_iter().skip(offset).take(limit).collect();
            let mut body = json!({"results": results});
            if offset + limit < total {
                let next = (offset + limit).to_string();
                if let Some(o) = body.as_object_mut() {
                    o.insert(
                        "paging".into(),
                        json!({"next": {"after": next, "link": format!("?after={next}")}}),
                    );
                }
            }
            Ok(json_response(StatusCode::OK, body))
        })
    })();
    api.done(r)
}

#[derive(Debug, Deserialize)]
struct PairInput {
    from: IdRef,
    to: IdRef,
    #[serde(default)]
    types: Vec<AssocSpec>,
}

fn missing_error(data: &PortalData, ty: &str, id: &str) -> Value {
    batch_error(
        "OBJECT_NOT_FOUND",
        &format!("Could not find {} {id}", data.type_label(ty)),
        json!({"ids": [id]}),
    )
}

async fn batch_default(api: Api, Path((f, t)): Path<(String, String)>, body: Bytes) -> Response {
    let started = now_ms();
    let r = (|| {
        let b: Inputs<PairInput> = parse_body(&body)?;
        check_len(b.inputs.len(), api.knobs.assoc_batch_create_max)?;
        api.write(|tx| {
            let (mut results, mut errors) = (Vec::new(), Vec::new());
            for i in &b.inputs {
                let (fid, tid) = (value_string(&i.from.id), value_string(&i.to.id));
                match ends(tx.data, &f, &fid, &t, &tid) {
                    Ok(e) => {
                        let ty = default_type(tx.data, &e.from, &e.to)?;
                        tx.associate(&e.from, e.from_id, &e.to, e.to_id, &[ty]);
                        results.extend(default_result(tx.data, &e, ty));
                    }
                    Err(_) => {
                        errors.push(missing_error(tx.data, &resolve_type(tx.data, &f)?, &fid))
                    }
                }
            }
            Ok(batch_response(StatusCode::OK, results, errors, started))
        })
    })();
    api.done(r)
}

async fn batch_create(api: Api, Path((f, t)): Path<(String, String)>, body: Bytes) -> Response {
    let started = now_ms();
    let r = (|| {
        let b: Inputs<PairInput> = parse_body(&body)?;
        check_len(b.inputs.len(), api.knobs.assoc_batch_create_max)?;
        api.write(|tx| {
            let (mut results, mut errors) = (Vec::new(), Vec::new());
            for i in &b.inputs {
                let (fid, tid) = (value_string(&i.from.id), value_string(&i.to.id));
                let e = match ends(tx.data, &f, &fid, &t, &tid) {
                    Ok(e) => e,
                    Err(_) => {
                        errors.push(batch_error(
                            "VALIDATION_ERROR",
                            &format!("One of the objects does not exist: {fid} -> {tid}"),
                            json!({"fromObjectId": [fid], "toObjectId": [tid]}),
                        ));
                        continue;
                    }
                };
                match check_specs(tx.data, &e.from, &e.to, &i.types) {
                    Ok(types) => {
                        let mut types = types;
                        if let Some(d) = tx.data.default_assoc(&e.from, &e.to) {
                            types.push(d.type_id);
                        }
                        tx.associate(&e.from, e.from_id, &e.to, e.to_id, &types);
                        results.push(labeled_result(tx.data, &e));
                    }
                    Err(err) => errors.push(batch_error(
                        "VALIDATION_ERROR",
                        err.body["message"].as_str().unwrap_or("invalid type"),
                        json!({"fromObjectId": [fid]}),
                    )),
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
struct ReadInput {
    id: Value,
    #[serde(default)]
    after: Option<String>,
}

async fn batch_read(api: Api, Path((f, t)): Path<(String, String)>, body: Bytes) -> Response {
    let started = now_ms();
    let r = (|| {
        let b: Inputs<ReadInput> = parse_body(&body)?;
        check_len(b.inputs.len(), api.knobs.assoc_batch_read_max)?;
        let page = api.knobs.assoc_list_max.max(1);
        api.read(|data| {
            let from = resolve_type(data, &f)?;
            let to = resolve_type(data, &t)?;
            let (mut results, mut errors) = (Vec::new(), Vec::new());
            for i in &b.inputs {
                let raw = value_string(&i.id);
                let id = raw.parse::<u64>().unwrap_or(0);
                let all = assoc_entries(data, &from, id, &to);
                if all.is_empty() {
                    let mut err = batch_error(
                        "OBJECT_NOT_FOUND",
                        &format!(
                            "No {} is associated with {} {raw}.",
                            data.type_label(&to).to_lowercase(),
                            data.type_label(&from).to_lowercase()
                        ),
                        json!({"fromObjectId": [raw]}),
                    );
                    if let Some(o) = err.as_object_mut() {
                        o.insert(
                            "subCategory".into(),
                            json!("crm.associations.NO_ASSOCIATIONS_FOUND"),
                        );
                    }
                    errors.push(err);
                    continue;
                }
                let offset = i
                    .after
                    .as_deref()
                    .and_then(|a| a.parse::<usize>().ok())
                    .unwrap_or(0);
                let total = all.len();
                let to_list: Vec<Value> = all.into_iter().skip(offset).take(page).collect();
                let mut entry = json!({"from": {"id": raw}, "to": to_list});
                if offset + page < total
                    && let Some(o) = entry.as_object_mut()
                {
                    o.insert(
                        "paging".into(),
                        json!({"next": {"after": (offset + page).to_string()}}),
                    );
                }
                results.push(entry);
            }
            Ok(batch_response(StatusCode::OK, results, errors, started))
        })
    })();
    api.done(r)
}

#[derive(Debug, Deserialize)]
struct ArchiveInput {
    from: IdRef,
    to: Vec<IdRef>,
}

async fn batch_archive(api: Api, Path((f, t)): Path<(String, String)>, body: Bytes) -> Response {
    let r = (|| {
        let b: Inputs<ArchiveInput> = parse_body(&body)?;
        check_len(b.inputs.len(), api.knobs.assoc_batch_create_max)?;
        api.write(|tx| {
            let from = resolve_type(tx.data, &f)?;
            let to = resolve_type(tx.data, &t)?;
            for i in &b.inputs {
                let Ok(fid) = value_string(&i.from.id).parse::<u64>() else {
                    continue;
                };
                for target in &i.to {
                    if let Ok(tid) = value_string(&target.id).parse::<u64>() {
                        tx.unassociate(&from, fid, &to, tid, None);
                    }
                }
            }
            Ok(no_content())
        })
    })();
    api.done(r)
}

async fn batch_labels_archive(
    api: Api,
    Path((f, t)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let r = (|| {
        let b: Inputs<PairInput> = parse_body(&body)?;
        check_len(b.inputs.len(), api.knobs.assoc_batch_create_max)?;
        api.write(|tx| {
            let from = resolve_type(tx.data, &f)?;
            let to = resolve_type(tx.data, &t)?;
            for i in &b.inputs {
                let (Ok(fid), Ok(tid)) = (
                    value_string(&i.from.id).parse::<u64>(),
                    value_string(&i.to.id).parse::<u64>(),
                ) else {
                    continue;
                };
                let ids: Vec<u32> = i.types.iter().map(|s| s.association_type_id).collect();
                tx.unassociate(&from, fid, &to, tid, Some(&ids));
            }
            Ok(no_content())
        })
    })();
    api.done(r)
}

async fn labels(api: Api, Path((f, t)): Path<(String, String)>) -> Response {
    let r = api.read(|data| {
        let from = resolve_type(data, &f)?;
        let to = resolve_type(data, &t)?;
        let results: Vec<Value> = data
            .assoc_defs_between(&from, &to)
            .iter()
            .map(|d| d.type_json())
            .collect();
        Ok(json_response(StatusCode::OK, json!({"results": results})))
    });
    api.done(r)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LabelBody {
    label: String,
    #[serde(default)]
    inverse_label: Option<String>,
}

async fn create_label(api: Api, Path((f, t)): Path<(String, String)>, body: Bytes) -> Response {
    let r = (|| {
        let b: LabelBody = parse_body(&body)?;
        if b.label.trim().is_empty() {
            return Err(HubspotError::validation("label is required"));
        }
        api.write(|tx| {
            let from = resolve_type(tx.data, &f)?;
            let to = resolve_type(tx.data, &t)?;
            if tx
                .data
                .assoc_defs_between(&from, &to)
                .iter()
                .any(|d| d.label.as_deref() == Some(b.label.as_str()))
            {
                return Err(HubspotError::new(
                    StatusCode::CONFLICT,
                    "CONFLICT",
                    format!("Label {} already exists", b.label),
                ));
            }
            let id = tx.add_label(&from, &to, &b.label, b.inverse_label.as_deref());
            let results: Vec<Value> = tx
                .data
                .assoc_defs_between(&from, &to)
                .iter()
                .filter(|d| d.type_id == id)
                .map(|d| d.type_json())
                .collect();
            Ok(json_response(StatusCode::OK, json!({"results": results})))
        })
    })();
    api.done(r)
}
