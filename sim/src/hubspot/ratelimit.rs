//! Rate limits (`docs/hubspot-api.md` §11): a rolling 10-second burst window per (app or
//! private app, portal), a daily budget per portal that resets at midnight (UTC by default),
//! and the search limit of 5 requests per second per portal, which is counted apart. Also the
//! upsert lock (§2.2): batch upserts sent too fast lock a portal's upserts with 423 for about
//! 2 s; off by default because HubSpot documents no threshold, on with `upsert_lock_after`.
//!
//! API for route modules (the CRM routes use it through their `Api` extractor; timeline
//! endpoints should do the same so they count against the same limits):
//!
//! ```ignore
//! let headers = sim.inner.limits.check(&caller, LimitKind::Standard)
//!     .map_err(|limited| limited.into_response())?;   // 429 in HubSpot's shape
//! let mut resp = handler_work();
//! headers.apply(resp.headers_mut());                   // X-HubSpot-RateLimit-* headers
//! ```
//!
//! [`RateHeaders`] also implements `IntoResponseParts`, so `(headers, body).into_response()`
//! works. Rejected calls do not consume budget. Search responses carry no rate-limit headers.
//! Knobs change at run time through `GET`/`PUT /_sim/hubspot/rate-limits`; counters reset
//! with `POST /_sim/hubspot/rate-limits/reset`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, IntoResponseParts, Response, ResponseParts};
use chrono::{Duration as ChronoDuration, Utc};
use serde::{Deserialize, Serialize};

use super::Config;
use super::auth::Caller;
use super::errors::HubspotError;

/// Rate-limit knobs (§11, §13).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitKnobs {
    /// Enforce limits at all (headers are still sent). Default true.
    pub enabled: bool,
    /// Burst per window for every caller, overriding the tier (free/starter 100,
    /// professional/enterprise 190). Default `None` (by tier).
    pub burst_max: Option<u64>,
    /// Length of the rolling burst window in milliseconds. Default 10,000.
    pub window_ms: u64,
    /// Daily budget per portal, overriding the tier (free/starter 250,000, professional
    /// 625,000, enterprise 1,000,000). Default `None` (by tier).
    pub daily_max: Option<u64>,
    /// Offset of the portal's time zone from UTC in minutes (the daily budget resets at its
    /// midnight). Default 0 (UTC).
    pub daily_reset_utc_offset_minutes: i64,
    /// Search requests per second per portal. Default 5.
    pub search_rps: u64,
    /// Send `X-HubSpot-RateLimit-*` headers on non-search responses. Default true.
    pub emit_rate_limit_headers: bool,
    /// Also send the Daily headers to OAuth callers (HubSpot omits them). Default false.
    pub daily_headers_for_oauth: bool,
    /// Add `Retry-After` (seconds) to 429 answers. Default false.
    pub retry_after_on_429: bool,
    /// After this many batch upserts of one portal within one second, the next ones answer
    /// 423 Locked for `upsert_lock_ms` (§2.2: "bulk upserts sent too fast"). Default 0 (off).
    pub upsert_lock_after: u64,
    /// How long the upsert lock lasts, in milliseconds (§2.2: about 2 s). Default 2,000.
    pub upsert_lock_ms: u64,
}

impl Default for RateLimitKnobs {
    fn default() -> Self {
        Self {
            enabled: true,
            burst_max: None,
            window_ms: 10_000,
            daily_max: None,
            daily_reset_utc_offset_minutes: 0,
            search_rps: 5,
            emit_rate_limit_headers: true,
            daily_headers_for_oauth: false,
            retry_after_on_429: false,
            upsert_lock_after: 0,
            upsert_lock_ms: 2_000,
        }
    }
}

/// Which limit a call counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    /// Burst window and daily budget; rate-limit headers sent.
    Standard,
    /// The search limit only; no headers.
    Search,
}

/// Headers to add to a response (possibly none).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RateHeaders {
    /// Header name/value pairs.
    pub headers: Vec<(&'static str, String)>,
}

impl RateHeaders {
    /// Adds the headers to a header map.
    pub fn apply(&self, map: &mut HeaderMap) {
        for (k, v) in &self.headers {
            if let Ok(v) = HeaderValue::from_str(v) {
                map.insert(HeaderName::from_static(k), v);
            }
        }
    }

    /// Adds the headers to a response.
    pub fn add_to(&self, mut resp: Response) -> Response {
        self.apply(resp.headers_mut());
        resp
    }
}

impl IntoResponseParts for RateHeaders {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        self.apply(res.headers_mut());
        Ok(res)
    }
}

/// A call refused by a limit: HubSpot's 429 body plus headers.
#[derive(Debug, Clone)]
pub struct RateLimited {
    /// The 429 body (`errorType: RATE_LIMIT`, `policyName` except for search).
    pub error: HubspotError,
    /// Headers to send with it.
    pub headers: RateHeaders,
}

impl IntoResponse for RateLimited {
    fn into_response(self) -> Response {
        self.headers.add_to(self.error.into_response())
    }
}

#[derive(Default)]
struct State {
    /// (portal, app id or 0 for private apps) → call instants within the window.
    burst: HashMap<(u64, u64), VecDeque<Instant>>,
    /// portal → (day number, calls that day).
    daily: HashMap<u64, (i64, u64)>,
    /// portal → search call instants within the last second.
    search: HashMap<u64, VecDeque<Instant>>,
    /// portal → batch upsert instants within the last second.
    upserts: HashMap<u64, VecDeque<Instant>>,
    /// portal → end of its upsert lock.
    upsert_locked_until: HashMap<u64, Instant>,
}

/// The simulator's rate limiter.
pub struct Limiter {
    knobs: RwLock<RateLimitKnobs>,
    tiers: HashMap<u64, String>,
    state: Mutex<State>,
}

fn tier_burst(tier: &str) -> u64 {
    match tier {
        "free" | "starter" => 100,
        _ => 190,
    }
}

fn tier_daily(tier: &str) -> u64 {
    match tier {
        "free" | "starter" => 250_000,
        "enterprise" => 1_000_000,
        _ => 625_000,
    }
}

/// The time-zone offset, clamped to a real one (±14 h).
fn offset_minutes(k: &RateLimitKnobs) -> i64 {
    k.daily_reset_utc_offset_minutes.clamp(-14 * 60, 14 * 60)
}

fn prune(q: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
        q.pop_front();
    }
}

impl Limiter {
    /// A limiter for the configured portals and knobs.
    pub fn new(config: &Config) -> Self {
        Self {
            knobs: RwLock::new(config.rate_limits.clone()),
            tiers: config
                .portals
                .iter()
                .map(|p| (p.portal_id, p.tier.clone()))
                .collect(),
            state: Mutex::new(State::default()),
        }
    }

    /// Current knobs.
    pub fn knobs(&self) -> RateLimitKnobs {
        self.knobs
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the knobs.
    pub fn set_knobs(&self, knobs: RateLimitKnobs) {
        *self.knobs.write().unwrap_or_else(PoisonError::into_inner) = knobs;
    }

    /// Forgets every counter (burst windows, daily counts, search windows).
    pub fn reset(&self) {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = State::default();
    }

    /// Burst limit of a portal per window.
    pub fn burst_max(&self, portal_id: u64) -> u64 {
        let k = self.knobs();
        k.burst_max.unwrap_or_else(|| {
            tier_burst(
                self.tiers
                    .get(&portal_id)
                    .map_or("professional", String::as_str),
            )
        })
    }

    /// Daily budget of a portal.
    pub fn daily_max(&self, portal_id: u64) -> u64 {
        let k = self.knobs();
        k.daily_max.unwrap_or_else(|| {
            tier_daily(
                self.tiers
                    .get(&portal_id)
                    .map_or("professional", String::as_str),
            )
        })
    }

    fn day(&self, k: &RateLimitKnobs) -> i64 {
        let local = Utc::now() + ChronoDuration::minutes(offset_minutes(k));
        local.timestamp().div_euclid(86_400)
    }

    /// Counts one batch upsert of `portal_id`, or answers 423 Locked while the portal's upsert
    /// lock holds (see `upsert_lock_after`). A refused upsert does not count.
    pub fn check_upsert(&self, portal_id: u64) -> Result<(), HubspotError> {
        let k = self.knobs();
        if k.upsert_lock_after == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let locked = || {
            HubspotError::plain(
                StatusCode::LOCKED,
                "Bulk upserts were sent too fast: upserts for this account are locked for a moment. Retry in a few seconds.",
            )
        };
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if st
            .upsert_locked_until
            .get(&portal_id)
            .is_some_and(|until| now < *until)
        {
            return Err(locked());
        }
        let q = st.upserts.entry(portal_id).or_default();
        prune(q, now, Duration::from_secs(1));
        if q.len() as u64 >= k.upsert_lock_after {
            q.clear();
            st.upsert_locked_until
                .insert(portal_id, now + Duration::from_millis(k.upsert_lock_ms));
            return Err(locked());
        }
        q.push_back(now);
        Ok(())
    }

    /// Counts one call of `caller` against the limits of `kind`. Returns the headers to send
    /// (none for search), or the 429 to answer (the call is then not counted).
    pub fn check(&self, caller: &Caller, kind: LimitKind) -> Result<RateHeaders, RateLimited> {
        let k = self.knobs();
        let now = Instant::now();
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if kind == LimitKind::Search {
            let q = st.search.entry(caller.portal_id).or_default();
            prune(q, now, Duration::from_secs(1));
            if k.enabled && q.len() as u64 >= k.search_rps {
                let mut headers = RateHeaders::default();
                if k.retry_after_on_429 {
                    headers.headers.push(("retry-after", "1".into()));
                }
                return Err(RateLimited {
                    error: HubspotError::rate_limited(None, None),
                    headers,
                });
            }
            q.push_back(now);
            return Ok(RateHeaders::default());
        }
        let burst_max = self.burst_max(caller.portal_id);
        let daily_max = self.daily_max(caller.portal_id);
        let window = Duration::from_millis(k.window_ms.max(1));
        let day = self.day(&k);
        let app_key = caller.app_id.unwrap_or(0);
        let daily_used = match st.daily.get(&caller.portal_id) {
            Some((d, n)) if *d == day => *n,
            _ => 0,
        };
        let q = st.burst.entry((caller.portal_id, app_key)).or_default();
        prune(q, now, window);
        let burst_used = q.len() as u64;
        let oldest = q.front().copied();
        let mk_headers = |burst_used: u64, daily_used: u64| {
            let mut h = RateHeaders::default();
            if !k.emit_rate_limit_headers {
                return h;
            }
            if caller.app_id.is_none() || k.daily_headers_for_oauth {
                h.headers
                    .push(("x-hubspot-ratelimit-daily", daily_max.to_string()));
                h.headers.push((
                    "x-hubspot-ratelimit-daily-remaining",
                    daily_max.saturating_sub(daily_used).to_string(),
                ));
            }
            h.headers.push((
                "x-hubspot-ratelimit-interval-milliseconds",
                k.window_ms.to_string(),
            ));
            h.headers
                .push(("x-hubspot-ratelimit-max", burst_max.to_string()));
            h.headers.push((
                "x-hubspot-ratelimit-remaining",
                burst_max.saturating_sub(burst_used).to_string(),
            ));
            let secondly = (burst_max.saturating_mul(1000) / k.window_ms.max(1)).max(1);
            h.headers
                .push(("x-hubspot-ratelimit-secondly", secondly.to_string()));
            h.headers.push((
                "x-hubspot-ratelimit-secondly-remaining",
                secondly
                    .saturating_sub(burst_used.min(secondly))
                    .to_string(),
            ));
            h
        };
        if k.enabled && daily_used >= daily_max {
            let mut headers = mk_headers(burst_used, daily_used);
            if k.retry_after_on_429 {
                let secs_left =
                    86_400 - (Utc::now().timestamp() + offset_minutes(&k) * 60).rem_euclid(86_400);
                headers.headers.push(("retry-after", secs_left.to_string()));
            }
            return Err(RateLimited {
                error: HubspotError::rate_limited(Some("DAILY"), None),
                headers,
            });
        }
        if k.enabled && burst_used >= burst_max {
            let mut headers = mk_headers(burst_used, daily_used);
            if k.retry_after_on_429 {
                let wait = oldest.map_or(window, |o| window.saturating_sub(now.duration_since(o)));
                headers
                    .headers
                    .push(("retry-after", wait.as_secs().max(1).to_string()));
            }
            let kind = if caller.app_id.is_some() {
                "oauth"
            } else {
                "hapikey"
            };
            let group = format!(
                "publicapi:{kind}-api-calls-ten-secondly:{}",
                caller.app_id.unwrap_or(caller.portal_id)
            );
            return Err(RateLimited {
                error: HubspotError::rate_limited(Some("TEN_SECONDLY_ROLLING"), Some(&group)),
                headers,
            });
        }
        q.push_back(now);
        st.daily.insert(caller.portal_id, (day, daily_used + 1));
        Ok(mk_headers(burst_used + 1, daily_used + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(app: Option<u64>) -> Caller {
        Caller {
            portal_id: 62515,
            app_id: app,
            scopes: vec![],
        }
    }

    #[test]
    fn burst_window_refuses_after_max_and_headers_count_down() {
        let mut config = Config::default();
        config.rate_limits.burst_max = Some(2);
        let l = Limiter::new(&config);
        let h = l.check(&caller(None), LimitKind::Standard).unwrap();
        assert!(
            h.headers
                .contains(&("x-hubspot-ratelimit-remaining", "1".into()))
        );
        l.check(&caller(None), LimitKind::Standard).unwrap();
        let e = l.check(&caller(None), LimitKind::Standard).unwrap_err();
        assert_eq!(e.error.body["policyName"], "TEN_SECONDLY_ROLLING");
        // Another app has its own window.
        assert!(l.check(&caller(Some(1)), LimitKind::Standard).is_ok());
    }

    #[test]
    fn oauth_callers_get_no_daily_headers() {
        let l = Limiter::new(&Config::default());
        let h = l.check(&caller(Some(1)), LimitKind::Standard).unwrap();
        assert!(!h.headers.iter().any(|(k, _)| k.contains("daily")));
        let h = l.check(&caller(None), LimitKind::Standard).unwrap();
        assert!(
            h.headers
                .iter()
                .any(|(k, _)| *k == "x-hubspot-ratelimit-daily")
        );
    }

    #[test]
    fn upserts_lock_after_the_threshold_and_unlock_after_the_lock() {
        let mut config = Config::default();
        config.rate_limits.upsert_lock_after = 2;
        config.rate_limits.upsert_lock_ms = 50;
        let l = Limiter::new(&config);
        assert!(l.check_upsert(62515).is_ok());
        assert!(l.check_upsert(62515).is_ok());
        let e = l.check_upsert(62515).unwrap_err();
        assert_eq!(e.status, StatusCode::LOCKED);
        assert!(l.check_upsert(62516).is_ok(), "the lock is per portal");
        std::thread::sleep(Duration::from_millis(60));
        assert!(l.check_upsert(62515).is_ok());
        assert!(
            Limiter::new(&Config::default()).check_upsert(62515).is_ok(),
            "off by default"
        );
    }

    #[test]
    fn tiers_set_the_burst() {
        let l = Limiter::new(&Config::default());
        assert_eq!(l.burst_max(62515), 190);
        assert_eq!(l.burst_max(62516), 100);
        assert_eq!(l.daily_max(62516), 250_000);
    }
}
