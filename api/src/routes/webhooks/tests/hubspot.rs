//! `POST /webhooks/hubspot`.

use hubsync_core::jobs::{HubspotRemoved, Job, SyncFromHubspot};
use hubsync_core::signature::hubspot::sign_v3;
use hubsync_entities::{IntegrationStatus, UserflowObjectType};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    CLIENT_SECRET, PORTAL, PUBLIC_URL, assert_error, field, integration, mapping, post, test_app,
    waiting,
};
use crate::routes::webhooks::MAX_BODY_BYTES;
use crate::test_support::TestApp;

const PATH: &str = "/webhooks/hubspot";

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// v3 headers for a POST to `path_and_query` as HubSpot signs it (public URL + path).
fn signed(path_and_query: &str, body: &[u8], ts_ms: i64) -> Vec<(String, String)> {
    let ts = ts_ms.to_string();
    let uri = format!("{PUBLIC_URL}{path_and_query}");
    vec![
        (
            "x-hubspot-signature-v3".into(),
            sign_v3(CLIENT_SECRET, "POST", &uri, body, &ts),
        ),
        ("x-hubspot-request-timestamp".into(), ts),
    ]
}

async fn deliver(app: &TestApp, events: &Value) -> (u16, Value) {
    let body = serde_json::to_vec(events).unwrap();
    post(app, PATH, &signed(PATH, &body, now_ms()), body).await
}

fn ev(event_id: u64, portal: i64, subscription_type: &str, extra: Value) -> Value {
    let mut e = json!({
        "eventId": event_id, "subscriptionId": 7, "portalId": portal, "appId": 54321,
        "occurredAt": now_ms(), "subscriptionType": subscription_type, "attemptNumber": 0,
        "changeSource": "CRM_UI", "sourceId": "userId:1",
    });
    for (k, v) in extra.as_object().unwrap() {
        e[k] = v.clone();
    }
    e
}

fn sync(integration: Uuid, t: &str, id: &str) -> Job {
    Job::SyncFromHubspot(SyncFromHubspot {
        integration_id: integration,
        object_type: t.into(),
        object_id: id.into(),
    })
}

fn removed(integration: Uuid, t: &str, id: &str, into: Option<&str>) -> Job {
    Job::HubspotRemoved(HubspotRemoved {
        integration_id: integration,
        object_type: t.into(),
        object_id: id.into(),
        merged_into: into.map(str::to_owned),
    })
}

/// A connected integration of [`PORTAL`] mapping contacts (email, firstname).
async fn connected(app: &TestApp) -> Uuid {
    let id = integration(app, Some(PORTAL), IntegrationStatus::Connected, None).await;
    let m = mapping(app, id, "contacts", UserflowObjectType::User, "email").await;
    field(app, m, "firstname", "first_name").await;
    id
}

fn a_single_creation() -> Value {
    json!([ev(
        1,
        PORTAL,
        "contact.creation",
        json!({"objectId": 1, "changeFlag": "NEW"})
    )])
}

#[tokio::test]
async fn signed_batch_queues_the_right_jobs_and_a_replay_queues_nothing_new() {
    let app = test_app().await;
    let id = connected(&app).await;
    let batch = json!([
        ev(1, PORTAL, "contact.creation", json!({"objectId": 1, "changeFlag": "NEW"})),
        ev(2, PORTAL, "contact.propertyChange",
            json!({"objectId": 2, "propertyName": "firstname", "propertyValue": "Ada"})),
        ev(3, PORTAL, "contact.propertyChange",
            json!({"objectId": 3, "propertyName": "lastname", "propertyValue": "L"})),
        ev(4, PORTAL, "contact.propertyChange",
            json!({"objectId": 4, "propertyName": "firstname", "propertyValue": "x",
                   "changeSource": "API", "sourceId": "54321"})),
        ev(5, PORTAL, "company.deletion", json!({"objectId": 5})),
        ev(6, PORTAL, "contact.merge", json!({"objectId": 10, "primaryObjectId": 10,
            "mergedObjectIds": [11], "newObjectId": 10, "numberOfPropertiesMoved": 2})),
        ev(7, PORTAL, "contact.associationChange", json!({
            "associationType": "CONTACT_TO_COMPANY", "fromObjectId": 1, "toObjectId": 900,
            "associationRemoved": false, "isPrimaryAssociation": false})),
        ev(8, 999_999, "contact.creation", json!({"objectId": 8})),
        ev(9, PORTAL, "ticket.creation", json!({"objectId": 9})),
        {"eventId": 10, "subscriptionType": "contact.creation"},
    ]);
    let (status, body) = deliver(&app, &batch).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["received"], 10);
    assert_eq!(body["queued"], 5, "{body}");
    assert_eq!(body["duplicates"], 0);
    assert_eq!(
        body["ignored"],
        json!({"unmapped_property": 1, "own_change": 1, "unknown_portal": 1,
               "unsupported_event": 1, "invalid_event": 1})
    );
    // contacts 1 is queued by the creation and again by the association: one job.
    assert_eq!(
        body["jobs"],
        json!({"enqueued": 6, "coalesced": 1, "duplicate": 0})
    );

    let mut jobs = waiting(&app).await;
    jobs.sort_by_key(|(_, key)| key.clone());
    let expected = vec![
        (sync(id, "contacts", "1"), "hs:62515:7:1"),
        (sync(id, "contacts", "2"), "hs:62515:7:2"),
        (removed(id, "companies", "5", None), "hs:62515:7:5"),
        (removed(id, "contacts", "11", Some("10")), "hs:62515:7:6"),
        (sync(id, "contacts", "10"), "hs:62515:7:6:1"),
        (sync(id, "companies", "900"), "hs:62515:7:7:1"),
    ];
    let got: Vec<(Job, &str)> = jobs
        .iter()
        .map(|(j, k)| (j.clone(), k.as_deref().unwrap()))
        .collect();
    assert_eq!(got, expected);

    // HubSpot delivers the same batch again (a retry, signed anew): nothing new is queued.
    let (status, body) = deliver(&app, &batch).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["queued"], 0, "{body}");
    assert_eq!(body["duplicates"], 5);
    assert_eq!(
        body["jobs"],
        json!({"enqueued": 0, "coalesced": 0, "duplicate": 7})
    );
    assert_eq!(waiting(&app).await.len(), 6);
}

#[tokio::test]
async fn bad_missing_or_stale_signatures_are_401_and_queue_nothing() {
    let app = test_app().await;
    connected(&app).await;
    let body = serde_json::to_vec(&a_single_creation()).unwrap();

    let mut wrong = signed(PATH, &body, now_ms());
    wrong[0].1 = sign_v3(
        "not-the-secret",
        "POST",
        &format!("{PUBLIC_URL}{PATH}"),
        &body,
        &wrong[1].1,
    );
    let (status, err) = post(&app, PATH, &wrong, body.clone()).await;
    assert_error(status, &err, 401, "invalid_signature");
    assert_eq!(err["type"], "auth");

    // Signed for another URL (e.g. a proxy rewrote the host): refused too.
    let ts = now_ms().to_string();
    let other_host = vec![
        (
            "x-hubspot-signature-v3".to_owned(),
            sign_v3(
                CLIENT_SECRET,
                "POST",
                "https://elsewhere.example/webhooks/hubspot",
                &body,
                &ts,
            ),
        ),
        ("x-hubspot-request-timestamp".to_owned(), ts),
    ];
    let (status, err) = post(&app, PATH, &other_host, body.clone()).await;
    assert_error(status, &err, 401, "invalid_signature");

    let (status, err) = post(&app, PATH, &[], body.clone()).await;
    assert_error(status, &err, 401, "invalid_signature");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("X-HubSpot-Signature-v3")
    );

    // Correctly signed, but six minutes old.
    let stale = signed(PATH, &body, now_ms() - 6 * 60 * 1000);
    let (status, err) = post(&app, PATH, &stale, body.clone()).await;
    assert_error(status, &err, 401, "invalid_signature");
    assert!(err["message"].as_str().unwrap().contains("window"), "{err}");

    assert!(waiting(&app).await.is_empty());
    // The same body, signed now, is accepted: the refusals above were the signatures'.
    let (status, _) = post(&app, PATH, &signed(PATH, &body, now_ms()), body).await;
    assert_eq!(status, 200);
    assert_eq!(waiting(&app).await.len(), 1);
}

#[tokio::test]
async fn signature_covers_the_query_string_with_hubspots_uri_rules() {
    let app = test_app().await;
    connected(&app).await;
    let body = serde_json::to_vec(&a_single_creation()).unwrap();
    let path = "/webhooks/hubspot?source=a%3Ab&x=%20y";
    let (status, resp) = post(&app, path, &signed(path, &body, now_ms()), body.clone()).await;
    assert_eq!(status, 200, "{resp}");
    // Signed without the query string: refused.
    let (status, resp) = post(&app, path, &signed(PATH, &body, now_ms()), body).await;
    assert_error(status, &resp, 401, "invalid_signature");
}

#[tokio::test]
async fn malformed_long_and_oversized_bodies_are_refused() {
    let app = test_app().await;
    connected(&app).await;

    let body = b"[{\"eventId\": 1,".to_vec();
    let (status, err) = post(&app, PATH, &signed(PATH, &body, now_ms()), body).await;
    assert_error(status, &err, 400, "malformed_json");

    let body = br#"{"eventId": 1}"#.to_vec();
    let (status, err) = post(&app, PATH, &signed(PATH, &body, now_ms()), body).await;
    assert_error(status, &err, 400, "bad_request");

    let many: Vec<Value> = (0..101)
        .map(|n| ev(n, PORTAL, "contact.creation", json!({"objectId": n})))
        .collect();
    let (status, err) = deliver(&app, &json!(many)).await;
    assert_error(status, &err, 400, "bad_request");
    assert!(
        err["message"].as_str().unwrap().contains("at most 100"),
        "{err}"
    );

    let huge = vec![b' '; MAX_BODY_BYTES + 1];
    let (status, err) = post(&app, PATH, &signed(PATH, &huge, now_ms()), huge).await;
    assert_error(status, &err, 413, "payload_too_large");

    assert!(waiting(&app).await.is_empty());
}

#[tokio::test]
async fn unknown_portals_and_idle_integrations_are_acknowledged_and_dropped() {
    let app = test_app().await;
    integration(&app, Some(70_001), IntegrationStatus::Disconnected, None).await;
    integration(&app, Some(70_002), IntegrationStatus::Pending, None).await;
    let batch = json!([
        ev(1, 70_000, "contact.creation", json!({"objectId": 1})),
        ev(2, 70_001, "contact.creation", json!({"objectId": 2})),
        ev(3, 70_002, "contact.deletion", json!({"objectId": 3})),
    ]);
    let (status, body) = deliver(&app, &batch).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["queued"], 0);
    assert_eq!(
        body["ignored"],
        json!({"unknown_portal": 1, "integration_disconnected": 1, "integration_pending": 1})
    );
    assert!(waiting(&app).await.is_empty());
}

#[tokio::test]
async fn expired_authorization_still_queues() {
    let app = test_app().await;
    let id = integration(
        &app,
        Some(PORTAL),
        IntegrationStatus::AuthorizationExpired,
        None,
    )
    .await;
    let (status, body) = deliver(&app, &a_single_creation()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["queued"], 1);
    let jobs = waiting(&app).await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].0, sync(id, "contacts", "1"));
}

#[tokio::test]
async fn gdpr_deletion_and_merges_with_a_new_id_produce_removals() {
    let app = test_app().await;
    let id = connected(&app).await;
    let batch = json!([
        ev(
            1,
            PORTAL,
            "contact.privacyDeletion",
            json!({"objectId": 20})
        ),
        ev(2, PORTAL, "contact.deletion", json!({"objectId": 20})),
        ev(
            3,
            PORTAL,
            "object.merge",
            json!({"objectTypeId": "0-2", "objectId": 30,
            "primaryObjectId": 30, "mergedObjectIds": [31], "newObjectId": 32})
        ),
    ]);
    let (status, body) = deliver(&app, &batch).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["queued"], 3);
    let mut jobs: Vec<Job> = waiting(&app).await.into_iter().map(|(j, _)| j).collect();
    jobs.sort_by_key(|j| serde_json::to_string(j).unwrap());
    let mut expected = vec![
        removed(id, "contacts", "20", None),
        removed(id, "contacts", "20", None),
        removed(id, "companies", "31", Some("32")),
        removed(id, "companies", "30", Some("32")),
        sync(id, "companies", "32"),
    ];
    expected.sort_by_key(|j| serde_json::to_string(j).unwrap());
    assert_eq!(jobs, expected);
}

#[tokio::test]
async fn redis_failure_answers_503_so_hubspot_retries() {
    let mut app = test_app().await;
    connected(&app).await;
    // A queue behind a port nothing listens on.
    let dead = redis::Client::open("redis://127.0.0.1:1").unwrap();
    let real = app.state.jobs.clone();
    app.state.jobs = hubsync_sync::JobQueues::new(dead, &app.state.redis_prefix).unwrap();
    let (status, err) = deliver(&app, &a_single_creation()).await;
    assert_error(status, &err, 503, "unavailable");
    app.state.jobs = real;
    assert!(waiting(&app).await.is_empty());
}

#[tokio::test]
async fn missing_client_secret_is_503_not_a_silent_accept() {
    let mut settings = super::settings(PUBLIC_URL);
    settings.hubspot.client_secret = None;
    let app = TestApp::with_settings(&[], settings).await;
    let (status, err) = deliver(&app, &a_single_creation()).await;
    assert_error(status, &err, 503, "unavailable");
}
