//! Users and memberships.

use serde::Deserialize;

use super::{AttributeMap, Group, Timestamp};
use crate::ids::{GroupId, UserId};

/// `{id, object:"user", attributes, created_at, updated_at, memberships?}`.
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    /// The user id.
    pub id: UserId,
    /// Current attributes (`email` is one of them).
    #[serde(default)]
    pub attributes: AttributeMap,
    /// Creation time (unconfirmed field).
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// Time of the last attribute change (unconfirmed field).
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    /// Present with `expand=memberships`.
    #[serde(default)]
    pub memberships: Option<Vec<Membership>>,
}

impl User {
    /// The `email` attribute, when it is a string.
    pub fn email(&self) -> Option<&str> {
        self.attributes.get("email").and_then(|v| v.as_str())
    }
}

/// A user's membership of a group, with membership-level attributes.
#[derive(Debug, Clone, Deserialize)]
pub struct Membership {
    /// The member.
    pub user_id: UserId,
    /// The group.
    pub group_id: GroupId,
    /// Membership attributes (e.g. `role`).
    #[serde(default)]
    pub attributes: AttributeMap,
    /// Creation time.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// Last change.
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    /// The group, on a user's memberships.
    #[serde(default)]
    pub group: Option<Box<Group>>,
    /// The user, on a group's memberships.
    #[serde(default)]
    pub user: Option<Box<User>>,
}
