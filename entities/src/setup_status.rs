//! `integrations.setup_status`: what the last HubSpot schema setup and the last webhook
//! reconciliation did for an integration, as shown by the status endpoint. Written by the
//! schema-setup job and after mapping saves; never read by the sync itself.

use chrono::{DateTime, Utc};
use sea_orm::FromJsonQueryResult;
use serde::{Deserialize, Serialize};

/// Where the schema setup of an integration stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SetupState {
    /// Mappings changed; a setup job is queued.
    #[default]
    Pending,
    /// The last setup finished; `schema.problems` may still list what needs an operator.
    Done,
    /// The last setup could not run to the end (`error` says why).
    Failed,
}

/// The whole column.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct SetupStatus {
    pub state: SetupState,
    /// When `state` last changed.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    /// Why the last setup failed.
    #[serde(default)]
    pub error: Option<String>,
    /// The last schema setup's report.
    #[serde(default)]
    pub schema: Option<SetupReport>,
    /// The last webhook reconciliation's report.
    #[serde(default)]
    pub webhooks: Option<WebhookReport>,
}

/// Whether timeline events can be posted for the integration's streams.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimelineAvailability {
    /// No mapping streams events.
    #[default]
    NotNeeded,
    /// Templates exist; events go to the timeline.
    Available,
    /// The app cannot use the timeline API; `last_<event>_at` properties are written instead.
    Unavailable,
}

/// What one schema setup found and did. Names are `<object type>.<property>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupReport {
    /// Object types the property group was created on.
    #[serde(default)]
    pub groups_created: Vec<String>,
    /// Properties created.
    #[serde(default)]
    pub properties_created: Vec<String>,
    /// Properties that were already there with the right type.
    #[serde(default)]
    pub properties_present: Vec<String>,
    /// Event names a timeline template was created for.
    #[serde(default)]
    pub templates_created: Vec<String>,
    /// Event names whose template already existed.
    #[serde(default)]
    pub templates_present: Vec<String>,
    #[serde(default)]
    pub timeline: TimelineAvailability,
    /// Why the timeline is unavailable.
    #[serde(default)]
    pub timeline_reason: Option<String>,
    /// `last_<event>_at` properties used instead of templates (created or present).
    #[serde(default)]
    pub fallback_properties: Vec<String>,
    /// What an operator must fix (a property with another type, a refused call).
    #[serde(default)]
    pub problems: Vec<String>,
}

/// What one reconciliation of the app's webhook settings and subscriptions found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookReport {
    /// Whether HubSpot now matches what the mappings need.
    pub in_line: bool,
    /// The target URL hubsync wants.
    #[serde(default)]
    pub target_url: Option<String>,
    /// What differed before this run (`target URL was …`, `missing contact.creation`, …).
    #[serde(default)]
    pub drift: Vec<String>,
    /// Subscriptions created (`contact.propertyChange:email`).
    #[serde(default)]
    pub created: Vec<String>,
    /// Subscriptions deleted.
    #[serde(default)]
    pub deleted: Vec<String>,
    /// Paused subscriptions activated.
    #[serde(default)]
    pub activated: Vec<String>,
    /// Why it is not in line.
    #[serde(default)]
    pub problems: Vec<String>,
    #[serde(default)]
    pub checked_at: Option<DateTime<Utc>>,
}
