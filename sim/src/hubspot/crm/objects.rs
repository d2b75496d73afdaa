//! Single-object CRUD, list, merge and GDPR delete (`docs/hubspot-api.md` §3, §4).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::associations::{InlineAssoc, resolve_inline};
use super::{
    Api, ApiResult, CrmKnobs, Query, ReadOpts, json_response, no_content, parse_body, parse_id,
    render, resolve_type, validate,
};
use crate::hubspot::Simulator;
use crate::hubspot::errors::HubspotError;
use crate::hubspot::store::{CONTACTS, PortalData, Tx};

pub(crate) fn routes(prefix: &str) -> Router<Simulator> {
    Router::new()
        .route(&format!("{prefix}/{{objectType}}"), get(list).post(create))
        .route(
            &format!("{prefix}/{{objectType}}/{{objectId}}"),
            get(get_one).patch(update).delete(archive),
        )
        .route(&format!("{prefix}/{{objectType}}/merge"), post(merge))
        .route(
            &format!("{prefix}/{{objectType}}/gdpr-delete"),
            post(gdpr_delete),
        )
}

/// `{properties, associations?}` of a create.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct CreateBody {
    /// Property values.
    pub properties: Map<String, Value>,
    /// Inline associations.
    pub associations: Vec<InlineAssoc>,
}

/// 400 for an `idProperty` that is not a unique key.
pub fn non_unique_id_property(type_id: &str, prop: &str, portal: u64) -> HubspotError {
    HubspotError::validation(format!(
        "Unable to perform update/upsert by non-unique {type_id} property {prop} in portal ID {portal}"
    ))
}

/// Finds the id of an object named by `raw` (a numeric id, or a unique value when
/// `id_property` names a unique property). Merged ids resolve to the survivor when
/// `follow_merges`. `archived` looks in the recycle bin instead.
pub fn locate(
    data: &PortalData,
    type_id: &str,
    raw: &str,
    id_property: Option<&str>,
    archived: bool,
    follow_merges: bool,
) -> Result<Option<u64>, HubspotError> {
    let Some(td) = data.type_data(type_id) else {
        return Ok(None);
    };
    match id_property.filter(|p| *p != "hs_object_id") {
        Some(p) => {
            if !td.is_unique(p) {
                return Err(non_unique_id_property(type_id, p, data.portal_id));
            }
            if archived {
                let lower = raw.to_lowercase();
                return Ok(td
                    .objects
                    .values()
                    .find(|o| {
                        o.archived && o.props.get(p).is_some_and(|v| v.to_lowercase() == lower)
                    })
                    .map(|o| o.id));
            }
            Ok(td.find_unique(p, raw))
        }
        None => {
            let Ok(id) = raw.parse::<u64>() else {
                return Ok(None);
            };
            let id = if follow_merges { td.resolve_id(id) } else { id };
            Ok(td
                .objects
                .get(&id)
                .filter(|o| o.archived == archived)
                .map(|o| o.id))
        }
    }
}

async fn list(api: Api, Path(t): Path<String>, RawQuery(raw): RawQuery) -> Response {
    let r = list_inner(&api, &t, &Query::parse(raw.as_deref()));
    api.done(r)
}

fn list_inner(api: &Api, t: &str, q: &Query) -> ApiResult {
    let opts = ReadOpts::from_query(q);
    let k = &api.knobs;
    let max = if opts.history.is_empty() {
        k.list_page_max
    } else {
        k.list_page_max_with_history
    };
    let limit = q.number("limit")?.unwrap_or(k.list_page_default);
    if limit > max {
        return Err(HubspotError::validation(format!(
            "limit must be less than or equal to {max}, got {limit}"
        )));
    }
    let limit = limit.max(1);
    let after = match q.get("after").filter(|a| !a.is_empty()) {
        None => 0,
        Some(a) => a
            .parse::<u64>()
            .map_err(|_| HubspotError::validation(format!("Invalid after value: {a}")))?,
    };
    let archived = q.flag("archived");
    let body = api.read(|data| {
        let type_id = resolve_type(data, t)?;
        let Some(td) = data.type_data(&type_id) else {
            return Ok(json!({"results": []}));
        };
        let mut page = td
            .objects
            .range(after..)
            .map(|(_, o)| o)
            .filter(|o| o.archived == archived);
        let results: Vec<Value> = page
            .by_ref()
            .take(limit)
            .map(|o| render(data, &type_id, o, &opts))
            .collect();
        let mut body = json!({"results": results});
        if let (Some(next), Some(o)) = (page.next(), body.as_object_mut()) {
            let after = next.id.to_string();
            o.insert(
                "paging".into(),
                json!({"next": {"after": after, "link": format!("?limit={limit}&after={after}")}}),
            );
        }
        Ok(body)
    })?;
    Ok(json_response(StatusCode::OK, body))
}

async fn get_one(
    api: Api,
    Path((t, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = Query::parse(raw.as_deref());
    let r = api.read(|data| {
        let type_id = resolve_type(data, &t)?;
        let found = locate(
            data,
            &type_id,
            &id,
            q.get("idProperty"),
            q.flag("archived"),
            true,
        )?;
        let obj = found
            .and_then(|i| data.type_data(&type_id).and_then(|td| td.objects.get(&i)))
            .ok_or_else(|| HubspotError::object_not_found(&id))?;
        Ok(json_response(
            StatusCode::OK,
            render(data, &type_id, obj, &ReadOpts::from_query(&q)),
        ))
    });
    api.done(r)
}

/// A validated create: properties to store and associations to add.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Validated property values.
    pub props: Vec<(String, String)>,
    /// Inline associations `(to type, to id, type ids)`.
    pub links: Vec<(String, u64, Vec<u32>)>,
}

/// Validates one create input (properties, required properties, unique values, inline
/// associations) without writing.
pub fn prepare_create(
    data: &PortalData,
    knobs: &CrmKnobs,
    type_id: &str,
    properties: &Map<String, Value>,
    associations: &[InlineAssoc],
) -> Result<Prepared, CreateError> {
    let td = data.type_data(type_id).ok_or_else(|| {
        CreateError::Other(HubspotError::validation(format!(
            "Unable to infer object type from: {type_id}"
        )))
    })?;
    let props =
        validate::check(data.portal_id, td, properties, knobs).map_err(CreateError::Props)?;
    let missing = validate::required_missing(data, type_id, &props);
    if !missing.is_empty() {
        return Err(CreateError::Props(missing));
    }
    if let Some(e) = validate::unique_conflict(data, type_id, &props, None, knobs) {
        return Err(CreateError::Other(e));
    }
    let links = resolve_inline(data, type_id, associations).map_err(CreateError::Other)?;
    Ok(Prepared { props, links })
}

/// Writes a prepared create; returns the new id.
pub fn commit_create(tx: &mut Tx<'_>, type_id: &str, p: &Prepared) -> Result<u64, HubspotError> {
    let id = tx
        .create(type_id, &p.props)
        .ok_or_else(|| HubspotError::validation("Unknown object type"))?;
    for (to, to_id, types) in &p.links {
        tx.associate(type_id, id, to, *to_id, types);
    }
    Ok(id)
}

/// Validates and creates one object with its inline associations inside a transaction.
pub fn create_in(
    tx: &mut Tx<'_>,
    knobs: &CrmKnobs,
    type_id: &str,
    properties: &Map<String, Value>,
    associations: &[InlineAssoc],
) -> Result<u64, CreateError> {
    let p = prepare_create(tx.data, knobs, type_id, properties, associations)?;
    commit_create(tx, type_id, &p).map_err(CreateError::Other)
}

/// Why one create input failed.
#[derive(Debug)]
pub enum CreateError {
    /// Invalid properties (rendered as `Property values were not valid: …`).
    Props(Vec<validate::PropError>),
    /// Any other error (conflict, bad association).
    Other(HubspotError),
}

impl CreateError {
    /// The error as a whole-request error.
    pub fn into_error(self, portal: u64) -> HubspotError {
        match self {
            CreateError::Props(e) => validate::error(portal, &e),
            CreateError::Other(e) => e,
        }
    }
}

async fn create(api: Api, Path(t): Path<String>, body: Bytes) -> Response {
    let r = (|| {
        let b: CreateBody = parse_body(&body)?;
        api.write(|tx| {
            let type_id = resolve_type(tx.data, &t)?;
            let id = create_in(tx, &api.knobs, &type_id, &b.properties, &b.associations)
                .map_err(|e| e.into_error(api.portal()))?;
            let obj = tx
                .data
                .type_data(&type_id)
                .and_then(|td| td.objects.get(&id));
            let obj = obj.ok_or_else(|| HubspotError::object_not_found(&id.to_string()))?;
            Ok(json_response(
                StatusCode::CREATED,
                render(tx.data, &type_id, obj, &ReadOpts::all()),
            ))
        })
    })();
    api.done(r)
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct UpdateBody {
    properties: Map<String, Value>,
}

async fn update(
    api: Api,
    Path((t, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    let q = Query::parse(raw.as_deref());
    let r = (|| {
        let b: UpdateBody = parse_body(&body)?;
        api.write(|tx| {
            let type_id = resolve_type(tx.data, &t)?;
            let oid = locate(tx.data, &type_id, &id, q.get("idProperty"), false, true)?
                .ok_or_else(|| HubspotError::object_not_found(&id))?;
            update_in(tx, &api.knobs, &type_id, oid, &b.properties)
                .map_err(|e| e.into_error(api.portal()))?;
            let obj = tx
                .data
                .type_data(&type_id)
                .and_then(|td| td.objects.get(&oid));
            let obj = obj.ok_or_else(|| HubspotError::object_not_found(&id))?;
            Ok(json_response(
                StatusCode::OK,
                render(tx.data, &type_id, obj, &ReadOpts::all()),
            ))
        })
    })();
    api.done(r)
}

/// Validates an update of object `id` without writing.
pub fn prepare_update(
    data: &PortalData,
    knobs: &CrmKnobs,
    type_id: &str,
    id: u64,
    properties: &Map<String, Value>,
) -> Result<Vec<(String, String)>, CreateError> {
    let td = data
        .type_data(type_id)
        .ok_or_else(|| CreateError::Other(HubspotError::object_not_found(&id.to_string())))?;
    let props =
        validate::check(data.portal_id, td, properties, knobs).map_err(CreateError::Props)?;
    if let Some(e) = validate::unique_conflict(data, type_id, &props, Some(id), knobs) {
        return Err(CreateError::Other(e));
    }
    Ok(props)
}

/// Validates and applies an update of a live object inside a transaction.
pub fn update_in(
    tx: &mut Tx<'_>,
    knobs: &CrmKnobs,
    type_id: &str,
    id: u64,
    properties: &Map<String, Value>,
) -> Result<(), CreateError> {
    let props = prepare_update(tx.data, knobs, type_id, id, properties)?;
    tx.update(type_id, id, &props)
        .ok_or_else(|| CreateError::Other(HubspotError::object_not_found(&id.to_string())))?;
    Ok(())
}

async fn archive(api: Api, Path((t, id)): Path<(String, String)>) -> Response {
    let r = api.write(|tx| {
        let type_id = resolve_type(tx.data, &t)?;
        if let Ok(n) = id.parse::<u64>() {
            tx.archive(&type_id, n);
        }
        Ok(no_content())
    });
    api.done(r)
}

/// `{primaryObjectId, objectIdToMerge}` of a merge (ids as strings or numbers).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MergeBody {
    /// The object that survives.
    pub primary_object_id: Value,
    /// The object merged into it.
    pub object_id_to_merge: Value,
}

impl MergeBody {
    /// Validates and merges ([`merge_in`]); the surviving id.
    pub fn apply(&self, tx: &mut Tx<'_>, type_id: &str) -> Result<u64, HubspotError> {
        merge_in(
            tx,
            type_id,
            &super::value_string(&self.primary_object_id),
            &super::value_string(&self.object_id_to_merge),
        )
    }
}

/// Merges two objects of a type (contacts, companies, deals, custom): validation plus
/// [`Tx::merge`]. Shared by the API and the UI control route.
pub fn merge_in(
    tx: &mut Tx<'_>,
    type_id: &str,
    primary: &str,
    merged: &str,
) -> Result<u64, HubspotError> {
    let p = parse_id(primary)?;
    let m = parse_id(merged)?;
    let td = tx
        .data
        .type_data(type_id)
        .ok_or_else(|| HubspotError::object_not_found(primary))?;
    let p = td.resolve_id(p);
    let m = td.resolve_id(m);
    if p == m {
        return Err(HubspotError::validation(
            "Cannot merge an object with itself",
        ));
    }
    if td.live(p, false).is_none() {
        return Err(HubspotError::object_not_found(primary));
    }
    if td.live(m, false).is_none() {
        return Err(HubspotError::object_not_found(merged));
    }
    tx.merge(type_id, p, m)
        .ok_or_else(|| HubspotError::object_not_found(merged))?;
    Ok(p)
}

async fn merge(api: Api, Path(t): Path<String>, body: Bytes) -> Response {
    let r = (|| {
        let b: MergeBody = parse_body(&body)?;
        api.write(|tx| {
            let type_id = resolve_type(tx.data, &t)?;
            let p = b.apply(tx, &type_id)?;
            let obj = tx
                .data
                .type_data(&type_id)
                .and_then(|td| td.objects.get(&p));
            let obj = obj.ok_or_else(|| HubspotError::object_not_found(&p.to_string()))?;
            Ok(json_response(
                StatusCode::OK,
                render(tx.data, &type_id, obj, &ReadOpts::all()),
            ))
        })
    })();
    api.done(r)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GdprBody {
    object_id: Value,
    #[serde(default)]
    id_property: Option<String>,
}

async fn gdpr_delete(api: Api, Path(t): Path<String>, body: Bytes) -> Response {
    let r = (|| {
        let b: GdprBody = parse_body(&body)?;
        let raw = super::value_string(&b.object_id);
        api.write(|tx| {
            let type_id = resolve_type(tx.data, &t)?;
            if type_id != CONTACTS {
                return Err(HubspotError::validation(
                    "GDPR delete is only supported for contacts",
                ));
            }
            let found = locate(
                tx.data,
                &type_id,
                &raw,
                b.id_property.as_deref(),
                false,
                true,
            )?;
            match found {
                Some(id) => {
                    tx.hard_delete(&type_id, id);
                }
                None if b.id_property.as_deref() == Some("email") => {
                    tx.data.blocklist.insert(raw.to_lowercase());
                }
                None => return Err(HubspotError::object_not_found(&raw)),
            }
            Ok(no_content())
        })
    })();
    api.done(r)
}
