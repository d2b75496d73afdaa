//! Webhook subscriptions.

use serde::Deserialize;

use super::Timestamp;
use crate::ids::SubscriptionId;

/// `{id, object:"webhook_subscription", api_version, url, topics, disabled, secret?}`.
#[derive(Debug, Clone, Deserialize)]
pub struct WebhookSubscription {
    /// Subscription id.
    pub id: SubscriptionId,
    /// API version of the notifications.
    #[serde(default)]
    pub api_version: Option<String>,
    /// Target URL.
    pub url: String,
    /// Topics (`*`, `user`, `user.updated`, `event.tracked.<name>`, ...).
    #[serde(default)]
    pub topics: Vec<String>,
    /// Whether deliveries are paused.
    #[serde(default)]
    pub disabled: bool,
    /// Signing secret: returned on creation (store it then); later reads may omit it.
    #[serde(default)]
    pub secret: Option<String>,
    /// Creation time.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// Last change.
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
}
