use std::collections::BTreeMap;

use reqwest::Method;
use serde::Serialize;
use serde_json::json;

use crate::models::batch::BatchResponse;
use crate::models::object::CrmObject;
use crate::requests::check_max;
use crate::{AuthKind, HttpRequest, ObjectType, Request, Result, impl_send, seg};

/// One input of a batch update.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchUpdateInput {
    /// Object id (or a value of `id_property`).
    pub id: String,
    /// Unique property `id` refers to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_property: Option<String>,
    /// Values to write.
    pub properties: BTreeMap<String, String>,
    /// Trace id; when every input has a unique one, HubSpot answers 207 with per-input errors
    /// instead of failing the whole batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_write_trace_id: Option<String>,
}

impl BatchUpdateInput {
    /// An input for `id` with `properties`.
    pub fn new(id: impl Into<String>, properties: BTreeMap<String, String>) -> Self {
        BatchUpdateInput {
            id: id.into(),
            id_property: None,
            properties,
            object_write_trace_id: None,
        }
    }

    /// Sets the trace id.
    pub fn trace_id(mut self, trace: impl Into<String>) -> Self {
        self.object_write_trace_id = Some(trace.into());
        self
    }
}

/// `POST /crm/v3/objects/{objectType}/batch/update`: up to 100 inputs; 200 or 207 with
/// per-input errors ([`crate::models::batch::BatchError::trace_id`]). Merged-away ids are
/// rejected here (they work on single PATCH).
#[derive(Debug, Clone, PartialEq)]
pub struct BatchUpdateObjects {
    object_type: ObjectType,
    inputs: Vec<BatchUpdateInput>,
}

impl BatchUpdateObjects {
    /// Update `inputs` (at most 100) of `object_type`.
    pub fn new(object_type: ObjectType, inputs: Vec<BatchUpdateInput>) -> Self {
        BatchUpdateObjects {
            object_type,
            inputs,
        }
    }
}

impl Request for BatchUpdateObjects {
    type Output = BatchResponse<CrmObject>;

    fn build(&self) -> Result<HttpRequest> {
        check_max(
            "batch update inputs",
            self.inputs.len(),
            super::BATCH_MAX_INPUTS,
        )?;
        HttpRequest::new(
            Method::POST,
            format!(
                "/crm/v3/objects/{}/batch/update",
                seg(self.object_type.as_str())
            ),
            AuthKind::Bearer,
        )
        .json(&json!({ "inputs": self.inputs }))
    }
}

impl_send!(BatchUpdateObjects);
