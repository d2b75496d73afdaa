//! Webhooks management (§9.1).

use serde::{Deserialize, Serialize};

/// App webhook settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookSettings {
    /// Delivery URL.
    pub target_url: String,
    /// Throttling.
    pub throttling: Throttling,
}

/// `{maxConcurrentRequests (> 5), period?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Throttling {
    /// Concurrent deliveries; must be greater than 5.
    pub max_concurrent_requests: u32,
    /// `SECONDLY` or `ROLLING_MINUTE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
}

/// A subscription as read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// Id (a string or number on the wire).
    pub id: crate::ids::ObjectId,
    /// E.g. `contact.propertyChange`.
    pub event_type: String,
    /// For propertyChange.
    #[serde(default)]
    pub property_name: Option<String>,
    /// For generic `object.*` types.
    #[serde(default)]
    pub object_type_id: Option<String>,
    /// New subscriptions start paused.
    #[serde(default)]
    pub active: bool,
}

/// Body of a subscription creation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionCreate {
    /// E.g. `contact.propertyChange`.
    pub event_type: String,
    /// For propertyChange only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property_name: Option<String>,
    /// Start active (HubSpot's default is paused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// For generic `object.*` types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_type_id: Option<String>,
}
