//! CRM v3 objects, batch, search, properties, schemas and associations v4
//! (`docs/hubspot-api.md` §2–§7).
//!
//! Submodules: [`objects`] (single-object CRUD, list, merge, gdpr-delete), [`batch`]
//! (batch read/create/update/upsert/archive), [`search`], [`properties`] (properties and groups),
//! [`schemas`] (custom object schemas), [`associations`] (v4), [`validate`] (property value
//! rules and the `PROPERTY_DOESNT_EXIST`-style error bodies).
//!
//! Every handler takes an [`Api`] extractor first: it authenticates the bearer token
//! ([`Caller`]), refuses OAuth callers without the route's scope ([`super::scopes`], before any
//! budget is spent), applies the rate limits ([`super::ratelimit`]; search has its own), and its
//! [`Api::done`] adds the rate-limit and correlation-id headers to whatever the handler answers.
//! Writes go through [`super::store::Store::write`] with `ChangeSource::api(caller.app_id)`.
//! Dated paths (`/crm/objects/2026-03/…`, `/crm/properties/2026-03/…`, also `2025-09` and
//! `2026-09`) serve the same handlers while the knob `accept_dated_paths` is on.

pub mod associations;
pub mod batch;
pub mod objects;
pub mod properties;
pub mod schemas;
pub mod search;
pub mod validate;

use axum::Router;
use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::Simulator;
use super::auth::Caller;
use super::changes::ChangeSource;
use super::errors::HubspotError;
use super::ratelimit::{LimitKind, RateHeaders};
use super::scopes;
use super::store::{Obj, PortalData, Tx, defs, iso};

/// Date-based API versions served beside v3 (§1).
pub const DATED_VERSIONS: [&str; 3] = ["2025-09", "2026-03", "2026-09"];

/// CRM behaviour knobs (`docs/hubspot-api.md` §13). Changeable at run time through
/// `GET`/`PUT /_sim/hubspot/crm`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CrmKnobs {
    /// Serve `/crm/objects/{2025-09,2026-03,2026-09}/…` and `/crm/properties/<date>/…` as
    /// aliases of v3. Default true.
    pub accept_dated_paths: bool,
    /// List page size when `limit` is absent. Default 10.
    pub list_page_default: usize,
    /// Largest list `limit` (above → 400). Default 100.
    pub list_page_max: usize,
    /// Largest list `limit` with `propertiesWithHistory`. Default 50.
    pub list_page_max_with_history: usize,
    /// Largest number of inputs of an object batch call (above → 400). Default 100.
    pub batch_max_inputs: usize,
    /// Batch create/update succeed partially (207) only when every input has a unique
    /// `objectWriteTraceId`; otherwise one bad input fails the batch. Default true.
    pub batch_create_partial_requires_trace_id: bool,
    /// Search page size when `limit` is absent. Default 10.
    pub search_page_default: usize,
    /// Largest search `limit` (above → 400). Default 200.
    pub search_page_max: usize,
    /// Results reachable by paging a search; `after` at or beyond it → 400. Default 10,000.
    pub search_total_cap: usize,
    /// Most `filterGroups` in a search. Default 5.
    pub search_max_filter_groups: usize,
    /// Most filters in one group. Default 6.
    pub search_max_filters_per_group: usize,
    /// Most filters in all groups. Default 18.
    pub search_max_filters_total: usize,
    /// Largest search request body in characters. Default 3,000.
    pub search_max_body_chars: usize,
    /// Milliseconds before a write becomes visible to search. Default 2,000 (tests use 0).
    pub search_index_lag_ms: u64,
    /// Largest v4 association batch read. Default 1,000.
    pub assoc_batch_read_max: usize,
    /// Largest v4 association batch create (and archive). Default 2,000.
    pub assoc_batch_create_max: usize,
    /// Largest v4 association list page. Default 500.
    pub assoc_list_max: usize,
    /// Check property values (numbers, dates, booleans, enumeration options, read-only
    /// properties). Unknown properties are always rejected. Default true.
    pub validate_property_values: bool,
    /// Enumeration values must match an option's case exactly (else they are normalised to
    /// the option). Also makes search on enumerations case-sensitive. Default true.
    pub enum_case_sensitive: bool,
    /// `date` values must be at midnight UTC (`INVALID_DATE`). Default true.
    pub date_requires_midnight_utc: bool,
    /// Creating a contact with an email that exists answers 409 CONFLICT "Contact already
    /// exists. Existing ID: N". Default true.
    pub reject_duplicate_email: bool,
}

impl Default for CrmKnobs {
    fn default() -> Self {
        Self {
            accept_dated_paths: true,
            list_page_default: 10,
            list_page_max: 100,
            list_page_max_with_history: 50,
            batch_max_inputs: 100,
            batch_create_partial_requires_trace_id: true,
            search_page_default: 10,
            search_page_max: 200,
            search_total_cap: 10_000,
            search_max_filter_groups: 5,
            search_max_filters_per_group: 6,
            search_max_filters_total: 18,
            search_max_body_chars: 3_000,
            search_index_lag_ms: 2_000,
            assoc_batch_read_max: 1_000,
            assoc_batch_create_max: 2_000,
            assoc_list_max: 500,
            validate_property_values: true,
            enum_case_sensitive: true,
            date_requires_midnight_utc: true,
            reject_duplicate_email: true,
        }
    }
}

pub(crate) fn routes() -> Router<Simulator> {
    let mut r = Router::new()
        .merge(objects::routes("/crm/v3/objects"))
        .merge(batch::routes("/crm/v3/objects"))
        .merge(search::routes("/crm/v3/objects"))
        .merge(properties::routes("/crm/v3/properties"))
        .merge(schemas::routes("/crm-object-schemas/v3/schemas"))
        .merge(schemas::routes("/crm/v3/schemas"))
        .merge(associations::routes());
    for v in DATED_VERSIONS {
        let objs = format!("/crm/objects/{v}");
        r = r
            .merge(objects::routes(&objs))
            .merge(batch::routes(&objs))
            .merge(search::routes(&objs))
            .merge(properties::routes(&format!("/crm/properties/{v}")));
    }
    r
}

fn is_dated(path: &str) -> bool {
    DATED_VERSIONS.iter().any(|v| {
        path.starts_with(&format!("/crm/objects/{v}/"))
            || path.starts_with(&format!("/crm/properties/{v}/"))
    })
}

/// An authenticated, rate-limited CRM call: the simulator, the caller, the knobs at the time
/// of the call and the rate-limit headers to send back.
pub struct Api {
    /// The simulator.
    pub sim: Simulator,
    /// Who calls.
    pub caller: Caller,
    /// CRM knobs (read once per request).
    pub knobs: CrmKnobs,
    /// Rate-limit headers for the response.
    pub rate: RateHeaders,
}

impl FromRequestParts<Simulator> for Api {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        sim: &Simulator,
    ) -> Result<Self, Self::Rejection> {
        let knobs = sim.inner.store.knobs();
        if is_dated(parts.uri.path()) && !knobs.accept_dated_paths {
            return Err(HubspotError::plain(StatusCode::NOT_FOUND, "Not found").into_response());
        }
        let caller = Caller::from_request_parts(parts, sim)
            .await
            .map_err(IntoResponse::into_response)?;
        scopes::authorize(sim, &caller, parts).map_err(IntoResponse::into_response)?;
        let kind = if parts.method == Method::POST && parts.uri.path().ends_with("/search") {
            LimitKind::Search
        } else {
            LimitKind::Standard
        };
        let rate = sim
            .inner
            .limits
            .check(&caller, kind)
            .map_err(IntoResponse::into_response)?;
        Ok(Api {
            sim: sim.clone(),
            caller,
            knobs,
            rate,
        })
    }
}

/// A handler's result: a response or a HubSpot error.
pub type ApiResult = Result<Response, HubspotError>;

impl Api {
    /// Finishes a response: error bodies rendered, rate-limit and correlation headers added.
    pub fn done(&self, result: ApiResult) -> Response {
        let mut resp = match result {
            Ok(r) => r,
            Err(e) => e.into_response(),
        };
        self.rate.apply(resp.headers_mut());
        if !resp.headers().contains_key("x-hubspot-correlation-id")
            && let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
        {
            resp.headers_mut().insert("x-hubspot-correlation-id", v);
        }
        resp
    }

    /// The caller's portal id.
    pub fn portal(&self) -> u64 {
        self.caller.portal_id
    }

    /// Who writes: the calling app (or private app).
    pub fn source(&self) -> ChangeSource {
        ChangeSource::api(self.caller.app_id)
    }

    /// Runs `f` on the caller's portal data.
    pub fn read<R>(
        &self,
        f: impl FnOnce(&PortalData) -> Result<R, HubspotError>,
    ) -> Result<R, HubspotError> {
        self.sim
            .inner
            .store
            .read(self.portal(), f)
            .unwrap_or_else(|| Err(unknown_portal()))
    }

    /// Runs `f` in a write transaction on the caller's portal; changes are emitted.
    pub fn write<R>(
        &self,
        f: impl FnOnce(&mut Tx<'_>) -> Result<R, HubspotError>,
    ) -> Result<R, HubspotError> {
        let inner = &self.sim.inner;
        inner
            .store
            .write(self.portal(), Some(&inner.changes), self.source(), f)
            .unwrap_or_else(|| Err(unknown_portal()))
    }
}

fn unknown_portal() -> HubspotError {
    HubspotError::new(
        StatusCode::NOT_FOUND,
        "OBJECT_NOT_FOUND",
        "Portal not found",
    )
}

/// A JSON response with a status.
pub fn json_response(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// 204 No Content.
pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// Parses a JSON body into `T`, answering HubSpot's 400 on malformed input.
pub fn parse_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, HubspotError> {
    let slice: &[u8] = if body.is_empty() { b"{}" } else { body };
    serde_json::from_slice(slice).map_err(|e| {
        HubspotError::validation(format!(
            "Invalid input JSON on line {}, column {}: {e}",
            e.line(),
            e.column()
        ))
    })
}

/// Query parameters of a request, keeping repeats (`properties=a&properties=b`).
#[derive(Debug, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Parses a raw query string.
    pub fn parse(raw: Option<&str>) -> Self {
        Self(
            raw.map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
                .unwrap_or_default(),
        )
    }

    /// First value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// All values of `key`, comma-separated ones split, empty ones dropped.
    pub fn list(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .collect::<Vec<_>>()
            })
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// Whether `key` is present at all.
    pub fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    /// `key=true`.
    pub fn flag(&self, key: &str) -> bool {
        self.get(key)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// A numeric parameter; 400 when not a number.
    pub fn number(&self, key: &str) -> Result<Option<usize>, HubspotError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v.parse::<usize>().map(Some).map_err(|_| {
                HubspotError::validation(format!("Invalid value for query parameter {key}: {v}"))
            }),
        }
    }
}

/// Resolves `{objectType}` to a type id, or 400 "Unable to infer object type from: …".
pub fn resolve_type(data: &PortalData, name: &str) -> Result<String, HubspotError> {
    data.resolve_type(name).ok_or_else(|| {
        HubspotError::validation(format!("Unable to infer object type from: {name}"))
    })
}

/// What to include when rendering an object.
#[derive(Debug, Default, Clone)]
pub struct ReadOpts {
    /// `properties` requested (`None` = the type's default set).
    pub properties: Option<Vec<String>>,
    /// `propertiesWithHistory` requested.
    pub history: Vec<String>,
    /// `associations` requested (type names).
    pub associations: Vec<String>,
    /// Render every non-null property (write responses).
    pub all: bool,
}

impl ReadOpts {
    /// From query parameters `properties`, `propertiesWithHistory`, `associations`.
    pub fn from_query(q: &Query) -> Self {
        let props = q.list("properties");
        Self {
            properties: (!props.is_empty()).then_some(props),
            history: q.list("propertiesWithHistory"),
            associations: q.list("associations"),
            all: false,
        }
    }

    /// Every non-null property (what write responses carry).
    pub fn all() -> Self {
        Self {
            all: true,
            ..Self::default()
        }
    }
}

/// Renders an object as `SimplePublicObject` (with history and associations when asked).
pub fn render(data: &PortalData, type_id: &str, obj: &Obj, opts: &ReadOpts) -> Value {
    render_props(data, type_id, obj, &obj.props, opts)
}

/// Renders an object with the given property values (search uses its indexed view).
pub fn render_props(
    data: &PortalData,
    type_id: &str,
    obj: &Obj,
    values: &std::collections::BTreeMap<String, String>,
    opts: &ReadOpts,
) -> Value {
    let td = data.type_data(type_id);
    let known = |n: &str| td.is_some_and(|t| t.prop(n).is_some()) || values.contains_key(n);
    let mut props = Map::new();
    if opts.all {
        for (k, v) in values {
            props.insert(k.clone(), json!(v));
        }
    } else {
        let defaults: Vec<String> = defs::default_read_props(type_id)
            .into_iter()
            .map(str::to_string)
            .collect();
        let names = opts.properties.as_ref().unwrap_or(&defaults);
        for n in names {
            if known(n) {
                props.insert(n.clone(), values.get(n).map_or(Value::Null, |v| json!(v)));
            }
        }
    }
    let mut out = json!({
        "id": obj.id.to_string(),
        "properties": props,
        "createdAt": iso(obj.created_ms),
        "updatedAt": iso(obj.updated_ms),
        "archived": obj.archived,
    });
    let Some(o) = out.as_object_mut() else {
        return out;
    };
    if let Some(ms) = obj.archived_ms {
        o.insert("archivedAt".into(), json!(iso(ms)));
    }
    if !opts.history.is_empty() {
        let mut h = Map::new();
        for n in &opts.history {
            if !known(n) {
                continue;
            }
            let entries: Vec<Value> = obj
                .history
                .get(n)
                .map(|v| v.iter().rev().map(|e| e.to_json()).collect())
                .unwrap_or_default();
            h.insert(n.clone(), Value::Array(entries));
        }
        o.insert("propertiesWithHistory".into(), Value::Object(h));
    }
    if !opts.associations.is_empty() {
        let mut a = Map::new();
        for name in &opts.associations {
            let Some(to) = data.resolve_type(name) else {
                continue;
            };
            let mut results = Vec::new();
            for (id, types) in data.associations(type_id, obj.id, &to) {
                for d in types {
                    results.push(json!({"id": id.to_string(), "type": d.name}));
                }
            }
            if !results.is_empty() {
                a.insert(data.plural_name(&to), json!({"results": results}));
            }
        }
        if !a.is_empty() {
            o.insert("associations".into(), Value::Object(a));
        }
    }
    out
}

/// `{"status":"COMPLETE", results, startedAt, completedAt}` plus `numErrors`/`errors` when any.
pub fn batch_body(results: Vec<Value>, errors: Vec<Value>, started_ms: i64) -> Value {
    let now = iso(super::store::now_ms());
    let mut v = json!({"status": "COMPLETE", "results": results, "startedAt": iso(started_ms), "completedAt": now});
    if !errors.is_empty()
        && let Some(o) = v.as_object_mut()
    {
        o.insert("numErrors".into(), json!(errors.len()));
        o.insert("errors".into(), Value::Array(errors));
    }
    v
}

/// The `{inputs: [...]}` body of a batch call.
#[derive(Debug, Deserialize)]
pub struct Inputs<T> {
    /// One entry per object, property or association.
    pub inputs: Vec<T>,
}

/// 400 when a batch has more than `max` inputs.
pub fn check_len(n: usize, max: usize) -> Result<(), HubspotError> {
    if n > max {
        return Err(HubspotError::validation(format!(
            "Batch input size of {n} exceeds the maximum of {max}"
        )));
    }
    Ok(())
}

/// A batch answer: `ok` when every input succeeded, else 207 Multi-Status with the errors.
pub fn batch_response(
    ok: StatusCode,
    results: Vec<Value>,
    errors: Vec<Value>,
    started_ms: i64,
) -> Response {
    let status = if errors.is_empty() {
        ok
    } else {
        StatusCode::MULTI_STATUS
    };
    json_response(status, batch_body(results, errors, started_ms))
}

/// One error entry of a multi-status batch response.
pub fn batch_error(category: &str, message: &str, context: Value) -> Value {
    json!({"status": "error", "category": category, "message": message, "context": context,
        "errors": [], "links": {}})
}

/// A JSON value as a property string: strings as-is, numbers and booleans printed, null "".
pub fn value_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Parses an object id from the path, or 404 with HubSpot's not-found body.
pub fn parse_id(raw: &str) -> Result<u64, HubspotError> {
    raw.parse::<u64>()
        .map_err(|_| HubspotError::object_not_found(raw))
}
