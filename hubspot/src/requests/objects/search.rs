use reqwest::Method;
use serde::Serialize;

use crate::models::object::CrmObject;
use crate::models::search::{Filter, FilterGroup, Sort};
use crate::page::paged_request;
use crate::requests::check_max;
use crate::{AuthKind, HttpRequest, ObjectType, Page, Request, Result, impl_send, seg};

/// `POST /crm/v3/objects/{objectType}/search`. Limits: `limit` ≤ 200, 10,000 results in
/// total, 5 requests/s per account, no rate-limit headers, new writes show up after a lag.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchObjects {
    #[serde(skip)]
    object_type: ObjectType,
    filter_groups: Vec<FilterGroup>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sorts: Vec<Sort>,
    #[serde(skip_serializing_if = "Option::is_none")]
    query: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    after: Option<String>,
}

impl SearchObjects {
    /// A search over `object_type`.
    pub fn new(object_type: ObjectType) -> Self {
        SearchObjects {
            object_type,
            filter_groups: Vec::new(),
            sorts: Vec::new(),
            query: None,
            properties: Vec::new(),
            limit: None,
            after: None,
        }
    }

    /// Adds a group of ANDed filters (groups are ORed; about 5 groups, 6 filters each).
    pub fn filter_group(mut self, filters: Vec<Filter>) -> Self {
        self.filter_groups.push(FilterGroup { filters });
        self
    }

    /// Sort rule (HubSpot honours one).
    pub fn sort(mut self, sort: Sort) -> Self {
        self.sorts = vec![sort];
        self
    }

    /// Free-text query over default fields.
    pub fn query(mut self, q: impl Into<String>) -> Self {
        self.query = Some(q.into());
        self
    }
}

paged_request!(
    properties,
    SearchObjects,
    CrmObject,
    limit = "Page size: default 10, at most 200.",
    paginate = "Every match (up to the 10,000 cap), following `paging.next.after`."
);

impl Request for SearchObjects {
    type Output = Page<CrmObject>;

    fn build(&self) -> Result<HttpRequest> {
        if let Some(l) = self.limit {
            check_max("search limit", l as usize, 200)?;
        }
        HttpRequest::new(
            Method::POST,
            format!("/crm/v3/objects/{}/search", seg(self.object_type.as_str())),
            AuthKind::Bearer,
        )
        .json(self)
    }
}

impl_send!(SearchObjects);
