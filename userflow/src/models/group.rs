//! Groups (companies).

use serde::Deserialize;

use super::{AttributeMap, Membership, Timestamp};
use crate::ids::GroupId;

/// `{id, object:"group", attributes, created_at, updated_at, memberships?}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Group {
    /// The group id.
    pub id: GroupId,
    /// Current attributes.
    #[serde(default)]
    pub attributes: AttributeMap,
    /// Creation time.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// Last attribute change.
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    /// Present with `expand=memberships`.
    #[serde(default)]
    pub memberships: Option<Vec<Membership>>,
}
