use reqwest::Method;

use crate::models::property::Property;
use crate::{AuthKind, HttpRequest, ObjectType, Page, Request, Result, impl_send, seg};

/// `GET /crm/v3/properties/{objectType}`: every property (no paging).
#[derive(Debug, Clone, PartialEq)]
pub struct ListProperties {
    object_type: ObjectType,
}

impl ListProperties {
    /// Properties of `object_type`.
    pub fn new(object_type: ObjectType) -> Self {
        ListProperties { object_type }
    }
}

impl Request for ListProperties {
    type Output = Page<Property>;

    fn build(&self) -> Result<HttpRequest> {
        Ok(HttpRequest::new(
            Method::GET,
            format!("/crm/v3/properties/{}", seg(self.object_type.as_str())),
            AuthKind::Bearer,
        ))
    }
}

impl_send!(ListProperties);
