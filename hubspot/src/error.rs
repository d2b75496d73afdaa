//! Errors of the HubSpot client, split by what a caller does about them.

use std::time::Duration;

use serde::Deserialize;

use crate::ratelimit::RateLimitPolicy;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything a HubSpot call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Any other non-2xx answer in HubSpot's error envelope (404 `OBJECT_NOT_FOUND`, 409
    /// `CONFLICT`, 403 `MISSING_SCOPES`, 5xx after retries, …).
    #[error("HubSpot API error {status} ({category:?}): {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// `category` of the error body (e.g. `OBJECT_NOT_FOUND`).
        category: Option<String>,
        /// `message` of the error body.
        message: String,
        /// `correlationId` of the body or the `X-HubSpot-Correlation-Id` header.
        correlation_id: Option<String>,
    },
    /// 429: a rate limit was hit; wait `retry_after` before calling again.
    #[error("HubSpot rate limit {policy:?} reached; retry after {retry_after:?}")]
    RateLimited {
        /// How long to wait (the `Retry-After` header when sent, else derived from the policy).
        retry_after: Duration,
        /// Which limit was hit.
        policy: RateLimitPolicy,
        /// Correlation id of the answer.
        correlation_id: Option<String>,
    },
    /// 401 `INVALID_AUTHENTICATION` (bad or revoked token, app uninstalled).
    #[error("HubSpot authentication failed: {message}")]
    Unauthorized {
        /// Message of the error body.
        message: String,
        /// Correlation id of the answer.
        correlation_id: Option<String>,
    },
    /// 401 `EXPIRED_AUTHENTICATION`: refresh the access token, then retry.
    #[error("HubSpot access token expired: {message}")]
    Expired {
        /// Message of the error body.
        message: String,
        /// Correlation id of the answer.
        correlation_id: Option<String>,
    },
    /// 400 `VALIDATION_ERROR`, naming the first offending property when HubSpot does.
    #[error("HubSpot validation error (property {property:?}, code {code:?}): {message}")]
    Validation {
        /// The property named by `errors[0].context.propertyName` (or the embedded `name`).
        property: Option<String>,
        /// `errors[0].code`, e.g. `PROPERTY_DOESNT_EXIST`, `INVALID_INTEGER`.
        code: Option<String>,
        /// The human-readable message (`errors[0].message`, else the top-level one).
        message: String,
        /// Correlation id of the answer.
        correlation_id: Option<String>,
    },
    /// OAuth token endpoint: `invalid_grant` (refresh token invalid, expired or revoked; or a
    /// used/expired authorization code). The integration must be re-authorized.
    #[error("HubSpot OAuth invalid_grant: {description}")]
    InvalidGrant {
        /// `error_description` / `message` of the answer.
        description: String,
    },
    /// Any other OAuth token-endpoint error (`invalid_client`, `access_denied`, …).
    #[error("HubSpot OAuth error {error}: {description}")]
    OAuth {
        /// HTTP status.
        status: u16,
        /// RFC 6749 `error`.
        error: String,
        /// `error_description` / `message`.
        description: String,
    },
    /// The request never got an HTTP answer (connect, timeout, TLS, …).
    #[error("HubSpot transport error: {0}")]
    Transport(#[from] reqwest::Error),
    /// A 2xx body that does not match the expected shape.
    #[error("could not decode HubSpot response: {source}; body starts with {body_snippet:?}")]
    Decode {
        /// The first 512 characters of the body.
        body_snippet: String,
        /// The decoding error.
        source: serde_json::Error,
    },
    /// The request was refused before sending (limits from the API notes, bad URL, …).
    #[error("invalid HubSpot request: {0}")]
    InvalidRequest(String),
}

impl Error {
    /// HTTP status of the answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::OAuth { status, .. } => Some(*status),
            Error::RateLimited { .. } => Some(429),
            Error::Unauthorized { .. } | Error::Expired { .. } => Some(401),
            Error::Validation { .. } | Error::InvalidGrant { .. } => Some(400),
            Error::Transport(e) => e.status().map(|s| s.as_u16()),
            _ => None,
        }
    }

    /// True for 404 answers.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// True when retrying later may succeed (429, 423, 477, 5xx, transport errors).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::RateLimited { .. } | Error::Transport(_) => true,
            Error::Api { status, .. } => {
                matches!(*status, 423 | 477 | 500..=599)
            }
            _ => false,
        }
    }
}

/// HubSpot's error envelope (every field optional), also covering the 429 and OAuth shapes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ErrorBody {
    pub message: Option<String>,
    pub correlation_id: Option<String>,
    pub category: Option<String>,
    pub errors: Vec<ErrorDetail>,
    pub error_type: Option<String>,
    pub policy_name: Option<String>,
    #[serde(rename = "error")]
    pub oauth_error: Option<String>,
    #[serde(rename = "error_description")]
    pub oauth_error_description: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ErrorDetail {
    pub message: Option<String>,
    pub code: Option<String>,
    pub context: std::collections::BTreeMap<String, Vec<String>>,
}

/// Cuts a body to a short snippet for error messages.
pub(crate) fn snippet(body: &str) -> String {
    body.chars().take(512).collect()
}

/// Pulls the first property name out of `Property values were not valid: [{…"name":"foo"…}]`.
pub(crate) fn property_from_message(message: &str) -> Option<String> {
    let start = message.find('[')?;
    let arr: Vec<serde_json::Value> = serde_json::from_str(&message[start..]).ok()?;
    arr.first()?.get("name")?.as_str().map(str::to_owned)
}
