use std::time::Duration;

use hubsync_userflow::requests::users;
use hubsync_userflow::{Error, Request, RetryPolicy};
use serde_json::json;

use crate::Sim;

#[tokio::test]
async fn errors_wrong_key_is_unauthorized() {
    let sim = Sim::start().await;
    let client = sim.client_with("ak_wrong", RetryPolicy::none());
    let err = users::Get::new("u_0001")
        .send(&client)
        .await
        .expect_err("401");
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    // A key of another environment does not see env_demo's users.
    let staging = sim.client_with("ak_sim_staging", RetryPolicy::none());
    let err = users::Get::new("u_0001")
        .send(&staging)
        .await
        .expect_err("404");
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn errors_bad_request_carries_code_and_message() {
    let sim = Sim::start().await;
    let err = users::List::new()
        .limit(101)
        .send(&sim.client)
        .await
        .expect_err("400");
    match err {
        Error::Api {
            status,
            code,
            message,
        } => {
            assert_eq!(status, 400);
            assert_eq!(code.as_deref(), Some("invalid_parameter"));
            assert!(!message.is_empty());
        }
        other => panic!("unexpected {other:?}"),
    }
    // 400 is not retried.
    assert_eq!(sim.calls("GET /users").await, 1);
}

async fn limit_rate(sim: &Sim) {
    sim.control_put(
        "/_sim/userflow/knobs",
        json!({"rate_limit": {"enabled": true, "per_second": 1.0, "burst": 1, "retry_after": true}}),
    )
    .await;
}

#[tokio::test]
async fn errors_rate_limited_reports_retry_after() {
    let sim = Sim::start().await;
    limit_rate(&sim).await;
    let client = sim.client_with("ak_sim_demo", RetryPolicy::none());
    users::Get::new("u_0001")
        .send(&client)
        .await
        .expect("first fits the burst");
    let err = users::Get::new("u_0001")
        .send(&client)
        .await
        .expect_err("429");
    match err {
        Error::RateLimited { retry_after } => {
            let wait = retry_after.expect("Retry-After");
            assert!(wait >= Duration::from_secs(1), "{wait:?}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn errors_rate_limited_is_retried_after_wait() {
    let sim = Sim::start().await;
    limit_rate(&sim).await;
    users::Get::new("u_0001")
        .send(&sim.client)
        .await
        .expect("first");
    let u = users::Get::new("u_0002")
        .send(&sim.client)
        .await
        .expect("second succeeds after Retry-After");
    assert_eq!(u.id.as_str(), "u_0002");
}

#[tokio::test]
async fn errors_server_error_retried_then_reported() {
    let sim = Sim::start().await;
    sim.control_put(
        "/_sim/faults",
        json!({"error_rate": 1.0, "error_status": 500}),
    )
    .await;
    let err = users::Get::new("u_0001")
        .send(&sim.client)
        .await
        .expect_err("500");
    match err {
        Error::Api { status, code, .. } => {
            assert_eq!(status, 500);
            assert_eq!(code.as_deref(), Some("internal_server_error"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        sim.calls("GET /users/{id}").await + sim.calls("GET /users/u_0001").await,
        3
    );

    sim.control_put(
        "/_sim/faults",
        json!({"error_rate": 1.0, "error_status": 503}),
    )
    .await;
    let err = users::Get::new("u_0001")
        .send(&sim.client)
        .await
        .expect_err("503");
    assert_eq!(err.status(), Some(503));
    sim.control_put("/_sim/faults", json!({})).await;
    users::Get::new("u_0001")
        .send(&sim.client)
        .await
        .expect("recovered");
}

#[tokio::test]
async fn errors_unreachable_host_is_transport() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let client = hubsync_userflow::Client::builder("ak_sim_demo")
        .base_url(format!("http://{addr}"))
        .retry_policy(crate::fast_retry())
        .build()
        .expect("client");
    let err = users::Get::new("u_0001")
        .send(&client)
        .await
        .expect_err("no server");
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert_eq!(err.status(), None);
}

#[tokio::test]
async fn errors_invalid_base_url_is_config() {
    let err = hubsync_userflow::Client::builder("k")
        .base_url("not a url")
        .build()
        .expect_err("config");
    assert!(matches!(err, Error::Config(_)), "{err:?}");
}
