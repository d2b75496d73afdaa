//! Userflow webhook notifications (`docs/userflow-api.md` §8): one
//! `{id, object: "webhook_notification", topic, data}` per request.
//!
//! | topic | job |
//! |---|---|
//! | `user.created`, `user.updated` | `SyncFromUserflow { kind: user, changed: updated attribute names }` |
//! | `group.created`, `group.updated` | `SyncFromUserflow { kind: group, … }` |
//! | `event.tracked` | `PostTimelineEvent`, only when an enabled mapping streams the event |
//!
//! Other topics are ignored (counted as `unsupported_event`).

use serde::Deserialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{Decision, IgnoreReason};
use crate::jobs::{Job, PostTimelineEvent, SyncFromUserflow, UserflowKind};

/// Why a notification body was refused (answered 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotificationError {
    /// Not JSON, or not a notification object.
    #[error("the body is not a Userflow webhook notification: {0}")]
    Malformed(String),
    /// A required field is missing or blank.
    #[error("the notification has no `{0}`")]
    Missing(&'static str),
}

#[derive(Deserialize)]
struct Wire {
    id: Option<String>,
    topic: Option<String>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    data: Option<WireData>,
}

#[derive(Deserialize)]
struct WireData {
    #[serde(default)]
    object: Option<Value>,
    #[serde(default)]
    updated_attributes: Option<Map<String, Value>>,
}

/// One notification, with the fields ingest uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Userflow's notification id; the same for every delivery attempt.
    pub id: String,
    /// `user.updated`, `event.tracked`, …
    pub topic: String,
    pub created_at: Option<String>,
    /// `data.object`: the user, group or event.
    pub object: Value,
    /// Names of `data.updated_attributes` (on `*.updated`), sorted.
    pub updated: Vec<String>,
}

impl Notification {
    /// Reads a request body.
    pub fn parse(body: &[u8]) -> Result<Self, NotificationError> {
        let w: Wire = serde_json::from_slice(body)
            .map_err(|e| NotificationError::Malformed(e.to_string()))?;
        let id =
            w.id.filter(|s| !s.trim().is_empty())
                .ok_or(NotificationError::Missing("id"))?;
        let topic = w
            .topic
            .filter(|s| !s.trim().is_empty())
            .ok_or(NotificationError::Missing("topic"))?;
        let data = w.data.ok_or(NotificationError::Missing("data"))?;
        let object = data
            .object
            .filter(Value::is_object)
            .ok_or(NotificationError::Missing("data.object"))?;
        let mut updated: Vec<String> = data
            .updated_attributes
            .map(|m| m.into_iter().map(|(k, _)| k).collect())
            .unwrap_or_default();
        updated.sort();
        Ok(Self {
            id,
            topic,
            created_at: w.created_at,
            object,
            updated,
        })
    }

    /// The idempotency key: `uf:<integration>:<notification id>`.
    pub fn idempotency_key(&self, integration_id: Uuid) -> String {
        format!("uf:{integration_id}:{}", self.id)
    }

    fn object_str(&self, field: &str) -> Option<String> {
        match self.object.get(field)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

/// Which events one enabled object mapping streams to HubSpot timelines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventStream {
    /// The Userflow side of the mapping: a user mapping posts to contacts, so the event needs
    /// a user; a group mapping needs a group.
    pub kind: UserflowKind,
    pub selection: StreamSelection,
}

/// `event_streams.mode` with its names (mode `off` streams nothing and needs no rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamSelection {
    All,
    Selected(Vec<String>),
}

impl EventStream {
    /// Whether this stream posts an event named `name` with these ids.
    pub fn streams(&self, name: &str, user_id: Option<&str>, group_id: Option<&str>) -> bool {
        let has_object = match self.kind {
            UserflowKind::User => user_id.is_some(),
            UserflowKind::Group => group_id.is_some(),
        };
        has_object
            && match &self.selection {
                StreamSelection::All => true,
                StreamSelection::Selected(names) => names.iter().any(|n| n == name),
            }
    }
}

/// The job `n` asks for in integration `integration_id`, whose enabled mappings stream
/// `streams`, or why none.
pub fn decide(n: &Notification, integration_id: Uuid, streams: &[EventStream]) -> Decision {
    let kind = match n.topic.as_str() {
        "user.created" | "user.updated" => UserflowKind::User,
        "group.created" | "group.updated" => UserflowKind::Group,
        "event.tracked" => return event_job(n, integration_id, streams),
        _ => return Decision::Ignore(IgnoreReason::UnsupportedEvent),
    };
    let Some(id) = n.object_str("id") else {
        return Decision::Ignore(IgnoreReason::InvalidEvent);
    };
    Decision::Queue(vec![Job::SyncFromUserflow(SyncFromUserflow {
        integration_id,
        kind,
        id,
        changed: n.updated.clone(),
    })])
}

fn event_job(n: &Notification, integration_id: Uuid, streams: &[EventStream]) -> Decision {
    let (Some(event_id), Some(name)) = (n.object_str("id"), n.object_str("name")) else {
        return Decision::Ignore(IgnoreReason::InvalidEvent);
    };
    let user_id = n.object_str("user_id");
    let group_id = n.object_str("group_id");
    if !streams
        .iter()
        .any(|s| s.streams(&name, user_id.as_deref(), group_id.as_deref()))
    {
        return Decision::Ignore(IgnoreReason::NotStreamed);
    }
    let Some(time) = n
        .object_str("time")
        .or_else(|| n.object_str("created_at"))
        .or_else(|| n.created_at.clone())
    else {
        return Decision::Ignore(IgnoreReason::InvalidEvent);
    };
    let attributes = match n.object.get("attributes") {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    Decision::Queue(vec![Job::PostTimelineEvent(PostTimelineEvent {
        integration_id,
        event_id,
        name,
        user_id,
        group_id,
        time,
        attributes,
    })])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    fn id() -> Uuid {
        Uuid::from_u128(9)
    }

    fn parse(v: Value) -> Notification {
        Notification::parse(&serde_json::to_vec(&v).unwrap()).unwrap()
    }

    fn user_updated() -> Value {
        json!({"id": "wn_1", "object": "webhook_notification", "api_version": "2020-01-03",
            "created_at": "2022-11-29T12:34:56.000+00:00", "topic": "user.updated",
            "data": {
                "object": {"id": "u_123", "object": "user", "attributes": {"plan": "pro", "seats": 5}},
                "previous_attributes": {"plan": "free", "seats": null},
                "updated_attributes": {"seats": 5, "plan": "pro"}}})
    }

    fn tracked(name: &str, user: Option<&str>, group: Option<&str>) -> Notification {
        parse(
            json!({"id": "wn_2", "object": "webhook_notification", "topic": "event.tracked",
            "created_at": "2024-01-01T00:00:01.000+00:00",
            "data": {"object": {"id": "ev_1", "object": "event", "name": name,
                "user_id": user, "group_id": group, "attributes": {"flow_id": "f1"},
                "time": "2024-01-01T00:00:00.000+00:00", "user": null, "group": null}}}),
        )
    }

    #[test]
    fn user_updates_carry_the_changed_attribute_names() {
        let n = parse(user_updated());
        assert_eq!(n.idempotency_key(id()), format!("uf:{}:wn_1", id()));
        assert_eq!(
            decide(&n, id(), &[]),
            Decision::Queue(vec![Job::SyncFromUserflow(SyncFromUserflow {
                integration_id: id(),
                kind: UserflowKind::User,
                id: "u_123".into(),
                changed: vec!["plan".into(), "seats".into()],
            })])
        );
    }

    #[test]
    fn group_creations_sync_the_group() {
        let n = parse(json!({"id": "wn_3", "topic": "group.created",
            "data": {"object": {"id": "acme", "object": "group", "attributes": {}}}}));
        assert_eq!(
            decide(&n, id(), &[]),
            Decision::Queue(vec![Job::SyncFromUserflow(SyncFromUserflow {
                integration_id: id(),
                kind: UserflowKind::Group,
                id: "acme".into(),
                changed: vec![],
            })])
        );
    }

    #[test]
    fn malformed_bodies_are_refused() {
        assert!(matches!(
            Notification::parse(b"{"),
            Err(NotificationError::Malformed(_))
        ));
        assert!(matches!(
            Notification::parse(b"[]"),
            Err(NotificationError::Malformed(_))
        ));
        assert_eq!(
            Notification::parse(br#"{"topic":"user.updated","data":{"object":{}}}"#),
            Err(NotificationError::Missing("id"))
        );
        assert_eq!(
            Notification::parse(br#"{"id":"x","topic":"user.updated","data":{}}"#),
            Err(NotificationError::Missing("data.object"))
        );
    }

    #[test]
    fn unknown_topics_and_objects_without_ids_are_ignored() {
        let n = parse(json!({"id": "x", "topic": "content.published", "data": {"object": {}}}));
        assert_eq!(
            decide(&n, id(), &[]),
            Decision::Ignore(IgnoreReason::UnsupportedEvent)
        );
        let n = parse(json!({"id": "x", "topic": "user.created", "data": {"object": {}}}));
        assert_eq!(
            decide(&n, id(), &[]),
            Decision::Ignore(IgnoreReason::InvalidEvent)
        );
    }

    #[test]
    fn tracked_events_are_queued_only_when_streamed() {
        let all_users = EventStream {
            kind: UserflowKind::User,
            selection: StreamSelection::All,
        };
        let selected_groups = EventStream {
            kind: UserflowKind::Group,
            selection: StreamSelection::Selected(vec!["checklist_completed".into()]),
        };
        let n = tracked("flow_started", Some("u1"), None);
        assert_eq!(
            decide(&n, id(), &[]),
            Decision::Ignore(IgnoreReason::NotStreamed)
        );
        assert_eq!(
            decide(&n, id(), std::slice::from_ref(&selected_groups)),
            Decision::Ignore(IgnoreReason::NotStreamed)
        );
        let Decision::Queue(jobs) = decide(&n, id(), std::slice::from_ref(&all_users)) else {
            panic!("not queued");
        };
        assert_eq!(
            jobs,
            vec![Job::PostTimelineEvent(PostTimelineEvent {
                integration_id: id(),
                event_id: "ev_1".into(),
                name: "flow_started".into(),
                user_id: Some("u1".into()),
                group_id: None,
                time: "2024-01-01T00:00:00.000+00:00".into(),
                attributes: json!({"flow_id": "f1"}).as_object().unwrap().clone(),
            })]
        );
        // A group stream needs a group on the event, and the name must be selected.
        let grouped = tracked("checklist_completed", None, Some("acme"));
        assert!(matches!(
            decide(&grouped, id(), std::slice::from_ref(&selected_groups)),
            Decision::Queue(_)
        ));
        assert_eq!(
            decide(&grouped, id(), std::slice::from_ref(&all_users)),
            Decision::Ignore(IgnoreReason::NotStreamed)
        );
        let other = tracked("flow_started", None, Some("acme"));
        assert_eq!(
            decide(&other, id(), &[selected_groups]),
            Decision::Ignore(IgnoreReason::NotStreamed)
        );
    }
}
