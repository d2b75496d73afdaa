use reqwest::Method;

use crate::ids::UserId;
use crate::models::User;
use crate::requests::seg;
use crate::{HttpRequest, Request};

/// `GET /users/{id}`: 404 → [`crate::Error::NotFound`].
#[derive(Debug, Clone)]
pub struct Get {
    id: UserId,
    expand_memberships: bool,
}

impl Get {
    /// The user `id`.
    pub fn new(id: impl Into<UserId>) -> Self {
        Self {
            id: id.into(),
            expand_memberships: false,
        }
    }
    /// Adds `expand=memberships` (memberships with their groups).
    pub fn expand_memberships(mut self) -> Self {
        self.expand_memberships = true;
        self
    }
}

impl Request for Get {
    type Output = User;
    fn build(&self) -> HttpRequest {
        let req = HttpRequest::new(Method::GET, format!("/users/{}", seg(self.id.as_str())));
        if self.expand_memberships {
            req.query("expand", "memberships")
        } else {
            req
        }
    }
}
