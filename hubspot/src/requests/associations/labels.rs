use reqwest::Method;

use crate::models::association::AssociationType;
use crate::{AuthKind, HttpRequest, ObjectType, Page, Request, Result, impl_send, seg};

/// `GET /crm/v4/associations/{from}/{to}/labels`: the association types defined between two
/// object types (empty when the types cannot be associated).
#[derive(Debug, Clone, PartialEq)]
pub struct ListAssociationLabels {
    from: ObjectType,
    to: ObjectType,
}

impl ListAssociationLabels {
    /// Association types from `from` to `to`.
    pub fn new(from: ObjectType, to: ObjectType) -> Self {
        ListAssociationLabels { from, to }
    }
}

impl Request for ListAssociationLabels {
    type Output = Page<AssociationType>;

    fn build(&self) -> Result<HttpRequest> {
        Ok(HttpRequest::new(
            Method::GET,
            format!(
                "/crm/v4/associations/{}/{}/labels",
                seg(self.from.as_str()),
                seg(self.to.as_str())
            ),
            AuthKind::Bearer,
        ))
    }
}

impl_send!(ListAssociationLabels);
