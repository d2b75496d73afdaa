use reqwest::Method;

use crate::ids::UserId;
use crate::models::Deleted;
use crate::requests::seg;
use crate::{HttpRequest, Request};

/// `DELETE /users/{id}`: removes the user with its memberships and events (groups stay).
#[derive(Debug, Clone)]
pub struct Delete {
    id: UserId,
}

impl Delete {
    /// The user `id`.
    pub fn new(id: impl Into<UserId>) -> Self {
        Self { id: id.into() }
    }
}

impl Request for Delete {
    type Output = Deleted;
    fn build(&self) -> HttpRequest {
        HttpRequest::new(Method::DELETE, format!("/users/{}", seg(self.id.as_str())))
    }
}
