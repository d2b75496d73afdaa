//! Dry run of one mapping: the same engine code as a sync in [`Mode::Plan`], over a sample of
//! HubSpot objects (or the ones asked for). Per object: the Userflow object it pairs with (or
//! none), and per direction the fields a sync would write with their old and new values.
//! Nothing is written anywhere.

use hubsync_hubspot::ObjectType;
use hubsync_hubspot::requests::objects::ListObjects;
use serde::Serialize;
use uuid::Uuid;

use super::{
    Engine, EngineError, FieldChange, Mode, ObjectSync, Outcome, from_hubspot, from_userflow,
};
use crate::Tenant;
use crate::ratelimit::CallKind;

/// Objects sampled when none are named.
pub const DEFAULT_SAMPLE: u32 = 5;
/// Most objects one dry run looks at.
pub const MAX_SAMPLE: u32 = 50;

/// One object of a dry run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreviewObject {
    pub hubspot_object_id: String,
    /// The paired Userflow object; `None` when it is not in both systems.
    pub userflow_object_id: Option<String>,
    pub in_both_systems: bool,
    /// Why nothing would happen, when nothing would.
    pub skipped: Option<String>,
    pub to_userflow: Vec<FieldChange>,
    pub to_hubspot: Vec<FieldChange>,
}

/// A dry run's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Preview {
    pub mapping_id: Uuid,
    pub hubspot_object_type: String,
    pub userflow_object_type: String,
    pub objects: Vec<PreviewObject>,
}

/// Why a dry run could not start.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error("mapping {0} not found or not enabled")]
    MappingNotFound(Uuid),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// Plans mapping `mapping_id` of `tenant` for `object_ids`, or for the first `sample` HubSpot
/// objects of its type.
pub async fn dry_run(
    tenant: Tenant,
    mapping_id: Uuid,
    sample: u32,
    object_ids: &[String],
) -> Result<Preview, PreviewError> {
    let engine = Engine::new(tenant, Mode::Plan, None).await?;
    let mapping = engine
        .mappings
        .iter()
        .find(|m| m.id() == mapping_id)
        .ok_or(PreviewError::MappingNotFound(mapping_id))?;
    let ids: Vec<String> = if object_ids.is_empty() {
        let list = ListObjects::new(ObjectType::from(mapping.hubspot_type()))
            .limit(sample.clamp(1, MAX_SAMPLE));
        engine
            .hubspot(&list, CallKind::Standard)
            .await?
            .results
            .into_iter()
            .map(|o| o.id.as_str().to_owned())
            .collect()
    } else {
        object_ids
            .iter()
            .take(MAX_SAMPLE as usize)
            .cloned()
            .collect()
    };
    let mut objects = Vec::with_capacity(ids.len());
    for id in ids {
        let planned =
            from_hubspot::sync(&engine, mapping.hubspot_type(), &id, Some(mapping_id)).await?;
        let mut obj = PreviewObject {
            hubspot_object_id: id.clone(),
            userflow_object_id: None,
            in_both_systems: false,
            skipped: None,
            to_userflow: Vec::new(),
            to_hubspot: Vec::new(),
        };
        if let Some(h) = planned.into_iter().next() {
            obj.userflow_object_id = h.userflow_object_id.clone();
            obj.in_both_systems = h.userflow_object_id.is_some();
            obj.skipped = skip_reason(&h);
            obj.to_userflow = h.changes;
        }
        if let Some(uf_id) = obj.userflow_object_id.clone()
            && !mapping.to_hubspot.is_empty()
        {
            let back =
                from_userflow::sync(&engine, mapping.kind(), &uf_id, Some(mapping_id)).await?;
            if let Some(u) = back.into_iter().next() {
                obj.to_hubspot = u.changes;
            }
        }
        if !obj.to_hubspot.is_empty() || !obj.to_userflow.is_empty() {
            obj.skipped = None;
        }
        objects.push(obj);
    }
    Ok(Preview {
        mapping_id,
        hubspot_object_type: mapping.hubspot_type().to_owned(),
        userflow_object_type: mapping.kind().as_str().to_owned(),
        objects,
    })
}

fn skip_reason(s: &ObjectSync) -> Option<String> {
    match &s.outcome {
        Outcome::Skipped { reason } => Some(reason.clone()),
        Outcome::Synced { .. } => None,
    }
}
