//! Userflow simulator: the "Users API" (users, groups, memberships, events, attribute and event
//! definitions, webhook subscriptions) with signed webhook notifications, for several
//! environments at once.
//!
//! Runs in: `hubsync sim`, `hubsync dev`, tests. Owns: in-memory environments ([`store`]),
//! webhook subscriptions and the notification sender ([`webhooks`], through
//! [`crate::delivery`]), a token-bucket limiter ([`ratelimit`]) and the request log
//! ([`auth`]). Facts it follows: `docs/userflow-api.md`; its §12 defaults are the defaults of
//! [`knobs::Knobs`] and of [`Config`].
//!
//! Layout: every module that serves routes has `pub(crate) fn routes() -> Router<Simulator>`;
//! [`Simulator::router`] merges them, with the request gate (version header, auth, rate limit)
//! and the fault layer on API routes only. Every write goes through [`store`], which returns
//! [`store::Change`]s; [`webhooks::emit`] turns those into notifications.
//!
//! Simulator choices where Userflow's behaviour is unconfirmed (see also [`knobs::Knobs`]):
//! - remove membership: `DELETE /groups/{group_id}/memberships/{user_id}` (also
//!   `DELETE /users/{user_id}/memberships/{group_id}`);
//! - `expand=memberships` renders `memberships` as an array of `group_membership` objects;
//! - an event for an unknown user or group creates it (with `user.created`/`group.created`);
//! - `event.tracked*` notifications carry `topic: "event.tracked"`; one notification id is
//!   shared by all subscriptions that receive the same change;
//! - membership changes and deletions produce no notification (Userflow has no such topics);
//!   seeding writes through the store but sends no notifications;
//! - an unknown `starting_after` is a 400 `invalid_starting_after`;
//! - content endpoints are minimal: `GET /content`, `/content_versions`, `/content_sessions`
//!   answer empty lists and `GET /content/{id}` answers 404.

pub mod attributes;
pub mod auth;
pub mod control;
pub mod definitions;
pub mod errors;
pub mod events;
pub mod groups;
pub mod knobs;
pub mod objects;
pub mod paging;
pub mod ratelimit;
pub mod seed;
pub mod signature;
pub mod store;
pub mod users;
pub mod webhooks;

use std::sync::{Arc, RwLock};

use axum::Router;
use serde::{Deserialize, Deserializer, Serialize};

use crate::delivery::{Deliverer, DeliveryKnobs};
use crate::faults::{FaultKnobs, Faults};

pub use knobs::Knobs;
pub use seed::{SeedSpec, demo_email};

/// The only API version Userflow has (`Userflow-Version` header, webhook `api_version`).
pub const API_VERSION: &str = "2020-01-03";

/// One Userflow environment (e.g. Production, Staging) and the API keys that reach it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentSpec {
    /// Environment id, used in control routes (`/_sim/userflow/envs/{id}/…`).
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// API keys (`ak_…`) valid for this environment only.
    pub api_keys: Vec<String>,
}

/// Everything the Userflow simulator can be told at start. Behaviour knobs can also be changed
/// at run time (`/_sim/userflow/knobs`, `/_sim/userflow/webhooks/knobs`, `/_sim/faults`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Environments served. Default: `env_demo` (key `ak_sim_demo`) and `env_staging`
    /// (key `ak_sim_staging`).
    pub environments: Vec<EnvironmentSpec>,
    /// Demo data generated at start in the first environment. Default: seed 42, 20 users,
    /// 5 groups.
    pub seed: SeedSpec,
    /// API behaviour knobs (§12). Default: [`Knobs::default`].
    pub knobs: Knobs,
    /// Webhook sender behaviour. Default: Userflow choices of §12 (10 s timeout, 3 retries with
    /// exponential backoff over 70 s, `time_scale` 1.0); fields left out of a partial value
    /// keep these defaults (not the HubSpot ones of [`DeliveryKnobs::default`]).
    #[serde(deserialize_with = "delivery_with_userflow_defaults")]
    pub delivery: DeliveryKnobs,
    /// Injected faults on API routes. Default: none.
    pub faults: FaultKnobs,
}

/// The Userflow defaults of the webhook sender (§12): 10 s timeout, 3 retries, exponential
/// backoff (about 10 s, 20 s, 40 s), 10 concurrent requests per subscription.
pub fn default_delivery_knobs() -> DeliveryKnobs {
    DeliveryKnobs {
        timeout_ms: 10_000,
        max_retries: 3,
        retry_window_ms: 70_000,
        ..DeliveryKnobs::default()
    }
}

fn delivery_with_userflow_defaults<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<DeliveryKnobs, D::Error> {
    use serde::de::Error;
    let given = serde_json::Value::deserialize(d)?;
    let mut base = serde_json::to_value(default_delivery_knobs()).map_err(D::Error::custom)?;
    if let (Some(base), Some(given)) = (base.as_object_mut(), given.as_object()) {
        for (k, v) in given {
            base.insert(k.clone(), v.clone());
        }
    } else if !given.is_object() {
        return Err(D::Error::custom("delivery must be an object"));
    }
    serde_json::from_value(base).map_err(D::Error::custom)
}

impl Default for Config {
    fn default() -> Self {
        Self {
            environments: vec![
                EnvironmentSpec {
                    id: "env_demo".into(),
                    name: "Demo".into(),
                    api_keys: vec!["ak_sim_demo".into()],
                },
                EnvironmentSpec {
                    id: "env_staging".into(),
                    name: "Staging".into(),
                    api_keys: vec!["ak_sim_staging".into()],
                },
            ],
            seed: SeedSpec::default(),
            knobs: Knobs::default(),
            delivery: default_delivery_knobs(),
            faults: FaultKnobs::default(),
        }
    }
}

/// Shared state of one running Userflow simulator.
pub struct Inner {
    /// Start configuration.
    pub config: Config,
    /// Run-time knobs (start value: `config.knobs`).
    pub knobs: RwLock<Knobs>,
    /// Data of every environment.
    pub store: store::Store,
    /// Sends webhook notifications.
    pub deliverer: Deliverer,
    /// Notifications produced, for inspection.
    pub outbox: webhooks::Outbox,
    /// Token buckets per API key.
    pub limiter: ratelimit::Limiter,
    /// Fault switches for API routes.
    pub faults: Faults,
    /// Requests seen (version header, routes).
    pub requests: auth::RequestLog,
}

/// A running Userflow simulator. Cheap to clone; every clone shares the same state.
#[derive(Clone)]
pub struct Simulator {
    /// Shared state.
    pub inner: Arc<Inner>,
}

impl Simulator {
    /// Builds the simulator and seeds its first environment. Must be called inside a Tokio
    /// runtime.
    pub fn new(config: Config) -> Self {
        let inner = Inner {
            knobs: RwLock::new(config.knobs.clone()),
            store: store::Store::new(&config),
            deliverer: Deliverer::new(config.delivery.clone()),
            outbox: webhooks::Outbox::default(),
            limiter: ratelimit::Limiter::default(),
            faults: Faults::new(config.faults.clone(), errors::injected_error),
            requests: auth::RequestLog::default(),
            config,
        };
        let sim = Self {
            inner: Arc::new(inner),
        };
        let spec = sim.inner.config.seed.clone();
        if let Some(env) = sim.inner.config.environments.first() {
            seed::apply(&sim, &env.id, &spec);
        }
        sim
    }

    /// Current run-time knobs.
    pub fn knobs(&self) -> Knobs {
        self.inner
            .knobs
            .read()
            .map(|k| k.clone())
            .unwrap_or_default()
    }

    /// Replaces the run-time knobs.
    pub fn set_knobs(&self, knobs: Knobs) {
        if let Ok(mut k) = self.inner.knobs.write() {
            *k = knobs;
        }
    }

    /// The webhook sender (stats, attempt records, knobs).
    pub fn deliverer(&self) -> &Deliverer {
        &self.inner.deliverer
    }

    /// The HTTP API (Userflow paths plus `/_sim/` control routes).
    pub fn router(&self) -> Router {
        let api = Router::new()
            .merge(users::routes())
            .merge(groups::routes())
            .merge(events::routes())
            .merge(definitions::routes())
            .merge(webhooks::routes())
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                auth::gate,
            ))
            .layer(axum::middleware::from_fn_with_state(
                self.inner.faults.clone(),
                crate::faults::inject,
            ))
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                auth::record,
            ));
        Router::new()
            .merge(api)
            .merge(control::routes())
            .merge(crate::faults::control_router(self.inner.faults.clone()))
            .merge(
                self.inner
                    .deliverer
                    .control_router("/_sim/userflow/webhooks"),
            )
            .fallback(errors::not_found_fallback)
            .method_not_allowed_fallback(errors::method_not_allowed_fallback)
            .with_state(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Userflow example of `docs/simulators.md`, shown there verbatim.
    const DOC_EXAMPLE: &str = include_str!("../../../docs/simulators/userflow-config.json");

    #[test]
    fn the_documented_example_config_parses() {
        let c: Config = serde_json::from_str(DOC_EXAMPLE).unwrap();
        let ids: Vec<&str> = c.environments.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["env_demo", "env_eu"]);
        assert_eq!(c.environments[1].api_keys, ["ak_sim_eu", "ak_sim_eu_next"]);
        assert_eq!(
            c.seed,
            SeedSpec {
                seed: 42,
                users: 200,
                groups: 20
            }
        );
        assert!(c.knobs.require_version_header);
        assert_eq!(c.knobs.upsert_status, 201);
        assert!(c.knobs.rate_limit.enabled);
        assert!(c.knobs.rate_limit.retry_after, "left out: default kept");
        assert_eq!(c.knobs.page_default, 20, "left out: default kept");
        assert_eq!(c.delivery.time_scale, 0.001);
        assert_eq!(c.delivery.max_retries, 3, "Userflow sender defaults kept");
        assert_eq!(c.delivery.timeout_ms, 10_000);
        assert_eq!(c.faults.error_status, 503);
    }
}
