//! Run-time behaviour knobs of the Userflow simulator (`docs/userflow-api.md` §12). Read on
//! every request; `GET`/`PUT /_sim/userflow/knobs` replaces them while running.

use serde::{Deserialize, Serialize};

/// What a `null` attribute value does.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum NullAttribute {
    /// Store `null` as the value (default).
    #[default]
    Store,
    /// Remove the attribute.
    Unset,
}

/// Token bucket per API key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitKnobs {
    /// Whether requests are limited at all. Default false.
    pub enabled: bool,
    /// Tokens added per second. Default 10.
    pub per_second: f64,
    /// Bucket size (requests allowed in a burst). Default 10.
    pub burst: u32,
    /// Whether a 429 carries `Retry-After` (whole seconds, at least 1). Default true.
    pub retry_after: bool,
}

impl Default for RateLimitKnobs {
    fn default() -> Self {
        Self {
            enabled: false,
            per_second: 10.0,
            burst: 10,
            retry_after: true,
        }
    }
}

/// API behaviour knobs. Every default is the §12 simulator choice.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Knobs {
    /// Reject requests without `Userflow-Version` (400). Default false: a missing header is
    /// treated as `2020-01-03` (and recorded).
    pub require_version_header: bool,
    /// Default page size of list endpoints. Default 20.
    pub page_default: usize,
    /// Largest `limit` accepted; a larger one is answered 400. Default 100.
    pub page_max: usize,
    /// HTTP status of a successful `POST /users` / `POST /groups`. Default 200.
    pub upsert_status: u16,
    /// Answer 400 when a user upsert carries both `groups` and `memberships`. Default true
    /// (false: `memberships` are applied after `groups`).
    pub reject_groups_and_memberships_together: bool,
    /// What a `null` attribute value does. Default `store`.
    pub null_attribute: NullAttribute,
    /// Whether `append`/`prepend`/`remove` accept an array of several values. Default true.
    pub list_op_accepts_array: bool,
    /// Treat bare string literals that parse as RFC 3339 as `datetime` when an attribute is
    /// first defined. Default true.
    pub infer_datetime: bool,
    /// Answer 400 for an event without `user_id` and `group_id`. Default true.
    pub event_requires_user_or_group: bool,
    /// An event for an unknown user/group creates it. Default true (false: 404).
    pub event_creates_unknown: bool,
    /// Return `secret` on later `GET`s of a subscription, not only on create. Default false.
    pub secret_on_get: bool,
    /// Emit `*.updated` when an upsert changes nothing (with empty diffs). Default false.
    pub webhook_emit_on_noop_write: bool,
    /// Sign notifications with `Userflow-Signature`. Default true.
    pub webhook_sign: bool,
    /// Seconds added to the signature timestamp `t` (negative: an old timestamp, to test a
    /// receiver's replay window). Default 0.
    pub webhook_signature_skew_s: i64,
    /// Accept only `https://` subscription URLs. Default false (tests use local `http://`).
    pub require_https_webhook_url: bool,
    /// Rate limiting. Default off.
    pub rate_limit: RateLimitKnobs,
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            require_version_header: false,
            page_default: 20,
            page_max: 100,
            upsert_status: 200,
            reject_groups_and_memberships_together: true,
            null_attribute: NullAttribute::Store,
            list_op_accepts_array: true,
            infer_datetime: true,
            event_requires_user_or_group: true,
            event_creates_unknown: true,
            secret_on_get: false,
            webhook_emit_on_noop_write: false,
            webhook_sign: true,
            webhook_signature_skew_s: 0,
            require_https_webhook_url: false,
            rate_limit: RateLimitKnobs::default(),
        }
    }
}
