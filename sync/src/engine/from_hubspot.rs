//! HubSpot → Userflow for one object (`SyncFromHubspot`, design notes §3): read the object
//! with its mapped properties (and the primary associated object's for association paths),
//! find the Userflow object by the match key, write only the attributes that differ and are
//! not our own write coming back, in one upsert.

use std::collections::{BTreeMap, BTreeSet};

use hubsync_core::jobs::UserflowKind;
use hubsync_core::mapping::diff::{self, FieldDecision, FieldInput};
use hubsync_core::mapping::values;
use hubsync_entities::{SyncDirection, skip_reason};
use hubsync_hubspot::ObjectType;
use hubsync_hubspot::models::association::AssociatedObject;
use hubsync_hubspot::models::object::CrmObject;
use hubsync_hubspot::requests::associations::ListAssociations;
use hubsync_hubspot::requests::objects::{BatchReadObjects, GetObject};
use hubsync_userflow::models::{AttributeValue, Attributes};
use hubsync_userflow::requests::{groups, users};
use serde_json::Value;
use uuid::Uuid;

use super::mappings::Mapping;
use super::pair::Pair;
use super::{Engine, EngineError, FieldChange, ObjectSync, Outcome, UserflowObject, log};
use crate::ratelimit::CallKind;

const DIRECTION: SyncDirection = SyncDirection::HubspotToUserflow;

/// Syncs HubSpot object `object_type`/`object_id` through every enabled mapping of that type
/// (or only `only`).
pub async fn sync(
    engine: &Engine,
    object_type: &str,
    object_id: &str,
    only: Option<Uuid>,
) -> Result<Vec<ObjectSync>, EngineError> {
    let mut out = Vec::new();
    for mapping in engine
        .mappings
        .iter()
        .filter(|m| m.covers_hubspot(object_type) && only.is_none_or(|id| id == m.id()))
    {
        let mut entry = engine.entry(mapping, DIRECTION);
        entry.hubspot_object_id = Some(object_id.to_owned());
        match read(engine, mapping, object_id).await {
            Ok(Some(read)) => out.push(sync_read(engine, mapping, &read, &mut entry).await?),
            Ok(None) => {
                let outcome = engine.skip(&entry, "hubspot_object_not_found").await?;
                out.push(ObjectSync {
                    mapping_id: mapping.id(),
                    direction: DIRECTION,
                    hubspot_object_id: Some(object_id.to_owned()),
                    userflow_object_id: None,
                    outcome,
                    changes: Vec::new(),
                });
            }
            Err(e) => return Err(engine.failed(&entry, e).await),
        }
    }
    Ok(out)
}

/// A HubSpot object as read for one mapping: its own properties plus the association path
/// values (`companies.name`).
#[derive(Debug, Clone)]
pub struct ReadObject {
    pub object: CrmObject,
    pub values: BTreeMap<String, Option<String>>,
}

impl ReadObject {
    pub fn value(&self, source: &str) -> Option<&str> {
        self.values.get(source).and_then(|v| v.as_deref())
    }
}

/// Reads `object_id` with what `mapping` needs; `None` when HubSpot no longer has it.
pub async fn read(
    engine: &Engine,
    mapping: &Mapping,
    object_id: &str,
) -> Result<Option<ReadObject>, EngineError> {
    let mut props: BTreeSet<String> = BTreeSet::new();
    props.insert(mapping.match_property().to_owned());
    // Echo checks read the HubSpot side of the other direction's fields too.
    let mut assoc: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for f in &mapping.to_userflow {
        match f.association() {
            Some((to, prop)) => {
                assoc.entry(to).or_default().insert(prop);
            }
            None => {
                props.insert(f.source.clone());
            }
        }
    }
    let object_type = ObjectType::from(mapping.hubspot_type());
    let get = GetObject::new(object_type.clone(), object_id).properties(props.iter().cloned());
    let Some(object) = engine.hubspot_opt(&get, CallKind::Standard).await? else {
        return Ok(None);
    };
    let mut values: BTreeMap<String, Option<String>> = object
        .properties
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (to, to_props) in assoc {
        let list = ListAssociations::new(
            object_type.clone(),
            object.id.as_str(),
            ObjectType::from(to),
        );
        let page = engine.hubspot(&list, CallKind::Standard).await?;
        let associated = primary(&page.results, to).map(|a| a.to_object_id.as_str().to_owned());
        let mut found: Option<CrmObject> = None;
        if let Some(id) = associated {
            let batch = BatchReadObjects::new(ObjectType::from(to), [id])
                .properties(to_props.iter().copied());
            let resp = engine.hubspot(&batch, CallKind::Standard).await?;
            found = resp.results.into_iter().next();
        }
        for p in to_props {
            let v = found
                .as_ref()
                .and_then(|o| o.property(p))
                .map(str::to_owned);
            values.insert(format!("{to}.{p}"), v);
        }
    }
    Ok(Some(ReadObject { object, values }))
}

/// The primary association (HubSpot's "Primary" label, type 1 for contact → company), else
/// the first.
fn primary<'a>(results: &'a [AssociatedObject], to: &str) -> Option<&'a AssociatedObject> {
    results
        .iter()
        .find(|a| {
            a.association_types.iter().any(|t| {
                t.label
                    .as_deref()
                    .is_some_and(|l| l.eq_ignore_ascii_case("primary"))
                    || (t.type_id == 1 && ObjectType::from(to) == ObjectType::Companies)
            })
        })
        .or_else(|| results.first())
}

/// The rest of a sync once the object is read.
async fn sync_read(
    engine: &Engine,
    mapping: &Mapping,
    read: &ReadObject,
    entry: &mut log::Entry,
) -> Result<ObjectSync, EngineError> {
    let hs_id = read.object.id.as_str().to_owned();
    let mut result = ObjectSync {
        mapping_id: mapping.id(),
        direction: DIRECTION,
        hubspot_object_id: Some(hs_id.clone()),
        userflow_object_id: None,
        outcome: Outcome::skipped(skip_reason::NOT_IN_BOTH_SYSTEMS),
        changes: Vec::new(),
    };
    let found = match engine.find_userflow_for(mapping, &read.object).await {
        Ok(f) => f,
        Err(e) => return Err(engine.failed(entry, e).await),
    };
    let Some(target) = found else {
        result.outcome = engine.skip(entry, skip_reason::NOT_IN_BOTH_SYSTEMS).await?;
        return Ok(result);
    };
    entry.userflow_object_id = Some(target.id.clone());
    result.userflow_object_id = Some(target.id.clone());
    match apply(engine, mapping, read, &target, &hs_id, entry).await {
        Ok((outcome, changes)) => {
            result.outcome = outcome;
            result.changes = changes;
            Ok(result)
        }
        Err(e) => Err(engine.failed(entry, e).await),
    }
}

/// Links, diffs and writes (or plans).
async fn apply(
    engine: &Engine,
    mapping: &Mapping,
    read: &ReadObject,
    target: &UserflowObject,
    hs_id: &str,
    entry: &log::Entry,
) -> Result<(Outcome, Vec<FieldChange>), EngineError> {
    let pair = Pair::load(engine, mapping, DIRECTION, hs_id, &target.id).await?;
    let mut decisions = Vec::new();
    let mut attrs = Attributes::new();
    let mut written = Vec::new();
    let mut changes = Vec::new();
    for f in &mapping.to_userflow {
        let new = match values::hubspot_to_userflow(read.value(&f.source), f.ty) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(field = %f.source, error = %e, "HubSpot value does not fit the mapped type; field skipped");
                continue;
            }
        };
        let current = target.attribute(&f.target);
        let input = FieldInput {
            new: values::canonical(&new, f.ty),
            current: values::canonical(&current, f.ty),
            last_written_into_source: pair.theirs.get(&f.source).cloned(),
            written_before: pair.ours.contains_key(&f.target),
        };
        let decision = diff::decide_field(&input);
        if decision == FieldDecision::Write {
            written.push((f.target.clone(), input.new.clone()));
            changes.push(FieldChange {
                field: f.target.clone(),
                old: current,
                new: new.clone(),
            });
            attrs.insert(f.target.clone(), attribute_value(new));
        }
        decisions.push((f.target.as_str(), decision));
    }
    let fields = match engine.fields_to_write(entry, decisions).await? {
        Ok(fields) => fields,
        Err(skipped) => return Ok((skipped, changes)),
    };
    if engine.applies() {
        match target.kind {
            UserflowKind::User => {
                engine
                    .userflow(&users::Upsert::new(target.id.as_str()).attributes(attrs))
                    .await?;
            }
            UserflowKind::Group => {
                engine
                    .userflow(&groups::Upsert::new(target.id.as_str()).attributes(attrs))
                    .await?;
            }
        }
        pair.record(engine, DIRECTION, &written).await?;
        entry.synced(engine.db(), &fields).await?;
        tracing::info!(fields = ?fields, hubspot_object_id = hs_id, userflow_object_id = %target.id, "synced HubSpot → Userflow");
    }
    Ok((Outcome::Synced { fields }, changes))
}

/// A JSON value as a Userflow attribute write.
fn attribute_value(v: Value) -> AttributeValue {
    match v {
        Value::Null => AttributeValue::Null,
        Value::Bool(b) => AttributeValue::Bool(b),
        Value::Number(n) => AttributeValue::Number(n),
        Value::String(s) => AttributeValue::String(s),
        other => AttributeValue::set(other),
    }
}
