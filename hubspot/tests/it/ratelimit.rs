#![allow(clippy::unwrap_used)]

use std::time::Duration;

use hubsync_hubspot::requests::objects::{GetObject, SearchObjects};
use hubsync_hubspot::{Client, Error, ObjectType, RateLimitPolicy, RetryPolicy};
use reqwest::Method;
use serde_json::json;

use crate::common::{TOKEN, start};

#[tokio::test]
async fn ratelimit_headers_are_exposed() {
    let env = start().await;
    let (c1, _) = env.two_contacts().await;
    let c = env.client();
    assert!(c.last_rate_limit().is_none());
    GetObject::new(ObjectType::Contacts, c1.as_str())
        .send(&c)
        .await
        .unwrap();
    let info = c.last_rate_limit().unwrap();
    assert_eq!(info.max, Some(190));
    assert_eq!(info.interval_ms, Some(10_000));
    assert!(info.remaining.unwrap() < 190);
}

#[tokio::test]
async fn ratelimit_burst_429_is_ten_secondly_with_wait() {
    let env = start().await;
    let (c1, _) = env.two_contacts().await;
    env.control(
        Method::PUT,
        "/_sim/hubspot/rate-limits",
        json!({"burst_max": 2, "window_ms": 3000}),
    )
    .await;
    env.control(Method::POST, "/_sim/hubspot/rate-limits/reset", json!(null))
        .await;
    let c = env.client();
    GetObject::new(ObjectType::Contacts, c1.as_str())
        .send(&c)
        .await
        .unwrap();
    GetObject::new(ObjectType::Contacts, c1.as_str())
        .send(&c)
        .await
        .unwrap();
    let err = GetObject::new(ObjectType::Contacts, c1.as_str())
        .send(&c)
        .await
        .unwrap_err();
    match err {
        Error::RateLimited {
            policy,
            retry_after,
            ..
        } => {
            assert_eq!(policy, RateLimitPolicy::TenSecondlyRolling);
            assert!(retry_after > Duration::ZERO && retry_after <= Duration::from_secs(10));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn ratelimit_retry_after_header_is_honoured_by_retrying_client() {
    let env = start().await;
    let (c1, _) = env.two_contacts().await;
    env.control(
        Method::PUT,
        "/_sim/hubspot/rate-limits",
        json!({"burst_max": 1, "window_ms": 1000, "retry_after_on_429": true}),
    )
    .await;
    env.control(Method::POST, "/_sim/hubspot/rate-limits/reset", json!(null))
        .await;
    let plain = env.client();
    GetObject::new(ObjectType::Contacts, c1.as_str())
        .send(&plain)
        .await
        .unwrap();
    let err = GetObject::new(ObjectType::Contacts, c1.as_str())
        .send(&plain)
        .await
        .unwrap_err();
    let Error::RateLimited { retry_after, .. } = err else {
        panic!("unexpected {err:?}");
    };
    assert!(retry_after <= Duration::from_secs(1), "{retry_after:?}");
    let retrying = Client::builder()
        .base_url(env.base.clone())
        .access_token(TOKEN)
        .retry_policy(RetryPolicy {
            retry_rate_limited: true,
            max_retries: 3,
            max_wait: Duration::from_secs(2),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let obj = GetObject::new(ObjectType::Contacts, c1.as_str())
        .send(&retrying)
        .await
        .unwrap();
    assert_eq!(obj.id.as_str(), c1);
}

#[tokio::test]
async fn ratelimit_search_429_is_search_policy() {
    let env = start().await;
    env.control(
        Method::PUT,
        "/_sim/hubspot/rate-limits",
        json!({"search_rps": 1}),
    )
    .await;
    env.control(Method::POST, "/_sim/hubspot/rate-limits/reset", json!(null))
        .await;
    let c = env.client();
    let req = SearchObjects::new(ObjectType::Contacts).limit(1);
    req.send(&c).await.unwrap();
    let err = req.send(&c).await.unwrap_err();
    match err {
        Error::RateLimited { policy, .. } => assert_eq!(policy, RateLimitPolicy::Search),
        other => panic!("unexpected {other:?}"),
    }
}
