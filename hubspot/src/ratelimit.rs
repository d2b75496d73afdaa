//! Rate-limit facts: the `X-HubSpot-RateLimit-*` headers and the 429 policies (API notes §11).

use reqwest::header::HeaderMap;

/// The `X-HubSpot-RateLimit-*` headers of one response. Every field is optional: search
/// responses carry none, OAuth callers get no Daily pair.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimitInfo {
    /// `X-HubSpot-RateLimit-Daily`.
    pub daily: Option<u64>,
    /// `X-HubSpot-RateLimit-Daily-Remaining`.
    pub daily_remaining: Option<u64>,
    /// `X-HubSpot-RateLimit-Interval-Milliseconds` (usually 10,000).
    pub interval_ms: Option<u64>,
    /// `X-HubSpot-RateLimit-Max`: requests allowed per interval.
    pub max: Option<u64>,
    /// `X-HubSpot-RateLimit-Remaining`: requests left in the current interval.
    pub remaining: Option<u64>,
    /// `X-HubSpot-RateLimit-Secondly`.
    pub secondly: Option<u64>,
    /// `X-HubSpot-RateLimit-Secondly-Remaining`.
    pub secondly_remaining: Option<u64>,
}

impl RateLimitInfo {
    /// Parses the headers; `None` when no rate-limit header is present.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let get = |name: &str| -> Option<u64> {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok())
        };
        let info = RateLimitInfo {
            daily: get("x-hubspot-ratelimit-daily"),
            daily_remaining: get("x-hubspot-ratelimit-daily-remaining"),
            interval_ms: get("x-hubspot-ratelimit-interval-milliseconds"),
            max: get("x-hubspot-ratelimit-max"),
            remaining: get("x-hubspot-ratelimit-remaining"),
            secondly: get("x-hubspot-ratelimit-secondly"),
            secondly_remaining: get("x-hubspot-ratelimit-secondly-remaining"),
        };
        (info != RateLimitInfo::default()).then_some(info)
    }
}

/// Which limit a 429 reports (`policyName` of the body).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RateLimitPolicy {
    /// `DAILY`: the account's daily budget; resets at midnight in the account's time zone.
    Daily,
    /// `TEN_SECONDLY_ROLLING`: the per-app burst window.
    TenSecondlyRolling,
    /// `SECONDLY`.
    Secondly,
    /// Search's 5 requests/second limit (429 with the "secondly limit" message and no
    /// `policyName`).
    Search,
    /// Any other policy name, as sent.
    Other(String),
}

impl RateLimitPolicy {
    /// Classifies a 429 body: `policyName`, else the message (the search 429 has none).
    pub fn from_body(policy_name: Option<&str>, message: Option<&str>) -> Self {
        match policy_name {
            Some("DAILY") => RateLimitPolicy::Daily,
            Some("TEN_SECONDLY_ROLLING") => RateLimitPolicy::TenSecondlyRolling,
            Some("SECONDLY") => RateLimitPolicy::Secondly,
            Some(other) => RateLimitPolicy::Other(other.to_owned()),
            None => {
                let m = message.unwrap_or_default().to_ascii_lowercase();
                if m.contains("daily") {
                    RateLimitPolicy::Daily
                } else if m.contains("ten_secondly") {
                    RateLimitPolicy::TenSecondlyRolling
                } else {
                    RateLimitPolicy::Search
                }
            }
        }
    }

    /// The `policyName` spelling.
    pub fn as_str(&self) -> &str {
        match self {
            RateLimitPolicy::Daily => "DAILY",
            RateLimitPolicy::TenSecondlyRolling => "TEN_SECONDLY_ROLLING",
            RateLimitPolicy::Secondly => "SECONDLY",
            RateLimitPolicy::Search => "SEARCH",
            RateLimitPolicy::Other(s) => s,
        }
    }
}
