//! Webhooks management (§9.1), developer key, under `/webhooks/v3/{appId}`.

use reqwest::Method;
use serde_json::json;

use crate::models::webhooks::{Subscription, SubscriptionCreate, WebhookSettings};
use crate::{AppId, AuthKind, HttpRequest, Page, Request, Result, impl_send, seg};

/// `GET /webhooks/v3/{appId}/settings` (404 before any `PUT`).
#[derive(Debug, Clone, PartialEq)]
pub struct GetWebhookSettings {
    app_id: AppId,
}

impl GetWebhookSettings {
    /// Settings of `app_id`.
    pub fn new(app_id: AppId) -> Self {
        GetWebhookSettings { app_id }
    }
}

impl Request for GetWebhookSettings {
    type Output = WebhookSettings;

    fn build(&self) -> Result<HttpRequest> {
        Ok(HttpRequest::new(
            Method::GET,
            format!("/webhooks/v3/{}/settings", self.app_id),
            AuthKind::DeveloperKey,
        ))
    }
}

impl_send!(GetWebhookSettings);

/// `PUT /webhooks/v3/{appId}/settings` `{targetUrl, throttling}`; `maxConcurrentRequests` > 5.
#[derive(Debug, Clone, PartialEq)]
pub struct PutWebhookSettings {
    app_id: AppId,
    settings: WebhookSettings,
}

impl PutWebhookSettings {
    /// Replace the settings of `app_id`.
    pub fn new(app_id: AppId, settings: WebhookSettings) -> Self {
        PutWebhookSettings { app_id, settings }
    }
}

impl Request for PutWebhookSettings {
    type Output = WebhookSettings;

    fn build(&self) -> Result<HttpRequest> {
        HttpRequest::new(
            Method::PUT,
            format!("/webhooks/v3/{}/settings", self.app_id),
            AuthKind::DeveloperKey,
        )
        .json(&self.settings)
    }
}

impl_send!(PutWebhookSettings);

/// `GET /webhooks/v3/{appId}/subscriptions`.
#[derive(Debug, Clone, PartialEq)]
pub struct ListSubscriptions {
    app_id: AppId,
}

impl ListSubscriptions {
    /// Subscriptions of `app_id`.
    pub fn new(app_id: AppId) -> Self {
        ListSubscriptions { app_id }
    }
}

impl Request for ListSubscriptions {
    type Output = Page<Subscription>;

    fn build(&self) -> Result<HttpRequest> {
        Ok(HttpRequest::new(
            Method::GET,
            format!("/webhooks/v3/{}/subscriptions", self.app_id),
            AuthKind::DeveloperKey,
        ))
    }
}

impl_send!(ListSubscriptions);

/// `POST /webhooks/v3/{appId}/subscriptions`; new subscriptions start paused unless
/// `active`; at most 1,000 per app; a duplicate is a 400.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateSubscription {
    app_id: AppId,
    subscription: SubscriptionCreate,
}

impl CreateSubscription {
    /// Create `subscription` for `app_id`.
    pub fn new(app_id: AppId, subscription: SubscriptionCreate) -> Self {
        CreateSubscription {
            app_id,
            subscription,
        }
    }
}

impl Request for CreateSubscription {
    type Output = Subscription;

    fn build(&self) -> Result<HttpRequest> {
        HttpRequest::new(
            Method::POST,
            format!("/webhooks/v3/{}/subscriptions", self.app_id),
            AuthKind::DeveloperKey,
        )
        .json(&self.subscription)
    }
}

impl_send!(CreateSubscription);

/// `PATCH /webhooks/v3/{appId}/subscriptions/{id}` `{active}`.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateSubscription {
    app_id: AppId,
    id: String,
    active: bool,
}

impl UpdateSubscription {
    /// Activate or pause subscription `id`.
    pub fn new(app_id: AppId, id: impl Into<String>, active: bool) -> Self {
        UpdateSubscription {
            app_id,
            id: id.into(),
            active,
        }
    }
}

impl Request for UpdateSubscription {
    type Output = Subscription;

    fn build(&self) -> Result<HttpRequest> {
        HttpRequest::new(
            Method::PATCH,
            format!(
                "/webhooks/v3/{}/subscriptions/{}",
                self.app_id,
                seg(&self.id)
            ),
            AuthKind::DeveloperKey,
        )
        .json(&json!({ "active": self.active }))
    }
}

impl_send!(UpdateSubscription);

/// `DELETE /webhooks/v3/{appId}/subscriptions/{id}` → 204.
#[derive(Debug, Clone, PartialEq)]
pub struct DeleteSubscription {
    app_id: AppId,
    id: String,
}

impl DeleteSubscription {
    /// Delete subscription `id`.
    pub fn new(app_id: AppId, id: impl Into<String>) -> Self {
        DeleteSubscription {
            app_id,
            id: id.into(),
        }
    }
}

impl Request for DeleteSubscription {
    type Output = ();

    fn build(&self) -> Result<HttpRequest> {
        Ok(HttpRequest::new(
            Method::DELETE,
            format!(
                "/webhooks/v3/{}/subscriptions/{}",
                self.app_id,
                seg(&self.id)
            ),
            AuthKind::DeveloperKey,
        ))
    }
}

impl_send!(DeleteSubscription);
