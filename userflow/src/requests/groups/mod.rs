//! `/groups` endpoints (Userflow's UI calls groups "companies").

use reqwest::Method;
use serde::Serialize;

use crate::ids::GroupId;
use crate::models::{AttributeValue, Attributes, Deleted, Group};
use crate::requests::seg;
use crate::{HttpRequest, Request};

/// `GET /groups/{id}` (path unconfirmed for the live API; served by the simulator).
#[derive(Debug, Clone)]
pub struct Get {
    id: GroupId,
    expand_memberships: bool,
}

impl Get {
    /// The group `id`.
    pub fn new(id: impl Into<GroupId>) -> Self {
        Self {
            id: id.into(),
            expand_memberships: false,
        }
    }
    /// Adds `expand=memberships`.
    pub fn expand_memberships(mut self) -> Self {
        self.expand_memberships = true;
        self
    }
}

impl Request for Get {
    type Output = Group;
    fn build(&self) -> HttpRequest {
        let req = HttpRequest::new(Method::GET, format!("/groups/{}", seg(self.id.as_str())));
        if self.expand_memberships {
            req.query("expand", "memberships")
        } else {
            req
        }
    }
}

/// `POST /groups`: creates the group or merges `attributes` into it.
#[derive(Debug, Clone, Serialize)]
pub struct Upsert {
    id: GroupId,
    #[serde(skip_serializing_if = "Attributes::is_empty")]
    attributes: Attributes,
}

impl Upsert {
    /// Upserts group `id`.
    pub fn new(id: impl Into<GroupId>) -> Self {
        Self {
            id: id.into(),
            attributes: Attributes::new(),
        }
    }
    /// Sets one attribute.
    pub fn attribute(mut self, name: impl Into<String>, value: impl Into<AttributeValue>) -> Self {
        self.attributes.insert(name.into(), value.into());
        self
    }
    /// Sets several attributes.
    pub fn attributes(mut self, attributes: Attributes) -> Self {
        self.attributes.extend(attributes);
        self
    }
}

impl Request for Upsert {
    type Output = Group;
    fn build(&self) -> HttpRequest {
        let body = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        HttpRequest::new(Method::POST, "/groups").json(body)
    }
}

/// `GET /groups`: one page; [`crate::page::MembershipList::paginate`] streams them all.
pub type List = crate::page::MembershipList<Group>;

/// `DELETE /groups/{id}`: the group's memberships and events go, users stay.
#[derive(Debug, Clone)]
pub struct Delete {
    id: GroupId,
}

impl Delete {
    /// The group `id`.
    pub fn new(id: impl Into<GroupId>) -> Self {
        Self { id: id.into() }
    }
}

impl Request for Delete {
    type Output = Deleted;
    fn build(&self) -> HttpRequest {
        HttpRequest::new(Method::DELETE, format!("/groups/{}", seg(self.id.as_str())))
    }
}
