//! `/webhook_subscriptions`.

use reqwest::Method;
use serde::Serialize;

use crate::ids::SubscriptionId;
use crate::models::{self, Deleted, WebhookSubscription};
use crate::requests::{ListParams, list_setters, seg};
use crate::{API_VERSION, HttpRequest, Request};

/// `POST /webhook_subscriptions`: the answer carries the `secret`; store it now, later reads
/// may not return it.
#[derive(Debug, Clone, Serialize)]
pub struct Create {
    api_version: &'static str,
    url: String,
    topics: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disabled: Option<bool>,
}

impl Create {
    /// Subscribes `url` to `topics` (`*`, `user`, `user.updated`, `event.tracked.<name>`, ...).
    pub fn new(
        url: impl Into<String>,
        topics: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            api_version: API_VERSION,
            url: url.into(),
            topics: topics.into_iter().map(Into::into).collect(),
            disabled: None,
        }
    }
    /// Creates it disabled.
    pub fn disabled(mut self, disabled: bool) -> Self {
        self.disabled = Some(disabled);
        self
    }
}

impl Request for Create {
    type Output = WebhookSubscription;
    fn build(&self) -> HttpRequest {
        let body = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        HttpRequest::new(Method::POST, "/webhook_subscriptions").json(body)
    }
}

/// `GET /webhook_subscriptions`.
#[derive(Debug, Clone, Default)]
pub struct List {
    params: ListParams,
}

impl List {
    /// Every subscription of the environment.
    pub fn new() -> Self {
        Self::default()
    }
}

list_setters!(List, WebhookSubscription);

impl Request for List {
    type Output = models::List<WebhookSubscription>;
    fn build(&self) -> HttpRequest {
        self.params
            .apply(HttpRequest::new(Method::GET, "/webhook_subscriptions"))
    }
}

/// `GET /webhook_subscriptions/{id}`.
#[derive(Debug, Clone)]
pub struct Get {
    id: SubscriptionId,
}

impl Get {
    /// Subscription `id`.
    pub fn new(id: impl Into<SubscriptionId>) -> Self {
        Self { id: id.into() }
    }
}

impl Request for Get {
    type Output = WebhookSubscription;
    fn build(&self) -> HttpRequest {
        HttpRequest::new(
            Method::GET,
            format!("/webhook_subscriptions/{}", seg(self.id.as_str())),
        )
    }
}

/// `PATCH /webhook_subscriptions/{id}`: any of `url`, `topics`, `disabled`.
#[derive(Debug, Clone, Serialize)]
pub struct Update {
    #[serde(skip)]
    id: SubscriptionId,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    topics: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disabled: Option<bool>,
}

impl Update {
    /// Changes subscription `id`.
    pub fn new(id: impl Into<SubscriptionId>) -> Self {
        Self {
            id: id.into(),
            url: None,
            topics: None,
            disabled: None,
        }
    }
    /// New target URL.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }
    /// New topic list (replaces the old one).
    pub fn topics(mut self, topics: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.topics = Some(topics.into_iter().map(Into::into).collect());
        self
    }
    /// Pauses or resumes deliveries.
    pub fn disabled(mut self, disabled: bool) -> Self {
        self.disabled = Some(disabled);
        self
    }
}

impl Request for Update {
    type Output = WebhookSubscription;
    fn build(&self) -> HttpRequest {
        let body = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        HttpRequest::new(
            Method::PATCH,
            format!("/webhook_subscriptions/{}", seg(self.id.as_str())),
        )
        .json(body)
    }
}

/// `DELETE /webhook_subscriptions/{id}`.
#[derive(Debug, Clone)]
pub struct Delete {
    id: SubscriptionId,
}

impl Delete {
    /// Subscription `id`.
    pub fn new(id: impl Into<SubscriptionId>) -> Self {
        Self { id: id.into() }
    }
}

impl Request for Delete {
    type Output = Deleted;
    fn build(&self) -> HttpRequest {
        HttpRequest::new(
            Method::DELETE,
            format!("/webhook_subscriptions/{}", seg(self.id.as_str())),
        )
    }
}
