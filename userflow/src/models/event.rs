//! Tracked events.

use serde::Deserialize;

use super::{AttributeMap, Group, Timestamp, User};
use crate::ids::{GroupId, UserId};

/// `{id, object:"event", name, user_id, group_id, attributes, time, created_at}`; webhook
/// payloads also carry `user` and `group` (often `null`).
#[derive(Debug, Clone, Deserialize)]
pub struct Event {
    /// Event id (the timeline event id on the HubSpot side).
    pub id: String,
    /// Event name, e.g. `flow_completed`.
    pub name: String,
    /// The user, when tracked for one.
    #[serde(default)]
    pub user_id: Option<UserId>,
    /// The group, when tracked for one.
    #[serde(default)]
    pub group_id: Option<GroupId>,
    /// Event attributes.
    #[serde(default)]
    pub attributes: AttributeMap,
    /// When the event happened.
    #[serde(default)]
    pub time: Option<Timestamp>,
    /// When Userflow received it.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// Embedded user (webhooks).
    #[serde(default)]
    pub user: Option<Box<User>>,
    /// Embedded group (webhooks).
    #[serde(default)]
    pub group: Option<Box<Group>>,
}
