//! Typed client for Userflow's REST API (the "Users API", version `2020-01-03`).
//!
//! ```no_run
//! # async fn demo() -> hubsync_userflow::Result<()> {
//! use hubsync_userflow::{Client, Request, requests::users};
//! let client = Client::builder("ak_live_...").build()?;
//! let user = users::Get::new("u_123").send(&client).await?;
//! # let _ = user; Ok(()) }
//! ```
//!
//! Every request sends `Authorization: Bearer <key>` and `Userflow-Version: 2020-01-03`.
//! Webhook bodies parse with [`models::notification::Notification::from_slice`]; the signature
//! check lives in `hubsync_core::signature::userflow`.

pub mod error;
pub mod ids;
pub mod models;
pub mod page;
pub mod requests;
pub mod retry;

use std::future::Future;
use std::time::Duration;

use reqwest::Method;
use serde::de::DeserializeOwned;
use tracing::Instrument;

pub use error::{Error, Result};
pub use ids::{GroupId, SubscriptionId, UserId};
pub use page::Paginator;
pub use retry::{Decision, RetryPolicy};

/// The only API version; sent on every request.
pub const API_VERSION: &str = "2020-01-03";
/// US region.
pub const DEFAULT_BASE_URL: &str = "https://api.userflow.com";
/// EU region.
pub const EU_BASE_URL: &str = "https://api.eu.userflow.com";

/// An HTTP request as a value: what a [`Request`] builds and the [`Client`] sends.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// HTTP method.
    pub method: Method,
    /// Path below the base URL, starting with `/`.
    pub path: String,
    /// Query parameters, in order.
    pub query: Vec<(String, String)>,
    /// JSON body.
    pub body: Option<serde_json::Value>,
}

impl HttpRequest {
    /// A request without query or body.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
        }
    }

    /// Adds a query parameter.
    pub fn query(mut self, key: &str, value: impl ToString) -> Self {
        self.query.push((key.to_owned(), value.to_string()));
        self
    }

    /// Adds a query parameter when `value` is `Some`.
    pub fn query_opt(self, key: &str, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.query(key, v),
            None => self,
        }
    }

    /// Sets the JSON body.
    pub fn json(mut self, body: serde_json::Value) -> Self {
        self.body = Some(body);
        self
    }
}

/// One endpoint: a value that builds its HTTP request and knows its answer type.
pub trait Request: Sync {
    /// Decoded answer.
    type Output: DeserializeOwned + Send;

    /// The HTTP request of this value.
    fn build(&self) -> HttpRequest;

    /// Sends the request with `client` (retries per the client's [`RetryPolicy`]).
    fn send(&self, client: &Client) -> impl Future<Output = Result<Self::Output>> + Send {
        let req = self.build();
        let client = client.clone();
        async move { client.execute(req).await }
    }
}

/// Builder of a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    base_url: String,
    api_key: String,
    retry: RetryPolicy,
    timeout: Duration,
    http: Option<reqwest::Client>,
}

impl ClientBuilder {
    /// Base URL, e.g. [`EU_BASE_URL`] or a simulator's `http://127.0.0.1:<port>`.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Retry policy (default: [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Per-request timeout (default 30 s); ignored with [`ClientBuilder::http_client`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Reuse an existing `reqwest::Client` (connection pool).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client> {
        let trimmed = self.base_url.trim_end_matches('/').to_owned();
        let parsed = url::Url::parse(&trimmed)
            .map_err(|e| Error::Config(format!("base url {trimmed:?}: {e}")))?;
        if parsed.cannot_be_a_base() {
            return Err(Error::Config(format!(
                "base url {trimmed:?} cannot be a base"
            )));
        }
        let http = match self.http {
            Some(h) => h,
            None => reqwest::Client::builder()
                .timeout(self.timeout)
                .build()
                .map_err(Error::Transport)?,
        };
        Ok(Client {
            http,
            base_url: trimmed,
            api_key: self.api_key,
            retry: self.retry,
        })
    }
}

/// A Userflow client for one environment (one API key). Cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base_url: String,
    api_key: String,
    retry: RetryPolicy,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("retry", &self.retry)
            .finish()
    }
}

impl Client {
    /// Starts a builder for `api_key` against [`DEFAULT_BASE_URL`].
    pub fn builder(api_key: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key: api_key.into(),
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
            http: None,
        }
    }

    /// The base URL (without trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Sends `req`, retrying per the policy, and decodes the 2xx body as `T`.
    pub async fn execute<T: DeserializeOwned>(&self, req: HttpRequest) -> Result<T> {
        let span = tracing::info_span!(
            "userflow.request",
            method = %req.method,
            path = %req.path,
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
        );
        self.execute_inner(req).instrument(span).await
    }

    async fn execute_inner<T: DeserializeOwned>(&self, req: HttpRequest) -> Result<T> {
        let url = format!("{}{}", self.base_url, req.path);
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let mut builder = self
                .http
                .request(req.method.clone(), &url)
                .bearer_auth(&self.api_key)
                .header("Userflow-Version", API_VERSION)
                .header(reqwest::header::ACCEPT, "application/json");
            if !req.query.is_empty() {
                builder = builder.query(&req.query);
            }
            if let Some(body) = &req.body {
                builder = builder.json(body);
            }
            let resp = match builder.send().await {
                Ok(r) => r,
                Err(e) => {
                    if attempt < self.retry.max_attempts && e.is_connect() {
                        let wait = self.retry.backoff(attempt);
                        tracing::warn!(attempt, error = %e, ?wait, "userflow transport error, retrying");
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(Error::Transport(e));
                }
            };
            let status = resp.status().as_u16();
            let span = tracing::Span::current();
            span.record("status", status);
            span.record("attempts", attempt);
            let headers = resp.headers().clone();
            match self.retry.decide(status, &headers, attempt) {
                Decision::RetryAfter(wait) => {
                    tracing::warn!(
                        status,
                        attempt,
                        ?wait,
                        "userflow retryable status, retrying"
                    );
                    tokio::time::sleep(wait).await;
                    continue;
                }
                Decision::Done | Decision::GiveUp => {}
            }
            let body = resp.bytes().await.map_err(Error::Transport)?;
            if (200..300).contains(&status) {
                tracing::debug!(status, "userflow request done");
                return serde_json::from_slice(&body).map_err(|source| Error::Decode {
                    body_snippet: error::snippet(&body),
                    source,
                });
            }
            tracing::warn!(status, "userflow request failed");
            return Err(error::from_response(
                status,
                retry::retry_after(&headers),
                &body,
            ));
        }
    }
}
