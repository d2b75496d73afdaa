//! The shared HubSpot rate limiter against a real Redis (`HUBSYNC_TEST_REDIS_URL`, default
//! `redis://127.0.0.1:6379`). Each test uses its own key prefix and deletes its keys.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hubsync_hubspot::{RateLimitInfo, RateLimitPolicy};
use hubsync_sync::ratelimit::{Acquire, CallKind, HubspotLimiter, Limit, PortalLimits, Wait};

fn redis_url() -> String {
    std::env::var("HUBSYNC_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn unique_prefix(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("hstest-{name}-{}-{nanos}", std::process::id())
}

async fn limiter(prefix: &str) -> HubspotLimiter {
    let client = redis::Client::open(redis_url()).unwrap();
    HubspotLimiter::connect(client, prefix).await.unwrap()
}

async fn conn() -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

async fn keys_with_prefix(prefix: &str) -> Vec<String> {
    let mut c = conn().await;
    let pattern = format!("{{{prefix}:hs:*");
    let mut cursor: u64 = 0;
    let mut out = Vec::new();
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut c)
            .await
            .unwrap();
        out.extend(batch);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    out
}

async fn cleanup(prefix: &str) {
    let keys = keys_with_prefix(prefix).await;
    let mut c = conn().await;
    for k in keys {
        let _: i64 = redis::cmd("DEL").arg(&k).query_async(&mut c).await.unwrap();
    }
}

fn limits(burst: u32) -> PortalLimits {
    PortalLimits {
        burst_per_10s: burst,
        daily: Some(1_000_000),
        search_per_s: 5,
        tz_offset_minutes: 0,
    }
}

async fn take(
    l: &HubspotLimiter,
    portal: u64,
    app: Option<u64>,
    kind: CallKind,
    lim: &PortalLimits,
) -> Acquire {
    l.acquire(portal, app, kind, lim).await.unwrap()
}

fn expect_wait(a: Acquire) -> Wait {
    match a {
        Acquire::Wait(w) => w,
        Acquire::Permit(p) => panic!("expected a wait, got {p:?}"),
    }
}

fn is_permit(a: &Acquire) -> bool {
    matches!(a, Acquire::Permit(_))
}

fn assert_sane(w: &Wait, max: Duration) {
    assert!(w.after > Duration::ZERO, "wait must be positive: {w:?}");
    assert!(w.after <= max, "wait too long: {w:?} (max {max:?})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_replicas_never_exceed_burst_in_any_window() {
    let prefix = unique_prefix("burst");
    const BURST: usize = 20;
    let lim = limits(BURST as u32);
    let portal = 4242;
    let app = Some(7);
    // Four limiter instances = four replicas, each with its own connection.
    let mut replicas = Vec::new();
    for _ in 0..4 {
        replicas.push(limiter(&prefix).await);
    }
    let grants: Arc<Mutex<Vec<SystemTime>>> = Arc::default();
    let waits: Arc<Mutex<Vec<Wait>>> = Arc::default();
    // Run past one full window so the sliding part is exercised too.
    let deadline = Instant::now() + Duration::from_millis(11_500);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..16 {
        let l = replicas[i % replicas.len()].clone();
        let grants = grants.clone();
        let waits = waits.clone();
        tasks.spawn(async move {
            while Instant::now() < deadline {
                match l
                    .acquire(portal, app, CallKind::Standard, &lim)
                    .await
                    .unwrap()
                {
                    Acquire::Permit(p) => grants.lock().unwrap().push(p.granted_at),
                    Acquire::Wait(w) => {
                        waits.lock().unwrap().push(w);
                        let nap = w.after.min(Duration::from_millis(200));
                        tokio::time::sleep(nap + Duration::from_millis(i as u64 * 3)).await;
                    }
                }
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    let mut grants = grants.lock().unwrap().clone();
    grants.sort();
    // Redis-clock grant times: no 10-second window [t, t + 10 s) holds more than BURST.
    for (i, start) in grants.iter().enumerate() {
        let end = *start + Duration::from_secs(10);
        let n = grants[i..].iter().take_while(|t| **t < end).count();
        assert!(n <= BURST, "{n} grants in the window from {start:?}");
    }
    // First window filled, and the second one opened after ~10 s.
    assert!(grants.len() > BURST, "only {} grants", grants.len());
    assert!(grants.len() <= 2 * BURST, "{} grants", grants.len());
    let waits = waits.lock().unwrap().clone();
    assert!(!waits.is_empty());
    for w in &waits {
        assert_eq!(w.limit, Limit::Burst);
        assert_sane(w, Duration::from_secs(10));
    }
    cleanup(&prefix).await;
}

#[tokio::test]
async fn wait_is_positive_and_within_the_window() {
    let prefix = unique_prefix("wait");
    let l = limiter(&prefix).await;
    let lim = limits(5);
    for expected_left in (0..5).rev() {
        match take(&l, 1, Some(1), CallKind::Standard, &lim).await {
            Acquire::Permit(p) => {
                assert_eq!(p.window_remaining, expected_left);
                assert!(p.daily_remaining.is_some());
            }
            Acquire::Wait(w) => panic!("unexpected wait {w:?}"),
        }
    }
    let w = expect_wait(take(&l, 1, Some(1), CallKind::Standard, &lim).await);
    assert_eq!(w.limit, Limit::Burst);
    assert_sane(&w, Duration::from_secs(10));
    // The window was just filled: the wait is most of it (generous bound).
    assert!(w.after >= Duration::from_secs(5), "{w:?}");
    let now = SystemTime::now();
    assert!(w.retry_at(now) > now);
    cleanup(&prefix).await;
}

#[tokio::test]
async fn search_has_its_own_limit_and_does_not_use_the_burst() {
    let prefix = unique_prefix("search");
    let l = limiter(&prefix).await;
    let lim = limits(3);
    // Search first: 5 per second, then a wait of at most a second.
    for _ in 0..5 {
        assert!(is_permit(&take(&l, 1, None, CallKind::Search, &lim).await));
    }
    let w = expect_wait(take(&l, 1, None, CallKind::Search, &lim).await);
    assert_eq!(w.limit, Limit::Search);
    assert_sane(&w, Duration::from_secs(1));
    // The burst is untouched by the searches.
    for _ in 0..3 {
        assert!(is_permit(
            &take(&l, 1, None, CallKind::Standard, &lim).await
        ));
    }
    let w = expect_wait(take(&l, 1, None, CallKind::Standard, &lim).await);
    assert_eq!(w.limit, Limit::Burst);
    // With the burst exhausted, search still works once its second has passed.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(is_permit(&take(&l, 1, None, CallKind::Search, &lim).await));
    cleanup(&prefix).await;
}

#[tokio::test]
async fn daily_budget_stops_grants_until_the_reset() {
    let prefix = unique_prefix("daily");
    let l = limiter(&prefix).await;
    for tz in [0, -300, 540] {
        let portal = 1000 + u64::try_from(tz + 1000).unwrap();
        let lim = PortalLimits {
            burst_per_10s: 100,
            daily: Some(3),
            search_per_s: 5,
            tz_offset_minutes: tz,
        };
        // Standard and search calls, from two apps, share the portal's daily budget.
        let a = take(&l, portal, Some(1), CallKind::Standard, &lim).await;
        let Acquire::Permit(p) = a else {
            panic!("{a:?}")
        };
        assert_eq!(p.daily_remaining, Some(2));
        assert!(is_permit(
            &take(&l, portal, Some(2), CallKind::Standard, &lim).await
        ));
        assert!(is_permit(
            &take(&l, portal, Some(1), CallKind::Search, &lim).await
        ));
        for kind in [CallKind::Standard, CallKind::Search] {
            let w = expect_wait(take(&l, portal, Some(3), kind, &lim).await);
            assert_eq!(w.limit, Limit::Daily);
            let now = SystemTime::now();
            let expected = lim.next_daily_reset(now).duration_since(now).unwrap();
            let diff = w.after.abs_diff(expected);
            assert!(
                diff <= Duration::from_secs(5),
                "tz {tz}: wait {w:?}, expected ~{expected:?}"
            );
            assert!(w.after <= Duration::from_secs(86_400));
        }
    }
    cleanup(&prefix).await;
}

#[tokio::test]
async fn portals_and_apps_are_independent() {
    let prefix = unique_prefix("indep");
    let l = limiter(&prefix).await;
    let lim = limits(2);
    for _ in 0..2 {
        assert!(is_permit(
            &take(&l, 1, Some(1), CallKind::Standard, &lim).await
        ));
    }
    expect_wait(take(&l, 1, Some(1), CallKind::Standard, &lim).await);
    // Another app on the same portal has its own burst.
    for _ in 0..2 {
        assert!(is_permit(
            &take(&l, 1, Some(2), CallKind::Standard, &lim).await
        ));
    }
    assert!(is_permit(
        &take(&l, 1, None, CallKind::Standard, &lim).await
    ));
    // Another portal, same app: its own burst.
    for _ in 0..2 {
        assert!(is_permit(
            &take(&l, 2, Some(1), CallKind::Standard, &lim).await
        ));
    }
    // Search is per portal, across apps.
    for app in [Some(1), Some(2), Some(3), None, Some(1)] {
        assert!(is_permit(&take(&l, 3, app, CallKind::Search, &lim).await));
    }
    let w = expect_wait(take(&l, 3, Some(9), CallKind::Search, &lim).await);
    assert_eq!(w.limit, Limit::Search);
    assert!(is_permit(
        &take(&l, 4, Some(9), CallKind::Search, &lim).await
    ));
    cleanup(&prefix).await;
}

#[tokio::test]
async fn keys_are_bounded_and_expire() {
    let prefix = unique_prefix("ttl");
    let l = limiter(&prefix).await;
    let lim = limits(10);
    for _ in 0..30 {
        take(&l, 5, Some(1), CallKind::Standard, &lim).await;
        take(&l, 5, Some(1), CallKind::Search, &lim).await;
    }
    let info = RateLimitInfo {
        remaining: Some(50),
        daily_remaining: Some(5000),
        ..RateLimitInfo::default()
    };
    l.observe(5, Some(1), &info).await.unwrap();
    l.observe_429(5, Some(1), &RateLimitPolicy::Search, &lim)
        .await
        .unwrap();
    let keys = keys_with_prefix(&prefix).await;
    let k = l.keys(5, Some(1));
    for expected in [
        &k.burst,
        &k.burst_cap,
        &k.daily,
        &k.daily_cap,
        &k.search,
        &k.search_cap,
        &k.seq,
    ] {
        assert!(keys.contains(expected), "{expected} missing from {keys:?}");
        assert!(expected.starts_with(&l.portal_tag(5)));
    }
    let mut c = conn().await;
    for key in &keys {
        let pttl: i64 = redis::cmd("PTTL")
            .arg(key)
            .query_async(&mut c)
            .await
            .unwrap();
        assert!(pttl > 0, "{key} has no TTL ({pttl})");
        assert!(pttl <= 86_400_000 + 1000, "{key} TTL too long ({pttl})");
    }
    let burst_len: usize = redis::cmd("ZCARD")
        .arg(&k.burst)
        .query_async(&mut c)
        .await
        .unwrap();
    let search_len: usize = redis::cmd("ZCARD")
        .arg(&k.search)
        .query_async(&mut c)
        .await
        .unwrap();
    assert!(burst_len <= 10, "burst log holds {burst_len}");
    assert!(search_len <= 5, "search log holds {search_len}");
    cleanup(&prefix).await;
    assert!(keys_with_prefix(&prefix).await.is_empty());
}

#[tokio::test]
async fn observed_headers_and_429s_cap_every_replica() {
    let prefix = unique_prefix("observe");
    let a = limiter(&prefix).await;
    let b = limiter(&prefix).await;
    let lim = limits(100);
    // HubSpot says only 2 remain: replica B sees it too.
    let info = RateLimitInfo {
        remaining: Some(2),
        max: Some(100),
        ..RateLimitInfo::default()
    };
    a.observe(1, Some(1), &info).await.unwrap();
    // A higher report does not raise the cap.
    let higher = RateLimitInfo {
        remaining: Some(80),
        ..RateLimitInfo::default()
    };
    a.observe(1, Some(1), &higher).await.unwrap();
    let first = take(&b, 1, Some(1), CallKind::Standard, &lim).await;
    let Acquire::Permit(p) = first else {
        panic!("{first:?}")
    };
    assert_eq!(p.window_remaining, 1);
    assert!(is_permit(
        &take(&b, 1, Some(1), CallKind::Standard, &lim).await
    ));
    let w = expect_wait(take(&b, 1, Some(1), CallKind::Standard, &lim).await);
    assert_eq!(w.limit, Limit::Burst);
    assert_sane(&w, Duration::from_secs(10));
    // Other apps are not capped by app 1's headers.
    assert!(is_permit(
        &take(&b, 1, Some(2), CallKind::Standard, &lim).await
    ));

    // A TEN_SECONDLY_ROLLING 429 on replica A pauses app 2 on replica B.
    let w429 = a
        .observe_429(1, Some(2), &RateLimitPolicy::TenSecondlyRolling, &lim)
        .await
        .unwrap();
    assert_eq!(w429.after, Duration::from_secs(10));
    let w = expect_wait(take(&b, 1, Some(2), CallKind::Standard, &lim).await);
    assert_eq!(w.limit, Limit::Burst);
    assert!(w.after > Duration::from_secs(5), "{w:?}");
    assert_sane(&w, Duration::from_secs(10));
    // Search is not paused by it.
    assert!(is_permit(
        &take(&b, 1, Some(2), CallKind::Search, &lim).await
    ));

    // A DAILY 429 pauses the whole portal until the reset.
    a.observe_429(1, Some(1), &RateLimitPolicy::Daily, &lim)
        .await
        .unwrap();
    let w = expect_wait(take(&b, 1, Some(3), CallKind::Search, &lim).await);
    assert_eq!(w.limit, Limit::Daily);
    let now = SystemTime::now();
    let expected = lim.next_daily_reset(now).duration_since(now).unwrap();
    assert!(
        w.after.abs_diff(expected) <= Duration::from_secs(5),
        "{w:?}"
    );
    cleanup(&prefix).await;
}
