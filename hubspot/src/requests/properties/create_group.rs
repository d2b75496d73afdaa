use reqwest::Method;
use serde_json::json;

use crate::models::property::PropertyGroup;
use crate::{AuthKind, HttpRequest, ObjectType, Request, Result, impl_send, seg};

/// `POST /crm/v3/properties/{objectType}/groups` `{name, label, displayOrder?}` → 201.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatePropertyGroup {
    object_type: ObjectType,
    name: String,
    label: String,
    display_order: Option<i32>,
}

impl CreatePropertyGroup {
    /// Group `name` with `label` on `object_type`.
    pub fn new(object_type: ObjectType, name: impl Into<String>, label: impl Into<String>) -> Self {
        CreatePropertyGroup {
            object_type,
            name: name.into(),
            label: label.into(),
            display_order: None,
        }
    }

    /// Position (-1 = last).
    pub fn display_order(mut self, order: i32) -> Self {
        self.display_order = Some(order);
        self
    }
}

impl Request for CreatePropertyGroup {
    type Output = PropertyGroup;

    fn build(&self) -> Result<HttpRequest> {
        let mut body = json!({ "name": self.name, "label": self.label });
        if let (Some(o), Some(d)) = (body.as_object_mut(), self.display_order) {
            o.insert("displayOrder".into(), json!(d));
        }
        HttpRequest::new(
            Method::POST,
            format!(
                "/crm/v3/properties/{}/groups",
                seg(self.object_type.as_str())
            ),
            AuthKind::Bearer,
        )
        .json(&body)
    }
}

impl_send!(CreatePropertyGroup);
