//! The one error type of the API and its JSON envelope.
//!
//! Every error answers `{"message", "code", "type"}`; codes live in one table below so that a
//! client can branch on `code` and an operator can grep for it. Internal causes (database or
//! Redis text) are logged, never sent. [`ErrorBody`] describes the envelope in the OpenAPI
//! document, with every code and type listed.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

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
    /// Every type, in the order of the OpenAPI enum.
    pub const ALL: [ErrorType; 3] = [
        ErrorType::InvalidRequest,
        ErrorType::Auth,
        ErrorType::Internal,
    ];

    /// The envelope's `type` string.
    pub fn as_str(self) -> &'static str {
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
            /// Every code, in table order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)+];
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

// The answer itself is built by `ApiError`'s `IntoResponse`; a test keeps the two the same.
/// The body of every error answer: `{message, code, type}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    /// Human-readable explanation, safe to show; not stable, do not parse.
    pub message: String,
    /// Stable machine-readable code: branch on this.
    #[schema(schema_with = code_schema)]
    pub code: String,
    /// Who is at fault: the request, its credentials, or the server.
    #[serde(rename = "type")]
    #[schema(schema_with = type_schema)]
    pub kind: String,
}

/// `code` as a string enum of every [`Code`].
fn code_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(Code::ALL.iter().map(|c| c.name())))
        .description(Some("Stable machine-readable code: branch on this."))
        .build()
}

/// `type` as a string enum of every [`ErrorType`].
fn type_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(ErrorType::ALL.iter().map(|t| t.as_str())))
        .description(Some(
            "Who is at fault: the request (`invalid_request`), its credentials (`auth`), or the \
             server (`internal`).",
        ))
        .build()
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

    #[tokio::test]
    async fn answers_match_the_documented_envelope() {
        use utoipa::PartialSchema as _;
        let schema = serde_json::to_value(ErrorBody::schema()).expect("schema");
        let codes = schema["properties"]["code"]["enum"].clone();
        assert_eq!(codes.as_array().map(Vec::len), Some(Code::ALL.len()));
        for code in Code::ALL {
            let resp = ApiError::new(*code, "why").into_response();
            assert_eq!(resp.status(), code.status());
            let bytes = axum::body::to_bytes(resp.into_body(), 1 << 16)
                .await
                .expect("body");
            let body: ErrorBody = serde_json::from_slice(&bytes).expect("the documented shape");
            assert_eq!(body.message, "why");
            assert_eq!(body.code, code.name());
            assert!(
                codes
                    .as_array()
                    .is_some_and(|c| c.contains(&body.code.as_str().into()))
            );
            assert!(
                schema["properties"]["type"]["enum"]
                    .as_array()
                    .is_some_and(|t| t.contains(&body.kind.as_str().into())),
                "{}",
                body.kind
            );
        }
        let mut required: Vec<_> = schema["required"]
            .as_array()
            .expect("required")
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        required.sort_unstable();
        assert_eq!(required, ["code", "message", "type"]);
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
