//! The payload of every job the cluster queues, and the keys that deduplicate and coalesce
//! them (design notes §2).
//!
//! One queue holds one payload type, so every kind of work is a variant of [`Job`]; the
//! queue's tenant is always the integration id ([`Job::tenant`]), which gives each integration
//! its fair share of the workers.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The two queues jobs go to: webhooks are `realtime`, full syncs are `bulk`.
pub const REALTIME: &str = "realtime";
/// See [`REALTIME`].
pub const BULK: &str = "bulk";

/// The Userflow object kinds hubsync syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserflowKind {
    User,
    Group,
}

impl UserflowKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Group => "group",
        }
    }
}

/// Every unit of work a worker runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "job", rename_all = "snake_case")]
pub enum Job {
    /// Re-read one HubSpot object and write its mapped fields to the linked Userflow object.
    SyncFromHubspot(SyncFromHubspot),
    /// Re-read one Userflow user or group and write its mapped attributes to HubSpot.
    SyncFromUserflow(SyncFromUserflow),
    /// Post one tracked Userflow event to the HubSpot timeline of the linked object.
    PostTimelineEvent(PostTimelineEvent),
    /// A HubSpot object was deleted or merged: unlink it, or move its link to the survivor.
    HubspotRemoved(HubspotRemoved),
    /// Create what the integration's mappings need in HubSpot (property group, properties,
    /// timeline templates) and say in the integration status what could not be created.
    EnsureSchema(EnsureSchema),
    /// One shard of a full sync run: page through its share of objects and queue their syncs.
    FullSyncShard(FullSyncShard),
}

impl Job {
    /// The integration this job works for; also the queue tenant.
    pub fn integration_id(&self) -> Uuid {
        match self {
            Self::SyncFromHubspot(j) => j.integration_id,
            Self::SyncFromUserflow(j) => j.integration_id,
            Self::PostTimelineEvent(j) => j.integration_id,
            Self::HubspotRemoved(j) => j.integration_id,
            Self::EnsureSchema(j) => j.integration_id,
            Self::FullSyncShard(j) => j.integration_id,
        }
    }

    /// The queue tenant: the integration id.
    pub fn tenant(&self) -> String {
        self.integration_id().to_string()
    }

    /// Short name of the kind, as in logs and the sync log.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::SyncFromHubspot(_) => "sync-from-hubspot",
            Self::SyncFromUserflow(_) => "sync-from-userflow",
            Self::PostTimelineEvent(_) => "post-timeline-event",
            Self::HubspotRemoved(_) => "hubspot-removed",
            Self::EnsureSchema(_) => "ensure-schema",
            Self::FullSyncShard(_) => "full-sync-shard",
        }
    }

    /// Jobs with the same key that are still waiting run once: a burst of changes to one
    /// object becomes one sync that reads the latest values.
    pub fn coalesce_key(&self) -> Option<String> {
        match self {
            Self::SyncFromHubspot(j) => Some(format!(
                "hs:{}:{}:{}",
                j.integration_id, j.object_type, j.object_id
            )),
            Self::SyncFromUserflow(j) => Some(format!(
                "uf:{}:{}:{}",
                j.integration_id,
                j.kind.as_str(),
                j.id
            )),
            Self::EnsureSchema(j) => Some(format!("schema:{}", j.integration_id)),
            Self::PostTimelineEvent(_) | Self::HubspotRemoved(_) | Self::FullSyncShard(_) => None,
        }
    }
}

/// See [`Job::SyncFromHubspot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncFromHubspot {
    pub integration_id: Uuid,
    /// HubSpot object type as mappings name it: `contacts`, `companies`, `deals`, or a custom
    /// object's type id (`2-123456`).
    pub object_type: String,
    pub object_id: String,
}

/// See [`Job::SyncFromUserflow`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncFromUserflow {
    pub integration_id: Uuid,
    pub kind: UserflowKind,
    /// The user id given to `identify`, or the group id.
    pub id: String,
    /// Attributes the notification said changed (empty when unknown, e.g. in a full sync).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<String>,
}

/// See [`Job::PostTimelineEvent`]. Carries the event itself: Userflow has no API to read one
/// event back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostTimelineEvent {
    pub integration_id: Uuid,
    /// Userflow's event id; also the HubSpot timeline event id, so a retry never doubles it.
    pub event_id: String,
    /// `flow_started`, `checklist_task_completed`, `survey_question_answered`, …
    pub name: String,
    pub user_id: Option<String>,
    pub group_id: Option<String>,
    /// When the event happened (RFC 3339).
    pub time: String,
    #[serde(default)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// See [`Job::HubspotRemoved`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubspotRemoved {
    pub integration_id: Uuid,
    pub object_type: String,
    pub object_id: String,
    /// For a merge: the surviving object, which takes over the link.
    pub merged_into: Option<String>,
}

/// See [`Job::EnsureSchema`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnsureSchema {
    pub integration_id: Uuid,
}

/// See [`Job::FullSyncShard`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FullSyncShard {
    pub integration_id: Uuid,
    pub run_id: Uuid,
    pub shard: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_tagged_and_round_trip() {
        let id = Uuid::nil();
        let job = Job::SyncFromUserflow(SyncFromUserflow {
            integration_id: id,
            kind: UserflowKind::Group,
            id: "g1".into(),
            changed: vec![],
        });
        let json = serde_json::to_value(&job).expect("serialize");
        assert_eq!(json["job"], "sync_from_userflow");
        assert_eq!(json["kind"], "group");
        assert!(json.get("changed").is_none());
        let back: Job = serde_json::from_value(json).expect("deserialize");
        assert_eq!(back, job);
        assert_eq!(back.tenant(), id.to_string());
    }

    #[test]
    fn coalescing_is_per_object() {
        let a = Job::SyncFromHubspot(SyncFromHubspot {
            integration_id: Uuid::nil(),
            object_type: "contacts".into(),
            object_id: "1".into(),
        });
        let b = Job::SyncFromHubspot(SyncFromHubspot {
            integration_id: Uuid::nil(),
            object_type: "contacts".into(),
            object_id: "2".into(),
        });
        assert_ne!(a.coalesce_key(), b.coalesce_key());
        assert_eq!(
            a.coalesce_key().as_deref(),
            Some("hs:00000000-0000-0000-0000-000000000000:contacts:1")
        );
        let ev = Job::PostTimelineEvent(PostTimelineEvent {
            integration_id: Uuid::nil(),
            event_id: "e".into(),
            name: "flow_started".into(),
            user_id: Some("u".into()),
            group_id: None,
            time: "2026-01-01T00:00:00Z".into(),
            attributes: Default::default(),
        });
        assert_eq!(ev.coalesce_key(), None);
        assert_eq!(ev.kind(), "post-timeline-event");
    }
}
