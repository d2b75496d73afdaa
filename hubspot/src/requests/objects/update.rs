use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::json;

use crate::models::object::CrmObject;
use crate::{AuthKind, HttpRequest, ObjectType, Request, Result, impl_send, seg};

/// `PATCH /crm/v3/objects/{objectType}/{objectId}`: write properties (`""` clears a value).
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateObject {
    object_type: ObjectType,
    id: String,
    properties: BTreeMap<String, String>,
    id_property: Option<String>,
}

impl UpdateObject {
    /// Update object `id` of `object_type`.
    pub fn new(object_type: ObjectType, id: impl Into<String>) -> Self {
        UpdateObject {
            object_type,
            id: id.into(),
            properties: BTreeMap::new(),
            id_property: None,
        }
    }

    /// Sets one property (all values are strings on the wire).
    pub fn property(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.insert(name.into(), value.into());
        self
    }

    /// Sets many properties.
    pub fn properties(mut self, props: BTreeMap<String, String>) -> Self {
        self.properties.extend(props);
        self
    }

    /// The id is a value of this unique property.
    pub fn id_property(mut self, name: impl Into<String>) -> Self {
        self.id_property = Some(name.into());
        self
    }
}

impl Request for UpdateObject {
    type Output = CrmObject;

    fn build(&self) -> Result<HttpRequest> {
        let mut r = HttpRequest::new(
            Method::PATCH,
            format!(
                "/crm/v3/objects/{}/{}",
                seg(self.object_type.as_str()),
                seg(&self.id)
            ),
            AuthKind::Bearer,
        );
        if let Some(p) = &self.id_property {
            r = r.query("idProperty", p.clone());
        }
        r.json(&json!({ "properties": self.properties }))
    }
}

impl_send!(UpdateObject);
