//! The one error type of the API and its JSON envelope.
//!
//! Every error answers `{"message", "code", "type"}`; codes live in one table below so that a
//! client can branch on `code` and an operator can grep for it. Internal causes (database or
//! Redis text) are logged, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Who is at fault, as in the envelope's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    /// The request was wrong.
    InvalidRequest,
    /// Credentials were missing or wrong.
    Auth,
    /// Something failed on our side.
    Internal,
}

impl ErrorType {
    fn as_str(self) -> &'static str {
        match self {
            ErrorType::InvalidRequest => "invalid_request",
            ErrorType::Auth => "auth",
            ErrorType::Internal => "internal",
        }
    }
}

macro_rules! error_codes {
    ($($variant:ident, $code:literal, $kind:ident, $status:ident;)+) => {
        /// Every error code the API can answer with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Code { $($variant,)+ }

        impl Code {
            /// The `code` string of the envelope.
            pub fn name(self) -> &'static str { match self { $(Code::$variant => $code,)+ } }
            /// The envelope's `type`.
            pub fn kind(self) -> ErrorType { match self { $(Code::$variant => ErrorType::$kind,)+ } }
            /// The HTTP status.
            pub fn status(self) -> StatusCode { match self { $(Code::$variant => StatusCode::$status,)+ } }
        }
    };
}

error_codes! {
    BadRequest, "bad_request", InvalidRequest, BAD_REQUEST;
    MalformedJson, "malformed_json", InvalidRequest, BAD_REQUEST;
    UnsupportedMediaType, "unsupported_media_type", InvalidRequest, UNSUPPORTED_MEDIA_TYPE;
    PayloadTooLarge, "payload_too_large", InvalidRequest, PAYLOAD_TOO_LARGE;
    NotFound, "not_found", InvalidRequest, NOT_FOUND;
    Conflict, "conflict", InvalidRequest, CONFLICT;
    MissingOperatorToken, "missing_operator_token", Auth, UNAUTHORIZED;
    InvalidOperatorToken, "invalid_operator_token", Auth, UNAUTHORIZED;
    OperatorApiDisabled, "operator_api_disabled", Auth, UNAUTHORIZED;
    InvalidSignature, "invalid_signature", Auth, UNAUTHORIZED;
    Internal, "internal", Internal, INTERNAL_SERVER_ERROR;
    Unavailable, "unavailable", Internal, SERVICE_UNAVAILABLE;
}

/// An error answered to an API client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// Which error.
    pub code: Code,
    /// Human-readable explanation, safe to show.
    pub message: String,
}

impl ApiError {
    /// An error with a message.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// A 500 whose cause is logged here and replaced by a generic message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            Code::Internal,
            "internal error; the cause is in the server log",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "message": self.message,
            "code": self.code.name(),
            "type": self.code.kind().as_str(),
        });
        (self.code.status(), Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_has_message_code_and_type() {
        let resp = ApiError::new(Code::PayloadTooLarge, "body over 1 MiB").into_response();
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn codes_are_unique() {
        let all = [
            Code::BadRequest,
            Code::MalformedJson,
            Code::UnsupportedMediaType,
            Code::PayloadTooLarge,
            Code::NotFound,
            Code::Conflict,
            Code::MissingOperatorToken,
            Code::InvalidOperatorToken,
            Code::OperatorApiDisabled,
            Code::InvalidSignature,
            Code::Internal,
            Code::Unavailable,
        ];
        let mut names: Vec<_> = all.iter().map(|c| c.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all.len());
    }
}
