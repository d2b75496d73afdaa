//! Ingest tests on the real Redis (a unique prefix per test) and `sqlite::memory:`.

#![allow(clippy::unwrap_used)]

mod hubspot;
mod simulator;
mod userflow;

use axum::body::Body;
use axum::http::Request;
use hubsync_core::jobs::Job;
use hubsync_entities::{
    EventStreamMode, FieldDataType, IntegrationStatus, StringList, SyncDirection,
    UserflowMatchAttribute, UserflowObjectType, event_streams, field_mappings, integrations,
    object_mappings,
};
use hubsync_queue::{JobFilter, JobState};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::Value;
use tower::ServiceExt;
use uuid::Uuid;

use crate::app as http_app;
use crate::test_support::TestApp;

/// The simulator's app credentials, as a cluster would be configured with them.
pub(super) const APP_ID: u64 = 54321;
pub(super) const CLIENT_SECRET: &str = "sim-client-secret";
pub(super) const PUBLIC_URL: &str = "https://hubsync.example.com";
pub(super) const PORTAL: i64 = 62515;

pub(super) fn settings(public_url: &str) -> hubsync_sync::Settings {
    hubsync_sync::Settings {
        hubspot: hubsync_sync::HubspotApp {
            app_id: Some(APP_ID),
            client_id: Some("sim-client-id".into()),
            client_secret: Some(CLIENT_SECRET.into()),
            ..Default::default()
        },
        public_url: Some(public_url.into()),
        ..Default::default()
    }
}

/// A migrated test app whose public URL is [`PUBLIC_URL`].
pub(super) async fn test_app() -> TestApp {
    test_app_at(PUBLIC_URL).await
}

pub(super) async fn test_app_at(public_url: &str) -> TestApp {
    let app = TestApp::with_settings(&[], settings(public_url)).await;
    hubsync_migrations::migrate(&app.state.db)
        .await
        .expect("migrate");
    app
}

/// Inserts an integration; `webhook_secret` is sealed as the operator API would.
pub(super) async fn integration(
    app: &TestApp,
    portal: Option<i64>,
    status: IntegrationStatus,
    webhook_secret: Option<&str>,
) -> Uuid {
    let sealed = webhook_secret.map(|s| app.state.secrets.seal(s).unwrap());
    integrations::ActiveModel {
        name: Set("test".into()),
        hubspot_portal_id: Set(portal),
        userflow_environment: Set(Some("env_demo".into())),
        status: Set(status),
        userflow_webhook_secret_enc: Set(sealed),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap()
    .id
}

/// Inserts an enabled object mapping.
pub(super) async fn mapping(
    app: &TestApp,
    integration: Uuid,
    hubspot_type: &str,
    userflow_type: UserflowObjectType,
    match_property: &str,
) -> Uuid {
    object_mappings::ActiveModel {
        integration_id: Set(integration),
        hubspot_object_type: Set(hubspot_type.into()),
        userflow_object_type: Set(userflow_type),
        match_hubspot_property: Set(match_property.into()),
        match_userflow_attribute: Set(UserflowMatchAttribute::Email),
        enabled: Set(true),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap()
    .id
}

/// Inserts a HubSpot → Userflow field of a mapping.
pub(super) async fn field(app: &TestApp, mapping: Uuid, source_path: &str, target: &str) {
    field_mappings::ActiveModel {
        object_mapping_id: Set(mapping),
        direction: Set(SyncDirection::HubspotToUserflow),
        source_path: Set(source_path.into()),
        target: Set(target.into()),
        data_type: Set(FieldDataType::String),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();
}

/// Inserts the event stream of a mapping.
pub(super) async fn stream(app: &TestApp, mapping: Uuid, mode: EventStreamMode, names: &[&str]) {
    event_streams::ActiveModel {
        object_mapping_id: Set(mapping),
        mode: Set(mode),
        event_names: Set(names.iter().copied().collect::<StringList>()),
        timeline_templates: Set(None),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();
}

/// POSTs `body` with `headers`; answers the status and the JSON body.
pub(super) async fn post(
    app: &TestApp,
    path: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> (u16, Value) {
    let mut req = Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/json");
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let resp = http_app(app.state.clone())
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 22)
        .await
        .unwrap();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, value)
}

/// The jobs waiting on the realtime queue, with their idempotency keys, in no fixed order.
pub(super) async fn waiting(app: &TestApp) -> Vec<(Job, Option<String>)> {
    let admin = app.state.jobs.realtime.admin();
    let page = admin
        .list(JobState::Waiting, &JobFilter::all(), 1000, None)
        .await
        .unwrap();
    page.jobs
        .into_iter()
        .map(|r| {
            let job: Job = serde_json::from_str(r.payload.as_deref().unwrap()).unwrap();
            (job, r.idempotency_key)
        })
        .collect()
}

/// Asserts the envelope of an error answer.
pub(super) fn assert_error(status: u16, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["code"], want_code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}
