//! Webhook notification bodies. Verify `Userflow-Signature` first with
//! `hubsync_core::signature::userflow`, then parse the same raw bytes here.

use serde::{Deserialize, Deserializer};

use super::{AttributeMap, Event, Group, Timestamp, User};

/// A notification topic.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Topic {
    /// `user.created`.
    UserCreated,
    /// `user.updated`.
    UserUpdated,
    /// `group.created`.
    GroupCreated,
    /// `group.updated`.
    GroupUpdated,
    /// `event.tracked` or `event.tracked.<name>` (the name, when in the topic).
    EventTracked(Option<String>),
    /// Any other topic, verbatim.
    Other(String),
}

impl Topic {
    /// Parses a topic string.
    pub fn parse(s: &str) -> Topic {
        match s {
            "user.created" => Topic::UserCreated,
            "user.updated" => Topic::UserUpdated,
            "group.created" => Topic::GroupCreated,
            "group.updated" => Topic::GroupUpdated,
            "event.tracked" => Topic::EventTracked(None),
            _ => match s.strip_prefix("event.tracked.") {
                Some(name) if !name.is_empty() => Topic::EventTracked(Some(name.to_owned())),
                _ => Topic::Other(s.to_owned()),
            },
        }
    }
}

impl<'de> Deserialize<'de> for Topic {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Topic::parse(&s))
    }
}

/// The object a notification is about, tagged by its `object` field.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "object", rename_all = "snake_case")]
pub enum NotificationObject {
    /// A user (`user.*`).
    User(User),
    /// A group (`group.*`).
    Group(Group),
    /// An event (`event.tracked*`).
    Event(Event),
}

/// `data` of a notification.
#[derive(Debug, Clone, Deserialize)]
pub struct NotificationData {
    /// The full current object.
    pub object: NotificationObject,
    /// Old values of the changed attributes (`*.updated` only).
    #[serde(default)]
    pub previous_attributes: Option<AttributeMap>,
    /// New values of the changed attributes (`*.updated` only).
    #[serde(default)]
    pub updated_attributes: Option<AttributeMap>,
}

/// `{id, object:"webhook_notification", api_version, created_at, topic, data}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Notification {
    /// Notification id (a UUID); the dedup key of `sync-from-userflow`.
    pub id: String,
    /// API version.
    #[serde(default)]
    pub api_version: Option<String>,
    /// When it was produced.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// Topic.
    pub topic: Topic,
    /// Payload.
    pub data: NotificationData,
}

impl Notification {
    /// Parses a raw webhook body (the bytes the signature was checked over).
    pub fn from_slice(body: &[u8]) -> crate::Result<Notification> {
        serde_json::from_slice(body).map_err(|source| crate::Error::Decode {
            body_snippet: crate::error::snippet(body),
            source,
        })
    }

    /// The user, for `user.*`.
    pub fn user(&self) -> Option<&User> {
        match &self.data.object {
            NotificationObject::User(u) => Some(u),
            _ => None,
        }
    }

    /// The group, for `group.*`.
    pub fn group(&self) -> Option<&Group> {
        match &self.data.object {
            NotificationObject::Group(g) => Some(g),
            _ => None,
        }
    }

    /// The event, for `event.tracked*`.
    pub fn event(&self) -> Option<&Event> {
        match &self.data.object {
            NotificationObject::Event(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notification_parses_documented_example() {
        let body = br#"{"id": "n1", "object": "webhook_notification", "api_version": "2020-01-03",
 "created_at": "2022-11-29T12:34:56.000+00:00", "topic": "user.updated",
 "data": {
   "object": {"id": "u_123", "object": "user", "attributes": {"plan": "pro", "seats": 5}},
   "previous_attributes": {"plan": "free"},
   "updated_attributes": {"plan": "pro"}}}"#;
        let n = Notification::from_slice(body).expect("parse");
        assert_eq!(n.topic, Topic::UserUpdated);
        assert_eq!(n.user().map(|u| u.id.as_str()), Some("u_123"));
        let prev = n.data.previous_attributes.as_ref().expect("previous");
        assert_eq!(prev["plan"], "free");
    }

    #[test]
    fn notification_topic_parses_event_names() {
        assert_eq!(
            Topic::parse("event.tracked.flow_completed"),
            Topic::EventTracked(Some("flow_completed".into()))
        );
        assert_eq!(Topic::parse("event.tracked"), Topic::EventTracked(None));
        assert_eq!(Topic::parse("content.x"), Topic::Other("content.x".into()));
    }

    #[test]
    fn notification_rejects_garbage_with_snippet() {
        match Notification::from_slice(b"not json") {
            Err(crate::Error::Decode { body_snippet, .. }) => assert_eq!(body_snippet, "not json"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
