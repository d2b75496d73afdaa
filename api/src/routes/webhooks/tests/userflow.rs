//! `POST /webhooks/userflow/{integration}`.

use hubsync_core::jobs::{Job, PostTimelineEvent, SyncFromUserflow, UserflowKind};
use hubsync_core::signature::userflow::header;
use hubsync_entities::{EventStreamMode, IntegrationStatus, UserflowObjectType};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{PORTAL, assert_error, integration, mapping, post, stream, test_app, waiting};
use crate::routes::webhooks::MAX_BODY_BYTES;
use crate::test_support::TestApp;

const SECRET: &str = "whsec-test";

fn now_s() -> i64 {
    chrono::Utc::now().timestamp()
}

fn path(id: impl std::fmt::Display) -> String {
    format!("/webhooks/userflow/{id}")
}

fn signed(secret: &str, body: &[u8], t: i64) -> Vec<(String, String)> {
    vec![("userflow-signature".into(), header(secret, t, body))]
}

async fn deliver(app: &TestApp, id: Uuid, notification: &Value) -> (u16, Value) {
    let body = serde_json::to_vec(notification).unwrap();
    post(app, &path(id), &signed(SECRET, &body, now_s()), body).await
}

fn user_updated(id: &str) -> Value {
    json!({"id": id, "object": "webhook_notification", "api_version": "2020-01-03",
        "created_at": "2026-01-01T00:00:00.000+00:00", "topic": "user.updated",
        "data": {
            "object": {"id": "u_1", "object": "user", "attributes": {"plan": "pro", "seats": 3}},
            "previous_attributes": {"plan": "free", "seats": null},
            "updated_attributes": {"plan": "pro", "seats": 3}}})
}

fn tracked(notification_id: &str, event_id: &str, name: &str) -> Value {
    json!({"id": notification_id, "object": "webhook_notification", "topic": "event.tracked",
        "created_at": "2026-01-01T00:00:01.000+00:00",
        "data": {"object": {"id": event_id, "object": "event", "name": name,
            "user_id": "u_1", "group_id": null, "attributes": {"flow_id": "f_1"},
            "time": "2026-01-01T00:00:00.000+00:00", "created_at": "2026-01-01T00:00:00.000+00:00",
            "user": null, "group": null}}})
}

async fn connected(app: &TestApp) -> Uuid {
    integration(
        app,
        Some(PORTAL),
        IntegrationStatus::Connected,
        Some(SECRET),
    )
    .await
}

#[tokio::test]
async fn a_signed_user_update_queues_a_sync_once() {
    let app = test_app().await;
    let id = connected(&app).await;
    let (status, body) = deliver(&app, id, &user_updated("wn_1")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["queued"], 1);
    let jobs = waiting(&app).await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        jobs[0].0,
        Job::SyncFromUserflow(SyncFromUserflow {
            integration_id: id,
            kind: UserflowKind::User,
            id: "u_1".into(),
            changed: vec!["plan".into(), "seats".into()],
        })
    );
    assert_eq!(jobs[0].1.as_deref(), Some(format!("uf:{id}:wn_1").as_str()));

    // Userflow retries the same notification: nothing new.
    let (status, body) = deliver(&app, id, &user_updated("wn_1")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["duplicates"], 1);
    assert_eq!(body["queued"], 0);
    assert_eq!(waiting(&app).await.len(), 1);
}

#[tokio::test]
async fn group_notifications_sync_the_group() {
    let app = test_app().await;
    let id = connected(&app).await;
    let n = json!({"id": "wn_g", "topic": "group.created",
        "data": {"object": {"id": "acme", "object": "group", "attributes": {"name": "Acme"}}}});
    let (status, body) = deliver(&app, id, &n).await;
    assert_eq!(status, 200, "{body}");
    let jobs = waiting(&app).await;
    assert_eq!(
        jobs[0].0,
        Job::SyncFromUserflow(SyncFromUserflow {
            integration_id: id,
            kind: UserflowKind::Group,
            id: "acme".into(),
            changed: vec![],
        })
    );
}

#[tokio::test]
async fn bad_missing_and_stale_signatures_are_401() {
    let app = test_app().await;
    let id = connected(&app).await;
    let body = serde_json::to_vec(&user_updated("wn_1")).unwrap();
    let (status, err) = post(
        &app,
        &path(id),
        &signed("other", &body, now_s()),
        body.clone(),
    )
    .await;
    assert_error(status, &err, 401, "invalid_signature");
    let (status, err) = post(&app, &path(id), &[], body.clone()).await;
    assert_error(status, &err, 401, "invalid_signature");
    let stale = signed(SECRET, &body, now_s() - 301);
    let (status, err) = post(&app, &path(id), &stale, body.clone()).await;
    assert_error(status, &err, 401, "invalid_signature");
    // A body changed after signing.
    let mut tampered = body.clone();
    tampered.push(b' ');
    let (status, err) = post(&app, &path(id), &signed(SECRET, &body, now_s()), tampered).await;
    assert_error(status, &err, 401, "invalid_signature");
    assert!(waiting(&app).await.is_empty());
}

#[tokio::test]
async fn unknown_integrations_are_404_and_missing_secrets_409() {
    let app = test_app().await;
    let body = serde_json::to_vec(&user_updated("wn_1")).unwrap();
    let headers = signed(SECRET, &body, now_s());
    let (status, err) = post(&app, &path(Uuid::new_v4()), &headers, body.clone()).await;
    assert_error(status, &err, 404, "not_found");
    let (status, err) = post(&app, &path("not-a-uuid"), &headers, body.clone()).await;
    assert_error(status, &err, 404, "not_found");

    let no_secret = integration(&app, Some(PORTAL), IntegrationStatus::Connected, None).await;
    let (status, err) = post(&app, &path(no_secret), &headers, body).await;
    assert_error(status, &err, 409, "conflict");
    assert!(
        err["message"].as_str().unwrap().contains("webhook secret"),
        "{err}"
    );
    assert!(waiting(&app).await.is_empty());
}

#[tokio::test]
async fn malformed_and_oversized_bodies_are_refused() {
    let app = test_app().await;
    let id = connected(&app).await;
    let body = b"{\"id\": ".to_vec();
    let (status, err) = post(&app, &path(id), &signed(SECRET, &body, now_s()), body).await;
    assert_error(status, &err, 400, "malformed_json");
    let body = br#"{"id": "wn_1", "topic": "user.updated"}"#.to_vec();
    let (status, err) = post(&app, &path(id), &signed(SECRET, &body, now_s()), body).await;
    assert_error(status, &err, 400, "malformed_json");
    let huge = vec![b' '; MAX_BODY_BYTES + 1];
    let (status, err) = post(&app, &path(id), &signed(SECRET, &huge, now_s()), huge).await;
    assert_error(status, &err, 413, "payload_too_large");
    assert!(waiting(&app).await.is_empty());
}

#[tokio::test]
async fn tracked_events_are_queued_only_when_streamed() {
    let app = test_app().await;
    let id = connected(&app).await;
    let m = mapping(&app, id, "contacts", UserflowObjectType::User, "email").await;
    stream(&app, m, EventStreamMode::Selected, &["checklist_completed"]).await;

    let (status, body) = deliver(&app, id, &tracked("wn_1", "ev_1", "flow_started")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ignored"], json!({"not_streamed": 1}));
    assert!(waiting(&app).await.is_empty());

    let (status, body) = deliver(&app, id, &tracked("wn_2", "ev_2", "checklist_completed")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["queued"], 1);
    let jobs = waiting(&app).await;
    assert_eq!(
        jobs[0].0,
        Job::PostTimelineEvent(PostTimelineEvent {
            integration_id: id,
            event_id: "ev_2".into(),
            name: "checklist_completed".into(),
            user_id: Some("u_1".into()),
            group_id: None,
            time: "2026-01-01T00:00:00.000+00:00".into(),
            attributes: json!({"flow_id": "f_1"}).as_object().unwrap().clone(),
        })
    );

    // Another integration streaming every event takes flow_started too; one whose mapping is
    // off takes nothing.
    let all = connected(&app).await;
    let m = mapping(&app, all, "contacts", UserflowObjectType::User, "email").await;
    stream(&app, m, EventStreamMode::All, &[]).await;
    let (_, body) = deliver(&app, all, &tracked("wn_3", "ev_3", "flow_started")).await;
    assert_eq!(body["queued"], 1, "{body}");
    let off = connected(&app).await;
    let m = mapping(&app, off, "contacts", UserflowObjectType::User, "email").await;
    stream(&app, m, EventStreamMode::Off, &[]).await;
    let (_, body) = deliver(&app, off, &tracked("wn_4", "ev_4", "flow_started")).await;
    assert_eq!(body["ignored"], json!({"not_streamed": 1}), "{body}");
    assert_eq!(waiting(&app).await.len(), 2);
}

#[tokio::test]
async fn disconnected_integrations_are_acknowledged_and_dropped() {
    let app = test_app().await;
    let with_secret = integration(
        &app,
        Some(PORTAL),
        IntegrationStatus::Disconnected,
        Some(SECRET),
    )
    .await;
    let (status, body) = deliver(&app, with_secret, &user_updated("wn_1")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ignored"], json!({"integration_disconnected": 1}));
    // Still verified while the secret is there.
    let raw = serde_json::to_vec(&user_updated("wn_2")).unwrap();
    let (status, err) = post(
        &app,
        &path(with_secret),
        &signed("other", &raw, now_s()),
        raw,
    )
    .await;
    assert_error(status, &err, 401, "invalid_signature");
    // Secrets cleared on disconnect: still acknowledged, so Userflow stops retrying.
    let cleared = integration(&app, Some(PORTAL), IntegrationStatus::Disconnected, None).await;
    let (status, body) = deliver(&app, cleared, &user_updated("wn_3")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ignored"], json!({"integration_disconnected": 1}));
    assert!(waiting(&app).await.is_empty());
}
