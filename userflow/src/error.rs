//! Errors returned by the Userflow client.

use std::time::Duration;

/// Everything a Userflow call can fail with.
///
/// Branch on the variant (that is, on the HTTP status): Userflow does not document its error
/// body, so `code` and `message` are filled in only when the body happens to be
/// `{"error": {"code", "message"}}`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Any other non-2xx answer (400 validation errors, 5xx after retries, ...).
    #[error("userflow api error {status}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// `error.code` from the body, when present.
        code: Option<String>,
        /// `error.message` from the body, else a snippet of the body.
        message: String,
    },
    /// 429 after the retry policy gave up; `retry_after` from the `Retry-After` header.
    #[error("userflow rate limit hit (retry after {retry_after:?})")]
    RateLimited {
        /// Parsed `Retry-After` (whole seconds), when the header was sent.
        retry_after: Option<Duration>,
    },
    /// 401: missing, wrong or revoked API key (or a key of another environment).
    #[error("userflow rejected the api key: {message}")]
    Unauthorized {
        /// `error.message` when present.
        message: String,
    },
    /// 404: the object does not exist.
    #[error("userflow object not found: {message}")]
    NotFound {
        /// `error.message` when present.
        message: String,
    },
    /// Connection, TLS or timeout failure before an HTTP answer arrived.
    #[error("userflow transport error: {0}")]
    Transport(#[source] reqwest::Error),
    /// A 2xx body that does not match the expected model.
    #[error("userflow response could not be decoded: {source}; body starts with {body_snippet:?}")]
    Decode {
        /// First bytes of the body (at most 512 characters).
        body_snippet: String,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
    /// The client was configured wrongly (e.g. an unparsable base URL).
    #[error("invalid userflow client configuration: {0}")]
    Config(String),
}

impl Error {
    /// HTTP status behind this error, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            Error::RateLimited { .. } => Some(429),
            Error::Unauthorized { .. } => Some(401),
            Error::NotFound { .. } => Some(404),
            _ => None,
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Cuts a body to at most 512 characters for error messages.
pub(crate) fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(512).collect()
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(serde::Deserialize)]
struct ErrorDetail {
    code: Option<String>,
    message: Option<String>,
}

/// Builds the error for a non-2xx answer. Never depends on the body: when it is not
/// `{"error": {"code", "message"}}` the message is a body snippet.
pub(crate) fn from_response(status: u16, retry_after: Option<Duration>, body: &[u8]) -> Error {
    let (code, message) = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(b) => (
            b.error.code,
            b.error.message.unwrap_or_else(|| snippet(body)),
        ),
        Err(_) => (None, snippet(body)),
    };
    match status {
        401 => Error::Unauthorized { message },
        404 => Error::NotFound { message },
        429 => Error::RateLimited { retry_after },
        _ => Error::Api {
            status,
            code,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_parses_documented_shape() {
        let e = from_response(
            400,
            None,
            br#"{"error":{"code":"invalid_id","message":"bad"}}"#,
        );
        match e {
            Error::Api {
                status,
                code,
                message,
            } => {
                assert_eq!(status, 400);
                assert_eq!(code.as_deref(), Some("invalid_id"));
                assert_eq!(message, "bad");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn error_tolerates_other_bodies() {
        let e = from_response(502, None, b"<html>bad gateway</html>");
        match e {
            Error::Api { code, message, .. } => {
                assert_eq!(code, None);
                assert_eq!(message, "<html>bad gateway</html>");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            from_response(401, None, b""),
            Error::Unauthorized { .. }
        ));
    }
}
