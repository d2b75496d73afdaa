//! Batch (200/207) response shapes (§2.4).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `{status, results[], numErrors?, errors[]?, startedAt, completedAt}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct BatchResponse<T> {
    /// `COMPLETE`, `PENDING`, `PROCESSING` or `CANCELED`.
    #[serde(default)]
    pub status: Option<String>,
    /// The inputs that succeeded.
    #[serde(default = "Vec::new")]
    pub results: Vec<T>,
    /// Count of errors (207 only).
    #[serde(default)]
    pub num_errors: Option<u64>,
    /// Per-input errors (207 only).
    #[serde(default = "Vec::new")]
    pub errors: Vec<BatchError>,
}

impl<T> BatchResponse<T> {
    /// Ids reported missing by `OBJECT_NOT_FOUND` errors (`context.ids`).
    pub fn missing_ids(&self) -> Vec<String> {
        self.errors
            .iter()
            .filter(|e| e.category.as_deref() == Some("OBJECT_NOT_FOUND"))
            .flat_map(|e| e.context.get("ids").cloned().unwrap_or_default())
            .collect()
    }
}

/// One error of a 207 answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchError {
    /// Always `error`.
    #[serde(default)]
    pub status: Option<String>,
    /// `VALIDATION_ERROR`, `OBJECT_NOT_FOUND`, …
    #[serde(default)]
    pub category: Option<String>,
    /// Human-readable message (may embed `Property values were not valid: […]`).
    #[serde(default)]
    pub message: Option<String>,
    /// Context: `ids`, `objectWriteTraceId`, `propertyName`, …
    #[serde(default)]
    pub context: BTreeMap<String, Vec<String>>,
    /// The failing input's id, when sent.
    #[serde(default)]
    pub id: Option<String>,
    /// Sub-category, when sent.
    #[serde(default)]
    pub sub_category: Option<serde_json::Value>,
}

impl BatchError {
    /// The `objectWriteTraceId` of the failing input, when the batch carried trace ids.
    pub fn trace_id(&self) -> Option<&str> {
        self.context
            .get("objectWriteTraceId")
            .and_then(|v| v.first())
            .map(String::as_str)
    }

    /// The property named by this error, when it names one.
    pub fn property(&self) -> Option<String> {
        self.context
            .get("propertyName")
            .and_then(|v| v.first().cloned())
            .or_else(|| {
                self.message
                    .as_deref()
                    .and_then(crate::error::property_from_message)
            })
    }
}
