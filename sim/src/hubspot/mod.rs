//! HubSpot simulator: CRM v3 objects, search, properties, schemas, associations v4, OAuth,
//! timeline, webhook management and signed webhook deliveries, rate limits and faults, for
//! several portals and apps at once.
//!
//! Runs in: `hubsync sim`, `hubsync dev`, tests. Owns: in-memory portals ([`store`]), OAuth
//! tokens ([`oauth`]), webhook settings and the delivery loop ([`webhooks`]), timeline templates
//! and events ([`timeline`]). Facts it follows: `docs/hubspot-api.md`; its §13 defaults are the
//! defaults of the knob structs here.
//!
//! Layout: every module that serves routes has `pub(crate) fn routes() -> Router<Simulator>`;
//! [`Simulator::router`] merges them, with the fault layer on API routes only. Writes to CRM
//! data go through [`store`], which emits a [`changes::Change`] for every creation, property
//! change, deletion, restore, GDPR deletion, merge and association change; [`webhooks`] turns
//! those into deliveries. OAuth scopes are checked by the request extractors through
//! [`scopes`], never by handlers, so that no route can forget them.

pub mod auth;
pub mod changes;
pub mod control;
pub mod crm;
pub mod errors;
pub mod oauth;
pub mod ratelimit;
pub mod scopes;
pub mod seed;
pub mod signature;
pub mod store;
pub mod timeline;
pub mod webhooks;

use std::sync::Arc;

use axum::Router;
use serde::{Deserialize, Serialize};

use crate::faults::{FaultKnobs, Faults};

/// One HubSpot account ("portal") the simulator serves.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PortalSpec {
    /// The portal (hub) id.
    pub portal_id: u64,
    /// Account tier: `free`, `starter`, `professional` or `enterprise` (sets rate limits).
    #[serde(default = "default_tier")]
    pub tier: String,
    /// A private-app token that is always valid for this portal (handy for tests and `curl`).
    pub private_app_token: String,
    /// Domain reported by token introspection.
    #[serde(default)]
    pub hub_domain: String,
}

fn default_tier() -> String {
    "professional".to_string()
}

/// One public app registered with the simulator (OAuth client and webhook owner).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AppSpec {
    /// App id (numeric, as in webhook payloads).
    pub app_id: u64,
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret; also the webhook signing secret.
    pub client_secret: String,
    /// Developer API key (`?hapikey=`) for webhook management and timeline templates.
    pub developer_api_key: String,
}

/// Everything the HubSpot simulator can be told at start. Each part's knobs live in the
/// module that uses them and can also be changed at run time through `/_sim/` routes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Portals served. Default: portal 62515 (professional, token `pat-sim-62515`) and portal
    /// 62516 (starter, token `pat-sim-62516`).
    pub portals: Vec<PortalSpec>,
    /// Apps known. Default: app 54321 (`sim-client-id`, `sim-client-secret`, key `sim-dev-key`).
    pub apps: Vec<AppSpec>,
    /// Demo data to generate at start.
    pub seed: seed::SeedSpec,
    /// CRM behaviour (paging, search, validation).
    pub crm: crm::CrmKnobs,
    /// Rate limits.
    pub rate_limits: ratelimit::RateLimitKnobs,
    /// OAuth behaviour (token lifetimes, rotation).
    pub oauth: oauth::OAuthKnobs,
    /// Webhook batching, signing and delivery behaviour.
    pub webhooks: webhooks::WebhookKnobs,
    /// Timeline behaviour.
    pub timeline: timeline::TimelineKnobs,
    /// Injected faults on API routes.
    pub faults: FaultKnobs,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            portals: vec![
                PortalSpec {
                    portal_id: 62515,
                    tier: "professional".into(),
                    private_app_token: "pat-sim-62515".into(),
                    hub_domain: "demo-62515.hubspot.test".into(),
                },
                PortalSpec {
                    portal_id: 62516,
                    tier: "starter".into(),
                    private_app_token: "pat-sim-62516".into(),
                    hub_domain: "demo-62516.hubspot.test".into(),
                },
            ],
            apps: vec![AppSpec {
                app_id: 54321,
                client_id: "sim-client-id".into(),
                client_secret: "sim-client-secret".into(),
                developer_api_key: "sim-dev-key".into(),
            }],
            seed: seed::SeedSpec::default(),
            crm: crm::CrmKnobs::default(),
            rate_limits: ratelimit::RateLimitKnobs::default(),
            oauth: oauth::OAuthKnobs::default(),
            webhooks: webhooks::WebhookKnobs::default(),
            timeline: timeline::TimelineKnobs::default(),
            faults: FaultKnobs::default(),
        }
    }
}

/// Shared state of one running HubSpot simulator.
pub struct Inner {
    /// Start configuration (portals, apps, initial knobs).
    pub config: Config,
    /// CRM data of every portal.
    pub store: store::Store,
    /// Emits CRM changes to the webhook loop.
    pub changes: changes::ChangeBus,
    /// OAuth codes and tokens.
    pub oauth: oauth::OAuthState,
    /// Webhook settings, subscriptions and the sender.
    pub webhooks: webhooks::WebhookState,
    /// Timeline templates and events.
    pub timeline: timeline::TimelineState,
    /// Rolling-window, daily and search limits.
    pub limits: ratelimit::Limiter,
    /// Fault switches for API routes.
    pub faults: Faults,
    /// Call counts per route, for tests and benchmarks.
    pub calls: control::CallCounter,
}

/// A running HubSpot simulator. Cheap to clone; every clone shares the same state.
#[derive(Clone)]
pub struct Simulator {
    /// Shared state.
    pub inner: Arc<Inner>,
}

impl Simulator {
    /// Builds the simulator, seeds its portals and starts the webhook loop. Must be called
    /// inside a Tokio runtime.
    pub fn new(config: Config) -> Self {
        let (changes, change_rx) = changes::ChangeBus::new();
        let inner = Inner {
            store: store::Store::new(&config),
            oauth: oauth::OAuthState::new(&config),
            webhooks: webhooks::WebhookState::new(&config),
            timeline: timeline::TimelineState::new(&config),
            limits: ratelimit::Limiter::new(&config),
            faults: Faults::new(config.faults.clone(), errors::injected_error),
            calls: control::CallCounter::default(),
            changes,
            config,
        };
        let sim = Self {
            inner: Arc::new(inner),
        };
        seed::apply(&sim);
        webhooks::spawn_delivery_loop(sim.clone(), change_rx);
        sim
    }

    /// The HTTP API (HubSpot paths plus `/_sim/` control routes).
    pub fn router(&self) -> Router {
        let api = Router::new()
            .merge(crm::routes())
            .merge(oauth::routes())
            .merge(timeline::routes())
            .merge(webhooks::routes())
            .layer(axum::middleware::from_fn_with_state(
                self.inner.faults.clone(),
                crate::faults::inject,
            ))
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                control::count_calls,
            ));
        Router::new()
            .merge(api)
            .merge(control::routes())
            .merge(oauth::control_routes())
            .merge(webhooks::control_routes())
            .merge(timeline::control_routes())
            .merge(crate::faults::control_router(self.inner.faults.clone()))
            .with_state(self.clone())
    }
}
