//! The delivery loop (§9.3, §9.4): CRM [`Change`]s are matched against every installed app's
//! *active* subscriptions, rendered as HubSpot events, batched per (app, portal) — sent when
//! `webhook_batch_max` events accumulate or `webhook_batch_window_ms` after the first one — and
//! handed to the shared [`Deliverer`](crate::delivery::Deliverer) with partition = portal.
//!
//! A GDPR delete ([`ChangeKind::PrivacyDeletion`]) matches both `contact.privacyDeletion` and
//! `contact.deletion` subscriptions; their events are queued in random order, because HubSpot
//! promises no order between the two and a receiver must not rely on one.
//!
//! `attemptNumber` follows the retry: [`HubspotSigner`] re-renders the body for every attempt
//! (via [`Signer::body_for_attempt`]) and signs what it rendered, with v1 and/or v3 (§10).
//!
//! Event fields: `eventId` (a counter, like HubSpot's not unique across apps),
//! `subscriptionId`, `portalId`, `appId`, `occurredAt`, `subscriptionType`, `attemptNumber`,
//! `changeSource`, `sourceId` (when known), then per kind: `objectId` (every kind but
//! associationChange, whose payloads carry `fromObjectId`/`toObjectId` instead), `changeFlag:
//! "NEW"` on creation, `propertyName`/`propertyValue` on propertyChange, `primaryObjectId`,
//! `mergedObjectIds`, `newObjectId`, `numberOfPropertiesMoved` on merge, `associationType`,
//! `fromObjectId`, `toObjectId`, `associationRemoved`, `isPrimaryAssociation` on
//! associationChange (generic `object.associationChange` adds `fromObjectTypeId`,
//! `toObjectTypeId`, `associationTypeId`, `associationCategory`), and `objectTypeId` on every
//! generic `object.*` event.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use rand::seq::SliceRandom;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;
use tokio::time::{Duration, Instant};

use super::super::Simulator;
use super::super::changes::{Change, ChangeKind};
use super::super::signature::{self, SignatureVersion};
use super::Subscription;
use super::manage::object_type_id_for;
use crate::delivery::{Delivery, Signer};

/// Signs a HubSpot delivery and renders `attemptNumber` for each attempt.
pub struct HubspotSigner {
    /// The app's client secret.
    pub client_secret: String,
    /// Versions to send.
    pub versions: Vec<SignatureVersion>,
    /// The batch, as rendered for attempt 0.
    pub events: Vec<Value>,
}

impl HubspotSigner {
    /// The JSON array with every `attemptNumber` set to `attempt`.
    pub fn render(&self, attempt: u32) -> Vec<u8> {
        let events: Vec<Value> = self
            .events
            .iter()
            .map(|e| {
                let mut e = e.clone();
                if let Some(o) = e.as_object_mut() {
                    o.insert("attemptNumber".into(), json!(attempt));
                }
                e
            })
            .collect();
        serde_json::to_vec(&events).unwrap_or_default()
    }
}

impl Signer for HubspotSigner {
    fn headers(&self, url: &str, body: &[u8], now_ms: i64) -> Vec<(String, String)> {
        signature::delivery_headers(&self.client_secret, &self.versions, url, body, now_ms)
    }

    fn body_for_attempt(&self, _body: &[u8], attempt: u32) -> Option<Vec<u8>> {
        (attempt > 0).then(|| self.render(attempt))
    }
}

/// Whether `sub` (active or not) covers `change`.
pub fn matches(sub: &Subscription, change: &Change) -> bool {
    let Some((prefix, action)) = sub.event_type.split_once('.') else {
        return false;
    };
    let type_ok = if prefix == "object" {
        sub.object_type_id.as_deref() == Some(change.object_type_id.as_str())
    } else {
        object_type_id_for(prefix) == Some(change.object_type_id.as_str())
    };
    if !type_ok {
        return false;
    }
    match (&change.kind, action) {
        (ChangeKind::Creation, "creation")
        | (ChangeKind::Deletion | ChangeKind::PrivacyDeletion, "deletion")
        | (ChangeKind::PrivacyDeletion, "privacyDeletion")
        | (ChangeKind::Restore, "restore")
        | (ChangeKind::Merge { .. }, "merge")
        | (ChangeKind::AssociationChange { .. }, "associationChange") => true,
        (ChangeKind::PropertyChange { property_name, .. }, "propertyChange") => {
            sub.property_name.as_deref() == Some(property_name.as_str())
        }
        _ => false,
    }
}

/// HUBSPOT_DEFINED association type id for a pair of object types (§6), when known.
fn association_type_id(from: &str, to: &str, primary: bool) -> Option<u64> {
    Some(match (from, to, primary) {
        ("0-1", "0-2", true) => 1,
        ("0-1", "0-2", false) => 279,
        ("0-2", "0-1", true) => 2,
        ("0-2", "0-1", false) => 280,
        ("0-3", "0-2", true) => 5,
        ("0-3", "0-2", false) => 341,
        ("0-2", "0-3", _) => 342,
        ("0-1", "0-3", _) => 4,
        ("0-3", "0-1", _) => 3,
        ("0-1", "0-5", _) => 15,
        ("0-5", "0-1", _) => 16,
        ("0-3", "0-8", _) => 19,
        ("0-8", "0-3", _) => 20,
        ("0-1", "0-1", _) => 449,
        ("0-2", "0-2", _) => 450,
        ("0-3", "0-3", _) => 451,
        _ => return None,
    })
}

/// Renders one event of `sub` for `change` (attempt 0).
pub fn render_event(event_id: u64, sub: &Subscription, change: &Change) -> Value {
    let generic = sub.event_type.starts_with("object.");
    let mut e = Map::new();
    e.insert("eventId".into(), json!(event_id));
    e.insert("subscriptionId".into(), json!(sub.id));
    e.insert("portalId".into(), json!(change.portal_id));
    e.insert("appId".into(), json!(sub.app_id));
    e.insert("occurredAt".into(), json!(change.occurred_at_ms));
    e.insert("subscriptionType".into(), json!(sub.event_type));
    e.insert("attemptNumber".into(), json!(0));
    if !matches!(change.kind, ChangeKind::AssociationChange { .. }) {
        e.insert("objectId".into(), json!(change.object_id));
    }
    if generic {
        e.insert("objectTypeId".into(), json!(change.object_type_id));
    }
    e.insert("changeSource".into(), json!(change.source.change_source));
    if let Some(s) = &change.source.source_id {
        e.insert("sourceId".into(), json!(s));
    }
    match &change.kind {
        ChangeKind::Creation => {
            e.insert("changeFlag".into(), json!("NEW"));
        }
        ChangeKind::PropertyChange {
            property_name,
            property_value,
        } => {
            e.insert("propertyName".into(), json!(property_name));
            e.insert("propertyValue".into(), json!(property_value));
        }
        ChangeKind::Deletion | ChangeKind::Restore | ChangeKind::PrivacyDeletion => {}
        ChangeKind::Merge {
            primary_object_id,
            merged_object_ids,
            new_object_id,
            number_of_properties_moved,
        } => {
            e.insert("primaryObjectId".into(), json!(primary_object_id));
            e.insert("mergedObjectIds".into(), json!(merged_object_ids));
            e.insert("newObjectId".into(), json!(new_object_id));
            e.insert(
                "numberOfPropertiesMoved".into(),
                json!(number_of_properties_moved),
            );
        }
        ChangeKind::AssociationChange {
            association_type,
            from_object_id,
            to_object_id,
            from_object_type_id,
            to_object_type_id,
            association_removed,
            is_primary_association,
        } => {
            e.insert("associationType".into(), json!(association_type));
            e.insert("fromObjectId".into(), json!(from_object_id));
            e.insert("toObjectId".into(), json!(to_object_id));
            e.insert("associationRemoved".into(), json!(association_removed));
            e.insert("isPrimaryAssociation".into(), json!(is_primary_association));
            if generic {
                e.insert("fromObjectTypeId".into(), json!(from_object_type_id));
                e.insert("toObjectTypeId".into(), json!(to_object_type_id));
                e.insert(
                    "associationTypeId".into(),
                    json!(association_type_id(
                        from_object_type_id,
                        to_object_type_id,
                        *is_primary_association
                    )),
                );
                e.insert("associationCategory".into(), json!("HUBSPOT_DEFINED"));
            }
        }
    }
    Value::Object(e)
}

struct Pending {
    events: Vec<Value>,
    deadline: Instant,
}

/// (app id, portal id).
type Key = (u64, u64);

/// Matches one change and queues its events; returns the keys whose batch is full.
fn enqueue(sim: &Simulator, pending: &mut BTreeMap<Key, Pending>, change: &Change) -> Vec<Key> {
    let w = &sim.inner.webhooks;
    let knobs = w.knobs();
    let mut subs: Vec<Subscription> = w
        .data()
        .subscriptions
        .values()
        .filter(|s| s.active && matches(s, change))
        .cloned()
        .collect();
    if change.kind == ChangeKind::PrivacyDeletion {
        // HubSpot sends contact.privacyDeletion and contact.deletion in either order.
        subs.shuffle(&mut rand::rng());
    }
    let mut full = Vec::new();
    for sub in subs {
        if !sim.inner.oauth.is_installed(sub.app_id, change.portal_id) {
            continue;
        }
        let event_id = w.next_event_id.fetch_add(1, Ordering::Relaxed);
        let key = (sub.app_id, change.portal_id);
        let batch = pending.entry(key).or_insert_with(|| Pending {
            events: Vec::new(),
            deadline: Instant::now() + Duration::from_millis(knobs.webhook_batch_window_ms),
        });
        batch.events.push(render_event(event_id, &sub, change));
        w.pending_events.fetch_add(1, Ordering::AcqRel);
        if batch.events.len() >= knobs.webhook_batch_max.max(1) && !full.contains(&key) {
            full.push(key);
        }
    }
    full
}

fn label(events: &[Value]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for e in events {
        *counts
            .entry(e["subscriptionType"].as_str().unwrap_or("?"))
            .or_default() += 1;
    }
    counts
        .iter()
        .map(|(t, n)| format!("{t} x{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Sends the batch of `key` (up to `webhook_batch_max` events per request).
fn flush(sim: &Simulator, pending: &mut BTreeMap<Key, Pending>, key: Key) {
    let Some(batch) = pending.remove(&key) else {
        return;
    };
    let w = &sim.inner.webhooks;
    let knobs = w.knobs();
    let (app_id, portal_id) = key;
    let count = batch.events.len() as u64;
    let secret = sim
        .inner
        .config
        .apps
        .iter()
        .find(|a| a.app_id == app_id)
        .map(|a| a.client_secret.clone());
    match (w.target_url(app_id), secret) {
        (Some(url), Some(secret)) => {
            for chunk in batch.events.chunks(knobs.webhook_batch_max.max(1)) {
                let signer = HubspotSigner {
                    client_secret: secret.clone(),
                    versions: knobs.webhook_signatures.clone(),
                    events: chunk.to_vec(),
                };
                w.record_sent(chunk);
                w.deliverer().send(Delivery {
                    partition: portal_id.to_string(),
                    url: url.clone(),
                    body: signer.render(0),
                    label: format!("app {app_id} portal {portal_id}: {}", label(chunk)),
                    signer: Arc::new(signer),
                });
            }
        }
        _ => {
            w.discarded_batches.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(
                app_id,
                portal_id,
                count,
                "webhook batch discarded: no target URL"
            );
        }
    }
    w.pending_events.fetch_sub(count, Ordering::AcqRel);
}

/// Spawns the loop. It holds the simulator weakly and stops when the simulator is dropped.
pub fn spawn(sim: Simulator, mut rx: mpsc::UnboundedReceiver<Change>) {
    let weak = Arc::downgrade(&sim.inner);
    drop(sim);
    tokio::spawn(async move {
        let mut pending: BTreeMap<Key, Pending> = BTreeMap::new();
        loop {
            let next_deadline = pending.values().map(|p| p.deadline).min();
            let received = match next_deadline {
                Some(deadline) => tokio::select! {
                    c = rx.recv() => Some(c),
                    _ = tokio::time::sleep_until(deadline) => None,
                },
                None => Some(rx.recv().await),
            };
            let Some(inner) = weak.upgrade() else { break };
            let sim = Simulator { inner };
            let closed = matches!(received, Some(None));
            if let Some(Some(change)) = received {
                for key in enqueue(&sim, &mut pending, &change) {
                    flush(&sim, &mut pending, key);
                }
            }
            let now = Instant::now();
            let due: Vec<Key> = pending
                .iter()
                .filter(|(_, p)| closed || p.deadline <= now)
                .map(|(k, _)| *k)
                .collect();
            for key in due {
                flush(&sim, &mut pending, key);
            }
            if closed {
                break;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::super::super::changes::ChangeSource;
    use super::*;

    fn sub(event_type: &str, prop: Option<&str>, otid: Option<&str>) -> Subscription {
        Subscription {
            id: 7,
            app_id: 54321,
            event_type: event_type.into(),
            property_name: prop.map(str::to_string),
            object_type_id: otid.map(str::to_string),
            active: true,
            created_at_ms: 0,
            updated_at_ms: 0,
        }
    }

    fn change(kind: ChangeKind) -> Change {
        Change {
            portal_id: 62515,
            object_type_id: "0-1".into(),
            object_id: 123,
            kind,
            occurred_at_ms: 1_564_113_600_000,
            source: ChangeSource {
                change_source: "CRM".into(),
                source_id: None,
            },
        }
    }

    #[test]
    fn canonical_example_renders_the_documented_fields() {
        let e = render_event(
            1,
            &sub("contact.creation", None, None),
            &change(ChangeKind::Creation),
        );
        let expected: Value = serde_json::from_str(
            r#"{"eventId":1,"subscriptionId":7,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}"#,
        )
        .unwrap();
        assert_eq!(e, expected);
    }

    #[test]
    fn matching_respects_type_action_and_property() {
        let pc = change(ChangeKind::PropertyChange {
            property_name: "email".into(),
            property_value: "a@b.c".into(),
        });
        assert!(matches(
            &sub("contact.propertyChange", Some("email"), None),
            &pc
        ));
        assert!(!matches(
            &sub("contact.propertyChange", Some("firstname"), None),
            &pc
        ));
        assert!(!matches(
            &sub("company.propertyChange", Some("email"), None),
            &pc
        ));
        assert!(matches(
            &sub("object.propertyChange", Some("email"), Some("0-1")),
            &pc
        ));
        assert!(!matches(
            &sub("object.propertyChange", Some("email"), Some("0-2")),
            &pc
        ));
        assert!(!matches(&sub("contact.creation", None, None), &pc));
        let gdpr = change(ChangeKind::PrivacyDeletion);
        assert!(matches(&sub("contact.privacyDeletion", None, None), &gdpr));
        assert!(matches(&sub("contact.deletion", None, None), &gdpr));
        assert!(matches(&sub("object.deletion", None, Some("0-1")), &gdpr));
        let archived = change(ChangeKind::Deletion);
        assert!(!matches(
            &sub("contact.privacyDeletion", None, None),
            &archived
        ));
        assert!(matches(
            &sub("contact.restore", None, None),
            &change(ChangeKind::Restore)
        ));
    }

    #[test]
    fn signer_rerenders_attempt_number() {
        let s = HubspotSigner {
            client_secret: "s".into(),
            versions: vec![SignatureVersion::V1],
            events: vec![json!({"attemptNumber": 0, "eventId": 1})],
        };
        assert_eq!(s.body_for_attempt(b"", 0), None);
        let body: Value = serde_json::from_slice(&s.body_for_attempt(b"", 3).unwrap()).unwrap();
        assert_eq!(body[0]["attemptNumber"], 3);
    }

    #[test]
    fn generic_association_adds_type_ids() {
        let c = change(ChangeKind::AssociationChange {
            association_type: "CONTACT_TO_COMPANY".into(),
            from_object_id: 123,
            to_object_id: 900,
            from_object_type_id: "0-1".into(),
            to_object_type_id: "0-2".into(),
            association_removed: false,
            is_primary_association: false,
        });
        let e = render_event(2, &sub("object.associationChange", None, Some("0-1")), &c);
        assert_eq!(e["associationTypeId"], 279);
        assert_eq!(e["fromObjectTypeId"], "0-1");
        assert_eq!(e["objectTypeId"], "0-1");
        assert!(e.get("objectId").is_none());
        let plain = render_event(3, &sub("contact.associationChange", None, None), &c);
        assert!(plain.get("associationTypeId").is_none());
        assert_eq!(plain["associationType"], "CONTACT_TO_COMPANY");
    }
}
