//! `/event_definitions` (read only): known event names.

use reqwest::Method;

use crate::models::{self, EventDefinition};
use crate::requests::{ListParams, list_setters};
use crate::{HttpRequest, Request};

/// `GET /event_definitions`.
#[derive(Debug, Clone, Default)]
pub struct List {
    params: ListParams,
}

impl List {
    /// Every event definition.
    pub fn new() -> Self {
        Self::default()
    }
}

list_setters!(List, EventDefinition);

impl Request for List {
    type Output = models::List<EventDefinition>;
    fn build(&self) -> HttpRequest {
        self.params
            .apply(HttpRequest::new(Method::GET, "/event_definitions"))
    }
}
