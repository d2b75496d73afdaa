//! Fault injection on the HubSpot simulator (`PUT /_sim/faults`): API routes fail, slow down or
//! hang while `/_sim/…` control routes keep answering.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Sim, start};

/// Replaces the fault knobs (unset fields off).
async fn set_faults(s: &Sim, knobs: Value) {
    let r = s.put("/_sim/faults", knobs.clone()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    for (k, v) in knobs.as_object().expect("knobs are an object") {
        assert_eq!(&r.body[k], v, "{k} echoed");
    }
}

/// Asserts the control routes still answer at once.
async fn assert_control_routes_answer(s: &Sim) {
    let started = Instant::now();
    for path in ["/_sim/faults", "/_sim/hubspot/calls", "/_sim/hubspot/crm"] {
        let r = s.get(path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
    }
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "control routes are not delayed: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn faults_break_api_routes_but_not_control_routes_until_switched_off() {
    let s = start().await;
    let contacts = "/crm/v3/objects/contacts?limit=1";
    assert_eq!(s.get("/_sim/faults").await.body["error_rate"], 0.0);

    // Every API call fails with HubSpot's plain 5xx body and a correlation id.
    set_faults(&s, json!({"error_rate": 1.0})).await;
    for path in [contacts, "/crm/v3/properties/contacts"] {
        let r = s.get(path).await;
        assert_eq!(r.status, 503, "{path}: {}", r.body);
        assert_eq!(r.body["status"], "error");
        assert!(r.body["message"].is_string());
        assert!(r.body.get("category").is_none(), "{}", r.body);
        let id = r.body["correlationId"].as_str().expect("correlationId");
        assert_eq!(r.header("x-hubspot-correlation-id").as_deref(), Some(id));
    }
    let token = s
        .client
        .post(s.url("/oauth/v1/token"))
        .form(&[("grant_type", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status().as_u16(), 503, "OAuth routes are API routes");
    set_faults(&s, json!({"error_rate": 1.0, "error_status": 502})).await;
    assert_eq!(s.get(contacts).await.status, 502);
    assert_control_routes_answer(&s).await;

    // Latency on API routes only.
    set_faults(&s, json!({"latency_ms": 400})).await;
    let started = Instant::now();
    assert_eq!(s.get(contacts).await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert_control_routes_answer(&s).await;

    // Hanging API calls: the client gives up before any answer.
    set_faults(&s, json!({"timeout_rate": 1.0, "timeout_ms": 5_000})).await;
    let hung = tokio::time::timeout(Duration::from_millis(500), s.get(contacts)).await;
    assert!(hung.is_err(), "the API call hangs");
    assert_control_routes_answer(&s).await;

    // Switched off: service is back at once.
    set_faults(&s, json!({})).await;
    let started = Instant::now();
    let r = s.get(contacts).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(started.elapsed() < Duration::from_millis(300));
    assert_eq!(s.get("/_sim/faults").await.body["timeout_rate"], 0.0);
}
