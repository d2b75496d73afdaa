//! Serde wire types, written from `docs/userflow-api.md`.

pub mod attribute;
pub mod definition;
pub mod event;
pub mod group;
pub mod list;
pub mod notification;
pub mod user;
pub mod webhook_subscription;

pub use attribute::{AttributeOp, AttributeValue, Attributes, DataType, Operation};
pub use definition::{AttributeDefinition, AttributeScope, EventDefinition};
pub use event::Event;
pub use group::Group;
pub use list::{Deleted, List};
pub use notification::{Notification, NotificationData, NotificationObject, Topic};
pub use user::{Membership, User};
pub use webhook_subscription::WebhookSubscription;

/// Timestamps as Userflow sends them (`2022-11-29T12:34:56.000+00:00`).
pub type Timestamp = chrono::DateTime<chrono::FixedOffset>;

/// Attribute values as read back (any JSON value).
pub type AttributeMap = serde_json::Map<String, serde_json::Value>;
