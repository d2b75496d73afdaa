//! `/events`.

use reqwest::Method;
use serde::Serialize;

use crate::ids::{GroupId, UserId};
use crate::models::{AttributeValue, Attributes, Event, Timestamp};
use crate::{HttpRequest, Request};

/// `POST /events`: tracks an event for a user and/or a group (at least one is required;
/// the simulator answers 400 otherwise). Event attributes accept only literals and `set`
/// (with `data_type`).
#[derive(Debug, Clone, Serialize)]
pub struct Track {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<UserId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group_id: Option<GroupId>,
    #[serde(skip_serializing_if = "Attributes::is_empty")]
    attributes: Attributes,
    #[serde(skip_serializing_if = "Option::is_none")]
    time: Option<Timestamp>,
}

impl Track {
    /// Event `name` (letters, digits, `_`, `-`, space).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            user_id: None,
            group_id: None,
            attributes: Attributes::new(),
            time: None,
        }
    }
    /// The user.
    pub fn user_id(mut self, id: impl Into<UserId>) -> Self {
        self.user_id = Some(id.into());
        self
    }
    /// The group.
    pub fn group_id(mut self, id: impl Into<GroupId>) -> Self {
        self.group_id = Some(id.into());
        self
    }
    /// Sets one attribute.
    pub fn attribute(mut self, name: impl Into<String>, value: impl Into<AttributeValue>) -> Self {
        self.attributes.insert(name.into(), value.into());
        self
    }
    /// When it happened (default: time of receipt).
    pub fn time(mut self, time: Timestamp) -> Self {
        self.time = Some(time);
        self
    }
}

impl Request for Track {
    type Output = Event;
    fn build(&self) -> HttpRequest {
        let body = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        HttpRequest::new(Method::POST, "/events").json(body)
    }
}
