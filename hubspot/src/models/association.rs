//! Associations v4 (§6).

use serde::{Deserialize, Serialize};

use crate::ids::ObjectId;

/// One associated object: `{toObjectId, associationTypes:[…]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssociatedObject {
    /// The associated object's id (a number on the wire).
    pub to_object_id: ObjectId,
    /// The association types of the pair.
    #[serde(default)]
    pub association_types: Vec<AssociationType>,
}

/// `{category, typeId, label}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssociationType {
    /// `HUBSPOT_DEFINED`, `USER_DEFINED`, `INTEGRATOR_DEFINED` or `WORK`.
    pub category: String,
    /// The type id (e.g. 279 contact → company unlabeled, 1 primary).
    pub type_id: u32,
    /// The label, `null` for unlabeled.
    #[serde(default)]
    pub label: Option<String>,
}
