//! What webhook ingest needs to route HubSpot events (the integrations of a portal and the
//! properties their mappings read), cached per api process so a webhook costs one Redis read
//! instead of three database queries.
//!
//! Every operator change that can alter routing (integrations, connections, mappings) bumps a
//! version counter in Redis; ingest reads the counter once per request and drops cached
//! portals of an older version, so a change applies to the next webhook on every replica. A
//! cached portal also expires after [`MAX_AGE`], in case a bump was lost.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hubsync_core::webhooks::hubspot::MappedProperties;
use hubsync_entities::integrations::Model as Integration;
use uuid::Uuid;

use crate::SyncContext;

/// Longest time a cached portal is used without a version change.
pub const MAX_AGE: Duration = Duration::from_secs(30);

/// How one portal's events are routed.
#[derive(Debug, Default)]
pub struct Route {
    /// The portal's integrations, oldest id first.
    pub integrations: Vec<Integration>,
    /// What the enabled mappings of each integration read from HubSpot.
    pub mapped: BTreeMap<Uuid, MappedProperties>,
}

/// One cached portal: the version it was read at, when, and its route.
type Entry = (u64, Instant, Arc<Route>);

/// Routes by portal, with the version they were read at.
#[derive(Debug, Default)]
pub struct RoutingCache {
    entries: Mutex<HashMap<i64, Entry>>,
}

impl RoutingCache {
    /// The cached route of `portal` if it was read at `version` and is young enough.
    pub fn get(&self, portal: i64, version: u64) -> Option<Arc<Route>> {
        let entries = self.entries.lock().ok()?;
        let (v, at, route) = entries.get(&portal)?;
        (*v == version && at.elapsed() < MAX_AGE).then(|| route.clone())
    }

    /// Keeps `route` of `portal` as read at `version`.
    pub fn put(&self, portal: i64, version: u64, route: Arc<Route>) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(portal, (version, Instant::now(), route));
        }
    }
}

fn version_key(prefix: &str) -> String {
    format!("{prefix}:routing-version")
}

/// The current routing version (0 before the first change).
pub async fn version(ctx: &SyncContext) -> Result<u64, redis::RedisError> {
    let mut conn = ctx.redis.clone();
    let v: Option<u64> = redis::cmd("GET")
        .arg(version_key(&ctx.redis_prefix))
        .query_async(&mut conn)
        .await?;
    Ok(v.unwrap_or(0))
}

/// Tells every api replica that routing may have changed. A failure is logged: cached routes
/// then expire after [`MAX_AGE`].
pub async fn bump(ctx: &SyncContext) {
    let mut conn = ctx.redis.clone();
    let bumped: redis::RedisResult<u64> = redis::cmd("INCR")
        .arg(version_key(&ctx.redis_prefix))
        .query_async(&mut conn)
        .await;
    if let Err(e) = bumped {
        tracing::warn!(error = %e, "could not bump the routing version");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_is_used_only_at_its_version() {
        let cache = RoutingCache::default();
        cache.put(7, 3, Arc::new(Route::default()));
        assert!(cache.get(7, 3).is_some());
        assert!(cache.get(7, 4).is_none());
        assert!(cache.get(8, 3).is_none());
    }
}
