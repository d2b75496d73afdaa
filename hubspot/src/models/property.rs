//! Properties and property groups (§5).

use serde::{Deserialize, Serialize};

/// A property's data `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PropertyType {
    /// `string`.
    String,
    /// `number`.
    Number,
    /// `bool` (`"true"`/`"false"`).
    Bool,
    /// `enumeration` (options; multi-values `;`-joined).
    Enumeration,
    /// `date` (midnight UTC).
    Date,
    /// `datetime`.
    Datetime,
    /// `phone_number`.
    PhoneNumber,
    /// `object_coordinates` (internal).
    ObjectCoordinates,
    /// `json` (internal).
    Json,
    /// Anything else HubSpot sends.
    #[serde(other)]
    Unknown,
}

/// A property's `fieldType` (how the UI shows it). Must pair with the [`PropertyType`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FieldType {
    /// `text` (string).
    Text,
    /// `textarea` (string).
    Textarea,
    /// `html` (string).
    Html,
    /// `phonenumber`.
    #[serde(rename = "phonenumber")]
    PhoneNumber,
    /// `file`.
    File,
    /// `number`.
    Number,
    /// `booleancheckbox` (bool or enumeration).
    #[serde(rename = "booleancheckbox")]
    BooleanCheckbox,
    /// `checkbox` (enumeration).
    Checkbox,
    /// `radio` (enumeration).
    Radio,
    /// `select` (enumeration).
    Select,
    /// `date` (date, datetime).
    Date,
    /// `calculation_equation`.
    CalculationEquation,
    /// Anything else.
    #[serde(other)]
    Unknown,
}

/// An enumeration option.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyOption {
    /// Shown label.
    pub label: String,
    /// Stored value.
    pub value: String,
    /// Hidden from forms.
    #[serde(default)]
    pub hidden: bool,
    /// Position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_order: Option<i32>,
}

/// A property definition as read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Property {
    /// Internal name.
    pub name: String,
    /// Label.
    #[serde(default)]
    pub label: String,
    /// Data type.
    #[serde(rename = "type")]
    pub kind: PropertyType,
    /// Field type.
    pub field_type: FieldType,
    /// Group.
    #[serde(default)]
    pub group_name: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Options (always present, `[]` for non-enumerations).
    #[serde(default)]
    pub options: Vec<PropertyOption>,
    /// Whether values are unique (usable as `idProperty`).
    #[serde(default)]
    pub has_unique_value: bool,
    /// Defined by HubSpot.
    #[serde(default)]
    pub hubspot_defined: Option<bool>,
    /// Calculated.
    #[serde(default)]
    pub calculated: Option<bool>,
    /// Archived.
    #[serde(default)]
    pub archived: bool,
    /// Hidden.
    #[serde(default)]
    pub hidden: Option<bool>,
    /// Modification rules.
    #[serde(default)]
    pub modification_metadata: Option<ModificationMetadata>,
}

/// `modificationMetadata`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModificationMetadata {
    /// Can be archived.
    #[serde(default)]
    pub archivable: bool,
    /// Definition is read-only.
    #[serde(default)]
    pub read_only_definition: bool,
    /// Value is read-only.
    #[serde(default)]
    pub read_only_value: bool,
}

/// Body of a property creation; `name, label, type, fieldType, groupName` are required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyCreate {
    /// Internal name.
    pub name: String,
    /// Label.
    pub label: String,
    /// Data type.
    #[serde(rename = "type")]
    pub kind: PropertyType,
    /// Field type (must pair with `kind`).
    pub field_type: FieldType,
    /// Group the property goes in.
    pub group_name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Options for enumerations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<PropertyOption>,
    /// Unique values (immutable after creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_unique_value: Option<bool>,
    /// Position (-1 = last).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_order: Option<i32>,
    /// Show in forms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_field: Option<bool>,
}

impl PropertyCreate {
    /// A property with the required fields.
    pub fn new(
        name: impl Into<String>,
        label: impl Into<String>,
        kind: PropertyType,
        field_type: FieldType,
        group_name: impl Into<String>,
    ) -> Self {
        PropertyCreate {
            name: name.into(),
            label: label.into(),
            kind,
            field_type,
            group_name: group_name.into(),
            description: None,
            options: Vec::new(),
            has_unique_value: None,
            display_order: None,
            form_field: None,
        }
    }
}

/// A property group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyGroup {
    /// Internal name.
    pub name: String,
    /// Label.
    pub label: String,
    /// Position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_order: Option<i32>,
    /// Archived (read only).
    #[serde(default)]
    pub archived: bool,
}
