//! Timeline events v3 (§8).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::ObjectId;

/// Token data type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    /// Epoch ms.
    Date,
    /// One of `options`.
    Enumeration,
    /// Number.
    Number,
    /// String.
    String,
}

/// A template token (`name` allows alphanumerics and `.-_`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateToken {
    /// Name.
    pub name: String,
    /// Label.
    pub label: String,
    /// Type.
    #[serde(rename = "type")]
    pub kind: TokenType,
    /// Options for enumerations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<TokenOption>,
    /// CRM property to copy the value to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_property_name: Option<String>,
}

/// An enumeration token option.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenOption {
    /// Label.
    pub label: String,
    /// Value.
    pub value: String,
}

/// Body of an event template creation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventTemplateCreate {
    /// Name.
    pub name: String,
    /// `contacts` (default), `companies`, `deals`, `tickets`.
    pub object_type: String,
    /// Tokens.
    pub tokens: Vec<TemplateToken>,
    /// Markdown header with `{{tokens}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_template: Option<String>,
    /// Markdown detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail_template: Option<String>,
}

/// An event template as read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventTemplate {
    /// Template id.
    pub id: ObjectId,
    /// Name.
    pub name: String,
    /// Object type.
    #[serde(default)]
    pub object_type: Option<String>,
    /// Tokens.
    #[serde(default)]
    pub tokens: Vec<TemplateToken>,
    /// Header template.
    #[serde(default)]
    pub header_template: Option<String>,
    /// Detail template.
    #[serde(default)]
    pub detail_template: Option<String>,
}

/// A timeline event to create. `id` makes the post idempotent per (app, template).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEvent {
    /// Template id (required).
    pub event_template_id: String,
    /// Token values (required).
    pub tokens: BTreeMap<String, String>,
    /// Event id, unique per app and template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The CRM object (required except for contacts identified by `email`/`utk`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    /// Contact email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Contact usertoken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utk: Option<String>,
    /// Company domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// When it happened (ISO-8601; defaults to now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// Data for the detail template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_data: Option<serde_json::Value>,
}

/// A created timeline event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEventResponse {
    /// Event id.
    pub id: String,
    /// Template id.
    #[serde(default)]
    pub event_template_id: Option<ObjectId>,
    /// Object id.
    #[serde(default)]
    pub object_id: Option<ObjectId>,
    /// Object type.
    #[serde(default)]
    pub object_type: Option<String>,
    /// Token values.
    #[serde(default)]
    pub tokens: BTreeMap<String, serde_json::Value>,
    /// Creation time.
    #[serde(default)]
    pub created_at: Option<String>,
}
