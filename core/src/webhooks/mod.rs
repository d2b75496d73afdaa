//! Webhook ingest decisions, free of I/O: parse what HubSpot and Userflow deliver and decide,
//! per event, which jobs to queue or why to drop it.
//!
//! - [`hubspot`]: the batched CRM change events of `POST /webhooks/hubspot` (≤ 100 per
//!   request), own-change detection, event → job, the per-event idempotency key.
//! - [`userflow`]: the one-notification requests of `POST /webhooks/userflow/{integration}`,
//!   notification → job, event-stream selection, the idempotency key.
//!
//! The api reads the integration rows and mappings, hands the facts to these functions, and
//! queues the jobs they return in one call; counting what was dropped uses [`IgnoreReason`].

pub mod hubspot;
pub mod userflow;

use crate::jobs::Job;

/// Why an event or notification was not queued. The string forms are the keys of the
/// `ignored` object in ingest answers, so they are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IgnoreReason {
    /// No integration has this HubSpot portal.
    UnknownPortal,
    /// The integration is not connected yet.
    IntegrationPending,
    /// The integration was disconnected.
    IntegrationDisconnected,
    /// A change hubsync itself made through HubSpot's API (an echo of our own write).
    OwnChange,
    /// A property change of a property no enabled mapping reads.
    UnmappedProperty,
    /// An event type hubsync does not act on (e.g. `ticket.creation`, `contact.newMessage`).
    UnsupportedEvent,
    /// An event whose fields could not be read (missing ids, wrong types).
    InvalidEvent,
    /// A tracked Userflow event that no enabled mapping streams.
    NotStreamed,
}

impl IgnoreReason {
    /// Every reason, in declaration order.
    pub const ALL: &'static [Self] = &[
        Self::UnknownPortal,
        Self::IntegrationPending,
        Self::IntegrationDisconnected,
        Self::OwnChange,
        Self::UnmappedProperty,
        Self::UnsupportedEvent,
        Self::InvalidEvent,
        Self::NotStreamed,
    ];

    /// The key in ingest answers and logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::UnknownPortal => "unknown_portal",
            Self::IntegrationPending => "integration_pending",
            Self::IntegrationDisconnected => "integration_disconnected",
            Self::OwnChange => "own_change",
            Self::UnmappedProperty => "unmapped_property",
            Self::UnsupportedEvent => "unsupported_event",
            Self::InvalidEvent => "invalid_event",
            Self::NotStreamed => "not_streamed",
        }
    }
}

impl std::fmt::Display for IgnoreReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to do with one event.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Queue these jobs (never empty).
    Queue(Vec<Job>),
    /// Drop the event and count it under this reason.
    Ignore(IgnoreReason),
}

impl Decision {
    /// `Queue(jobs)`, or `Ignore(otherwise)` when `jobs` is empty.
    pub fn queue_or(jobs: Vec<Job>, otherwise: IgnoreReason) -> Self {
        if jobs.is_empty() {
            Self::Ignore(otherwise)
        } else {
            Self::Queue(jobs)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_keys_are_unique_snake_case() {
        let mut names: Vec<_> = IgnoreReason::ALL.iter().map(|r| r.as_str()).collect();
        assert!(
            names
                .iter()
                .all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        );
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), IgnoreReason::ALL.len());
    }

    #[test]
    fn empty_job_list_becomes_the_fallback_reason() {
        assert_eq!(
            Decision::queue_or(vec![], IgnoreReason::UnsupportedEvent),
            Decision::Ignore(IgnoreReason::UnsupportedEvent)
        );
    }
}
