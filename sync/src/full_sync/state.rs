//! What a shard remembers between pages: its mapping, where the next Userflow page starts and
//! its counts. Stored as JSON in `full_sync_shards.cursor`, so one row update checkpoints the
//! position and the counts together (a resumed shard never counts a page twice).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The checkpoint of one shard.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardState {
    /// The object mapping this shard pages through (fixed when the run is created).
    pub mapping_id: Uuid,
    /// `starting_after` of the next Userflow page: the last id of the last page read.
    /// `None` before the first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Pages read.
    #[serde(default)]
    pub pages: u64,
    /// Userflow objects read.
    #[serde(default)]
    pub seen: u64,
    /// Of those, found in HubSpot by the mapping's match key.
    #[serde(default)]
    pub matched: u64,
    /// Per-object sync jobs queued (two per matched pair).
    #[serde(default)]
    pub queued: u64,
    /// Objects HubSpot answered an error for (other than "not found").
    #[serde(default)]
    pub failed: u64,
    /// Why the shard failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ShardState {
    /// A shard of `mapping_id` that has read nothing yet.
    pub fn new(mapping_id: Uuid) -> Self {
        Self {
            mapping_id,
            ..Self::default()
        }
    }

    /// The state stored in a `cursor` column; `None` when absent or not ours.
    pub fn parse(raw: Option<&str>) -> Option<Self> {
        raw.and_then(|r| serde_json::from_str(r).ok())
    }

    /// The JSON stored in the `cursor` column.
    pub fn encode(&self) -> String {
        // A struct of strings, numbers and a UUID always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// `seen` as the signed count the `processed` columns hold.
    pub(crate) fn seen_i64(&self) -> i64 {
        i64::try_from(self.seen).unwrap_or(i64::MAX)
    }

    /// `failed` as a signed count.
    pub(crate) fn failed_i64(&self) -> i64 {
        i64::try_from(self.failed).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_tolerates_foreign_cursors() {
        let mut s = ShardState::new(Uuid::new_v4());
        assert_eq!(ShardState::parse(Some(&s.encode())), Some(s.clone()));
        s.after = Some("u_0100".into());
        s.seen = 100;
        s.matched = 20;
        s.queued = 40;
        let json = s.encode();
        assert!(json.contains("\"after\":\"u_0100\""), "{json}");
        assert_eq!(ShardState::parse(Some(&json)), Some(s));
        assert_eq!(ShardState::parse(Some("not json")), None);
        assert_eq!(ShardState::parse(None), None);
    }
}
