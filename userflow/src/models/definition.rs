//! Attribute and event definitions (read only).

use serde::{Deserialize, Serialize};

use super::{DataType, Timestamp};

/// Scope of an attribute definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeScope {
    /// User attributes.
    User,
    /// Group attributes.
    Group,
    /// Membership attributes (`membership`).
    Membership,
    /// Membership attributes as some clients name them (`group_membership`).
    GroupMembership,
    /// Event attributes.
    Event,
    /// A scope this client does not know.
    #[serde(other)]
    Other,
}

impl AttributeScope {
    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            AttributeScope::User => "user",
            AttributeScope::Group => "group",
            AttributeScope::Membership => "membership",
            AttributeScope::GroupMembership => "group_membership",
            AttributeScope::Event => "event",
            AttributeScope::Other => "other",
        }
    }
}

/// `{id, object:"attribute_definition", name, display_name, data_type, scope, created_at}`.
#[derive(Debug, Clone, Deserialize)]
pub struct AttributeDefinition {
    /// Id (the simulator uses `<scope>:<name>`; unconfirmed).
    #[serde(default)]
    pub id: Option<String>,
    /// Attribute name.
    pub name: String,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Data type.
    pub data_type: DataType,
    /// Scope.
    #[serde(default = "other_scope")]
    pub scope: AttributeScope,
    /// Creation time.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
}

fn other_scope() -> AttributeScope {
    AttributeScope::Other
}

/// `{id, object:"event_definition", name, display_name, count, created_at, last_tracked_at}`.
#[derive(Debug, Clone, Deserialize)]
pub struct EventDefinition {
    /// Id (the name in the simulator).
    #[serde(default)]
    pub id: Option<String>,
    /// Event name.
    pub name: String,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Times tracked.
    #[serde(default)]
    pub count: Option<u64>,
    /// First seen.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// Last tracked.
    #[serde(default)]
    pub last_tracked_at: Option<Timestamp>,
}
