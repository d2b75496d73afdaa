use reqwest::Method;

use crate::models::association::AssociatedObject;
use crate::requests::check_max;
use crate::{
    AuthKind, Client, HttpRequest, ObjectType, Page, Paginator, Request, Result, impl_send, seg,
};

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

    /// Page size: at most 500.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Cursor from `paging.next.after`.
    pub fn after(mut self, after: impl Into<String>) -> Self {
        self.after = Some(after.into());
        self
    }

    /// Every association, following `paging.next.after`.
    pub fn paginate(&self, client: &Client) -> Paginator<AssociatedObject> {
        let client = client.clone();
        let base = self.clone();
        Paginator::new(move |after| {
            let client = client.clone();
            let mut req = base.clone();
            req.after = after;
            async move { client.send(&req).await }
        })
    }
}

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
