//! `/attribute_definitions` (read only): names and data types, to validate mappings.

use reqwest::Method;

use crate::models::{self, AttributeDefinition, AttributeScope};
use crate::requests::{ListParams, list_setters};
use crate::{HttpRequest, Request};

/// `GET /attribute_definitions?scope=`.
#[derive(Debug, Clone, Default)]
pub struct List {
    params: ListParams,
    scope: Option<AttributeScope>,
}

impl List {
    /// Definitions of every scope.
    pub fn new() -> Self {
        Self::default()
    }
    /// Only `scope` (`user`, `group`, `membership`, `event`).
    pub fn scope(mut self, scope: AttributeScope) -> Self {
        self.scope = Some(scope);
        self
    }
}

list_setters!(List, AttributeDefinition);

impl Request for List {
    type Output = models::List<AttributeDefinition>;
    fn build(&self) -> HttpRequest {
        let req = HttpRequest::new(Method::GET, "/attribute_definitions")
            .query_opt("scope", self.scope.map(AttributeScope::as_str));
        self.params.apply(req)
    }
}
