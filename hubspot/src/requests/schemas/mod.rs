//! Custom object schemas (§7): which custom object types a portal has, with their
//! properties. Read with the portal's OAuth token (`crm.schemas.custom.read`).

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::models::property::Property;
use crate::{AuthKind, HttpRequest, ObjectType, Page, Request, Result, impl_send, seg};

/// A custom object schema as read (the fields hubsync uses).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectSchema {
    /// Schema id.
    #[serde(default)]
    pub id: Option<String>,
    /// `2-<n>`.
    pub object_type_id: String,
    /// Name (e.g. `projects`).
    pub name: String,
    /// `p{portalId}_{name}`.
    #[serde(default)]
    pub fully_qualified_name: Option<String>,
    /// `{singular, plural}`.
    #[serde(default)]
    pub labels: Option<serde_json::Value>,
    /// Properties of the type.
    #[serde(default)]
    pub properties: Vec<Property>,
    /// Archived.
    #[serde(default)]
    pub archived: bool,
}

impl ObjectSchema {
    /// Whether `name` names this type (type id, name or fully qualified name).
    pub fn is_named(&self, name: &str) -> bool {
        self.object_type_id == name
            || self.name.eq_ignore_ascii_case(name)
            || self
                .fully_qualified_name
                .as_deref()
                .is_some_and(|f| f.eq_ignore_ascii_case(name))
    }
}

/// `GET /crm-object-schemas/v3/schemas`: every custom object schema of the portal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListSchemas;

impl ListSchemas {
    /// Every schema.
    pub fn new() -> Self {
        ListSchemas
    }
}

impl Request for ListSchemas {
    type Output = Page<ObjectSchema>;

    fn build(&self) -> Result<HttpRequest> {
        Ok(HttpRequest::new(
            Method::GET,
            "/crm-object-schemas/v3/schemas".to_owned(),
            AuthKind::Bearer,
        ))
    }
}

impl_send!(ListSchemas);

/// `GET /crm-object-schemas/v3/schemas/{objectType}`: one schema (404 when unknown).
#[derive(Debug, Clone, PartialEq)]
pub struct GetSchema {
    object_type: ObjectType,
}

impl GetSchema {
    /// The schema of `object_type` (type id or name).
    pub fn new(object_type: ObjectType) -> Self {
        GetSchema { object_type }
    }
}

impl Request for GetSchema {
    type Output = ObjectSchema;

    fn build(&self) -> Result<HttpRequest> {
        Ok(HttpRequest::new(
            Method::GET,
            format!(
                "/crm-object-schemas/v3/schemas/{}",
                seg(self.object_type.as_str())
            ),
            AuthKind::Bearer,
        ))
    }
}

impl_send!(GetSchema);
