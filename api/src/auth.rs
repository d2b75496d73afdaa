//! Operator authentication: `Authorization: Bearer <token>` against the configured operator
//! tokens (several may be valid at once, so a token can be rotated without downtime). Compared
//! in constant time. With no token configured the operator API refuses every call rather than
//! running open.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use hubsync_core::signature::constant_time_eq;

use crate::AppState;
use crate::error::{ApiError, Code};

/// Proof that the request carries a valid operator token.
#[derive(Debug, Clone, Copy)]
pub struct Operator;

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authorize(state, &parts.headers)
    }
}

/// Checks the request's `Authorization` header against the operator tokens (for handlers
/// whose protection is optional, such as `/metrics`).
pub fn authorize(state: &AppState, headers: &HeaderMap) -> Result<Operator, ApiError> {
    if state.operator_tokens.is_empty() {
        return Err(ApiError::new(
            Code::OperatorApiDisabled,
            "the operator API is disabled: set HUBSYNC_OPERATOR_TOKENS",
        ));
    }
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .ok_or_else(|| {
            ApiError::new(
                Code::MissingOperatorToken,
                "send Authorization: Bearer <operator token>",
            )
        })?;
    // Compare against every token so the time taken does not reveal which one matched.
    let mut ok = false;
    for valid in state.operator_tokens.iter() {
        ok |= constant_time_eq(valid.as_bytes(), token.as_bytes());
    }
    if ok {
        Ok(Operator)
    } else {
        Err(ApiError::new(
            Code::InvalidOperatorToken,
            "the operator token is not valid",
        ))
    }
}
