use reqwest::Method;

use crate::models::property::{Property, PropertyCreate};
use crate::{AuthKind, HttpRequest, ObjectType, Request, Result, impl_send, seg};

/// `POST /crm/v3/properties/{objectType}` → 201. The `type`/`fieldType` pair must be valid.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateProperty {
    object_type: ObjectType,
    property: PropertyCreate,
}

impl CreateProperty {
    /// Create `property` on `object_type`.
    pub fn new(object_type: ObjectType, property: PropertyCreate) -> Self {
        CreateProperty {
            object_type,
            property,
        }
    }
}

impl Request for CreateProperty {
    type Output = Property;

    fn build(&self) -> Result<HttpRequest> {
        HttpRequest::new(
            Method::POST,
            format!("/crm/v3/properties/{}", seg(self.object_type.as_str())),
            AuthKind::Bearer,
        )
        .json(&self.property)
    }
}

impl_send!(CreateProperty);
