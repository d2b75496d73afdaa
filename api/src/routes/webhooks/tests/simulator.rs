//! The HubSpot simulator delivers real, signed webhook batches to the api served on a port:
//! the signature, the signed URL and the payload shape are what HubSpot (as simulated) sends.

use std::time::Duration;

use hubsync_core::jobs::{Job, SyncFromHubspot, SyncFromUserflow, UserflowKind};
use hubsync_entities::{EventStreamMode, IntegrationStatus, UserflowObjectType, integrations};
use hubsync_sim::hubspot::{Config, Simulator};
use hubsync_sim::userflow;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};

use super::{APP_ID, PORTAL, field, integration, mapping, stream, test_app_at, waiting};
use crate::test_support::{call_router, eventually};

const DEV_KEY: &str = "sim-dev-key";
const PRIVATE_APP_TOKEN: &str = "pat-sim-62515";

async fn sim_call(
    sim: &Simulator,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    call_router(sim.router(), method, path, token, body).await
}

async fn set_firstname(sim: &Simulator, token: &str, contact: &str, value: &str) {
    let (status, body) = sim_call(
        sim,
        "PATCH",
        &format!("/crm/v3/objects/contacts/{contact}"),
        Some(token),
        Some(json!({"properties": {"firstname": value}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn simulator_deliveries_verify_and_queue_jobs() {
    // The api listens first, so its public URL (what HubSpot signs) is known.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public = format!("http://{}", listener.local_addr().unwrap());
    let app = test_app_at(&public).await;
    let id = integration(&app, Some(PORTAL), IntegrationStatus::Connected, None).await;
    let m = mapping(&app, id, "contacts", UserflowObjectType::User, "email").await;
    field(&app, m, "firstname", "first_name").await;
    let server = tokio::spawn(axum::serve(listener, crate::app(app.state.clone())).into_future());

    let sim = Simulator::new(Config::default());
    let (status, body) = sim_call(
        &sim,
        "PUT",
        &format!("/webhooks/v3/{APP_ID}/settings?hapikey={DEV_KEY}"),
        None,
        Some(json!({"targetUrl": format!("{public}/webhooks/hubspot"),
                    "throttling": {"maxConcurrentRequests": 10}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = sim_call(
        &sim,
        "POST",
        &format!("/webhooks/v3/{APP_ID}/subscriptions?hapikey={DEV_KEY}"),
        None,
        Some(
            json!({"eventType": "contact.propertyChange", "propertyName": "firstname",
                    "active": true}),
        ),
    )
    .await;
    assert!(status == 200 || status == 201, "{status} {body}");

    let (status, list) = sim_call(
        &sim,
        "GET",
        "/crm/v3/objects/contacts?limit=2",
        Some(PRIVATE_APP_TOKEN),
        None,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    let person = list["results"][0]["id"].as_str().unwrap().to_owned();
    let ours = list["results"][1]["id"].as_str().unwrap().to_owned();

    // A change by someone else (a private app) and one written with our app's OAuth token.
    set_firstname(&sim, PRIVATE_APP_TOKEN, &person, "Grace").await;
    let (status, token) = sim_call(
        &sim,
        "POST",
        "/_sim/hubspot/oauth/tokens",
        None,
        Some(json!({"app_id": APP_ID, "portal_id": PORTAL})),
    )
    .await;
    assert_eq!(status, 201, "{token}");
    let access = token["access_token"].as_str().unwrap().to_owned();
    set_firstname(&sim, &access, &ours, "Echo").await;

    // Both changes were sent (our own write carries our app id as `sourceId`) …
    eventually("both changes are sent", || async {
        let (_, events) = sim_call(&sim, "GET", "/_sim/hubspot/webhooks/events", None, None).await;
        let text = events.to_string();
        text.contains(&format!("\"{APP_ID}\"")) && text.contains("\"Grace\"")
    })
    .await;
    // … and delivered, each accepted.
    assert!(sim.inner.webhooks.wait_idle(Duration::from_secs(10)).await);
    let (_, deliveries) =
        sim_call(&sim, "GET", "/_sim/hubspot/webhooks/deliveries", None, None).await;
    let attempts = deliveries["attempts"].as_array().unwrap();
    assert!(!attempts.is_empty(), "{deliveries}");
    assert!(
        attempts.iter().all(|a| a["status"] == 200),
        "every delivery was accepted: {deliveries}"
    );
    assert_eq!(deliveries["stats"]["in_flight"], 0, "{deliveries}");
    // The person's change is queued; our own write was dropped at ingest.
    let expected = Job::SyncFromHubspot(SyncFromHubspot {
        integration_id: id,
        object_type: "contacts".into(),
        object_id: person.clone(),
    });
    let jobs = waiting(&app).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0].0, expected);
    assert!(
        jobs[0]
            .1
            .as_deref()
            .is_some_and(|k| k.starts_with("hs:62515:")),
        "{jobs:?}"
    );
    server.abort();
}

#[tokio::test]
async fn userflow_simulator_notifications_verify_and_queue_jobs() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public = format!("http://{}", listener.local_addr().unwrap());
    let app = test_app_at(&public).await;
    let id = integration(&app, Some(PORTAL), IntegrationStatus::Connected, None).await;
    let m = mapping(&app, id, "contacts", UserflowObjectType::User, "email").await;
    stream(&app, m, EventStreamMode::Selected, &["checklist_completed"]).await;
    let server = tokio::spawn(axum::serve(listener, crate::app(app.state.clone())).into_future());

    let uf = userflow::Simulator::new(userflow::Config::default());
    let (status, sub) = call_router(
        uf.router(),
        "POST",
        "/webhook_subscriptions",
        Some("ak_sim_demo"),
        Some(json!({"api_version": "2020-01-03",
                    "url": format!("{public}/webhooks/userflow/{id}"), "topics": ["*"]})),
    )
    .await;
    assert!(status == 200 || status == 201, "{status} {sub}");
    // Store the subscription's secret as connecting Userflow does.
    let sealed = app
        .state
        .secrets
        .seal(sub["secret"].as_str().unwrap())
        .unwrap();
    let row = integrations::Entity::find_by_id(id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let mut row: integrations::ActiveModel = row.into();
    row.userflow_webhook_secret_enc = Set(Some(sealed));
    row.update(&app.state.db).await.unwrap();

    let control = "/_sim/userflow/envs/env_demo";
    let (status, body) = call_router(
        uf.router(),
        "POST",
        &format!("{control}/identify"),
        None,
        Some(json!({"user_id": "1", "attributes": {"plan": "enterprise-ingest"}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    for name in ["flow_started", "checklist_completed"] {
        let (status, body) = call_router(
            uf.router(),
            "POST",
            &format!("{control}/track"),
            None,
            Some(json!({"name": name, "user_id": "1"})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    assert!(uf.deliverer().wait_idle(Duration::from_secs(10)).await);

    let (_, deliveries) = call_router(
        uf.router(),
        "GET",
        "/_sim/userflow/webhooks/deliveries",
        None,
        None,
    )
    .await;
    let attempts = deliveries["attempts"].as_array().unwrap();
    // identify (user created or updated), flow_started (not streamed), checklist_completed.
    assert_eq!(attempts.len(), 3, "{deliveries}");
    assert!(attempts.iter().all(|a| a["status"] == 200), "{deliveries}");
    let jobs: Vec<Job> = waiting(&app).await.into_iter().map(|(j, _)| j).collect();
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    assert!(
        jobs.iter().any(|j| matches!(j,
        Job::SyncFromUserflow(SyncFromUserflow { kind: UserflowKind::User, id: user, .. })
            if user == "1")),
        "{jobs:?}"
    );
    assert!(jobs.iter().any(|j| matches!(j,
        Job::PostTimelineEvent(e) if e.name == "checklist_completed" && e.user_id.as_deref() == Some("1"))),
        "{jobs:?}");
    server.abort();
}
