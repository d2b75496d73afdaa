use reqwest::Method;
use serde_json::json;

use crate::models::batch::BatchResponse;
use crate::models::object::CrmObject;
use crate::requests::check_max;
use crate::{AuthKind, HttpRequest, ObjectType, Request, Result, impl_send, seg};

/// `POST /crm/v3/objects/{objectType}/batch/read`: up to 100 objects by id or `idProperty`.
/// A 207 answer lists the found objects in `results` and the missing ids in
/// [`BatchResponse::missing_ids`]. No associations on batch read.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchReadObjects {
    object_type: ObjectType,
    ids: Vec<String>,
    properties: Vec<String>,
    id_property: Option<String>,
}

impl BatchReadObjects {
    /// Read `ids` (at most 100) of `object_type`.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(
        object_type: ObjectType,
        ids: I,
    ) -> Self {
        BatchReadObjects {
            object_type,
            ids: ids.into_iter().map(Into::into).collect(),
            properties: Vec::new(),
            id_property: None,
        }
    }

    /// Properties to return.
    pub fn properties<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.properties = names.into_iter().map(Into::into).collect();
        self
    }

    /// The ids are values of this unique property (e.g. `email`).
    pub fn id_property(mut self, name: impl Into<String>) -> Self {
        self.id_property = Some(name.into());
        self
    }
}

impl Request for BatchReadObjects {
    type Output = BatchResponse<CrmObject>;

    fn build(&self) -> Result<HttpRequest> {
        check_max("batch read inputs", self.ids.len(), super::BATCH_MAX_INPUTS)?;
        let inputs: Vec<_> = self.ids.iter().map(|id| json!({ "id": id })).collect();
        let mut body = json!({ "inputs": inputs, "properties": self.properties });
        if let (Some(p), Some(o)) = (&self.id_property, body.as_object_mut()) {
            o.insert("idProperty".into(), json!(p));
        }
        HttpRequest::new(
            Method::POST,
            format!(
                "/crm/v3/objects/{}/batch/read",
                seg(self.object_type.as_str())
            ),
            AuthKind::Bearer,
        )
        .json(&body)
    }
}

impl_send!(BatchReadObjects);
