use reqwest::Method;

use crate::models::association::AssociatedObject;
use crate::page::paged_request;
use crate::requests::check_max;
use crate::{AuthKind, HttpRequest, ObjectType, Page, Request, Result, impl_send, seg};

/// `GET /crm/v4/objects/{from}/{fromId}/associations/{to}`: one page of an object's
/// associations to a type.
#[derive(Debug, Clone, PartialEq)]
pub struct ListAssociations {
    from: ObjectType,
    from_id: String,
    to: ObjectType,
    limit: Option<u32>,
    after: Option<String>,
}

impl ListAssociations {
    /// Associations of `from`/`from_id` to objects of type `to`.
    pub fn new(from: ObjectType, from_id: impl Into<String>, to: ObjectType) -> Self {
        ListAssociations {
            from,
            from_id: from_id.into(),
            to,
            limit: None,
            after: None,
        }
    }
}

paged_request!(
    ListAssociations,
    AssociatedObject,
    limit = "Page size: at most 500.",
    paginate = "Every association, following `paging.next.after`."
);

impl Request for ListAssociations {
    type Output = Page<AssociatedObject>;

    fn build(&self) -> Result<HttpRequest> {
        let mut r = HttpRequest::new(
            Method::GET,
            format!(
                "/crm/v4/objects/{}/{}/associations/{}",
                seg(self.from.as_str()),
                seg(&self.from_id),
                seg(self.to.as_str())
            ),
            AuthKind::Bearer,
        );
        if let Some(l) = self.limit {
            check_max("associations limit", l as usize, 500)?;
            r = r.query("limit", l.to_string());
        }
        if let Some(a) = &self.after {
            r = r.query("after", a.clone());
        }
        Ok(r)
    }
}

impl_send!(ListAssociations);
