//! Webhook signature verification for both senders.
//!
//! - [`hubspot`]: HubSpot's v1 and v3 schemes (`docs/hubspot-api.md` §10), checked against every
//!   published test vector.
//! - [`userflow`]: the `Userflow-Signature: t=…,v1=…` scheme (`docs/userflow-api.md` §9).
//!
//! Both compare in constant time and reject stale timestamps, so a captured request cannot be
//! replayed after the window.

pub mod hubspot;
pub mod userflow;

/// Why a signature was refused. The messages are safe to return to the sender.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// A required header is absent.
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    /// A header is present but cannot be parsed.
    #[error("malformed header {0}")]
    MalformedHeader(&'static str),
    /// The timestamp is outside the accepted window.
    #[error("timestamp outside the accepted window of {window_s} s")]
    Stale {
        /// The window in seconds.
        window_s: u64,
    },
    /// The signature does not match the body.
    #[error("signature does not match")]
    Mismatch,
}

/// Constant-time equality of two byte strings (length is not secret). Used for signatures and
/// for operator tokens alike.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}
