//! Userflow → HubSpot for one user or group (`SyncFromUserflow`, design notes §4): read the
//! object, find the HubSpot object by the match key, write only the `userflow_*` properties
//! that differ and are not our own write coming back, in one PATCH.

use std::collections::BTreeMap;

use hubsync_core::jobs::UserflowKind;
use hubsync_core::mapping::diff::{self, FieldDecision, FieldInput};
use hubsync_core::mapping::values;
use hubsync_entities::{SyncDirection, skip_reason};
use hubsync_hubspot::ObjectType;
use hubsync_hubspot::models::object::CrmObject;
use hubsync_hubspot::requests::objects::UpdateObject;
use serde_json::Value;
use uuid::Uuid;

use super::mappings::Mapping;
use super::pair::Pair;
use super::{Engine, EngineError, FieldChange, ObjectSync, Outcome, UserflowObject, log};
use crate::ratelimit::CallKind;

const DIRECTION: SyncDirection = SyncDirection::UserflowToHubspot;

/// Syncs Userflow `kind` `id` through every enabled mapping of that kind (or only `only`).
pub async fn sync(
    engine: &Engine,
    kind: UserflowKind,
    id: &str,
    only: Option<Uuid>,
) -> Result<Vec<ObjectSync>, EngineError> {
    let mappings: Vec<&Mapping> = engine
        .mappings
        .iter()
        .filter(|m| m.kind() == kind && only.is_none_or(|o| o == m.id()))
        .collect();
    if mappings.is_empty() {
        return Ok(Vec::new());
    }
    let object = match engine.read_userflow(kind, id).await {
        Ok(o) => o,
        Err(e) => {
            let mut entry = engine.entry(mappings[0], DIRECTION);
            entry.userflow_object_id = Some(id.to_owned());
            return Err(engine.failed(&entry, e).await);
        }
    };
    let mut out = Vec::new();
    for mapping in mappings {
        let mut entry = engine.entry(mapping, DIRECTION);
        entry.userflow_object_id = Some(id.to_owned());
        let Some(object) = &object else {
            out.push(ObjectSync {
                mapping_id: mapping.id(),
                direction: DIRECTION,
                hubspot_object_id: None,
                userflow_object_id: Some(id.to_owned()),
                outcome: engine.skip(&entry, "userflow_object_not_found").await?,
                changes: Vec::new(),
            });
            continue;
        };
        match sync_object(engine, mapping, object, &mut entry).await {
            Ok(s) => out.push(s),
            Err(e) => return Err(engine.failed(&entry, e).await),
        }
    }
    Ok(out)
}

/// The HubSpot properties a U→H sync of `mapping` reads.
pub fn read_properties(mapping: &Mapping) -> Vec<String> {
    mapping
        .to_hubspot
        .iter()
        .map(|f| f.target.clone())
        .collect()
}

/// Syncs an already-read Userflow object through `mapping`.
pub async fn sync_object(
    engine: &Engine,
    mapping: &Mapping,
    object: &UserflowObject,
    entry: &mut log::Entry,
) -> Result<ObjectSync, EngineError> {
    let mut result = ObjectSync {
        mapping_id: mapping.id(),
        direction: DIRECTION,
        hubspot_object_id: None,
        userflow_object_id: Some(object.id.clone()),
        outcome: Outcome::skipped(skip_reason::NOT_IN_BOTH_SYSTEMS),
        changes: Vec::new(),
    };
    let found = engine
        .find_hubspot_for(mapping, object, &read_properties(mapping))
        .await?;
    let Some(target) = found else {
        result.outcome = engine.skip(entry, skip_reason::NOT_IN_BOTH_SYSTEMS).await?;
        return Ok(result);
    };
    let hs_id = target.id.as_str().to_owned();
    entry.hubspot_object_id = Some(hs_id.clone());
    result.hubspot_object_id = Some(hs_id);
    let (outcome, changes) = apply(engine, mapping, object, &target, entry).await?;
    result.outcome = outcome;
    result.changes = changes;
    Ok(result)
}

async fn apply(
    engine: &Engine,
    mapping: &Mapping,
    object: &UserflowObject,
    target: &CrmObject,
    entry: &log::Entry,
) -> Result<(Outcome, Vec<FieldChange>), EngineError> {
    let hs_id = target.id.as_str();
    let pair = Pair::load(engine, mapping, DIRECTION, hs_id, &object.id).await?;
    let mut decisions = Vec::new();
    let mut props = BTreeMap::new();
    let mut written = Vec::new();
    let mut changes = Vec::new();
    for f in &mapping.to_hubspot {
        let value = object.attribute(&f.source);
        let wire = match values::userflow_to_hubspot(&value, f.ty) {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(field = %f.source, error = %e, "Userflow value does not fit the mapped type; field skipped");
                continue;
            }
        };
        let current = target.property(&f.target);
        let input = FieldInput {
            new: values::canonical(&value, f.ty),
            current: values::canonical_hubspot(current, f.ty),
            last_written_into_source: pair.theirs.get(&f.source).cloned(),
            written_before: pair.ours.contains_key(&f.target),
        };
        let decision = diff::decide_field(&input);
        if decision == FieldDecision::Write {
            written.push((f.target.clone(), input.new.clone()));
            changes.push(FieldChange {
                field: f.target.clone(),
                old: current.map_or(Value::Null, |c| Value::String(c.to_owned())),
                new: if wire.is_empty() {
                    Value::Null
                } else {
                    Value::String(wire.clone())
                },
            });
            props.insert(f.target.clone(), wire);
        }
        decisions.push((f.target.as_str(), decision));
    }
    let fields = match engine.fields_to_write(entry, decisions).await? {
        Ok(fields) => fields,
        Err(skipped) => return Ok((skipped, changes)),
    };
    if engine.applies() {
        let patch =
            UpdateObject::new(ObjectType::from(mapping.hubspot_type()), hs_id).properties(props);
        engine.hubspot(&patch, CallKind::Standard).await?;
        pair.record(engine, DIRECTION, &written).await?;
        entry.synced(engine.db(), &fields).await?;
        tracing::info!(fields = ?fields, hubspot_object_id = hs_id, userflow_object_id = %object.id, "synced Userflow → HubSpot");
    }
    Ok((Outcome::Synced { fields }, changes))
}
