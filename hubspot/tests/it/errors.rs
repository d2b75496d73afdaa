#![allow(clippy::unwrap_used)]

use std::time::Duration;

use hubsync_hubspot::requests::objects::GetObject;
use hubsync_hubspot::{Client, Error, ObjectType, RetryPolicy};
use reqwest::Method;
use serde_json::json;

use crate::common::{TOKEN, start};

#[tokio::test]
async fn errors_5xx_fault_is_api_error_and_transient() {
    let env = start().await;
    env.control(
        Method::PUT,
        "/_sim/faults",
        json!({"error_rate": 1.0, "error_status": 503}),
    )
    .await;
    let err = GetObject::new(ObjectType::Contacts, "1")
        .send(&env.client())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Api { status: 503, .. }), "{err:?}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn errors_5xx_fault_is_retried_per_policy() {
    let env = start().await;
    env.control(
        Method::PUT,
        "/_sim/faults",
        json!({"error_rate": 1.0, "error_status": 502}),
    )
    .await;
    env.control(Method::DELETE, "/_sim/hubspot/calls", json!(null))
        .await;
    let c = Client::builder()
        .base_url(env.base.clone())
        .access_token(TOKEN)
        .retry_policy(RetryPolicy {
            max_retries: 2,
            base_backoff: Duration::from_millis(5),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let err = GetObject::new(ObjectType::Contacts, "1")
        .send(&c)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(502));
    let calls = env
        .control(Method::GET, "/_sim/hubspot/calls", json!(null))
        .await;
    assert_eq!(calls["total"], 3, "{calls}");
}

#[tokio::test]
async fn errors_transport_when_server_gone() {
    let c = Client::builder()
        .base_url("http://127.0.0.1:1")
        .access_token(TOKEN)
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let err = GetObject::new(ObjectType::Contacts, "1")
        .send(&c)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
}
