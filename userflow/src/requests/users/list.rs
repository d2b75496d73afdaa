use reqwest::Method;

use crate::models::{self, User};
use crate::requests::{ListParams, list_setters};
use crate::{HttpRequest, Request};

/// `GET /users`: one page; [`List::paginate`] streams them all.
#[derive(Debug, Clone, Default)]
pub struct List {
    params: ListParams,
    expand_memberships: bool,
}

impl List {
    /// All users, default page size.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds `expand=memberships`.
    pub fn expand_memberships(mut self) -> Self {
        self.expand_memberships = true;
        self
    }
}

list_setters!(List, User);

impl Request for List {
    type Output = models::List<User>;
    fn build(&self) -> HttpRequest {
        let req = HttpRequest::new(Method::GET, "/users");
        let req = if self.expand_memberships {
            req.query("expand", "memberships")
        } else {
            req
        };
        self.params.apply(req)
    }
}
