//! Pairing a page of Userflow objects with HubSpot: the match key of each object, and one
//! HubSpot batch read by `idProperty` through the cluster's shared rate limiter.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use hubsync_entities::UserflowMatchAttribute;
use hubsync_entities::object_mappings::Model as Mapping;
use hubsync_hubspot::ObjectType;
use hubsync_hubspot::requests::objects::BatchReadObjects;
use hubsync_userflow::models::AttributeMap;

use crate::Tenant;
use crate::error::{Result, SyncError};
use crate::ratelimit::{Acquire, CallKind, RateLimitError};

/// HubSpot's own id property: looked up without `idProperty`.
const HUBSPOT_ID_PROPERTY: &str = "hs_object_id";

/// The key that pairs a Userflow object with a HubSpot object under `mapping`: the email
/// (trimmed, lower case, as HubSpot compares emails) or the object id. `None` when the object
/// has no such key (a user without email): it cannot be in both systems.
pub(crate) fn match_key(mapping: &Mapping, id: &str, attributes: &AttributeMap) -> Option<String> {
    let raw = match mapping.match_userflow_attribute {
        UserflowMatchAttribute::Email => attributes.get("email")?.as_str()?,
        UserflowMatchAttribute::Id => id,
    };
    let key = normalize(mapping, raw);
    (!key.is_empty()).then_some(key)
}

fn normalize(mapping: &Mapping, raw: &str) -> String {
    match mapping.match_userflow_attribute {
        UserflowMatchAttribute::Email => raw.trim().to_lowercase(),
        UserflowMatchAttribute::Id => raw.trim().to_owned(),
    }
}

/// What HubSpot answered for a page of keys.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// Match key → HubSpot object id.
    pub ids: HashMap<String, String>,
    /// Keys HubSpot answered an error for other than "not found".
    pub failed: u64,
}

/// The outcome of a lookup.
#[derive(Debug)]
pub(crate) enum Lookup {
    Found(Found),
    /// The rate limit leaves no call for this long: come back later.
    Wait(Duration),
    /// HubSpot refused the request itself (unknown property, missing scope): retrying cannot
    /// help, the shard fails with this reason.
    Refused(String),
}

/// Reads the HubSpot objects of `mapping` whose match property equals one of `keys` (at most
/// 100), waiting for the shared limiter up to `max_wait`.
pub(crate) async fn read_hubspot(
    tenant: &Tenant,
    client: &hubsync_hubspot::Client,
    portal: u64,
    mapping: &Mapping,
    keys: &[String],
    max_wait: Duration,
) -> Result<Lookup> {
    if keys.is_empty() {
        return Ok(Lookup::Found(Found::default()));
    }
    let limiter = &tenant.ctx.limiter;
    let app = tenant.ctx.settings.hubspot.app_id;
    let limits = tenant.ctx.settings.hubspot_limits;
    loop {
        match limiter
            .acquire(portal, app, CallKind::Standard, &limits)
            .await
            .map_err(limiter_error)?
        {
            Acquire::Permit(_) => break,
            Acquire::Wait(w) if w.after <= max_wait => tokio::time::sleep(w.after).await,
            Acquire::Wait(w) => return Ok(Lookup::Wait(w.after)),
        }
    }
    let property = mapping.match_hubspot_property.as_str();
    let object_type = ObjectType::from(mapping.hubspot_object_type.as_str());
    let mut request =
        BatchReadObjects::new(object_type, keys.iter().cloned()).properties([property]);
    if property != HUBSPOT_ID_PROPERTY {
        request = request.id_property(property);
    }
    let answer = request.send(client).await;
    if let Some(info) = client.last_rate_limit()
        && let Err(e) = limiter.observe(portal, app, &info).await
    {
        tracing::warn!(error = %e, "could not record HubSpot rate limit headers");
    }
    let answer = match answer {
        Ok(a) => a,
        Err(hubsync_hubspot::Error::RateLimited { policy, .. }) => {
            let wait = limiter
                .observe_429(portal, app, &policy, &limits)
                .await
                .map_err(limiter_error)?;
            let after = wait
                .retry_at(SystemTime::now())
                .duration_since(SystemTime::now())
                .unwrap_or(wait.after);
            return Ok(Lookup::Wait(after));
        }
        Err(
            e @ (hubsync_hubspot::Error::Validation { .. }
            | hubsync_hubspot::Error::InvalidRequest(_)),
        ) => {
            return Ok(Lookup::Refused(format!(
                "HubSpot lookup of {} by `{property}` refused: {e}",
                mapping.hubspot_object_type
            )));
        }
        Err(
            e @ hubsync_hubspot::Error::Api {
                status: 400 | 403 | 404,
                ..
            },
        ) => {
            return Ok(Lookup::Refused(format!(
                "HubSpot lookup of {} by `{property}` refused: {e}",
                mapping.hubspot_object_type
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let mut found = Found::default();
    for object in answer.results {
        let key = if property == HUBSPOT_ID_PROPERTY {
            Some(object.id.as_str().to_owned())
        } else {
            object.properties.get(property).cloned().flatten()
        };
        if let Some(key) = key {
            found
                .ids
                .insert(normalize(mapping, &key), object.id.as_str().to_owned());
        }
    }
    found.failed = answer
        .errors
        .iter()
        .filter(|e| e.category.as_deref() != Some("OBJECT_NOT_FOUND"))
        .map(|e| e.context.get("ids").map_or(1, |ids| ids.len().max(1)) as u64)
        .sum();
    Ok(Lookup::Found(found))
}

fn limiter_error(e: RateLimitError) -> SyncError {
    match e {
        RateLimitError::Redis(e) => SyncError::Redis(e),
        RateLimitError::Reply(r) => SyncError::Redis(redis::RedisError::from((
            redis::ErrorKind::UnexpectedReturnType,
            "rate-limit script",
            r,
        ))),
    }
}

#[cfg(test)]
mod tests {
    use hubsync_entities::UserflowObjectType;
    use serde_json::json;

    use super::*;

    fn mapping(attr: UserflowMatchAttribute) -> Mapping {
        let now = hubsync_entities::now();
        Mapping {
            id: uuid::Uuid::new_v4(),
            integration_id: uuid::Uuid::new_v4(),
            hubspot_object_type: "contacts".into(),
            userflow_object_type: UserflowObjectType::User,
            match_hubspot_property: "email".into(),
            match_userflow_attribute: attr,
            enabled: true,
            created_at: now,
            updated_at: now,
        }
    }

    fn attrs(v: serde_json::Value) -> AttributeMap {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn email_keys_are_lower_case_and_required() {
        let m = mapping(UserflowMatchAttribute::Email);
        assert_eq!(
            match_key(&m, "u1", &attrs(json!({"email": " Ada@Example.COM "}))),
            Some("ada@example.com".into())
        );
        assert_eq!(match_key(&m, "u1", &attrs(json!({"name": "Ada"}))), None);
        assert_eq!(match_key(&m, "u1", &attrs(json!({"email": 42}))), None);
        assert_eq!(match_key(&m, "u1", &attrs(json!({"email": "  "}))), None);
    }

    #[test]
    fn id_keys_are_the_object_id() {
        let m = mapping(UserflowMatchAttribute::Id);
        assert_eq!(
            match_key(&m, "u_0001", &attrs(json!({"email": "a@b.c"}))),
            Some("u_0001".into())
        );
    }
}
