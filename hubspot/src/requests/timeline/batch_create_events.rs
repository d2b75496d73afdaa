use reqwest::Method;
use serde_json::json;

use crate::models::batch::BatchResponse;
use crate::models::timeline::{TimelineEvent, TimelineEventResponse};
use crate::requests::check_max;
use crate::{AuthKind, HttpRequest, Request, Result, impl_send};

/// `POST {prefix}/events/batch/create` → 201 / 207. The batch size is undocumented; the legacy
/// limit of 100 is enforced.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchCreateTimelineEvents {
    events: Vec<TimelineEvent>,
}

impl BatchCreateTimelineEvents {
    /// Create `events` (at most 100).
    pub fn new(events: Vec<TimelineEvent>) -> Self {
        BatchCreateTimelineEvents { events }
    }
}

impl Request for BatchCreateTimelineEvents {
    type Output = BatchResponse<TimelineEventResponse>;

    fn build(&self) -> Result<HttpRequest> {
        check_max("timeline batch inputs", self.events.len(), 100)?;
        HttpRequest::new(
            Method::POST,
            format!("{}/events/batch/create", super::PREFIX),
            AuthKind::Bearer,
        )
        .json(&json!({ "inputs": self.events }))
    }
}

impl_send!(BatchCreateTimelineEvents);
