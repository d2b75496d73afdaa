//! Typed HubSpot client for the hubsync workers.
//!
//! Layout: [`Client`] / [`ClientBuilder`] here; [`error`] (the [`Error`] enum); [`ids`]; wire
//! types in [`models`]; one request value per endpoint in [`requests`], each with
//! `.send(&client)`; [`page`] (the [`Paginator`]); [`retry`] (the pure [`RetryPolicy`]);
//! [`ratelimit`] (the `X-HubSpot-RateLimit-*` headers, exposed by
//! [`Client::last_rate_limit`]). Facts follow `docs/hubspot-api.md`.

pub mod error;
pub mod ids;
pub mod models;
pub mod page;
pub mod ratelimit;
pub mod requests;
pub mod retry;

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tracing::Instrument;
use url::Url;

pub use error::{Error, Result};
pub use ids::{AppId, ObjectId, ObjectType, PortalId};
pub use page::{Page, Paginator, Paging};
pub use ratelimit::{RateLimitInfo, RateLimitPolicy};
pub use retry::{Decision, RetryPolicy};

/// The default API host.
pub const DEFAULT_BASE_URL: &str = "https://api.hubapi.com";

/// How a request authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// `Authorization: Bearer <access or private-app token>`.
    Bearer,
    /// `?hapikey=<developer API key>` (webhook management, timeline templates).
    DeveloperKey,
    /// No credentials (OAuth token endpoints carry theirs in the body).
    None,
}

/// The body of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpBody {
    /// No body.
    Empty,
    /// A JSON body.
    Json(serde_json::Value),
    /// An `application/x-www-form-urlencoded` body.
    Form(Vec<(String, String)>),
}

/// A request ready to send: what every request value builds.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    /// HTTP method.
    pub method: Method,
    /// Path below the base URL, segments already escaped.
    pub path: String,
    /// Query parameters.
    pub query: Vec<(String, String)>,
    /// Body.
    pub body: HttpBody,
    /// Credentials to attach.
    pub auth: AuthKind,
}

impl HttpRequest {
    pub(crate) fn new(method: Method, path: String, auth: AuthKind) -> Self {
        HttpRequest {
            method,
            path,
            query: Vec::new(),
            body: HttpBody::Empty,
            auth,
        }
    }

    pub(crate) fn query(mut self, k: &str, v: impl Into<String>) -> Self {
        self.query.push((k.to_owned(), v.into()));
        self
    }

    pub(crate) fn json<T: serde::Serialize>(mut self, body: &T) -> Result<Self> {
        let v = serde_json::to_value(body)
            .map_err(|e| Error::InvalidRequest(format!("cannot serialize body: {e}")))?;
        self.body = HttpBody::Json(v);
        Ok(self)
    }
}

/// One HubSpot endpoint call.
pub trait Request {
    /// The decoded success body.
    type Output: DeserializeOwned;
    /// Builds the HTTP request, checking the API's limits first.
    fn build(&self) -> Result<HttpRequest>;
}

/// Escapes one path segment (ids may be emails with idProperty).
pub(crate) fn seg(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// Builds a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    base_url: String,
    oauth_base_url: Option<String>,
    access_token: Option<String>,
    developer_api_key: Option<String>,
    retry: RetryPolicy,
    timeout: Duration,
    user_agent: String,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            base_url: DEFAULT_BASE_URL.to_owned(),
            oauth_base_url: None,
            access_token: None,
            developer_api_key: None,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
            user_agent: concat!("hubsync-hubspot/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

impl ClientBuilder {
    /// API base URL (default `https://api.hubapi.com`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Base URL of the OAuth token endpoints (default: the API base URL; HubSpot's newer docs
    /// use `https://api.hubspot.com`).
    pub fn oauth_base_url(mut self, url: impl Into<String>) -> Self {
        self.oauth_base_url = Some(url.into());
        self
    }

    /// OAuth access token or private-app token, sent as `Authorization: Bearer`.
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.access_token = Some(token.into());
        self
    }

    /// Developer API key for app-level endpoints (`?hapikey=`).
    pub fn developer_api_key(mut self, key: impl Into<String>) -> Self {
        self.developer_api_key = Some(key.into());
        self
    }

    /// Retry rules (default [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Per-request timeout (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client> {
        let parse = |s: &str| {
            Url::parse(s.trim_end_matches('/'))
                .map_err(|e| Error::InvalidRequest(format!("bad base URL {s:?}: {e}")))
        };
        let base_url = parse(&self.base_url)?;
        let oauth_base_url = match &self.oauth_base_url {
            Some(s) => parse(s)?,
            None => base_url.clone(),
        };
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .user_agent(self.user_agent)
            .build()?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base_url,
                oauth_base_url,
                access_token: RwLock::new(self.access_token),
                developer_api_key: self.developer_api_key,
                retry: self.retry,
                last_rate_limit: Mutex::new(None),
            }),
        })
    }
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    base_url: Url,
    oauth_base_url: Url,
    access_token: RwLock<Option<String>>,
    developer_api_key: Option<String>,
    retry: RetryPolicy,
    last_rate_limit: Mutex<Option<RateLimitInfo>>,
}

/// The HubSpot client. Cheap to clone; clones share the token and the rate-limit state.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl Client {
    /// A builder with the defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Replaces the bearer token (after an OAuth refresh).
    pub fn set_access_token(&self, token: impl Into<String>) {
        if let Ok(mut t) = self.inner.access_token.write() {
            *t = Some(token.into());
        }
    }

    /// The `X-HubSpot-RateLimit-*` headers of the latest response that carried them.
    pub fn last_rate_limit(&self) -> Option<RateLimitInfo> {
        self.inner
            .last_rate_limit
            .lock()
            .ok()
            .and_then(|g| g.clone())
    }

    /// The retry policy in use.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// Sends a request value, retrying per the [`RetryPolicy`], and decodes its output.
    pub async fn send<R: Request + ?Sized>(&self, request: &R) -> Result<R::Output> {
        let req = request.build()?;
        let span = tracing::info_span!(
            "hubspot",
            method = %req.method,
            path = %req.path,
            status = tracing::field::Empty,
            attempt = tracing::field::Empty,
        );
        self.send_http(req).instrument(span).await
    }

    async fn send_http<T: DeserializeOwned>(&self, req: HttpRequest) -> Result<T> {
        let span = tracing::Span::current();
        let mut attempt = 0u32;
        loop {
            span.record("attempt", attempt);
            let (status, headers, body) = self.once(&req).await?;
            span.record("status", status.as_u16());
            if let Some(info) = RateLimitInfo::from_headers(&headers)
                && let Ok(mut g) = self.inner.last_rate_limit.lock()
            {
                *g = Some(info);
            }
            if status.is_success() {
                let text = if body.trim().is_empty() {
                    "null"
                } else {
                    &body
                };
                return serde_json::from_str(text).map_err(|source| Error::Decode {
                    body_snippet: error::snippet(&body),
                    source,
                });
            }
            let err_body: error::ErrorBody = serde_json::from_str(&body).unwrap_or_default();
            let policy = (status.as_u16() == 429).then(|| {
                RateLimitPolicy::from_body(
                    err_body.policy_name.as_deref(),
                    err_body.message.as_deref(),
                )
            });
            match self
                .inner
                .retry
                .decide(status.as_u16(), &headers, policy.as_ref(), attempt)
            {
                Decision::Retry(wait) => {
                    tracing::warn!(
                        status = status.as_u16(),
                        ?wait,
                        attempt,
                        "retrying HubSpot call"
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Decision::Fail => {
                    tracing::debug!(status = status.as_u16(), "HubSpot call failed");
                    return Err(classify(status, &headers, err_body, policy, &body));
                }
            }
        }
    }

    async fn once(&self, req: &HttpRequest) -> Result<(StatusCode, HeaderMap, String)> {
        let base = if req.auth == AuthKind::None {
            &self.inner.oauth_base_url
        } else {
            &self.inner.base_url
        };
        let mut url = base.clone();
        {
            let path = format!("{}{}", base.path().trim_end_matches('/'), req.path);
            url.set_path(&path);
        }
        let mut query = req.query.clone();
        if req.auth == AuthKind::DeveloperKey {
            let key = self.inner.developer_api_key.clone().ok_or_else(|| {
                Error::InvalidRequest("this endpoint needs a developer API key".into())
            })?;
            query.push(("hapikey".into(), key));
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter());
        }
        let mut rb = self.inner.http.request(req.method.clone(), url);
        if req.auth == AuthKind::Bearer {
            let token = self
                .inner
                .access_token
                .read()
                .ok()
                .and_then(|t| t.clone())
                .ok_or_else(|| {
                    Error::InvalidRequest("this endpoint needs an access token".into())
                })?;
            rb = rb.bearer_auth(token);
        }
        rb = match &req.body {
            HttpBody::Empty => rb,
            HttpBody::Json(v) => rb.json(v),
            HttpBody::Form(f) => rb.form(f),
        };
        let resp = rb.send().await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.text().await?;
        Ok((status, headers, body))
    }
}

fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    body: error::ErrorBody,
    policy: Option<RateLimitPolicy>,
    raw: &str,
) -> Error {
    let correlation_id = body.correlation_id.clone().or_else(|| {
        headers
            .get("x-hubspot-correlation-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    let message = body
        .message
        .clone()
        .or_else(|| body.oauth_error_description.clone())
        .unwrap_or_else(|| error::snippet(raw));
    if let Some(policy) = policy {
        let retry_after = match policy {
            RateLimitPolicy::Daily => {
                retry::retry_after(headers).unwrap_or_else(until_utc_midnight)
            }
            ref p => retry::rate_limit_wait(Some(p), headers),
        };
        return Error::RateLimited {
            retry_after,
            policy,
            correlation_id,
        };
    }
    if let Some(e) = body.oauth_error.clone() {
        let description = body
            .oauth_error_description
            .clone()
            .or(body.message.clone())
            .unwrap_or_default();
        return if e == "invalid_grant" {
            Error::InvalidGrant { description }
        } else {
            Error::OAuth {
                status: status.as_u16(),
                error: e,
                description,
            }
        };
    }
    let category = body.category.clone();
    match (status.as_u16(), category.as_deref()) {
        (401, Some("EXPIRED_AUTHENTICATION")) => Error::Expired {
            message,
            correlation_id,
        },
        (401, _) => Error::Unauthorized {
            message,
            correlation_id,
        },
        (400, Some("VALIDATION_ERROR")) => {
            let first = body.errors.first();
            let property = first
                .and_then(|e| e.context.get("propertyName"))
                .and_then(|v| v.first().cloned())
                .or_else(|| error::property_from_message(&message));
            Error::Validation {
                property,
                code: first.and_then(|e| e.code.clone()),
                message: first.and_then(|e| e.message.clone()).unwrap_or(message),
                correlation_id,
            }
        }
        (s, _) => Error::Api {
            status: s,
            category,
            message,
            correlation_id,
        },
    }
}

fn until_utc_midnight() -> Duration {
    let now = chrono::Utc::now();
    let next = (now.date_naive() + chrono::Days::new(1))
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc());
    next.and_then(|n| (n - now).to_std().ok())
        .unwrap_or(Duration::from_secs(3600))
}

/// Implements `send` on a request value.
macro_rules! impl_send {
    ($t:ty) => {
        impl $t {
            /// Sends this request with `client`.
            pub async fn send(
                &self,
                client: &$crate::Client,
            ) -> $crate::Result<<Self as $crate::Request>::Output> {
                client.send(self).await
            }
        }
    };
}
pub(crate) use impl_send;

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn body(json: &str) -> error::ErrorBody {
        serde_json::from_str(json).unwrap_or_default()
    }

    #[test]
    fn classify_validation_names_property_from_errors() {
        let b = body(
            r#"{"status":"error","message":"Property values were not valid: [{\"isValid\":false,\"message\":\"Property \\\"foo\\\" does not exist\",\"error\":\"PROPERTY_DOESNT_EXIST\",\"name\":\"foo\"}]","correlationId":"c1","errors":[{"message":"Property \"foo\" does not exist","code":"PROPERTY_DOESNT_EXIST","context":{"propertyName":["foo"]}}],"category":"VALIDATION_ERROR"}"#,
        );
        match classify(StatusCode::BAD_REQUEST, &HeaderMap::new(), b, None, "") {
            Error::Validation {
                property,
                code,
                correlation_id,
                ..
            } => {
                assert_eq!(property.as_deref(), Some("foo"));
                assert_eq!(code.as_deref(), Some("PROPERTY_DOESNT_EXIST"));
                assert_eq!(correlation_id.as_deref(), Some("c1"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn classify_validation_names_property_from_embedded_message() {
        let b = body(
            r#"{"message":"Property values were not valid: [{\"isValid\":false,\"error\":\"INVALID_INTEGER\",\"name\":\"discount\"}]","category":"VALIDATION_ERROR"}"#,
        );
        match classify(StatusCode::BAD_REQUEST, &HeaderMap::new(), b, None, "") {
            Error::Validation { property, .. } => {
                assert_eq!(property.as_deref(), Some("discount"))
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn classify_oauth_invalid_grant_and_expired_token() {
        let b = body(
            r#"{"error":"invalid_grant","error_description":"refresh token is invalid, expired or revoked","status":"BAD_REFRESH_TOKEN"}"#,
        );
        assert!(matches!(
            classify(StatusCode::BAD_REQUEST, &HeaderMap::new(), b, None, ""),
            Error::InvalidGrant { .. }
        ));
        let b = body(r#"{"category":"EXPIRED_AUTHENTICATION","message":"expired"}"#);
        assert!(matches!(
            classify(StatusCode::UNAUTHORIZED, &HeaderMap::new(), b, None, ""),
            Error::Expired { .. }
        ));
    }

    #[test]
    fn classify_429_daily_waits_until_reset() {
        let b = body(r#"{"errorType":"RATE_LIMIT","policyName":"DAILY"}"#);
        match classify(
            StatusCode::TOO_MANY_REQUESTS,
            &HeaderMap::new(),
            b,
            Some(RateLimitPolicy::Daily),
            "",
        ) {
            Error::RateLimited {
                retry_after,
                policy,
                ..
            } => {
                assert_eq!(policy, RateLimitPolicy::Daily);
                assert!(retry_after <= Duration::from_secs(86_400));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn ratelimit_info_parses_headers() {
        let mut h = HeaderMap::new();
        h.insert("x-hubspot-ratelimit-max", HeaderValue::from_static("190"));
        h.insert(
            "x-hubspot-ratelimit-remaining",
            HeaderValue::from_static("189"),
        );
        h.insert(
            "x-hubspot-ratelimit-interval-milliseconds",
            HeaderValue::from_static("10000"),
        );
        let info = RateLimitInfo::from_headers(&h);
        assert_eq!(
            info,
            Some(RateLimitInfo {
                max: Some(190),
                remaining: Some(189),
                interval_ms: Some(10_000),
                ..RateLimitInfo::default()
            })
        );
        assert_eq!(RateLimitInfo::from_headers(&HeaderMap::new()), None);
    }

    #[test]
    fn object_id_accepts_numbers_and_strings() {
        let ids: Vec<ObjectId> = serde_json::from_str(r#"["12", 34]"#).unwrap_or_default();
        assert_eq!(ids, vec![ObjectId::from("12"), ObjectId::from(34u64)]);
    }

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(seg("a b@x.example"), "a%20b%40x.example");
    }
}
