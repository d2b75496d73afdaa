use reqwest::Method;

use crate::models::timeline::{TimelineEvent, TimelineEventResponse};
use crate::{AuthKind, HttpRequest, Request, Result, impl_send};

/// `POST {prefix}/events` (OAuth token of the template's app) → 201. Give the event an `id`
/// so a retry never doubles it.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateTimelineEvent {
    event: TimelineEvent,
}

impl CreateTimelineEvent {
    /// Create `event`.
    pub fn new(event: TimelineEvent) -> Self {
        CreateTimelineEvent { event }
    }
}

impl Request for CreateTimelineEvent {
    type Output = TimelineEventResponse;

    fn build(&self) -> Result<HttpRequest> {
        HttpRequest::new(
            Method::POST,
            format!("{}/events", super::PREFIX),
            AuthKind::Bearer,
        )
        .json(&self.event)
    }
}

impl_send!(CreateTimelineEvent);
