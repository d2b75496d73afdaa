//! CRM objects (§4): `{id, properties, createdAt, updatedAt, archived, associations?}`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::ObjectId;
use crate::page::Paging;

/// A CRM object (contact, company, deal, custom object). Every property value is a string or
/// null on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrmObject {
    /// The object id.
    pub id: ObjectId,
    /// Property values (all strings; numbers, dates and booleans included).
    #[serde(default)]
    pub properties: BTreeMap<String, Option<String>>,
    /// Creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// Last update time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    /// Whether the object is in the recycle bin.
    #[serde(default)]
    pub archived: bool,
    /// Archive time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_at: Option<DateTime<Utc>>,
    /// History of each requested property, newest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties_with_history: Option<BTreeMap<String, Vec<PropertyHistoryEntry>>>,
    /// Associations asked for with `associations=`, keyed by the target type as HubSpot names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub associations: Option<BTreeMap<String, AssociationList>>,
}

impl CrmObject {
    /// The value of a property, when present and not null.
    pub fn property(&self, name: &str) -> Option<&str> {
        self.properties.get(name).and_then(|v| v.as_deref())
    }

    /// Ids associated under `to_type` (e.g. `companies`), deduplicated, in order.
    pub fn associated_ids(&self, to_type: &str) -> Vec<ObjectId> {
        let mut out: Vec<ObjectId> = Vec::new();
        if let Some(list) = self.associations.as_ref().and_then(|a| a.get(to_type)) {
            for r in &list.results {
                if !out.contains(&r.id) {
                    out.push(r.id.clone());
                }
            }
        }
        out
    }
}

/// One entry of `propertiesWithHistory`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyHistoryEntry {
    /// The value.
    pub value: Option<String>,
    /// When it was set.
    pub timestamp: Option<DateTime<Utc>>,
    /// Who set it (`CRM_UI`, `API`, `IMPORT`, …).
    #[serde(default)]
    pub source_type: Option<String>,
    /// Source id (`userId:123` for UI edits, the app id for API writes).
    #[serde(default)]
    pub source_id: Option<String>,
    /// Source label.
    #[serde(default)]
    pub source_label: Option<String>,
    /// The HubSpot user who made the change.
    #[serde(default)]
    pub updated_by_user_id: Option<u64>,
}

/// The associations of one target type inside an object read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssociationList {
    /// The associated objects.
    #[serde(default)]
    pub results: Vec<AssociationRef>,
    /// More associations, when there are many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paging: Option<Paging>,
}

/// `{"id":"900","type":"contact_to_company"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssociationRef {
    /// The associated object's id.
    pub id: ObjectId,
    /// The association type name.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}
