use reqwest::Method;

use crate::models::object::CrmObject;
use crate::{AuthKind, HttpRequest, ObjectId, ObjectType, Request, Result, impl_send, seg};

/// `GET /crm/v3/objects/{objectType}/{objectId}`: one object by id or by a unique property.
#[derive(Debug, Clone, PartialEq)]
pub struct GetObject {
    object_type: ObjectType,
    id: String,
    properties: Vec<String>,
    associations: Vec<String>,
    id_property: Option<String>,
    archived: bool,
}

impl GetObject {
    /// The object `id` of `object_type`.
    pub fn new(object_type: ObjectType, id: impl Into<String>) -> Self {
        GetObject {
            object_type,
            id: id.into(),
            properties: Vec::new(),
            associations: Vec::new(),
            id_property: None,
            archived: false,
        }
    }

    /// Properties to return (too many make the URI too long: 414).
    pub fn properties<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.properties = names.into_iter().map(Into::into).collect();
        self
    }

    /// Association target types to return (`companies`, `deals`, …); unknown types are ignored.
    pub fn associations<I: IntoIterator<Item = S>, S: Into<String>>(mut self, types: I) -> Self {
        self.associations = types.into_iter().map(Into::into).collect();
        self
    }

    /// Read by this unique property instead of the object id (e.g. `email`).
    pub fn id_property(mut self, name: impl Into<String>) -> Self {
        self.id_property = Some(name.into());
        self
    }

    /// Read an archived object.
    pub fn archived(mut self, archived: bool) -> Self {
        self.archived = archived;
        self
    }

    /// The id as given (for logging).
    pub fn id(&self) -> ObjectId {
        ObjectId(self.id.clone())
    }
}

impl Request for GetObject {
    type Output = CrmObject;

    fn build(&self) -> Result<HttpRequest> {
        let mut r = HttpRequest::new(
            Method::GET,
            format!(
                "/crm/v3/objects/{}/{}",
                seg(self.object_type.as_str()),
                seg(&self.id)
            ),
            AuthKind::Bearer,
        );
        if !self.properties.is_empty() {
            r = r.query("properties", self.properties.join(","));
        }
        if !self.associations.is_empty() {
            r = r.query("associations", self.associations.join(","));
        }
        if let Some(p) = &self.id_property {
            r = r.query("idProperty", p.clone());
        }
        if self.archived {
            r = r.query("archived", "true");
        }
        Ok(r)
    }
}

impl_send!(GetObject);
