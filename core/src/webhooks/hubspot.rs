//! HubSpot CRM webhook batches (`docs/hubspot-api.md` §9): parse the JSON array, read each
//! event, recognise our own writes, and turn an event into jobs.
//!
//! | event | jobs |
//! |---|---|
//! | `*.creation`, `*.propertyChange`, `*.restore` | `SyncFromHubspot` of the object |
//! | `*.associationChange` | `SyncFromHubspot` of each side whose type hubsync maps |
//! | `*.deletion`, `contact.privacyDeletion` | `HubspotRemoved { merged_into: None }` |
//! | `*.merge` | `HubspotRemoved { merged_into: survivor }` per merged id, `SyncFromHubspot` of the survivor |
//!
//! Object types: `contact.*` → `contacts`, `company.*` → `companies`, `deal.*` → `deals`,
//! `object.*` → its `objectTypeId` (`0-1`/`0-2`/`0-3` named like the typed events, custom
//! `2-…` as is). Other types (tickets, products, conversations…) are not synced.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::{Decision, IgnoreReason};
use crate::jobs::{HubspotRemoved, Job, SyncFromHubspot};

/// Most events HubSpot puts in one request; a longer array is refused.
pub const MAX_EVENTS: usize = 100;

/// Why a delivery body was refused as a whole (answered 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// Not JSON at all.
    #[error("the body is not valid JSON: {0}")]
    Malformed(String),
    /// JSON, but not an array.
    #[error("the body must be a JSON array of webhook events")]
    NotAnArray,
    /// More events than one request may carry.
    #[error("a webhook request carries at most {max} events; this one has {count}")]
    TooMany {
        /// Events in the body.
        count: usize,
        /// [`MAX_EVENTS`].
        max: usize,
    },
}

/// The events of a delivery body, unread. Each is read with [`Event::from_value`], so one
/// event of an unknown shape does not make HubSpot retry the whole batch.
pub fn parse_batch(body: &[u8]) -> Result<Vec<Value>, BatchError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| BatchError::Malformed(e.to_string()))?;
    let Value::Array(events) = value else {
        return Err(BatchError::NotAnArray);
    };
    if events.len() > MAX_EVENTS {
        return Err(BatchError::TooMany {
            count: events.len(),
            max: MAX_EVENTS,
        });
    }
    Ok(events)
}

/// An id HubSpot sends as a number (ids are also accepted as strings).
#[derive(Deserialize)]
#[serde(untagged)]
enum Id {
    Num(u64),
    Text(String),
}

impl Id {
    fn into_string(self) -> Option<String> {
        match self {
            Id::Num(n) => Some(n.to_string()),
            Id::Text(s) => {
                let s = s.trim();
                (!s.is_empty()).then(|| s.to_owned())
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    event_id: Option<Id>,
    subscription_id: Option<Id>,
    portal_id: Option<Id>,
    subscription_type: Option<String>,
    #[serde(default)]
    occurred_at: Option<i64>,
    #[serde(default)]
    object_id: Option<Id>,
    #[serde(default)]
    object_type_id: Option<String>,
    #[serde(default)]
    change_source: Option<String>,
    #[serde(default)]
    source_id: Option<Id>,
    #[serde(default)]
    property_name: Option<String>,
    #[serde(default)]
    primary_object_id: Option<Id>,
    #[serde(default)]
    merged_object_ids: Option<Vec<Id>>,
    #[serde(default)]
    new_object_id: Option<Id>,
    #[serde(default)]
    association_type: Option<String>,
    #[serde(default)]
    from_object_id: Option<Id>,
    #[serde(default)]
    to_object_id: Option<Id>,
    #[serde(default)]
    from_object_type_id: Option<String>,
    #[serde(default)]
    to_object_type_id: Option<String>,
}

/// One CRM change event, with the fields ingest uses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Event {
    pub event_id: String,
    pub subscription_id: String,
    pub portal_id: u64,
    /// `contact.propertyChange`, `object.merge`, …
    pub subscription_type: String,
    pub occurred_at: Option<i64>,
    pub object_id: Option<String>,
    /// On generic `object.*` events: `0-1`, `2-123456`, …
    pub object_type_id: Option<String>,
    /// `API`, `CRM_UI`, `IMPORT`, `INTEGRATION`, …
    pub change_source: Option<String>,
    /// Who made the change: an app id for API writes, `userId:<n>` for UI edits.
    pub source_id: Option<String>,
    pub property_name: Option<String>,
    pub primary_object_id: Option<String>,
    pub merged_object_ids: Vec<String>,
    pub new_object_id: Option<String>,
    /// `CONTACT_TO_COMPANY`, …
    pub association_type: Option<String>,
    pub from_object_id: Option<String>,
    pub to_object_id: Option<String>,
    pub from_object_type_id: Option<String>,
    pub to_object_type_id: Option<String>,
}

impl Event {
    /// Reads one event; `None` when an identifying field (`eventId`, `subscriptionId`,
    /// `portalId`, `subscriptionType`) is missing or a field has the wrong type.
    pub fn from_value(value: &Value) -> Option<Self> {
        let w: Wire = Wire::deserialize(value).ok()?;
        let portal_id = match w.portal_id? {
            Id::Num(n) => n,
            Id::Text(s) => s.trim().parse().ok()?,
        };
        let subscription_type = w.subscription_type.filter(|s| !s.trim().is_empty())?;
        Some(Self {
            event_id: w.event_id?.into_string()?,
            subscription_id: w.subscription_id?.into_string()?,
            portal_id,
            subscription_type,
            occurred_at: w.occurred_at,
            object_id: w.object_id.and_then(Id::into_string),
            object_type_id: w.object_type_id,
            change_source: w.change_source,
            source_id: w.source_id.and_then(Id::into_string),
            property_name: w.property_name,
            primary_object_id: w.primary_object_id.and_then(Id::into_string),
            merged_object_ids: w
                .merged_object_ids
                .unwrap_or_default()
                .into_iter()
                .filter_map(Id::into_string)
                .collect(),
            new_object_id: w.new_object_id.and_then(Id::into_string),
            association_type: w.association_type,
            from_object_id: w.from_object_id.and_then(Id::into_string),
            to_object_id: w.to_object_id.and_then(Id::into_string),
            from_object_type_id: w.from_object_type_id,
            to_object_type_id: w.to_object_type_id,
        })
    }

    /// The idempotency key of this delivery event: `hs:<portalId>:<subscriptionId>:<eventId>`.
    /// A retried or duplicated delivery carries the same three values.
    pub fn idempotency_key(&self) -> String {
        format!(
            "hs:{}:{}:{}",
            self.portal_id, self.subscription_id, self.event_id
        )
    }

    /// The action part of `subscriptionType` (`propertyChange`, `merge`, …).
    pub fn action(&self) -> &str {
        self.subscription_type
            .split_once('.')
            .map(|(_, a)| a)
            .unwrap_or_default()
    }

    /// Whether hubsync made this change: an API/integration write whose `sourceId` is our
    /// app id. (The simulator reports our OAuth writes as `changeSource: API`, `sourceId:
    /// "<app id>"`; HubSpot has also been seen to say `INTEGRATION`.)
    pub fn is_own_change(&self, app_id: Option<u64>) -> bool {
        let (Some(app_id), Some(source), Some(source_id)) = (
            app_id,
            self.change_source.as_deref(),
            self.source_id.as_deref(),
        ) else {
            return false;
        };
        let by_app = source.eq_ignore_ascii_case("API")
            || source.eq_ignore_ascii_case("INTEGRATION")
            || source.eq_ignore_ascii_case("APP");
        by_app && source_id == app_id.to_string()
    }

    /// The object type hubsync names this event's object with, if it maps that type.
    pub fn object_type(&self) -> Option<String> {
        let (prefix, _) = self.subscription_type.split_once('.')?;
        match prefix {
            "object" => supported_type_id(self.object_type_id.as_deref()?),
            other => typed_prefix(other).map(str::to_owned),
        }
    }
}

/// `contact` → `contacts`, … for the typed subscription prefixes hubsync syncs.
fn typed_prefix(prefix: &str) -> Option<&'static str> {
    match prefix {
        "contact" => Some("contacts"),
        "company" => Some("companies"),
        "deal" => Some("deals"),
        _ => None,
    }
}

/// The mapping name of an object type id: the three standard types by name, custom objects
/// (`2-…`) by id; `None` for types hubsync does not sync.
pub fn supported_type_id(type_id: &str) -> Option<String> {
    match type_id.trim() {
        "0-1" => Some("contacts".into()),
        "0-2" => Some("companies".into()),
        "0-3" => Some("deals".into()),
        custom if custom.strip_prefix("2-").is_some_and(is_digits) => Some(custom.to_owned()),
        _ => None,
    }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `CONTACT` → `contacts`, … as in `associationType` (`CONTACT_TO_COMPANY`).
fn association_side(name: &str) -> Option<&'static str> {
    match name {
        "CONTACT" => Some("contacts"),
        "COMPANY" => Some("companies"),
        "DEAL" => Some("deals"),
        _ => None,
    }
}

/// The object types of both sides of an association change, where known.
fn association_types(event: &Event) -> (Option<String>, Option<String>) {
    let named = event
        .association_type
        .as_deref()
        .and_then(|t| t.split_once("_TO_"));
    let side = |type_id: Option<&str>, name: Option<&str>| {
        type_id
            .and_then(supported_type_id)
            .or_else(|| name.and_then(association_side).map(str::to_owned))
    };
    (
        side(
            event.from_object_type_id.as_deref(),
            named.map(|(from, _)| from),
        ),
        side(event.to_object_type_id.as_deref(), named.map(|(_, to)| to)),
    )
}

/// HubSpot properties the enabled mappings of an integration read, per object type. A
/// `propertyChange` of any other property cannot change what a sync writes, so it is not
/// queued.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MappedProperties {
    by_type: BTreeMap<String, BTreeSet<String>>,
    /// Set when a mapping uses a path this filter cannot read: nothing is filtered then.
    everything: bool,
}

impl MappedProperties {
    /// Nothing mapped yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A filter that lets every property through.
    pub fn everything() -> Self {
        Self {
            by_type: BTreeMap::new(),
            everything: true,
        }
    }

    /// A mapping of `object_type` matches records on `property`.
    pub fn add_match(&mut self, object_type: &str, property: &str) {
        self.insert(object_type, property);
    }

    /// A HubSpot → Userflow field of a mapping of `object_type` reads `path`: a property
    /// (`firstname`) or a property of an associated object (`companies.name`).
    pub fn add_source_path(&mut self, object_type: &str, path: &str) {
        match path.split_once('.') {
            None => self.insert(object_type, path),
            Some((assoc, prop)) if !prop.contains('.') => {
                // `companies.name`: a change of the company's name changes what the
                // contacts mapping writes; the association type may also be a type id.
                let assoc = supported_type_id(assoc).unwrap_or_else(|| assoc.to_owned());
                self.insert(&assoc, prop);
            }
            Some(_) => self.everything = true,
        }
    }

    fn insert(&mut self, object_type: &str, property: &str) {
        self.by_type
            .entry(object_type.trim().to_owned())
            .or_default()
            .insert(property.trim().to_owned());
    }

    /// Whether some enabled mapping reads `property` of `object_type`.
    pub fn uses(&self, object_type: &str, property: &str) -> bool {
        self.everything
            || self
                .by_type
                .get(object_type)
                .is_some_and(|props| props.contains(property))
    }
}

/// What ingest knows about the integration an event is routed to.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub integration_id: Uuid,
    /// Our HubSpot app id, to recognise our own writes.
    pub app_id: Option<u64>,
    /// Properties the integration's mappings read; `None` queues every property change.
    pub mapped: Option<&'a MappedProperties>,
}

/// The jobs `event` asks for in the integration `target`, or why none.
pub fn decide(event: &Event, target: Target<'_>) -> Decision {
    if event.is_own_change(target.app_id) {
        return Decision::Ignore(IgnoreReason::OwnChange);
    }
    let integration_id = target.integration_id;
    let sync = |object_type: &str, object_id: &str| {
        Job::SyncFromHubspot(SyncFromHubspot {
            integration_id,
            object_type: object_type.to_owned(),
            object_id: object_id.to_owned(),
        })
    };
    let action = event.action();
    if action == "associationChange" {
        let (from_type, to_type) = association_types(event);
        let mut jobs = Vec::new();
        if let (Some(t), Some(id)) = (from_type, event.from_object_id.as_deref()) {
            jobs.push(sync(&t, id));
        }
        if let (Some(t), Some(id)) = (to_type, event.to_object_id.as_deref()) {
            jobs.push(sync(&t, id));
        }
        return Decision::queue_or(jobs, IgnoreReason::UnsupportedEvent);
    }
    let Some(object_type) = event.object_type() else {
        return Decision::Ignore(IgnoreReason::UnsupportedEvent);
    };
    match action {
        "creation" | "restore" => match event.object_id.as_deref() {
            Some(id) => Decision::Queue(vec![sync(&object_type, id)]),
            None => Decision::Ignore(IgnoreReason::InvalidEvent),
        },
        "propertyChange" => {
            let (Some(id), Some(property)) =
                (event.object_id.as_deref(), event.property_name.as_deref())
            else {
                return Decision::Ignore(IgnoreReason::InvalidEvent);
            };
            if let Some(mapped) = target.mapped
                && !mapped.uses(&object_type, property)
            {
                return Decision::Ignore(IgnoreReason::UnmappedProperty);
            }
            Decision::Queue(vec![sync(&object_type, id)])
        }
        "deletion" | "privacyDeletion" => match event.object_id.as_deref() {
            Some(id) => Decision::Queue(vec![Job::HubspotRemoved(HubspotRemoved {
                integration_id,
                object_type,
                object_id: id.to_owned(),
                merged_into: None,
            })]),
            None => Decision::Ignore(IgnoreReason::InvalidEvent),
        },
        "merge" => merge_jobs(event, integration_id, &object_type),
        _ => Decision::Ignore(IgnoreReason::UnsupportedEvent),
    }
}

/// A merge: every id that no longer exists moves its link to the survivor, and the survivor
/// is synced (its values may have changed with the merge).
fn merge_jobs(event: &Event, integration_id: Uuid, object_type: &str) -> Decision {
    let Some(primary) = event
        .primary_object_id
        .as_deref()
        .or(event.object_id.as_deref())
    else {
        return Decision::Ignore(IgnoreReason::InvalidEvent);
    };
    // HubSpot may give the merged record a new id; the primary id is gone then too.
    let survivor = event.new_object_id.as_deref().unwrap_or(primary);
    let mut removed: Vec<&str> = event.merged_object_ids.iter().map(String::as_str).collect();
    if primary != survivor {
        removed.push(primary);
    }
    let mut seen = BTreeSet::new();
    let mut jobs: Vec<Job> = removed
        .into_iter()
        .filter(|id| *id != survivor && seen.insert(*id))
        .map(|id| {
            Job::HubspotRemoved(HubspotRemoved {
                integration_id,
                object_type: object_type.to_owned(),
                object_id: id.to_owned(),
                merged_into: Some(survivor.to_owned()),
            })
        })
        .collect();
    jobs.push(Job::SyncFromHubspot(SyncFromHubspot {
        integration_id,
        object_type: object_type.to_owned(),
        object_id: survivor.to_owned(),
    }));
    Decision::Queue(jobs)
}

/// The idempotency key of the `n`th job of an event: the event's key for the first, with
/// `:<n>` for the others (a merge or an association change queues several jobs, and a
/// replay must find each one again).
pub fn job_idempotency_key(event_key: &str, n: usize) -> String {
    if n == 0 {
        event_key.to_owned()
    } else {
        format!("{event_key}:{n}")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    const APP: u64 = 54321;

    fn id() -> Uuid {
        Uuid::from_u128(7)
    }

    fn target(mapped: Option<&MappedProperties>) -> Target<'_> {
        Target {
            integration_id: id(),
            app_id: Some(APP),
            mapped,
        }
    }

    fn event(v: Value) -> Event {
        let mut base = json!({
            "eventId": 1, "subscriptionId": 7, "portalId": 62515, "appId": APP,
            "occurredAt": 1_564_113_600_000_i64, "attemptNumber": 0,
            "changeSource": "CRM_UI", "sourceId": "userId:1",
        });
        for (k, val) in v.as_object().unwrap() {
            base[k] = val.clone();
        }
        Event::from_value(&base).unwrap()
    }

    fn sync(t: &str, o: &str) -> Job {
        Job::SyncFromHubspot(SyncFromHubspot {
            integration_id: id(),
            object_type: t.into(),
            object_id: o.into(),
        })
    }

    fn removed(t: &str, o: &str, into: Option<&str>) -> Job {
        Job::HubspotRemoved(HubspotRemoved {
            integration_id: id(),
            object_type: t.into(),
            object_id: o.into(),
            merged_into: into.map(str::to_owned),
        })
    }

    #[test]
    fn batch_parsing_refuses_malformed_non_arrays_and_long_batches() {
        assert!(matches!(parse_batch(b"[{"), Err(BatchError::Malformed(_))));
        assert_eq!(parse_batch(b"{}"), Err(BatchError::NotAnArray));
        let long = serde_json::to_vec(&vec![json!({}); 101]).unwrap();
        assert_eq!(
            parse_batch(&long),
            Err(BatchError::TooMany {
                count: 101,
                max: 100
            })
        );
        let ok = serde_json::to_vec(&vec![json!({}); 100]).unwrap();
        assert_eq!(parse_batch(&ok).unwrap().len(), 100);
    }

    #[test]
    fn reads_the_canonical_example() {
        let body = br#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#;
        let events = parse_batch(body).unwrap();
        let e = Event::from_value(&events[0]).unwrap();
        assert_eq!(e.idempotency_key(), "hs:62515:12345:1");
        assert_eq!(e.object_id.as_deref(), Some("123"));
        assert_eq!(e.object_type().as_deref(), Some("contacts"));
        assert_eq!(
            decide(&e, target(None)),
            Decision::Queue(vec![sync("contacts", "123")])
        );
    }

    #[test]
    fn events_without_identity_are_unreadable() {
        assert!(Event::from_value(&json!({"eventId": 1, "subscriptionId": 2})).is_none());
        assert!(
            Event::from_value(&json!({"eventId": 1, "subscriptionId": 2, "portalId": "x",
                "subscriptionType": "contact.creation"}))
            .is_none()
        );
        assert!(Event::from_value(&json!("nope")).is_none());
        let e = Event::from_value(&json!({"eventId": "9", "subscriptionId": 2,
            "portalId": "62515", "subscriptionType": "deal.creation", "objectId": "5"}))
        .unwrap();
        assert_eq!(e.portal_id, 62515);
        assert_eq!(e.object_type().as_deref(), Some("deals"));
    }

    #[test]
    fn own_api_writes_are_recognised_by_source_id() {
        let ours = event(
            json!({"subscriptionType": "contact.propertyChange", "objectId": 1,
            "propertyName": "userflow_user_plan", "propertyValue": "pro",
            "changeSource": "API", "sourceId": "54321"}),
        );
        assert!(ours.is_own_change(Some(APP)));
        assert_eq!(
            decide(&ours, target(None)),
            Decision::Ignore(IgnoreReason::OwnChange)
        );
        let numeric = event(
            json!({"subscriptionType": "contact.creation", "objectId": 1,
            "changeSource": "INTEGRATION", "sourceId": 54321}),
        );
        assert!(numeric.is_own_change(Some(APP)));
        let other_app = event(
            json!({"subscriptionType": "contact.creation", "objectId": 1,
            "changeSource": "API", "sourceId": "99"}),
        );
        assert!(!other_app.is_own_change(Some(APP)));
        let private_app = event(
            json!({"subscriptionType": "contact.creation", "objectId": 1,
            "changeSource": "API"}),
        );
        assert!(!private_app.is_own_change(Some(APP)));
        let ui = event(
            json!({"subscriptionType": "contact.creation", "objectId": 1,
            "changeSource": "CRM_UI", "sourceId": "54321"}),
        );
        assert!(!ui.is_own_change(Some(APP)));
        assert!(!ours.is_own_change(None));
    }

    #[test]
    fn object_types_follow_prefix_or_type_id() {
        let cases = [
            ("contact.creation", None, Some("contacts")),
            ("company.restore", None, Some("companies")),
            ("deal.propertyChange", None, Some("deals")),
            ("ticket.creation", None, None),
            ("object.creation", Some("0-1"), Some("contacts")),
            ("object.creation", Some("0-3"), Some("deals")),
            ("object.creation", Some("2-123456"), Some("2-123456")),
            ("object.creation", Some("0-5"), None),
            ("object.creation", None, None),
        ];
        for (st, otid, want) in cases {
            let e = Event {
                subscription_type: st.into(),
                object_type_id: otid.map(str::to_owned),
                ..Event::default()
            };
            assert_eq!(e.object_type().as_deref(), want, "{st} {otid:?}");
        }
    }

    #[test]
    fn creation_property_change_and_restore_sync_the_object() {
        for st in [
            "contact.creation",
            "contact.propertyChange",
            "contact.restore",
        ] {
            let e = event(json!({"subscriptionType": st, "objectId": 42,
                "propertyName": "firstname", "propertyValue": "Ada"}));
            assert_eq!(
                decide(&e, target(None)),
                Decision::Queue(vec![sync("contacts", "42")]),
                "{st}"
            );
        }
        let generic = event(json!({"subscriptionType": "object.propertyChange",
            "objectTypeId": "2-99", "objectId": 3, "propertyName": "x"}));
        assert_eq!(
            decide(&generic, target(None)),
            Decision::Queue(vec![sync("2-99", "3")])
        );
        let no_id = event(json!({"subscriptionType": "company.creation"}));
        assert_eq!(
            decide(&no_id, target(None)),
            Decision::Ignore(IgnoreReason::InvalidEvent)
        );
    }

    #[test]
    fn deletions_and_gdpr_deletions_remove_the_link() {
        for st in ["contact.deletion", "contact.privacyDeletion"] {
            let e = event(json!({"subscriptionType": st, "objectId": 42}));
            assert_eq!(
                decide(&e, target(None)),
                Decision::Queue(vec![removed("contacts", "42", None)])
            );
        }
    }

    #[test]
    fn merge_moves_links_to_the_survivor_and_syncs_it() {
        let e = event(json!({"subscriptionType": "contact.merge", "objectId": 10,
            "primaryObjectId": 10, "mergedObjectIds": [11, 12], "newObjectId": 10,
            "numberOfPropertiesMoved": 3}));
        assert_eq!(
            decide(&e, target(None)),
            Decision::Queue(vec![
                removed("contacts", "11", Some("10")),
                removed("contacts", "12", Some("10")),
                sync("contacts", "10"),
            ])
        );
        // A merge that creates a new record retires the primary id as well.
        let new_id = event(json!({"subscriptionType": "company.merge", "objectId": 10,
            "primaryObjectId": 10, "mergedObjectIds": [11], "newObjectId": 20}));
        assert_eq!(
            decide(&new_id, target(None)),
            Decision::Queue(vec![
                removed("companies", "11", Some("20")),
                removed("companies", "10", Some("20")),
                sync("companies", "20"),
            ])
        );
    }

    #[test]
    fn association_changes_sync_each_known_side() {
        let typed = event(json!({"subscriptionType": "contact.associationChange",
            "associationType": "CONTACT_TO_COMPANY", "fromObjectId": 1, "toObjectId": 900,
            "associationRemoved": false, "isPrimaryAssociation": true}));
        assert_eq!(
            decide(&typed, target(None)),
            Decision::Queue(vec![sync("contacts", "1"), sync("companies", "900")])
        );
        let generic = event(json!({"subscriptionType": "object.associationChange",
            "objectTypeId": "0-3", "associationType": "DEAL_TO_TICKET",
            "fromObjectTypeId": "0-3", "toObjectTypeId": "0-5",
            "fromObjectId": 5, "toObjectId": 6}));
        assert_eq!(
            decide(&generic, target(None)),
            Decision::Queue(vec![sync("deals", "5")])
        );
        let neither = event(json!({"subscriptionType": "ticket.associationChange",
            "associationType": "TICKET_TO_CONVERSATION", "fromObjectId": 5, "toObjectId": 6}));
        assert_eq!(
            decide(&neither, target(None)),
            Decision::Ignore(IgnoreReason::UnsupportedEvent)
        );
    }

    #[test]
    fn unsupported_types_and_actions_are_ignored() {
        for st in [
            "ticket.creation",
            "conversation.newMessage",
            "contact.weird",
        ] {
            let e = event(json!({"subscriptionType": st, "objectId": 1}));
            assert_eq!(
                decide(&e, target(None)),
                Decision::Ignore(IgnoreReason::UnsupportedEvent),
                "{st}"
            );
        }
    }

    #[test]
    fn property_changes_of_unmapped_properties_are_skipped() {
        let mut mapped = MappedProperties::new();
        mapped.add_match("contacts", "email");
        mapped.add_source_path("contacts", "firstname");
        mapped.add_source_path("contacts", "companies.name");
        mapped.add_source_path("contacts", "0-3.amount");
        let change = |st: &str, prop: &str| {
            event(json!({"subscriptionType": st, "objectId": 1, "propertyName": prop}))
        };
        let cases = [
            ("contact.propertyChange", "email", true),
            ("contact.propertyChange", "firstname", true),
            ("contact.propertyChange", "lastname", false),
            ("company.propertyChange", "name", true),
            ("company.propertyChange", "domain", false),
            ("deal.propertyChange", "amount", true),
        ];
        for (st, prop, queued) in cases {
            let d = decide(&change(st, prop), target(Some(&mapped)));
            assert_eq!(
                matches!(d, Decision::Queue(_)),
                queued,
                "{st} {prop}: {d:?}"
            );
            if !queued {
                assert_eq!(d, Decision::Ignore(IgnoreReason::UnmappedProperty));
            }
        }
        // Creations are never filtered.
        let created = event(json!({"subscriptionType": "company.creation", "objectId": 1}));
        assert!(matches!(
            decide(&created, target(Some(&mapped))),
            Decision::Queue(_)
        ));
        let mut deep = MappedProperties::new();
        deep.add_source_path("contacts", "a.b.c");
        assert!(deep.uses("deals", "anything"));
        assert!(MappedProperties::everything().uses("contacts", "x"));
    }

    #[test]
    fn job_keys_are_stable_per_position() {
        assert_eq!(job_idempotency_key("hs:1:2:3", 0), "hs:1:2:3");
        assert_eq!(job_idempotency_key("hs:1:2:3", 2), "hs:1:2:3:2");
    }
}
