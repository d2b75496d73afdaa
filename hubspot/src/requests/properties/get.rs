use reqwest::Method;

use crate::models::property::Property;
use crate::{AuthKind, HttpRequest, ObjectType, Request, Result, impl_send, seg};

/// `GET /crm/v3/properties/{objectType}/{propertyName}`.
#[derive(Debug, Clone, PartialEq)]
pub struct GetProperty {
    object_type: ObjectType,
    name: String,
}

impl GetProperty {
    /// Property `name` of `object_type`.
    pub fn new(object_type: ObjectType, name: impl Into<String>) -> Self {
        GetProperty {
            object_type,
            name: name.into(),
        }
    }
}

impl Request for GetProperty {
    type Output = Property;

    fn build(&self) -> Result<HttpRequest> {
        Ok(HttpRequest::new(
            Method::GET,
            format!(
                "/crm/v3/properties/{}/{}",
                seg(self.object_type.as_str()),
                seg(&self.name)
            ),
            AuthKind::Bearer,
        ))
    }
}

impl_send!(GetProperty);
