//! Query strings and cursor pagination (§2, §2.1): `limit` (default 20, max 100; larger → 400),
//! `starting_after=<id>`, `order_by=created_at|-created_at`, `sort=asc|desc`, and the list
//! object `{object:"list", data, has_more, url, next_page_url}`. `next_page_url` is a relative
//! path repeating the request's other parameters, in order, followed by `starting_after`.

use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde_json::{Value, json};

use super::Simulator;
use super::errors::{ApiError, ApiResult};
use super::knobs::Knobs;
use super::store::EnvData;

/// The query string as ordered pairs (repeated keys kept).
#[derive(Debug, Clone, Default)]
pub struct Params {
    /// Decoded `(key, value)` pairs, in order.
    pub pairs: Vec<(String, String)>,
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::parse(parts.uri.query().unwrap_or("")))
    }
}

impl Params {
    /// Parses a raw query string.
    pub fn parse(raw: &str) -> Self {
        Self {
            pairs: form_urlencoded::parse(raw.as_bytes())
                .into_owned()
                .collect(),
        }
    }

    /// First value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `expand` / `expand[]` names `what` (comma-separated values allowed).
    pub fn expands(&self, what: &str) -> bool {
        self.pairs
            .iter()
            .filter(|(k, _)| k == "expand" || k == "expand[]")
            .any(|(_, v)| v.split(',').any(|p| p.trim() == what))
    }
}

/// Parsed list parameters.
#[derive(Debug, Clone)]
pub struct ListParams {
    /// Page size.
    pub limit: usize,
    /// Cursor.
    pub starting_after: Option<String>,
    /// Newest first.
    pub descending: bool,
}

/// Reads `limit`, `starting_after`, `order_by`, `sort`.
pub fn list_params(p: &Params, knobs: &Knobs) -> ApiResult<ListParams> {
    let limit = match p.get("limit") {
        None | Some("") => knobs.page_default,
        Some(s) => {
            let n: usize = s.parse().map_err(|_| {
                ApiError::bad(
                    "invalid_parameter",
                    format!("'limit' must be a positive integer, got '{s}'"),
                )
            })?;
            if n == 0 || n > knobs.page_max {
                return Err(ApiError::bad(
                    "invalid_parameter",
                    format!("'limit' must be between 1 and {}, got {n}", knobs.page_max),
                ));
            }
            n
        }
    };
    let mut descending = match p.get("sort") {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(other) => {
            return Err(ApiError::bad(
                "invalid_parameter",
                format!("'sort' must be asc or desc, got '{other}'"),
            ));
        }
    };
    match p.get("order_by") {
        None | Some("created_at") => {}
        Some("-created_at") => descending = true,
        Some(other) => {
            return Err(ApiError::bad(
                "invalid_parameter",
                format!("'order_by' must be created_at or -created_at, got '{other}'"),
            ));
        }
    }
    let starting_after = p
        .get("starting_after")
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    Ok(ListParams {
        limit,
        starting_after,
        descending,
    })
}

/// Builds a list object. `path` is the request path (e.g. `/users`).
pub fn list_json(path: &str, p: &Params, data: Vec<Value>, has_more: bool) -> Value {
    let last_id = data
        .last()
        .and_then(|v| v.get("id"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let next = match (has_more, last_id) {
        (true, Some(last)) => {
            let mut ser = form_urlencoded::Serializer::new(String::new());
            for (k, v) in p.pairs.iter().filter(|(k, _)| k != "starting_after") {
                ser.append_pair(k, v);
            }
            ser.append_pair("starting_after", &last);
            Value::String(format!("{path}?{}", ser.finish()))
        }
        _ => Value::Null,
    };
    json!({"object": "list", "data": data, "has_more": has_more, "url": path, "next_page_url": next})
}

/// Answers a list endpoint of `env`: reads the list parameters of `p` (400 on bad ones), lets
/// `page` produce one page and whether more follow, and wraps it in a list object for `path`.
pub fn list_response(
    sim: &Simulator,
    env: &str,
    path: &str,
    p: &Params,
    page: impl FnOnce(&EnvData, &ListParams, &Knobs) -> ApiResult<(Vec<Value>, bool)>,
) -> ApiResult<Json<Value>> {
    let knobs = sim.knobs();
    let lp = list_params(p, &knobs)?;
    let (data, more) = sim.inner.store.with_env(env, |d| page(d, &lp, &knobs))?;
    Ok(Json(list_json(path, p, data, more)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_page_url_keeps_other_params_first() {
        let p = Params::parse(
            "sort=asc&order_by=created_at&limit=2&starting_after=u1&expand=memberships",
        );
        let v = list_json("/users", &p, vec![json!({"id": "u 3"})], true);
        assert_eq!(
            v["next_page_url"],
            "/users?sort=asc&order_by=created_at&limit=2&expand=memberships&starting_after=u+3"
        );
        let v = list_json("/users", &p, vec![json!({"id": "u3"})], false);
        assert!(v["next_page_url"].is_null());
    }

    #[test]
    fn limits_are_checked() {
        let k = Knobs::default();
        assert_eq!(
            list_params(&Params::parse(""), &k).map(|l| l.limit).ok(),
            Some(20)
        );
        assert!(list_params(&Params::parse("limit=101"), &k).is_err());
        assert!(list_params(&Params::parse("limit=0"), &k).is_err());
        assert!(list_params(&Params::parse("order_by=name"), &k).is_err());
        assert_eq!(
            list_params(&Params::parse("order_by=-created_at"), &k)
                .map(|l| l.descending)
                .ok(),
            Some(true)
        );
    }
}
