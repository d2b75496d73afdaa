use reqwest::Method;

use crate::models::timeline::EventTemplate;
use crate::{AppId, AuthKind, HttpRequest, Page, Request, Result, impl_send};

/// `GET {prefix}/{appId}/event-templates` (developer key): every template of the app.
#[derive(Debug, Clone, PartialEq)]
pub struct ListEventTemplates {
    app_id: AppId,
}

impl ListEventTemplates {
    /// Templates of `app_id`.
    pub fn new(app_id: AppId) -> Self {
        ListEventTemplates { app_id }
    }
}

impl Request for ListEventTemplates {
    type Output = Page<EventTemplate>;

    fn build(&self) -> Result<HttpRequest> {
        Ok(HttpRequest::new(
            Method::GET,
            format!("{}/{}/event-templates", super::PREFIX, self.app_id),
            AuthKind::DeveloperKey,
        ))
    }
}

impl_send!(ListEventTemplates);
