//! Userflow events onto HubSpot (`PostTimelineEvent`): for every mapping whose event stream
//! takes the event, find the HubSpot object of the user (or group) and post a timeline event
//! whose id is the Userflow event id, so a retry replaces rather than doubles it. Where the
//! schema job could not create a template (timeline API unavailable), the event time goes to
//! the `userflow_<object>_last_<event>_at` datetime property instead, only moving forward.
//! An event first seen after the schema setup gets its template made on first post
//! (`schema_setup::ensure_event_template`).

use std::collections::BTreeMap;

use hubsync_core::jobs::{PostTimelineEvent, UserflowKind};
use hubsync_core::mapping::naming;
use hubsync_core::mapping::values::{self, FieldType};
use hubsync_entities::setup_status::TimelineAvailability;
use hubsync_entities::{SyncDirection, skip_reason};
use hubsync_hubspot::ObjectType;
use hubsync_hubspot::models::timeline::TimelineEvent;
use hubsync_hubspot::requests::objects::{GetObject, UpdateObject};
use hubsync_hubspot::requests::timeline::CreateTimelineEvent;
use serde_json::Value;

use super::mappings::Mapping;
use super::{Action, Engine, EngineError, ObjectSync, Outcome, links, log};
use crate::ratelimit::CallKind;
use crate::schema_setup;

const DIRECTION: SyncDirection = SyncDirection::UserflowToHubspot;

/// Posts `event` for every mapping that streams it.
pub async fn post(
    engine: &Engine,
    event: &PostTimelineEvent,
) -> Result<Vec<ObjectSync>, EngineError> {
    let mut out = Vec::new();
    for mapping in engine.mappings.iter().filter(|m| m.streams(&event.name)) {
        let uf_id = match mapping.kind() {
            UserflowKind::User => event.user_id.as_deref(),
            UserflowKind::Group => event.group_id.as_deref(),
        };
        let Some(uf_id) = uf_id else { continue };
        let mut entry = engine.entry(mapping, DIRECTION);
        entry.userflow_object_id = Some(uf_id.to_owned());
        match post_one(engine, mapping, event, uf_id, &mut entry).await {
            Ok((hs_id, outcome)) => out.push(ObjectSync {
                mapping_id: mapping.id(),
                direction: DIRECTION,
                hubspot_object_id: hs_id,
                userflow_object_id: Some(uf_id.to_owned()),
                outcome,
                changes: Vec::new(),
            }),
            Err(e) => return Err(engine.failed(&entry, e).await),
        }
    }
    Ok(out)
}

async fn post_one(
    engine: &Engine,
    mapping: &Mapping,
    event: &PostTimelineEvent,
    uf_id: &str,
    entry: &mut log::Entry,
) -> Result<(Option<String>, Outcome), EngineError> {
    let Some(hs_id) = hubspot_object(engine, mapping, uf_id).await? else {
        return Ok((
            None,
            engine.skip(entry, skip_reason::NOT_IN_BOTH_SYSTEMS).await?,
        ));
    };
    entry.hubspot_object_id = Some(hs_id.clone());
    let field = match template(engine, mapping, &event.name).await? {
        Some(template) => {
            post_event(engine, &template, event, &hs_id).await?;
            format!("timeline:{}", event.name)
        }
        None => {
            let property = naming::last_event_property(mapping.kind(), &event.name);
            if !set_last_event(engine, mapping, &property, &hs_id, &event.time).await? {
                return Ok((
                    Some(hs_id),
                    engine.skip(entry, skip_reason::UNCHANGED).await?,
                ));
            }
            property
        }
    };
    entry
        .synced(engine.db(), std::slice::from_ref(&field))
        .await?;
    tracing::info!(event = %event.name, hubspot_object_id = %hs_id, "event sent to HubSpot");
    Ok((
        Some(hs_id),
        Outcome::Synced {
            fields: vec![field],
        },
    ))
}

/// The timeline template of `event_name`: the one the schema setup stored, else one made now
/// for an event first seen after it; `None` where the timeline cannot be used (the last
/// schema setup found it unavailable, or it is now).
async fn template(
    engine: &Engine,
    mapping: &Mapping,
    event_name: &str,
) -> Result<Option<String>, EngineError> {
    if let Some(t) = mapping.timeline_template(event_name) {
        return Ok(Some(t.to_owned()));
    }
    let unavailable = engine
        .tenant
        .integration
        .setup_status
        .as_ref()
        .and_then(|s| s.schema.as_ref())
        .is_some_and(|r| r.timeline == TimelineAvailability::Unavailable);
    if unavailable {
        return Ok(None);
    }
    Ok(schema_setup::ensure_event_template(&engine.tenant, mapping.id(), event_name).await?)
}

/// The HubSpot object linked to Userflow `uf_id`, else found by the match key (and linked).
async fn hubspot_object(
    engine: &Engine,
    mapping: &Mapping,
    uf_id: &str,
) -> Result<Option<String>, EngineError> {
    if let Some(link) = links::by_userflow(engine.db(), mapping.id(), uf_id).await? {
        return Ok(Some(link.hubspot_object_id));
    }
    let Some(object) = engine.read_userflow(mapping.kind(), uf_id).await? else {
        return Ok(None);
    };
    let Some(found) = engine.find_hubspot_for(mapping, &object, &[]).await? else {
        return Ok(None);
    };
    let hs_id = found.id.as_str().to_owned();
    links::link(engine.db(), mapping.id(), &hs_id, uf_id).await?;
    Ok(Some(hs_id))
}

/// Token values: the event's attributes as strings, under names HubSpot accepts.
fn tokens(event: &PostTimelineEvent) -> BTreeMap<String, String> {
    event
        .attributes
        .iter()
        .filter(|(k, _)| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        })
        .filter_map(|(k, v)| {
            let s = match v {
                Value::Null => return None,
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Some((k.clone(), s))
        })
        .collect()
}

/// The token a HubSpot validation message names (`Token 'x' is not defined …`).
fn rejected_token(message: &str) -> Option<String> {
    let start = message.find("Token '")? + "Token '".len();
    let len = message[start..].find('\'')?;
    Some(message[start..start + len].to_owned())
}

/// Posts the event; tokens the template does not define (or refuses) are dropped one by one,
/// each named by HubSpot's answer. The full attributes always travel as `extraData`.
async fn post_event(
    engine: &Engine,
    template: &str,
    event: &PostTimelineEvent,
    hs_id: &str,
) -> Result<(), EngineError> {
    let mut tokens = tokens(event);
    loop {
        let body = TimelineEvent {
            event_template_id: template.to_owned(),
            tokens: tokens.clone(),
            id: Some(event.event_id.clone()),
            object_id: Some(hs_id.to_owned()),
            timestamp: Some(event.time.clone()),
            extra_data: Some(Value::Object(event.attributes.clone())),
            ..TimelineEvent::default()
        };
        match engine
            .hubspot(&CreateTimelineEvent::new(body), CallKind::Standard)
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if e.category == "validation" => {
                match rejected_token(&e.message).filter(|t| tokens.contains_key(t)) {
                    Some(t) => {
                        tracing::debug!(token = %t, "template refused a token; posting without it");
                        tokens.remove(&t);
                    }
                    None => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Moves the last-event property forward to `time`; `false` when it already holds that time
/// or a later one.
async fn set_last_event(
    engine: &Engine,
    mapping: &Mapping,
    property: &str,
    hs_id: &str,
    time: &str,
) -> Result<bool, EngineError> {
    let wire = values::userflow_to_hubspot(&Value::String(time.to_owned()), FieldType::Datetime)
        .map_err(|e| EngineError::permanent("validation", format!("event time: {e}")))?;
    let object_type = ObjectType::from(mapping.hubspot_type());
    let get = GetObject::new(object_type.clone(), hs_id).properties([property]);
    let current = engine
        .hubspot(&get, CallKind::Standard)
        .await?
        .property(property)
        .and_then(|v| values::canonical_hubspot(Some(v), FieldType::Datetime))
        .and_then(|v| v.parse::<i64>().ok());
    let new = values::canonical_hubspot(Some(&wire), FieldType::Datetime)
        .and_then(|v| v.parse::<i64>().ok());
    if let (Some(c), Some(n)) = (current, new)
        && c >= n
    {
        return Ok(false);
    }
    let patch = UpdateObject::new(object_type, hs_id).property(property, wire);
    match engine.hubspot(&patch, CallKind::Standard).await {
        Ok(_) => Ok(true),
        // The schema setup creates the property; until it has, wait with backoff.
        Err(e) if e.category == "validation" && e.message.contains(property) => {
            Err(EngineError::new(
                "schema_pending",
                format!("{}; the schema setup has not created it yet", e.message),
                Action::Retry,
            ))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_named_in_a_rejection_is_found() {
        assert_eq!(
            rejected_token("Token 'page_url' is not defined on event template 7").as_deref(),
            Some("page_url")
        );
        assert_eq!(rejected_token("Property values were not valid"), None);
    }
}
