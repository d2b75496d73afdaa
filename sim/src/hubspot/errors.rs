//! HubSpot's error envelopes (`docs/hubspot-api.md` §2, §11, §12): one constructor per shape,
//! used by every module of the simulator so that all errors look alike.

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A HubSpot API error, rendered as `{status:"error", message, correlationId, category, …}`
/// with the `X-HubSpot-Correlation-Id` header.
#[derive(Debug, Clone)]
pub struct HubspotError {
    /// HTTP status.
    pub status: StatusCode,
    /// The whole JSON body except `correlationId`, which is added when rendered.
    pub body: Value,
}

impl HubspotError {
    /// The standard envelope with a category and message.
    pub fn new(status: StatusCode, category: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({"status": "error", "message": message.into(), "category": category}),
        }
    }

    /// Adds (or replaces) a top-level field such as `context`, `errors`, `subCategory`, `links`.
    pub fn with(mut self, key: &str, value: Value) -> Self {
        if let Some(obj) = self.body.as_object_mut() {
            obj.insert(key.to_string(), value);
        }
        self
    }

    /// 400 `VALIDATION_ERROR` with a message.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", message)
    }

    /// 404 `OBJECT_NOT_FOUND` for a single-object read or write.
    pub fn object_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "OBJECT_NOT_FOUND",
            "Object not found.  objectId are usually numeric.",
        )
        .with("context", json!({"id": [id]}))
    }

    /// 401 `INVALID_AUTHENTICATION`: no credentials, or unknown ones.
    pub fn invalid_authentication() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
        )
    }

    /// 401 `EXPIRED_AUTHENTICATION`: an OAuth access token that expired `seconds_ago` ago, at
    /// `expired_at_iso`.
    pub fn expired_authentication(seconds_ago: i64, expired_at_iso: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "EXPIRED_AUTHENTICATION",
            format!("The OAuth token used to make this call expired {seconds_ago} second(s) ago."),
        )
        .with("context", json!({"expire time": [expired_at_iso]}))
    }

    /// 403 `MISSING_SCOPES`.
    pub fn missing_scopes(required: &[&str]) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "MISSING_SCOPES",
            "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
        )
        .with(
            "errors",
            json!([{"message": "One or more of the following scopes are required.",
                    "context": {"requiredGranularScopes": required}}]),
        )
        .with("links", json!({"scopes": "https://developers.hubspot.com/scopes"}))
    }

    /// 409 `CONFLICT` for a create with a duplicate unique value (the id only in the text).
    pub fn conflict_existing(existing_id: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "CONFLICT",
            format!("Contact already exists. Existing ID: {existing_id}"),
        )
    }

    /// 429 in HubSpot's rate-limit shape (`errorType`, `policyName`; no `category`).
    /// `policy` is `DAILY`, `TEN_SECONDLY_ROLLING`, `SECONDLY`, or `None` for the search
    /// limit, which HubSpot sends without a policy name.
    pub fn rate_limited(policy: Option<&str>, group_name: Option<&str>) -> Self {
        let message = match policy {
            Some("DAILY") => "You have reached your daily limit.",
            Some("TEN_SECONDLY_ROLLING") => "You have reached your ten_secondly_rolling limit.",
            _ => "You have reached your secondly limit.",
        };
        let mut body = json!({
            "status": "error",
            "message": message,
            "errorType": "RATE_LIMIT",
            "requestId": uuid::Uuid::new_v4().to_string(),
        });
        if let (Some(p), Some(obj)) = (policy, body.as_object_mut()) {
            obj.insert("policyName".into(), json!(p));
        }
        if let (Some(g), Some(obj)) = (group_name, body.as_object_mut()) {
            obj.insert("groupName".into(), json!(g));
        }
        Self {
            status: StatusCode::TOO_MANY_REQUESTS,
            body,
        }
    }

    /// A plain error for statuses without a documented body (414, 423, 5xx).
    pub fn plain(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({"status": "error", "message": message.into()}),
        }
    }
}

impl IntoResponse for HubspotError {
    fn into_response(self) -> Response {
        let correlation_id = uuid::Uuid::new_v4().to_string();
        let mut body = self.body;
        if let Some(obj) = body.as_object_mut() {
            obj.insert("correlationId".into(), json!(correlation_id));
        }
        let mut resp = (self.status, Json(body)).into_response();
        if let Ok(v) = HeaderValue::from_str(&correlation_id) {
            resp.headers_mut().insert("x-hubspot-correlation-id", v);
        }
        resp
    }
}

/// OAuth token-endpoint errors: RFC 6749 fields plus HubSpot's legacy `status`/`message`.
pub fn oauth_error(
    status: StatusCode,
    error: &str,
    legacy_status: &str,
    message: &str,
) -> Response {
    (
        status,
        Json(json!({
            "error": error,
            "error_description": message,
            "status": legacy_status,
            "message": message,
            "correlationId": uuid::Uuid::new_v4().to_string(),
        })),
    )
        .into_response()
}

/// Error body for a fault injected by `/_sim/faults` (a 5xx with HubSpot's plain shape).
pub fn injected_error(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    HubspotError::plain(
        status,
        "The service is temporarily unavailable (injected fault).",
    )
    .into_response()
}
