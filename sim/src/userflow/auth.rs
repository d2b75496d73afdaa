//! The request gate of API routes: records every request (route, `Userflow-Version` header),
//! checks the version header, maps `Authorization: Bearer <key>` to an environment (401 for a
//! missing or unknown key) and applies the rate limit (429).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::errors::ApiError;
use super::{API_VERSION, Simulator};

/// The environment a request was authenticated for (inserted by [`gate`]).
#[derive(Debug, Clone)]
pub struct Env(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Env {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Env>()
            .cloned()
            .ok_or_else(|| ApiError::unauthorized("Missing API key"))
    }
}

/// One recorded API request.
#[derive(Debug, Clone, Serialize)]
pub struct RequestRecord {
    /// HTTP method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// `Userflow-Version` header value, if sent.
    pub version: Option<String>,
    /// Whether an `Authorization` header was sent.
    pub authorization: bool,
}

/// Counters over API requests (control routes are not counted).
#[derive(Debug, Clone, Default, Serialize)]
pub struct RequestCounts {
    /// All API requests.
    pub total: u64,
    /// Requests that carried `Userflow-Version`.
    pub with_version_header: u64,
    /// Requests without it.
    pub without_version_header: u64,
    /// Count per header value sent.
    pub by_version: BTreeMap<String, u64>,
    /// Count per `METHOD /path`.
    pub by_route: BTreeMap<String, u64>,
}

const LOG_CAP: usize = 5_000;

/// Request counters and the most recent requests.
#[derive(Default)]
pub struct RequestLog {
    inner: Mutex<(RequestCounts, VecDeque<RequestRecord>)>,
}

impl RequestLog {
    /// Current counters.
    pub fn counts(&self) -> RequestCounts {
        self.inner.lock().map(|g| g.0.clone()).unwrap_or_default()
    }

    /// The most recent requests (at most 5,000), oldest first.
    pub fn recent(&self) -> Vec<RequestRecord> {
        self.inner
            .lock()
            .map(|g| g.1.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Forgets counts and records.
    pub fn reset(&self) {
        if let Ok(mut g) = self.inner.lock() {
            *g = Default::default();
        }
    }

    fn add(&self, rec: RequestRecord) {
        if let Ok(mut g) = self.inner.lock() {
            let (counts, log) = &mut *g;
            counts.total += 1;
            match &rec.version {
                Some(v) => {
                    counts.with_version_header += 1;
                    *counts.by_version.entry(v.clone()).or_default() += 1;
                }
                None => counts.without_version_header += 1,
            }
            *counts
                .by_route
                .entry(format!("{} {}", rec.method, rec.path))
                .or_default() += 1;
            if log.len() >= LOG_CAP {
                log.pop_front();
            }
            log.push_back(rec);
        }
    }
}

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Middleware (outermost on API routes): records the request.
pub async fn record(State(sim): State<Simulator>, req: Request, next: Next) -> Response {
    sim.inner.requests.add(RequestRecord {
        method: req.method().to_string(),
        path: req.uri().path().to_string(),
        query: req.uri().query().map(str::to_string),
        version: header(&req, "userflow-version"),
        authorization: req.headers().contains_key("authorization"),
    });
    next.run(req).await
}

/// Middleware: version header, authentication, rate limit.
pub async fn gate(State(sim): State<Simulator>, mut req: Request, next: Next) -> Response {
    let knobs = sim.knobs();
    match header(&req, "userflow-version") {
        Some(v) if v != API_VERSION => {
            return ApiError::bad(
                "invalid_api_version",
                format!("Unsupported Userflow-Version '{v}'; the only version is {API_VERSION}"),
            )
            .into_response();
        }
        None if knobs.require_version_header => {
            return ApiError::bad(
                "missing_api_version",
                format!("The Userflow-Version header is required ({API_VERSION})"),
            )
            .into_response();
        }
        _ => {}
    }
    let Some(auth) = header(&req, "authorization") else {
        return ApiError::unauthorized("Missing API key: send 'Authorization: Bearer <api key>'")
            .into_response();
    };
    let key = match auth.split_once(' ') {
        Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") => key.trim().to_string(),
        _ => {
            return ApiError::unauthorized(
                "Malformed Authorization header: expected 'Bearer <api key>'",
            )
            .into_response();
        }
    };
    let Some(env) = sim
        .inner
        .config
        .environments
        .iter()
        .find(|e| e.api_keys.contains(&key))
    else {
        return ApiError::unauthorized("Invalid API key").into_response();
    };
    if let Err(e) = sim.inner.limiter.check(&key, &knobs.rate_limit) {
        return e.into_response();
    }
    req.extensions_mut().insert(Env(env.id.clone()));
    next.run(req).await
}
