use reqwest::Method;

use crate::models::{List, User};
use crate::{Client, HttpRequest, Request, Result};

/// `GET /users?email=`: every user with this email (case-insensitive in the simulator; a list,
/// possibly empty).
#[derive(Debug, Clone)]
pub struct FindByEmail {
    email: String,
}

impl FindByEmail {
    /// Users with `email`.
    pub fn new(email: impl Into<String>) -> Self {
        Self {
            email: email.into(),
        }
    }

    /// The first match, if any.
    pub async fn first(&self, client: &Client) -> Result<Option<User>> {
        Ok(self.send(client).await?.data.into_iter().next())
    }
}

impl Request for FindByEmail {
    type Output = List<User>;
    fn build(&self) -> HttpRequest {
        HttpRequest::new(Method::GET, "/users").query("email", &self.email)
    }
}
