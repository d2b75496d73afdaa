//! Webhook deliveries (§9.3, §9.4) signed per §10, checked with independent code.

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use hubsync_sim::hubspot::changes::{Change, ChangeKind, ChangeSource};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::common::{Received, Receiver};
use super::{APP, Env, KEY, PAT, SECRET};

const WAIT: Duration = Duration::from_secs(10);

fn v1(body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(SECRET.as_bytes());
    h.update(body);
    hex::encode(h.finalize())
}

fn v3(uri: &str, body: &[u8], ts: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(b"POST");
    mac.update(uri.as_bytes());
    mac.update(body);
    mac.update(ts.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Asserts both signatures of a received request, for target `uri`.
fn assert_signed(r: &Received, uri: &str) {
    assert_eq!(
        r.header("x-hubspot-signature-version").as_deref(),
        Some("v1")
    );
    assert_eq!(
        r.header("x-hubspot-signature"),
        Some(v1(&r.body)),
        "v1 signature"
    );
    let ts = r
        .header("x-hubspot-request-timestamp")
        .expect("timestamp header");
    let ts_ms: i64 = ts.parse().unwrap();
    let age = chrono::Utc::now().timestamp_millis() - ts_ms;
    assert!(
        (0..300_000).contains(&age),
        "timestamp within 5 minutes: {age}"
    );
    assert_eq!(
        r.header("x-hubspot-signature-v3"),
        Some(v3(uri, &r.body, &ts)),
        "v3 signature"
    );
}

/// A simulator with the app's target URL on a fresh receiver.
async fn setup() -> (Env, Receiver, String) {
    let env = Env::start().await;
    let rx = Receiver::start().await;
    let target = rx.url("/hubspot/webhooks?source=sim");
    let (s, body) = env
        .put(
            &format!("/webhooks/v3/{APP}/settings?hapikey={KEY}"),
            json!({"targetUrl": target, "throttling": {"maxConcurrentRequests": 10}}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    (env, rx, target)
}

async fn subscribe(env: &Env, body: Value) -> u64 {
    let (s, created) = env
        .post(
            &format!("/webhooks/v3/{APP}/subscriptions?hapikey={KEY}"),
            body,
        )
        .await;
    assert_eq!(s, 201, "{created}");
    created["id"].as_str().unwrap().parse().unwrap()
}

async fn set_delivery(env: &Env, knobs: Value) {
    let (s, body) = env.put("/_sim/hubspot/webhooks/knobs", knobs).await;
    assert_eq!(s, 200, "{body}");
}

fn creation(portal_id: u64, object_id: u64) -> Change {
    Change {
        portal_id,
        object_type_id: "0-1".into(),
        object_id,
        kind: ChangeKind::Creation,
        occurred_at_ms: 1_700_000_000_000 + object_id as i64,
        source: ChangeSource::ui(7),
    }
}

fn events(got: &[Received]) -> Vec<Value> {
    got.iter()
        .flat_map(|r| r.json().as_array().unwrap().clone())
        .collect()
}

fn keys(e: &Value) -> BTreeSet<String> {
    e.as_object().unwrap().keys().cloned().collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn crm_writes_produce_signed_batches_with_exact_fields() {
    let (env, rx, target) = setup().await;
    let creation_sub = subscribe(
        &env,
        json!({"eventType": "contact.creation", "active": true}),
    )
    .await;
    let change_sub = subscribe(
        &env,
        json!({"eventType": "contact.propertyChange", "propertyName": "firstname", "active": true}),
    )
    .await;

    let id = env.contact("webhook.person@example.test").await;
    let got = rx.wait_for(1, WAIT).await;
    assert_signed(&got[0], &target);
    assert_eq!(got[0].uri.path(), "/hubspot/webhooks");
    assert_eq!(got[0].uri.query(), Some("source=sim"));
    let created = events(&got);
    let created: Vec<&Value> = created
        .iter()
        .filter(|e| e["subscriptionType"] == "contact.creation")
        .collect();
    assert_eq!(created.len(), 1, "{created:?}");
    let e = created[0];
    assert_eq!(
        keys(e),
        set(&[
            "eventId",
            "subscriptionId",
            "portalId",
            "appId",
            "occurredAt",
            "subscriptionType",
            "attemptNumber",
            "objectId",
            "changeSource",
            "changeFlag",
        ])
    );
    assert_eq!(e["subscriptionId"], creation_sub);
    assert_eq!(e["portalId"], 62515);
    assert_eq!(e["appId"], APP);
    assert_eq!(e["objectId"], id.parse::<u64>().unwrap());
    assert_eq!(e["attemptNumber"], 0);
    assert_eq!(e["changeSource"], "API");
    assert_eq!(e["changeFlag"], "NEW");
    let occurred = e["occurredAt"].as_i64().unwrap();
    assert!((chrono::Utc::now().timestamp_millis() - occurred).abs() < 60_000);

    // A PATCH by the OAuth app: propertyChange with changeSource API and the app as sourceId.
    let before = rx.received().len();
    let bearer = env.bearer(62515).await;
    let (s, body) = env
        .call(
            Method::PATCH,
            &format!("/crm/v3/objects/contacts/{id}"),
            Some(&bearer),
            Some(json!({"properties": {"firstname": "Renamed"}})),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let got = rx.wait_for(before + 1, WAIT).await;
    let last = &got[before];
    assert_signed(last, &target);
    let evs = last.json();
    let pc: Vec<&Value> = evs
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["subscriptionType"] == "contact.propertyChange")
        .collect();
    assert_eq!(pc.len(), 1, "{evs}");
    let e = pc[0];
    assert_eq!(
        keys(e),
        set(&[
            "eventId",
            "subscriptionId",
            "portalId",
            "appId",
            "occurredAt",
            "subscriptionType",
            "attemptNumber",
            "objectId",
            "propertyName",
            "propertyValue",
            "changeSource",
            "sourceId",
        ])
    );
    assert_eq!(e["subscriptionId"], change_sub);
    assert_eq!(e["propertyName"], "firstname");
    assert_eq!(e["propertyValue"], "Renamed");
    assert_eq!(e["changeSource"], "API");
    assert_eq!(e["sourceId"], APP.to_string());
    // The event log control route saw both.
    let (_, log) = env
        .get("/_sim/hubspot/webhooks/events?portalId=62515")
        .await;
    assert!(log["total"].as_u64().unwrap() >= 2);
}

#[tokio::test]
async fn more_than_100_changes_are_split_into_batches_of_at_most_100() {
    let (env, rx, target) = setup().await;
    subscribe(
        &env,
        json!({"eventType": "contact.creation", "active": true}),
    )
    .await;
    for i in 1..=250 {
        env.sim.inner.changes.emit(creation(62515, i));
    }
    assert!(env.sim.inner.webhooks.wait_idle(WAIT).await);
    let got = rx.received();
    assert_eq!(got.len(), 3, "250 events → 3 requests");
    let mut sizes: Vec<usize> = got
        .iter()
        .map(|r| r.json().as_array().unwrap().len())
        .collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [50, 100, 100]);
    for r in &got {
        assert_signed(r, &target);
    }
    let ids: BTreeSet<u64> = events(&got)
        .iter()
        .map(|e| e["objectId"].as_u64().unwrap())
        .collect();
    assert_eq!(ids.len(), 250);
    // UI edits carry CRM_UI and the user as sourceId.
    let e = &events(&got)[0];
    assert_eq!(e["changeSource"], "CRM_UI");
    assert_eq!(e["sourceId"], "userId:7");
}

#[tokio::test]
async fn the_batch_size_and_window_are_knobs() {
    let (env, rx, _) = setup().await;
    let (_, mut cfg) = env.get("/_sim/hubspot/webhooks/config").await;
    cfg["webhook_batch_max"] = json!(2);
    cfg["webhook_batch_window_ms"] = json!(0);
    let (s, _) = env.put("/_sim/hubspot/webhooks/config", cfg).await;
    assert_eq!(s, 200);
    subscribe(
        &env,
        json!({"eventType": "contact.creation", "active": true}),
    )
    .await;
    for i in 1..=5 {
        env.sim.inner.changes.emit(creation(62515, i));
    }
    assert!(env.sim.inner.webhooks.wait_idle(WAIT).await);
    let got = rx.received();
    assert!(got.len() >= 3, "{}", got.len());
    assert!(got.iter().all(|r| r.json().as_array().unwrap().len() <= 2));
    assert_eq!(events(&got).len(), 5);
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_increasing_attempt_number() {
    let (env, rx, target) = setup().await;
    set_delivery(&env, json!({"time_scale": 0.000001})).await;
    subscribe(
        &env,
        json!({"eventType": "contact.creation", "active": true}),
    )
    .await;
    rx.answer_next(&[500, 503]);
    env.sim.inner.changes.emit(creation(62515, 42));
    let got = rx.wait_for(3, WAIT).await;
    assert!(env.sim.inner.webhooks.wait_idle(WAIT).await);
    assert_eq!(rx.received().len(), 3, "no attempt after the 2xx");
    let attempts: Vec<i64> = got
        .iter()
        .map(|r| r.json()[0]["attemptNumber"].as_i64().unwrap())
        .collect();
    assert_eq!(attempts, [0, 1, 2]);
    let ids: BTreeSet<i64> = got
        .iter()
        .map(|r| r.json()[0]["eventId"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "same event on every attempt");
    for r in &got {
        assert_signed(r, &target);
    }
    let (_, d) = env.get("/_sim/hubspot/webhooks/deliveries").await;
    let statuses: Vec<u64> = d["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [500, 503, 200]);
    assert_eq!(d["stats"]["delivered"], 1);
}

#[tokio::test]
async fn delivery_gives_up_after_max_retries() {
    let (env, rx, _) = setup().await;
    set_delivery(&env, json!({"time_scale": 0.000001, "max_retries": 2})).await;
    subscribe(
        &env,
        json!({"eventType": "contact.creation", "active": true}),
    )
    .await;
    rx.answer_next(&[500, 500, 500, 500]);
    env.sim.inner.changes.emit(creation(62515, 1));
    rx.wait_for(3, WAIT).await;
    assert!(env.sim.inner.webhooks.wait_idle(WAIT).await);
    assert_eq!(rx.received().len(), 3);
    assert_eq!(env.sim.inner.webhooks.deliverer().stats().given_up, 1);
}

#[tokio::test]
async fn duplicate_switch_sends_each_batch_twice() {
    let (env, rx, target) = setup().await;
    set_delivery(&env, json!({"duplicate_rate": 1.0})).await;
    subscribe(
        &env,
        json!({"eventType": "contact.creation", "active": true}),
    )
    .await;
    env.sim.inner.changes.emit(creation(62515, 5));
    let got = rx.wait_for(2, WAIT).await;
    assert!(env.sim.inner.webhooks.wait_idle(WAIT).await);
    assert_eq!(rx.received().len(), 2);
    assert_eq!(got[0].json(), got[1].json());
    assert_signed(&got[1], &target);
    assert_eq!(env.sim.inner.webhooks.deliverer().stats().duplicated, 1);
}

#[tokio::test]
async fn drop_switch_sends_nothing_and_pause_holds_until_resumed() {
    let (env, rx, _) = setup().await;
    subscribe(
        &env,
        json!({"eventType": "contact.creation", "active": true}),
    )
    .await;

    set_delivery(&env, json!({"drop_rate": 1.0})).await;
    env.sim.inner.changes.emit(creation(62515, 1));
    assert!(env.sim.inner.webhooks.wait_idle(WAIT).await);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(rx.received().is_empty());
    assert_eq!(env.sim.inner.webhooks.deliverer().stats().dropped, 1);

    set_delivery(&env, json!({"paused": true})).await;
    env.sim.inner.changes.emit(creation(62515, 2));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(rx.received().is_empty(), "held while paused");
    set_delivery(&env, json!({"paused": false})).await;
    let got = rx.wait_for(1, WAIT).await;
    assert_eq!(got[0].json()[0]["objectId"], 2);
}

#[tokio::test]
async fn paused_subscriptions_and_uninstalled_portals_receive_nothing() {
    let (env, rx, _) = setup().await;
    // Paused (default) subscription for creations; active one for deletions.
    let paused = subscribe(&env, json!({"eventType": "contact.creation"})).await;
    subscribe(
        &env,
        json!({"eventType": "contact.deletion", "active": true}),
    )
    .await;
    env.sim.inner.changes.emit(creation(62515, 1));
    let mut del = creation(62515, 2);
    del.kind = ChangeKind::Deletion;
    env.sim.inner.changes.emit(del.clone());
    assert!(env.sim.inner.webhooks.wait_idle(WAIT).await);
    let evs = events(&rx.received());
    assert_eq!(evs.len(), 1, "{evs:?}");
    assert_eq!(evs[0]["subscriptionType"], "contact.deletion");
    assert_eq!(evs[0]["objectId"], 2);
    assert!(evs[0].get("changeFlag").is_none());

    // Activating the paused one makes creations flow.
    let (s, _) = env
        .call(
            Method::PATCH,
            &format!("/webhooks/v3/{APP}/subscriptions/{paused}?hapikey={KEY}"),
            None,
            Some(json!({"active": true})),
        )
        .await;
    assert_eq!(s, 200);
    env.sim.inner.changes.emit(creation(62515, 3));
    assert!(env.sim.inner.webhooks.wait_idle(WAIT).await);
    assert_eq!(events(&rx.received()).len(), 2);

    // Uninstalled from 62516: nothing from that portal, 62515 still flows.
    let (s, _) = env
        .delete(&format!("/_sim/hubspot/portals/62516/apps/{APP}/install"))
        .await;
    assert_eq!(s, 200);
    env.sim.inner.changes.emit(creation(62516, 4));
    env.sim.inner.changes.emit(creation(62515, 5));
    assert!(env.sim.inner.webhooks.wait_idle(WAIT).await);
    let evs = events(&rx.received());
    assert_eq!(evs.len(), 3);
    assert!(evs.iter().all(|e| e["portalId"] == 62515));
}

#[tokio::test]
async fn generic_and_association_events_and_v3_only_signatures() {
    let (env, rx, target) = setup().await;
    let (_, mut cfg) = env.get("/_sim/hubspot/webhooks/config").await;
    cfg["webhook_signatures"] = json!(["v3"]);
    env.put("/_sim/hubspot/webhooks/config", cfg).await;
    let generic = subscribe(
        &env,
        json!({"eventType": "object.associationChange", "objectTypeId": "0-1", "active": true}),
    )
    .await;
    subscribe(
        &env,
        json!({"eventType": "contact.associationChange", "active": true}),
    )
    .await;
    subscribe(&env, json!({"eventType": "contact.merge", "active": true})).await;
    env.sim.inner.changes.emit(Change {
        portal_id: 62515,
        object_type_id: "0-1".into(),
        object_id: 10,
        kind: ChangeKind::AssociationChange {
            association_type: "CONTACT_TO_COMPANY".into(),
            from_object_id: 10,
            to_object_id: 900,
            from_object_type_id: "0-1".into(),
            to_object_type_id: "0-2".into(),
            association_removed: false,
            is_primary_association: true,
        },
        occurred_at_ms: 1,
        source: ChangeSource::api(Some(APP)),
    });
    env.sim.inner.changes.emit(Change {
        portal_id: 62515,
        object_type_id: "0-1".into(),
        object_id: 11,
        kind: ChangeKind::Merge {
            primary_object_id: 11,
            merged_object_ids: vec![12],
            new_object_id: 11,
            number_of_properties_moved: 3,
        },
        occurred_at_ms: 2,
        source: ChangeSource::api(None),
    });
    assert!(env.sim.inner.webhooks.wait_idle(WAIT).await);
    let got = rx.received();
    assert_eq!(got.len(), 1, "one batch per app and portal");
    let r = &got[0];
    assert!(r.header("x-hubspot-signature").is_none());
    let ts = r.header("x-hubspot-request-timestamp").unwrap();
    assert_eq!(
        r.header("x-hubspot-signature-v3"),
        Some(v3(&target, &r.body, &ts))
    );
    let evs = r.json();
    let evs = evs.as_array().unwrap();
    assert_eq!(evs.len(), 3);
    let g = evs.iter().find(|e| e["subscriptionId"] == generic).unwrap();
    assert_eq!(g["subscriptionType"], "object.associationChange");
    assert_eq!(g["objectTypeId"], "0-1");
    assert_eq!(g["fromObjectTypeId"], "0-1");
    assert_eq!(g["toObjectTypeId"], "0-2");
    assert_eq!(g["associationTypeId"], 1);
    assert_eq!(g["associationCategory"], "HUBSPOT_DEFINED");
    assert_eq!(g["isPrimaryAssociation"], true);
    let a = evs
        .iter()
        .find(|e| e["subscriptionType"] == "contact.associationChange")
        .unwrap();
    assert_eq!(a["associationType"], "CONTACT_TO_COMPANY");
    assert_eq!(a["fromObjectId"], 10);
    assert_eq!(a["toObjectId"], 900);
    assert_eq!(a["associationRemoved"], false);
    assert!(a.get("associationTypeId").is_none());
    let m = evs
        .iter()
        .find(|e| e["subscriptionType"] == "contact.merge")
        .unwrap();
    assert_eq!(m["primaryObjectId"], 11);
    assert_eq!(m["mergedObjectIds"], json!([12]));
    assert_eq!(m["newObjectId"], 11);
    assert_eq!(m["numberOfPropertiesMoved"], 3);
    assert_eq!(m["objectId"], 11);
    assert!(
        m.get("sourceId").is_none(),
        "private-app writes carry no sourceId"
    );
}

#[tokio::test]
async fn without_a_target_url_batches_are_discarded() {
    let env = Env::start().await;
    subscribe(
        &env,
        json!({"eventType": "contact.creation", "active": true}),
    )
    .await;
    env.sim.inner.changes.emit(creation(62515, 1));
    assert!(env.sim.inner.webhooks.wait_idle(WAIT).await);
    let (_, d) = env.get("/_sim/hubspot/webhooks/deliveries").await;
    assert_eq!(d["discarded_batches"], 1);
    assert_eq!(d["stats"]["queued"], 0);
}

/// `(objectId, subscriptionType)` of every event received, in arrival order.
fn typed_events(got: &[Received]) -> Vec<(u64, String)> {
    events(got)
        .iter()
        .map(|e| {
            (
                e["objectId"].as_u64().unwrap(),
                e["subscriptionType"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn restoring_an_archived_contact_in_the_ui_sends_contact_restore() {
    let (env, rx, _) = setup().await;
    for event_type in ["contact.deletion", "contact.restore"] {
        subscribe(&env, json!({"eventType": event_type, "active": true})).await;
    }
    let id = env.contact("restore.me@example.test").await;
    let n: u64 = id.parse().unwrap();
    let restore = format!("/_sim/hubspot/portals/62515/ui/objects/contacts/{id}/restore?userId=5");
    let (s, _) = env.post(&restore, json!({})).await;
    assert_eq!(s, 404, "a live contact cannot be restored");
    let (s, _) = env
        .delete_as(&format!("/crm/v3/objects/contacts/{id}"), PAT)
        .await;
    assert_eq!(s, 204);
    let (s, body) = env.post(&restore, json!({})).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["archived"], false);
    assert!(env.sim.inner.webhooks.wait_idle(WAIT).await);
    let got = rx.received();
    assert_eq!(
        typed_events(&got),
        [
            (n, "contact.deletion".to_string()),
            (n, "contact.restore".to_string())
        ]
    );
    let restored = events(&got)
        .into_iter()
        .find(|e| e["subscriptionType"] == "contact.restore")
        .unwrap();
    assert_eq!(restored["changeSource"], "CRM_UI");
    assert_eq!(restored["sourceId"], "userId:5");
    // The API sees the contact again, by id and by its e-mail.
    let (s, c) = env
        .get_as(
            "/crm/v3/objects/contacts/restore.me@example.test?idProperty=email",
            PAT,
        )
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["id"], id.as_str());

    // Restoring is refused while another contact holds the e-mail.
    env.delete_as(&format!("/crm/v3/objects/contacts/{id}"), PAT)
        .await;
    let other = env.contact("restore.me@example.test").await;
    let (s, body) = env.post(&restore, json!({})).await;
    assert_eq!(s, 409, "{body}");
    assert!(body["message"].as_str().unwrap().contains(&other), "{body}");
}

#[tokio::test]
async fn gdpr_delete_sends_privacy_deletion_and_deletion_in_either_order() {
    let (env, rx, _) = setup().await;
    for event_type in ["contact.privacyDeletion", "contact.deletion"] {
        subscribe(&env, json!({"eventType": event_type, "active": true})).await;
    }
    let mut ids = Vec::new();
    for i in 0..20 {
        let id = env.contact(&format!("gdpr{i}@example.test")).await;
        let (s, body) = env
            .post_as(
                "/crm/v3/objects/contacts/gdpr-delete",
                PAT,
                json!({"objectId": id}),
            )
            .await;
        assert_eq!(s, 204, "{body}");
        ids.push(id.parse::<u64>().unwrap());
    }
    // An ordinary archive is a deletion only.
    let archived = env.contact("archived@example.test").await;
    env.delete_as(&format!("/crm/v3/objects/contacts/{archived}"), PAT)
        .await;
    assert!(env.sim.inner.webhooks.wait_idle(WAIT).await);
    let got = typed_events(&rx.received());
    let mut privacy_first = 0;
    for id in &ids {
        let types: Vec<&str> = got
            .iter()
            .filter(|(o, _)| o == id)
            .map(|(_, t)| t.as_str())
            .collect();
        assert_eq!(types.len(), 2, "{id}: {types:?}");
        assert!(types.contains(&"contact.privacyDeletion"), "{types:?}");
        assert!(types.contains(&"contact.deletion"), "{types:?}");
        if types[0] == "contact.privacyDeletion" {
            privacy_first += 1;
        }
    }
    assert!(
        (1..ids.len()).contains(&privacy_first),
        "both orders occur over {} deletes, got privacyDeletion first {privacy_first} times",
        ids.len()
    );
    let archived: u64 = archived.parse().unwrap();
    assert_eq!(
        got.iter()
            .filter(|(o, _)| *o == archived)
            .map(|(_, t)| t.as_str())
            .collect::<Vec<_>>(),
        ["contact.deletion"]
    );
}
