use reqwest::Method;

use crate::models::property::PropertyGroup;
use crate::{AuthKind, HttpRequest, ObjectType, Request, Result, impl_send, seg};

/// `GET /crm/v3/properties/{objectType}/groups/{groupName}`.
#[derive(Debug, Clone, PartialEq)]
pub struct GetPropertyGroup {
    object_type: ObjectType,
    name: String,
}

impl GetPropertyGroup {
    /// Group `name` of `object_type`.
    pub fn new(object_type: ObjectType, name: impl Into<String>) -> Self {
        GetPropertyGroup {
            object_type,
            name: name.into(),
        }
    }
}

impl Request for GetPropertyGroup {
    type Output = PropertyGroup;

    fn build(&self) -> Result<HttpRequest> {
        Ok(HttpRequest::new(
            Method::GET,
            format!(
                "/crm/v3/properties/{}/groups/{}",
                seg(self.object_type.as_str()),
                seg(&self.name)
            ),
            AuthKind::Bearer,
        ))
    }
}

impl_send!(GetPropertyGroup);
