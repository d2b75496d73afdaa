use reqwest::Method;

use crate::models::timeline::{EventTemplate, EventTemplateCreate};
use crate::{AppId, AuthKind, HttpRequest, Request, Result, impl_send};

/// `POST {prefix}/{appId}/event-templates` (developer key) → 201. At most 750 per app.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateEventTemplate {
    app_id: AppId,
    template: EventTemplateCreate,
}

impl CreateEventTemplate {
    /// Create `template` for `app_id`.
    pub fn new(app_id: AppId, template: EventTemplateCreate) -> Self {
        CreateEventTemplate { app_id, template }
    }
}

impl Request for CreateEventTemplate {
    type Output = EventTemplate;

    fn build(&self) -> Result<HttpRequest> {
        HttpRequest::new(
            Method::POST,
            format!("{}/{}/event-templates", super::PREFIX, self.app_id),
            AuthKind::DeveloperKey,
        )
        .json(&self.template)
    }
}

impl_send!(CreateEventTemplate);
