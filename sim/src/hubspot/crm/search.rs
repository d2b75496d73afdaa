//! CRM search (`docs/hubspot-api.md` §3.2): filter groups (AND within, OR across), every
//! operator, one sort, free-text `query`, offset paging with the 10,000 cap, filter and body
//! limits, the indexing lag, and association filters (`associations.contact`).

use std::cmp::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};

use super::validate::parse_time_ms;
use super::{
    Api, ApiResult, CrmKnobs, ReadOpts, json_response, parse_body, render_props, resolve_type,
    value_string,
};
use crate::hubspot::Simulator;
use crate::hubspot::errors::HubspotError;
use crate::hubspot::store::defs::{self, PropertyDef};
use crate::hubspot::store::{Obj, PortalData, now_ms};

pub(crate) fn routes(prefix: &str) -> Router<Simulator> {
    Router::new().route(&format!("{prefix}/{{objectType}}/search"), post(search))
}

/// One filter.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    /// Property (or `associations.<type>`).
    pub property_name: String,
    /// Operator.
    pub operator: String,
    /// Value.
    #[serde(default)]
    pub value: Option<Value>,
    /// Values (IN / NOT_IN).
    #[serde(default)]
    pub values: Option<Vec<Value>>,
    /// Upper bound (BETWEEN).
    #[serde(default)]
    pub high_value: Option<Value>,
}

impl Filter {
    /// `value` as a string ("" when absent).
    fn value(&self) -> String {
        self.value.as_ref().map(value_string).unwrap_or_default()
    }

    /// `values` as strings.
    fn values(&self) -> Vec<String> {
        self.values
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(value_string)
            .collect()
    }
}

/// Filters ANDed together.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct FilterGroup {
    /// Filters.
    pub filters: Vec<Filter>,
}

/// A search request.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct SearchRequest {
    /// Groups, ORed.
    pub filter_groups: Vec<FilterGroup>,
    /// Sort rules (objects `{propertyName, direction}` or strings `prop` / `-prop`).
    pub sorts: Vec<Value>,
    /// Free text.
    pub query: Option<String>,
    /// Properties to return.
    pub properties: Vec<String>,
    /// Page size.
    pub limit: Option<Value>,
    /// Offset (string or number).
    pub after: Option<Value>,
}

const OPERATORS: [&str; 13] = [
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "BETWEEN",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
];

fn check_limits(req: &SearchRequest, k: &CrmKnobs) -> Result<(), HubspotError> {
    if req.filter_groups.len() > k.search_max_filter_groups {
        return Err(HubspotError::validation(format!(
            "Too many filter groups: {} (maximum {})",
            req.filter_groups.len(),
            k.search_max_filter_groups
        )));
    }
    let mut total = 0;
    for g in &req.filter_groups {
        if g.filters.len() > k.search_max_filters_per_group {
            return Err(HubspotError::validation(format!(
                "Too many filters in a filter group: {} (maximum {})",
                g.filters.len(),
                k.search_max_filters_per_group
            )));
        }
        total += g.filters.len();
        for f in &g.filters {
            if !OPERATORS.contains(&f.operator.as_str()) {
                return Err(HubspotError::validation(format!(
                    "Unknown operator: {}",
                    f.operator
                )));
            }
        }
    }
    if total > k.search_max_filters_total {
        return Err(HubspotError::validation(format!(
            "Too many filters: {total} (maximum {})",
            k.search_max_filters_total
        )));
    }
    if req.sorts.len() > 1 {
        return Err(HubspotError::validation("Only one sort rule is supported"));
    }
    Ok(())
}

fn as_usize(v: &Option<Value>, what: &str) -> Result<Option<usize>, HubspotError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let s = value_string(v);
            if s.is_empty() {
                return Ok(None);
            }
            s.parse::<usize>()
                .map(Some)
                .map_err(|_| HubspotError::validation(format!("Invalid {what}: {s}")))
        }
    }
}

async fn search(api: Api, Path(t): Path<String>, body: Bytes) -> Response {
    let r = run(&api, &t, &body);
    api.done(r)
}

fn run(api: &Api, t: &str, body: &Bytes) -> ApiResult {
    let k = &api.knobs;
    let chars = String::from_utf8_lossy(body).chars().count();
    if chars > k.search_max_body_chars {
        return Err(HubspotError::validation(format!(
            "Search request body is {chars} characters, more than the maximum of {}",
            k.search_max_body_chars
        )));
    }
    let req: SearchRequest = parse_body(body)?;
    check_limits(&req, k)?;
    let limit = as_usize(&req.limit, "limit")?.unwrap_or(k.search_page_default);
    if limit > k.search_page_max {
        return Err(HubspotError::validation(format!(
            "limit must be less than or equal to {}, got {limit}",
            k.search_page_max
        )));
    }
    let limit = limit.max(1);
    let offset = as_usize(&req.after, "after")?.unwrap_or(0);
    if offset >= k.search_total_cap {
        return Err(HubspotError::validation(format!(
            "Paging beyond {} results is not supported (after={offset})",
            k.search_total_cap
        )));
    }
    let now = now_ms();
    let body = api.read(|data| {
        let type_id = resolve_type(data, t)?;
        let Some(td) = data.type_data(&type_id) else {
            return Ok(json!({"total": 0, "results": []}));
        };
        let ctx = Ctx {
            data,
            type_id: &type_id,
            knobs: k,
        };
        let mut hits: Vec<(&Obj, &std::collections::BTreeMap<String, String>)> = td
            .objects
            .values()
            .filter_map(|o| o.indexed(now, k.search_index_lag_ms).map(|p| (o, p)))
            .filter(|(o, p)| ctx.matches_groups(&req.filter_groups, o.id, p))
            .filter(|(_, p)| ctx.matches_query(req.query.as_deref(), p))
            .collect();
        if let Some(sort) = req.sorts.first() {
            let (prop, desc) = parse_sort(sort);
            let def = td.prop(&prop);
            hits.sort_by(|a, b| {
                let o = compare_values(def, &prop, a.0, a.1, b.0, b.1);
                if desc { o.reverse() } else { o }
            });
        }
        let total = hits.len();
        let mut opts = ReadOpts::default();
        if !req.properties.is_empty() {
            let mut props = req.properties.clone();
            for base in [
                "hs_object_id",
                defs::created_prop(&type_id),
                defs::modified_prop(&type_id),
            ] {
                if !props.iter().any(|p| p == base) {
                    props.push(base.to_string());
                }
            }
            opts.properties = Some(props);
        }
        let results: Vec<Value> = hits
            .iter()
            .skip(offset)
            .take(limit)
            .map(|(o, p)| render_props(data, &type_id, o, p, &opts))
            .collect();
        let mut out = json!({"total": total, "results": results});
        if offset + limit < total
            && let Some(o) = out.as_object_mut()
        {
            let next = (offset + limit).to_string();
            o.insert(
                "paging".into(),
                json!({"next": {"after": next, "link": ""}}),
            );
        }
        Ok(out)
    })?;
    Ok(json_response(StatusCode::OK, body))
}

fn parse_sort(v: &Value) -> (String, bool) {
    match v {
        Value::String(s) => match s.strip_prefix('-') {
            Some(p) => (p.to_string(), true),
            None => (s.clone(), false),
        },
        other => {
            let prop = other["propertyName"]
                .as_str()
                .unwrap_or("createdate")
                .to_string();
            let desc = other["direction"]
                .as_str()
                .is_some_and(|d| d.eq_ignore_ascii_case("DESCENDING"));
            (prop, desc)
        }
    }
}

fn numeric(def: Option<&PropertyDef>, name: &str, v: &str) -> Option<f64> {
    let is_time = def.is_some_and(|d| matches!(d.type_.as_str(), "date" | "datetime"))
        || matches!(
            name,
            "createdate" | "lastmodifieddate" | "hs_lastmodifieddate" | "hs_createdate"
        );
    if is_time {
        return parse_time_ms(v).map(|n| n as f64);
    }
    v.parse::<f64>().ok()
}

fn is_numeric(def: Option<&PropertyDef>, name: &str) -> bool {
    def.is_some_and(PropertyDef::is_numeric) || name == "hs_object_id"
}

fn compare_values(
    def: Option<&PropertyDef>,
    prop: &str,
    ao: &Obj,
    ap: &std::collections::BTreeMap<String, String>,
    bo: &Obj,
    bp: &std::collections::BTreeMap<String, String>,
) -> Ordering {
    let (a, b) = (ap.get(prop), bp.get(prop));
    let o = match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(a), Some(b)) => {
            if is_numeric(def, prop) {
                let (x, y) = (numeric(def, prop, a), numeric(def, prop, b));
                x.partial_cmp(&y).unwrap_or(Ordering::Equal)
            } else {
                a.to_lowercase().cmp(&b.to_lowercase())
            }
        }
    };
    o.then(ao.id.cmp(&bo.id))
}

struct Ctx<'a> {
    data: &'a PortalData,
    type_id: &'a str,
    knobs: &'a CrmKnobs,
}

fn glob(pattern: &str, text: &str) -> bool {
    // `*` matches any run of characters.
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(pos) => rest = &rest[pos + part.len()..],
                None => return false,
            }
        }
    }
    true
}

impl Ctx<'_> {
    fn matches_groups(
        &self,
        groups: &[FilterGroup],
        id: u64,
        props: &std::collections::BTreeMap<String, String>,
    ) -> bool {
        groups.is_empty()
            || groups
                .iter()
                .any(|g| g.filters.iter().all(|f| self.matches(f, id, props)))
    }

    fn matches_query(
        &self,
        query: Option<&str>,
        props: &std::collections::BTreeMap<String, String>,
    ) -> bool {
        let Some(q) = query.map(str::trim).filter(|q| !q.is_empty()) else {
            return true;
        };
        let fields = defs::query_fields(self.type_id);
        let custom: Vec<String> = self
            .data
            .schema(self.type_id)
            .map(|s| s.searchable_properties.clone())
            .unwrap_or_default();
        let hay: Vec<String> = fields
            .iter()
            .map(|f| f.to_string())
            .chain(custom)
            .filter_map(|f| props.get(&f).map(|v| v.to_lowercase()))
            .collect();
        q.to_lowercase().split_whitespace().all(|tok| {
            let tok = tok.trim_matches('*');
            hay.iter().any(|h| h.contains(tok))
        })
    }

    fn matches(
        &self,
        f: &Filter,
        id: u64,
        props: &std::collections::BTreeMap<String, String>,
    ) -> bool {
        if let Some(to) = f.property_name.strip_prefix("associations.") {
            return self.matches_association(f, id, to);
        }
        let name = f.property_name.as_str();
        let td = self.data.type_data(self.type_id);
        let def = td.and_then(|t| t.prop(name));
        let is_enum = def.is_some_and(|d| d.type_.as_str() == "enumeration");
        let case_sensitive = is_enum && self.knobs.enum_case_sensitive;
        let actual = props.get(name).filter(|v| !v.is_empty());
        let value = f.value();
        let norm = |s: &str| {
            if case_sensitive {
                s.to_string()
            } else {
                s.to_lowercase()
            }
        };
        let eq = |a: &str, v: &str| {
            if is_numeric(def, name) {
                match (numeric(def, name, a), numeric(def, name, v)) {
                    (Some(x), Some(y)) => x == y,
                    _ => norm(a) == norm(v),
                }
            } else if is_enum {
                a.split(';').any(|part| norm(part) == norm(v))
            } else {
                norm(a) == norm(v)
            }
        };
        let cmp = |a: &str, v: &str| -> Option<Ordering> {
            if is_numeric(def, name) {
                numeric(def, name, a)?.partial_cmp(&numeric(def, name, v)?)
            } else {
                Some(a.to_lowercase().cmp(&v.to_lowercase()))
            }
        };
        match f.operator.as_str() {
            "HAS_PROPERTY" => actual.is_some(),
            "NOT_HAS_PROPERTY" => actual.is_none(),
            "EQ" => actual.is_some_and(|a| eq(a, &value)),
            "NEQ" => !actual.is_some_and(|a| eq(a, &value)),
            "LT" => actual
                .and_then(|a| cmp(a, &value))
                .is_some_and(|o| o == Ordering::Less),
            "LTE" => actual
                .and_then(|a| cmp(a, &value))
                .is_some_and(|o| o != Ordering::Greater),
            "GT" => actual
                .and_then(|a| cmp(a, &value))
                .is_some_and(|o| o == Ordering::Greater),
            "GTE" => actual
                .and_then(|a| cmp(a, &value))
                .is_some_and(|o| o != Ordering::Less),
            "BETWEEN" => {
                let high = f.high_value.as_ref().map(value_string).unwrap_or_default();
                actual.is_some_and(|a| {
                    cmp(a, &value).is_some_and(|o| o != Ordering::Less)
                        && cmp(a, &high).is_some_and(|o| o != Ordering::Greater)
                })
            }
            "IN" | "NOT_IN" => {
                let values = f.values();
                let hit = actual.is_some_and(|a| {
                    values.iter().any(|v| {
                        if is_numeric(def, name) {
                            eq(a, v)
                        } else if is_enum {
                            a.split(';').any(|part| {
                                norm(part) == *v
                                    || (!case_sensitive && norm(part) == v.to_lowercase())
                            })
                        } else {
                            // String IN/NOT_IN match lower-cased values only (§3.2).
                            a.to_lowercase() == *v
                        }
                    })
                });
                if f.operator == "IN" { hit } else { !hit }
            }
            "CONTAINS_TOKEN" | "NOT_CONTAINS_TOKEN" => {
                let hit = actual.is_some_and(|a| {
                    let a = a.to_lowercase();
                    let v = value.to_lowercase();
                    let tokens = a.split(|c: char| c.is_whitespace() || c == ';' || c == ',');
                    if v.contains('*') {
                        glob(&v, &a) || tokens.into_iter().any(|t| glob(&v, t))
                    } else {
                        a == v || tokens.into_iter().any(|t| t == v)
                    }
                });
                if f.operator == "CONTAINS_TOKEN" {
                    hit
                } else {
                    !hit
                }
            }
            _ => false,
        }
    }

    fn matches_association(&self, f: &Filter, id: u64, to: &str) -> bool {
        let Some(to_type) = self.data.resolve_type(to) else {
            return false;
        };
        let linked: Vec<u64> = self
            .data
            .associations(self.type_id, id, &to_type)
            .into_iter()
            .map(|(i, _)| i)
            .collect();
        let value = f.value();
        let values = f.values();
        let has = |v: &str| v.parse::<u64>().is_ok_and(|n| linked.contains(&n));
        match f.operator.as_str() {
            "EQ" => has(&value),
            "NEQ" => !has(&value),
            "IN" => values.iter().any(|v| has(v)),
            "NOT_IN" => !values.iter().any(|v| has(v)),
            "HAS_PROPERTY" => !linked.is_empty(),
            "NOT_HAS_PROPERTY" => linked.is_empty(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn glob_matches_wildcards() {
        assert!(glob("*@example.com", "jane@example.com"));
        assert!(glob("jane*", "jane@example.com"));
        assert!(glob("j*e@*.com", "jane@example.com"));
        assert!(!glob("*@example.org", "jane@example.com"));
    }
}
