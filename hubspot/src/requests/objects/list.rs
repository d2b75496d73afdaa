use reqwest::Method;

use crate::models::object::CrmObject;
use crate::page::paged_request;
use crate::{AuthKind, HttpRequest, ObjectType, Page, Request, Result, impl_send, seg};

/// `GET /crm/v3/objects/{objectType}`: one page of objects.
#[derive(Debug, Clone, PartialEq)]
pub struct ListObjects {
    object_type: ObjectType,
    properties: Vec<String>,
    limit: Option<u32>,
    after: Option<String>,
}

impl ListObjects {
    /// Objects of `object_type`.
    pub fn new(object_type: ObjectType) -> Self {
        ListObjects {
            object_type,
            properties: Vec::new(),
            limit: None,
            after: None,
        }
    }
}

paged_request!(
    properties,
    ListObjects,
    CrmObject,
    limit = "Page size: default 10, at most 100 (50 with history).",
    paginate = "Every object, following `paging.next.after`."
);

impl Request for ListObjects {
    type Output = Page<CrmObject>;

    fn build(&self) -> Result<HttpRequest> {
        if let Some(l) = self.limit {
            crate::requests::check_max("limit", l as usize, 100)?;
        }
        let mut r = HttpRequest::new(
            Method::GET,
            format!("/crm/v3/objects/{}", seg(self.object_type.as_str())),
            AuthKind::Bearer,
        );
        if !self.properties.is_empty() {
            r = r.query("properties", self.properties.join(","));
        }
        if let Some(l) = self.limit {
            r = r.query("limit", l.to_string());
        }
        if let Some(a) = &self.after {
            r = r.query("after", a.clone());
        }
        Ok(r)
    }
}

impl_send!(ListObjects);
