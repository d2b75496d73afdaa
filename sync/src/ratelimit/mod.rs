//! HubSpot rate limiter shared by every worker replica through Redis (design notes §6, API
//! notes §11).
//!
//! Every replica asks the same Redis keys before each HubSpot call, so the cluster as a whole
//! stays under HubSpot's limits instead of finding them through 429s. One [`HubspotLimiter::acquire`]
//! is one atomic Lua call (`acquire_hubspot.lua`) that checks, in Redis time (`TIME`):
//!
//! - the **burst** budget: a sliding-window log of the last 10 seconds per (app, portal),
//!   `burst_per_10s` calls at most in any 10-second window; search calls do not count here;
//! - the **daily** budget per portal: a counter that resets at midnight in the account's time
//!   zone (`tz_offset_minutes`; UTC by default); standard and search calls both count;
//! - the **search** budget per portal: a sliding-window log of 1 second, `search_per_s` calls;
//! - **observed caps**: what HubSpot itself last reported ([`HubspotLimiter::observe`],
//!   [`HubspotLimiter::observe_429`]), kept with a short TTL and used as an upper bound.
//!
//! All keys of a portal share the hash tag `{<prefix>:hs:<portal>}` (one cluster slot). They are
//! bounded: the window logs are trimmed on every call and never hold more entries than the
//! limit, and every key carries a TTL.
//!
//! # Intended use in a job handler
//!
//! ```text
//! match limiter.acquire(portal, app, CallKind::Standard, &limits).await? {
//!     Acquire::Permit(_) => { /* make the call */ }
//!     Acquire::Wait(w) => return Err(JobError::retry_at(w.retry_at(SystemTime::now()), w.to_string())),
//! }
//! // after the call:
//! if let Some(info) = RateLimitInfo::from_headers(resp.headers()) { limiter.observe(portal, app, &info).await?; }
//! // on a 429:
//! let w = limiter.observe_429(portal, app, &policy, &limits).await?;
//! return Err(JobError::retry_at(w.retry_at(SystemTime::now()), w.to_string()));
//! ```
//!
//! `JobError::retry_at` (queue crate) re-runs the job at that time without using an attempt.

use std::fmt;
use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hubsync_hubspot::ratelimit::{RateLimitInfo, RateLimitPolicy};
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};

/// HubSpot's burst window.
pub const BURST_WINDOW: Duration = Duration::from_secs(10);
/// The search window.
pub const SEARCH_WINDOW: Duration = Duration::from_secs(1);

const DAY_MS: i64 = 86_400_000;

static ACQUIRE: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("acquire_hubspot.lua")));

/// Lowers an observed cap: sets it when absent or when the new value is lower.
/// KEYS[1] cap key; ARGV[1] value; ARGV[2] TTL in ms. Returns the cap now stored.
static OBSERVE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local v = redis.call('GET', KEYS[1])
local new = tonumber(ARGV[1])
if (not v) or tonumber(v) > new then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return new
end
return tonumber(v)
",
    )
});

/// Forces a cap to a value with a TTL (a 429 says nothing is left until then).
/// KEYS[1] cap key; ARGV[1] value; ARGV[2] TTL in ms. Keeps the longer TTL of a zero cap.
static FORCE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local v = redis.call('GET', KEYS[1])
if v and tonumber(v) <= 0 and redis.call('PTTL', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
",
    )
});

/// The limits of one HubSpot portal (account) and app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalLimits {
    /// Calls per 10 seconds per (app, portal): 100 (Free/Starter, public OAuth apps),
    /// 190 (Professional/Enterprise), 250 (API limit increase).
    pub burst_per_10s: u32,
    /// Calls per day per portal; `None` when there is no daily budget (OAuth apps).
    pub daily: Option<u64>,
    /// Search calls per second per portal (5).
    pub search_per_s: u32,
    /// The account time zone as an offset from UTC in minutes; the daily budget resets at
    /// local midnight. 0 (UTC) by default.
    pub tz_offset_minutes: i32,
}

impl PortalLimits {
    /// Free & Starter: 100 / 10 s, 250,000 / day.
    pub const FREE: PortalLimits = PortalLimits {
        burst_per_10s: 100,
        daily: Some(250_000),
        search_per_s: 5,
        tz_offset_minutes: 0,
    };
    /// Professional: 190 / 10 s, 625,000 / day.
    pub const PROFESSIONAL: PortalLimits = PortalLimits {
        burst_per_10s: 190,
        daily: Some(625_000),
        search_per_s: 5,
        tz_offset_minutes: 0,
    };
    /// Enterprise: 190 / 10 s, 1,000,000 / day.
    pub const ENTERPRISE: PortalLimits = PortalLimits {
        burst_per_10s: 190,
        daily: Some(1_000_000),
        search_per_s: 5,
        tz_offset_minutes: 0,
    };
    /// Public OAuth app: 100 / 10 s, no daily budget.
    pub const OAUTH_APP: PortalLimits = PortalLimits {
        burst_per_10s: 100,
        daily: None,
        search_per_s: 5,
        tz_offset_minutes: 0,
    };

    /// The next daily reset after `now`: midnight in the account's time zone.
    pub fn next_daily_reset(&self, now: SystemTime) -> SystemTime {
        let now_ms = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let tz_ms = i64::from(self.tz_offset_minutes) * 60_000;
        let day = (now_ms + tz_ms).div_euclid(DAY_MS);
        let reset_ms = (day + 1) * DAY_MS - tz_ms;
        UNIX_EPOCH + Duration::from_millis(u64::try_from(reset_ms).unwrap_or(0))
    }
}

impl Default for PortalLimits {
    fn default() -> Self {
        PortalLimits::FREE
    }
}

/// Which budget a call draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallKind {
    /// Any non-search call: counts against the 10-second burst and the daily budget.
    Standard,
    /// CRM search: counts against the 1-second search limit and the daily budget, not the burst.
    Search,
}

/// The limit that made a call wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// The 10-second burst window per (app, portal) (or HubSpot's SECONDLY policy).
    Burst,
    /// The daily budget per portal.
    Daily,
    /// The 1-second search limit per portal.
    Search,
}

impl Limit {
    /// A short name for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Limit::Burst => "burst",
            Limit::Daily => "daily",
            Limit::Search => "search",
        }
    }
}

/// A granted call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permit {
    /// When the permit was granted, by Redis' clock.
    pub granted_at: SystemTime,
    /// Calls left in the current window (burst or search), after this one.
    pub window_remaining: u64,
    /// Calls left today, after this one; `None` when no daily budget is known.
    pub daily_remaining: Option<u64>,
}

/// No call now: try again after `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait {
    /// How long until the blocking limit frees (> 0).
    pub after: Duration,
    /// The limit that blocks.
    pub limit: Limit,
}

impl Wait {
    /// The absolute time to retry, for the queue's `JobError::retry_at`.
    pub fn retry_at(&self, now: SystemTime) -> SystemTime {
        now + self.after
    }

    /// The wait a HubSpot 429 implies (API notes §11): the 10-second window for
    /// `TEN_SECONDLY_ROLLING` (and unknown policies), the next second for `SECONDLY` and
    /// search, the next daily reset in the account's time zone for `DAILY`.
    pub fn for_429(policy: &RateLimitPolicy, limits: &PortalLimits, now: SystemTime) -> Wait {
        match policy {
            RateLimitPolicy::Daily => Wait {
                after: limits
                    .next_daily_reset(now)
                    .duration_since(now)
                    .unwrap_or(Duration::from_secs(1))
                    .max(Duration::from_millis(1)),
                limit: Limit::Daily,
            },
            RateLimitPolicy::Secondly => Wait {
                after: Duration::from_secs(1),
                limit: Limit::Burst,
            },
            RateLimitPolicy::Search => Wait {
                after: SEARCH_WINDOW,
                limit: Limit::Search,
            },
            _ => Wait {
                after: BURST_WINDOW,
                limit: Limit::Burst,
            },
        }
    }
}

impl fmt::Display for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "HubSpot {} limit: retry in {} ms",
            self.limit.as_str(),
            self.after.as_millis()
        )
    }
}

/// The outcome of [`HubspotLimiter::acquire`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acquire {
    /// Make the call.
    Permit(Permit),
    /// Do not call yet.
    Wait(Wait),
}

/// Limiter failures.
#[derive(Debug, thiserror::Error)]
pub enum RateLimitError {
    /// Redis failed.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// The script answered something unexpected.
    #[error("unexpected rate-limit script reply: {0}")]
    Reply(String),
}

/// The Redis keys of one (portal, app).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalKeys {
    /// Burst window log (ZSET) per (app, portal).
    pub burst: String,
    /// Observed burst cap per (app, portal).
    pub burst_cap: String,
    /// Daily counter (HASH) per portal.
    pub daily: String,
    /// Observed daily cap per portal.
    pub daily_cap: String,
    /// Search window log (ZSET) per portal.
    pub search: String,
    /// Observed search cap per portal.
    pub search_cap: String,
    /// Member sequence per portal.
    pub seq: String,
}

/// The shared HubSpot rate limiter. Cheap to clone; one per replica is enough.
#[derive(Clone)]
pub struct HubspotLimiter {
    conn: ConnectionManager,
    prefix: String,
    observed_ttl: Duration,
    observed_daily_ttl: Duration,
}

impl fmt::Debug for HubspotLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubspotLimiter")
            .field("prefix", &self.prefix)
            .field("observed_ttl", &self.observed_ttl)
            .field("observed_daily_ttl", &self.observed_daily_ttl)
            .finish_non_exhaustive()
    }
}

impl HubspotLimiter {
    /// A limiter over an existing connection manager; keys start with `prefix`.
    pub fn new(conn: ConnectionManager, prefix: impl Into<String>) -> Self {
        HubspotLimiter {
            conn,
            prefix: prefix.into(),
            observed_ttl: Duration::from_secs(1),
            observed_daily_ttl: Duration::from_secs(60),
        }
    }

    /// Opens a connection manager on `client` and builds a limiter over it.
    pub async fn connect(
        client: redis::Client,
        prefix: impl Into<String>,
    ) -> Result<Self, RateLimitError> {
        let conn = ConnectionManager::new(client).await?;
        Ok(Self::new(conn, prefix))
    }

    /// How long what HubSpot reported ([`observe`](Self::observe)) caps the local view:
    /// `window` for `X-HubSpot-RateLimit-Remaining` (1 s by default), `daily` for
    /// `X-HubSpot-RateLimit-Daily-Remaining` (60 s by default).
    pub fn with_observed_ttl(mut self, window: Duration, daily: Duration) -> Self {
        self.observed_ttl = window.max(Duration::from_millis(1));
        self.observed_daily_ttl = daily.max(Duration::from_millis(1));
        self
    }

    /// The hash tag every key of `portal` shares: `{<prefix>:hs:<portal>}`.
    pub fn portal_tag(&self, portal_id: u64) -> String {
        format!("{{{}:hs:{}}}", self.prefix, portal_id)
    }

    /// The keys of (portal, app). `app_id: None` (private app / API key) uses `app-none`.
    pub fn keys(&self, portal_id: u64, app_id: Option<u64>) -> PortalKeys {
        let tag = self.portal_tag(portal_id);
        let app = app_id.map_or_else(|| "none".to_owned(), |a| a.to_string());
        PortalKeys {
            burst: format!("{tag}:burst:app-{app}"),
            burst_cap: format!("{tag}:cap:app-{app}"),
            daily: format!("{tag}:daily"),
            daily_cap: format!("{tag}:dcap"),
            search: format!("{tag}:search"),
            search_cap: format!("{tag}:scap"),
            seq: format!("{tag}:seq"),
        }
    }

    /// Takes one permit for a call of `kind` to `portal_id` by `app_id`, or says how long to
    /// wait. One atomic script call; nothing is consumed on a wait.
    pub async fn acquire(
        &self,
        portal_id: u64,
        app_id: Option<u64>,
        kind: CallKind,
        limits: &PortalLimits,
    ) -> Result<Acquire, RateLimitError> {
        let k = self.keys(portal_id, app_id);
        let kind_arg = match kind {
            CallKind::Standard => "standard",
            CallKind::Search => "search",
        };
        let daily: i64 = limits
            .daily
            .map_or(-1, |d| i64::try_from(d).unwrap_or(i64::MAX));
        let mut conn = self.conn.clone();
        let reply: (i64, i64, String, i64, i64, i64, i64) = ACQUIRE
            .key(&k.burst)
            .key(&k.burst_cap)
            .key(&k.daily)
            .key(&k.daily_cap)
            .key(&k.search)
            .key(&k.search_cap)
            .key(&k.seq)
            .arg(kind_arg)
            .arg(limits.burst_per_10s)
            .arg(u64::try_from(BURST_WINDOW.as_millis()).unwrap_or(10_000))
            .arg(daily)
            .arg(limits.search_per_s)
            .arg(limits.tz_offset_minutes)
            .invoke_async(&mut conn)
            .await?;
        let (granted, wait_ms, reason, now_s, now_us, window_remaining, daily_remaining) = reply;
        if granted == 1 {
            let granted_at = UNIX_EPOCH
                + Duration::from_secs(u64::try_from(now_s).unwrap_or(0))
                + Duration::from_micros(u64::try_from(now_us).unwrap_or(0));
            return Ok(Acquire::Permit(Permit {
                granted_at,
                window_remaining: u64::try_from(window_remaining).unwrap_or(0),
                daily_remaining: u64::try_from(daily_remaining).ok(),
            }));
        }
        let limit = match reason.as_str() {
            "burst" => Limit::Burst,
            "daily" => Limit::Daily,
            "search" => Limit::Search,
            other => return Err(RateLimitError::Reply(format!("unknown limit {other:?}"))),
        };
        let after = Duration::from_millis(u64::try_from(wait_ms).unwrap_or(1).max(1));
        tracing::debug!(
            portal_id,
            app_id,
            limit = limit.as_str(),
            wait_ms = after.as_millis(),
            "hubspot rate limit: wait"
        );
        Ok(Acquire::Wait(Wait { after, limit }))
    }

    /// Records what HubSpot's `X-HubSpot-RateLimit-*` headers say is left. When HubSpot
    /// reports less than the local view (other clients of the same app or account), the
    /// reported value caps further grants for a short TTL; grants count it down. It only
    /// lowers an existing cap, never raises it.
    pub async fn observe(
        &self,
        portal_id: u64,
        app_id: Option<u64>,
        info: &RateLimitInfo,
    ) -> Result<(), RateLimitError> {
        let k = self.keys(portal_id, app_id);
        let mut conn = self.conn.clone();
        if let Some(remaining) = info.remaining {
            let _: i64 = OBSERVE
                .key(&k.burst_cap)
                .arg(remaining)
                .arg(ms(self.observed_ttl))
                .invoke_async(&mut conn)
                .await?;
        }
        if let Some(remaining) = info.daily_remaining {
            let _: i64 = OBSERVE
                .key(&k.daily_cap)
                .arg(remaining)
                .arg(ms(self.observed_daily_ttl))
                .invoke_async(&mut conn)
                .await?;
        }
        Ok(())
    }

    /// Records a HubSpot 429 so every replica stops calling for the time HubSpot implies
    /// ([`Wait::for_429`], measured from this replica's clock), and returns that wait for
    /// `JobError::retry_at`.
    pub async fn observe_429(
        &self,
        portal_id: u64,
        app_id: Option<u64>,
        policy: &RateLimitPolicy,
        limits: &PortalLimits,
    ) -> Result<Wait, RateLimitError> {
        let wait = Wait::for_429(policy, limits, SystemTime::now());
        let k = self.keys(portal_id, app_id);
        let key = match wait.limit {
            Limit::Burst => &k.burst_cap,
            Limit::Daily => &k.daily_cap,
            Limit::Search => &k.search_cap,
        };
        let mut conn = self.conn.clone();
        let _: i64 = FORCE
            .key(key)
            .arg(0)
            .arg(ms(wait.after))
            .invoke_async(&mut conn)
            .await?;
        tracing::info!(
            portal_id,
            app_id,
            policy = policy.as_str(),
            wait_ms = wait.after.as_millis(),
            "hubspot 429: limiter paused"
        );
        Ok(wait)
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn daily_reset_is_next_utc_midnight_by_default() {
        // 2026-11-28 10:30:00 UTC
        let now = at(1_795_861_800);
        let reset = PortalLimits::FREE.next_daily_reset(now);
        assert_eq!(reset, at(1_795_910_400)); // 2026-11-29 00:00 UTC
    }

    #[test]
    fn daily_reset_follows_the_account_time_zone() {
        let now = at(1_795_861_800); // 10:30 UTC
        let ny = PortalLimits {
            tz_offset_minutes: -300,
            ..PortalLimits::FREE
        };
        // 05:30 local in UTC-5: next local midnight is 2026-11-29 05:00 UTC.
        assert_eq!(ny.next_daily_reset(now), at(1_795_928_400));
        let tokyo = PortalLimits {
            tz_offset_minutes: 540,
            ..PortalLimits::FREE
        };
        // 19:30 local in UTC+9: next local midnight is 2026-11-28 15:00 UTC.
        assert_eq!(tokyo.next_daily_reset(now), at(1_795_878_000));
    }

    #[test]
    fn for_429_maps_policies() {
        let now = at(1_795_861_800);
        let l = PortalLimits::FREE;
        let w = Wait::for_429(&RateLimitPolicy::TenSecondlyRolling, &l, now);
        assert_eq!((w.after, w.limit), (BURST_WINDOW, Limit::Burst));
        let w = Wait::for_429(&RateLimitPolicy::Search, &l, now);
        assert_eq!((w.after, w.limit), (SEARCH_WINDOW, Limit::Search));
        let w = Wait::for_429(&RateLimitPolicy::Secondly, &l, now);
        assert_eq!((w.after, w.limit), (Duration::from_secs(1), Limit::Burst));
        let w = Wait::for_429(&RateLimitPolicy::Daily, &l, now);
        assert_eq!(w.limit, Limit::Daily);
        assert_eq!(w.retry_at(now), l.next_daily_reset(now));
        let w = Wait::for_429(&RateLimitPolicy::Other("X".into()), &l, now);
        assert_eq!(w.after, BURST_WINDOW);
    }
}
