//! The seam between CRM writes and webhook deliveries: every write in [`super::store`] emits a
//! [`Change`]; the webhook loop in [`super::webhooks`] receives them in order.

use serde::Serialize;
use tokio::sync::mpsc;

/// Who made a change, as HubSpot reports it in webhook payloads (`changeSource`, `sourceId`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeSource {
    /// `API` for API writes, `CRM_UI` for edits "by a person", `IMPORT`, …
    pub change_source: String,
    /// For API writes the writing app's id (as a string); for UI edits `userId:<n>`.
    pub source_id: Option<String>,
}

impl ChangeSource {
    /// A write through the API by `app_id` (or a private app when `None`).
    pub fn api(app_id: Option<u64>) -> Self {
        Self {
            change_source: "API".into(),
            source_id: app_id.map(|a| a.to_string()),
        }
    }

    /// An edit made "as a person in the HubSpot UI".
    pub fn ui(user_id: u64) -> Self {
        Self {
            change_source: "CRM_UI".into(),
            source_id: Some(format!("userId:{user_id}")),
        }
    }
}

/// What happened to an object.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ChangeKind {
    /// Object created.
    Creation,
    /// One property changed (one change per property, as HubSpot sends them).
    PropertyChange {
        /// Property name.
        property_name: String,
        /// New value as a string ("" when cleared).
        property_value: String,
    },
    /// Object archived.
    Deletion,
    /// Object restored from the recycle bin.
    Restore,
    /// Contact deleted for good by a GDPR delete. Webhooks report it to both
    /// `contact.privacyDeletion` and `contact.deletion` subscriptions, in no fixed order.
    PrivacyDeletion,
    /// Two objects merged.
    Merge {
        /// The id that survives.
        primary_object_id: u64,
        /// Ids merged away.
        merged_object_ids: Vec<u64>,
        /// Id of the resulting object.
        new_object_id: u64,
        /// Properties copied from the merged object.
        number_of_properties_moved: u64,
    },
    /// An association added or removed (one change per direction, as HubSpot sends them).
    AssociationChange {
        /// E.g. `CONTACT_TO_COMPANY`.
        association_type: String,
        /// From object id.
        from_object_id: u64,
        /// To object id.
        to_object_id: u64,
        /// Type id of the from object (`0-1`).
        from_object_type_id: String,
        /// Type id of the to object (`0-2`).
        to_object_type_id: String,
        /// True when removed.
        association_removed: bool,
        /// True for a primary association.
        is_primary_association: bool,
    },
}

/// One change to one CRM object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// Portal the object lives in.
    pub portal_id: u64,
    /// Object type id: `0-1` contacts, `0-2` companies, `0-3` deals, `2-<n>` custom.
    pub object_type_id: String,
    /// Object id.
    pub object_id: u64,
    /// What happened.
    pub kind: ChangeKind,
    /// Epoch milliseconds.
    pub occurred_at_ms: i64,
    /// Who did it.
    pub source: ChangeSource,
}

/// Sending side of the change stream; the receiving side goes to the webhook loop.
#[derive(Clone)]
pub struct ChangeBus {
    tx: mpsc::UnboundedSender<Change>,
}

impl ChangeBus {
    /// A new bus and its receiver.
    pub fn new() -> (Self, mpsc::UnboundedReceiver<Change>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self { tx }, rx)
    }

    /// Emits one change. Never blocks; a change emitted after the loop stopped is discarded.
    pub fn emit(&self, change: Change) {
        let _ = self.tx.send(change);
    }
}
