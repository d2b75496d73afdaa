use reqwest::Method;
use serde_json::json;

use super::{empty_config, start, start_with};

#[tokio::test]
async fn headers_by_tier_on_api_responses() {
    let s = start().await;
    let r = s.get("/crm/v3/objects/contacts").await;
    assert_eq!(r.header("x-hubspot-ratelimit-max").as_deref(), Some("190"));
    assert_eq!(
        r.header("x-hubspot-ratelimit-remaining").as_deref(),
        Some("189")
    );
    assert_eq!(
        r.header("x-hubspot-ratelimit-interval-milliseconds")
            .as_deref(),
        Some("10000")
    );
    assert_eq!(
        r.header("x-hubspot-ratelimit-daily").as_deref(),
        Some("625000"),
        "private apps get Daily headers"
    );
    assert_eq!(
        r.header("x-hubspot-ratelimit-daily-remaining").as_deref(),
        Some("624999")
    );
    assert!(r.header("x-hubspot-ratelimit-secondly").is_some());
    assert!(r.header("x-hubspot-correlation-id").is_some());
    let r = s
        .call_as(
            Some("pat-sim-62516"),
            Method::GET,
            "/crm/v3/properties/contacts",
            None,
        )
        .await;
    assert_eq!(
        r.header("x-hubspot-ratelimit-max").as_deref(),
        Some("100"),
        "starter tier"
    );
    assert_eq!(
        r.header("x-hubspot-ratelimit-daily").as_deref(),
        Some("250000")
    );
    // Errors count and carry headers too.
    let r = s.get("/crm/v3/objects/contacts/5").await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.header("x-hubspot-ratelimit-remaining").as_deref(),
        Some("188")
    );
    s.limit_knobs(json!({"emit_rate_limit_headers": false}))
        .await;
    assert!(
        s.get("/crm/v3/objects/contacts")
            .await
            .header("x-hubspot-ratelimit-max")
            .is_none()
    );
}

#[tokio::test]
async fn ten_secondly_rolling_limit() {
    let mut c = empty_config();
    c.rate_limits.burst_max = Some(3);
    c.rate_limits.window_ms = 400;
    let s = start_with(c).await;
    for _ in 0..3 {
        assert_eq!(s.get("/crm/v3/objects/contacts").await.status, 200);
    }
    let r = s.get("/crm/v3/objects/contacts").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.body["policyName"], "TEN_SECONDLY_ROLLING");
    assert_eq!(r.body["errorType"], "RATE_LIMIT");
    assert_eq!(
        r.body["message"],
        "You have reached your ten_secondly_rolling limit."
    );
    assert!(
        r.body["groupName"]
            .as_str()
            .unwrap()
            .starts_with("publicapi:")
    );
    assert!(r.body.get("category").is_none());
    assert_eq!(
        r.header("x-hubspot-ratelimit-remaining").as_deref(),
        Some("0")
    );
    // Other portals have their own window; the window rolls.
    assert_eq!(
        s.call_as(
            Some("pat-sim-62516"),
            Method::GET,
            "/crm/v3/objects/contacts",
            None
        )
        .await
        .status,
        200
    );
    tokio::time::sleep(std::time::Duration::from_millis(450)).await;
    assert_eq!(s.get("/crm/v3/objects/contacts").await.status, 200);
    // Control routes are never limited; reset clears the window.
    for _ in 0..5 {
        assert_eq!(s.get("/_sim/hubspot/calls").await.status, 200);
    }
    s.limit_knobs(json!({"window_ms": 60_000, "retry_after_on_429": true}))
        .await;
    for _ in 0..3 {
        s.get("/crm/v3/objects/contacts").await;
    }
    let r = s.get("/crm/v3/objects/contacts").await;
    assert_eq!(r.status, 429);
    assert!(r.header("retry-after").is_some());
    assert_eq!(
        s.post("/_sim/hubspot/rate-limits/reset", json!({}))
            .await
            .status,
        204
    );
    assert_eq!(s.get("/crm/v3/objects/contacts").await.status, 200);
}

#[tokio::test]
async fn daily_limit() {
    let mut c = empty_config();
    c.rate_limits.daily_max = Some(4);
    let s = start_with(c).await;
    for i in 0..4 {
        let r = s.get("/crm/v3/objects/contacts").await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("x-hubspot-ratelimit-daily-remaining").unwrap(),
            (3 - i).to_string()
        );
    }
    let r = s.get("/crm/v3/objects/contacts").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.body["policyName"], "DAILY");
    assert_eq!(r.body["message"], "You have reached your daily limit.");
    assert!(r.body["requestId"].is_string() && r.body["correlationId"].is_string());
    s.limit_knobs(json!({"enabled": false})).await;
    assert_eq!(
        s.get("/crm/v3/objects/contacts").await.status,
        200,
        "limits switched off"
    );
    let r = s
        .put("/_sim/hubspot/rate-limits", json!({"bogus": 1}))
        .await;
    assert_eq!(r.status, 400, "unknown knob rejected");
}
