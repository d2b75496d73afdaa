//! Webhooks (`docs/hubspot-api.md` §9, §10): the developer-key management API (settings and
//! subscriptions, [`manage`]) and signed, batched deliveries of CRM changes ([`deliver`]),
//! sent through the shared [`crate::delivery::Deliverer`].
//!
//! Simulator choices:
//! - An app receives events for a portal only while it is *installed* there
//!   ([`super::oauth::OAuthState::is_installed`]): after an OAuth code exchange, or from the start
//!   for the first configured app (`oauth.preinstall_first_app`, default on) so the demo works
//!   without an OAuth round trip.
//! - Subscriptions are matched when the change happens; the target URL is read when the batch
//!   is sent. Without settings (no target URL) the batch is discarded and counted.
//! - `throttling.maxConcurrentRequests` is validated and stored but deliveries use the sender's
//!   `concurrency` knob (HubSpot: 10 per portal).

pub mod deliver;
pub mod manage;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::changes::Change;
use super::control;
use super::errors::HubspotError;
use super::signature::SignatureVersion;
use super::{Config, Simulator};
use crate::delivery::{Deliverer, DeliveryKnobs};

/// Webhook batching, signing and delivery behaviour. Change at run time with
/// `PUT /_sim/hubspot/webhooks/config` (all of it) or `PUT /_sim/hubspot/webhooks/knobs`
/// (only the sender's [`DeliveryKnobs`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookKnobs {
    /// Most events per request (§13 `webhook_batch_max`; HubSpot: 100). Default 100.
    pub webhook_batch_max: usize,
    /// How long the first event of a batch waits for more before the batch is sent, in
    /// milliseconds (0 = send at once). Default 50.
    pub webhook_batch_window_ms: u64,
    /// Signatures put on every delivery (§13 `webhook_signatures`). `v1` and `v2` share
    /// `X-HubSpot-Signature` (v1 wins when both are listed). Default `["v1", "v3"]`.
    pub webhook_signatures: Vec<SignatureVersion>,
    /// The sender: concurrency per portal (10), timeout (5,000 ms), retries (10) over a window
    /// (24 h) with `time_scale` (1.0), and the duplicate / reorder / delay / drop / pause switches
    /// (all off) (§13 `webhook_concurrency`, `webhook_timeout_ms`, `webhook_retry_max`,
    /// `webhook_retry_window`, `webhook_duplicate_rate`, `webhook_reorder`). Default
    /// [`DeliveryKnobs::default`].
    pub delivery: DeliveryKnobs,
    /// Subscriptions one app may have; creating more answers 400 (§9.1). Default 1,000.
    pub max_subscriptions_per_app: usize,
}

impl Default for WebhookKnobs {
    fn default() -> Self {
        Self {
            webhook_batch_max: 100,
            webhook_batch_window_ms: 50,
            webhook_signatures: vec![SignatureVersion::V1, SignatureVersion::V3],
            delivery: DeliveryKnobs::default(),
            max_subscriptions_per_app: 1_000,
        }
    }
}

/// An app's webhook settings (`/webhooks/v3/{appId}/settings`).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Where deliveries go.
    pub target_url: String,
    /// `throttling.maxConcurrentRequests` (> 5).
    pub max_concurrent_requests: u64,
    /// `throttling.period`: `SECONDLY` or `ROLLING_MINUTE`.
    pub period: String,
    /// Epoch ms.
    pub created_at_ms: i64,
    /// Epoch ms.
    pub updated_at_ms: i64,
}

/// One webhook subscription of an app.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    /// Subscription id (a number in payloads, a string in the management API).
    pub id: u64,
    /// Owning app.
    pub app_id: u64,
    /// E.g. `contact.propertyChange` or `object.creation`.
    pub event_type: String,
    /// For `*.propertyChange`.
    pub property_name: Option<String>,
    /// For generic `object.*` subscriptions, e.g. `0-1`.
    pub object_type_id: Option<String>,
    /// Paused subscriptions receive nothing.
    pub active: bool,
    /// Epoch ms.
    pub created_at_ms: i64,
    /// Epoch ms.
    pub updated_at_ms: i64,
}

#[derive(Default)]
pub(crate) struct Data {
    pub(crate) settings: HashMap<u64, Settings>,
    pub(crate) subscriptions: BTreeMap<u64, Subscription>,
    pub(crate) next_subscription_id: u64,
}

const SENT_LOG_CAP: usize = 10_000;

/// Settings, subscriptions, the batching counters and the sender.
pub struct WebhookState {
    knobs: RwLock<WebhookKnobs>,
    data: Mutex<Data>,
    deliverer: Deliverer,
    next_event_id: AtomicU64,
    /// Events matched but not yet handed to the sender (waiting in a batch).
    pending_events: AtomicU64,
    /// Batches discarded because the app had no target URL.
    discarded_batches: AtomicU64,
    /// The most recent events sent (as rendered for attempt 0).
    sent: Mutex<VecDeque<Value>>,
}

impl WebhookState {
    /// New state: no settings or subscriptions; the sender built from `config.webhooks.delivery`.
    pub fn new(config: &Config) -> Self {
        Self {
            knobs: RwLock::new(config.webhooks.clone()),
            data: Mutex::new(Data {
                next_subscription_id: 1_001,
                ..Data::default()
            }),
            deliverer: Deliverer::new(config.webhooks.delivery.clone()),
            next_event_id: AtomicU64::new(1),
            pending_events: AtomicU64::new(0),
            discarded_batches: AtomicU64::new(0),
            sent: Mutex::new(VecDeque::new()),
        }
    }

    pub(crate) fn data(&self) -> MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Current knobs (with the sender's live [`DeliveryKnobs`]).
    pub fn knobs(&self) -> WebhookKnobs {
        let mut k = self.knobs.read().map(|k| k.clone()).unwrap_or_default();
        k.delivery = self.deliverer.knobs();
        k
    }

    /// Replaces all knobs, including the sender's.
    pub fn set_knobs(&self, knobs: WebhookKnobs) {
        self.deliverer.set_knobs(knobs.delivery.clone());
        if let Ok(mut k) = self.knobs.write() {
            *k = knobs;
        }
    }

    /// The sender (attempt records, stats, switches).
    pub fn deliverer(&self) -> &Deliverer {
        &self.deliverer
    }

    /// The target URL of `app_id`, if settings exist.
    pub fn target_url(&self, app_id: u64) -> Option<String> {
        self.data()
            .settings
            .get(&app_id)
            .map(|s| s.target_url.clone())
    }

    /// All subscriptions of `app_id`, by id.
    pub fn subscriptions(&self, app_id: u64) -> Vec<Subscription> {
        self.data()
            .subscriptions
            .values()
            .filter(|s| s.app_id == app_id)
            .cloned()
            .collect()
    }

    /// The most recent events sent (each as rendered for its first attempt), oldest first.
    pub fn sent_events(&self) -> Vec<Value> {
        self.sent
            .lock()
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Waits until no event waits in a batch and the sender is idle, or `timeout` passes.
    /// Changes emitted just before the call are given a grace period (the batching window plus
    /// 30 ms) to reach the loop first.
    pub async fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        let window = self
            .knobs
            .read()
            .map(|k| k.webhook_batch_window_ms)
            .unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(window + 30)).await;
        while self.pending_events.load(Ordering::Acquire) > 0 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        self.deliverer.wait_idle(left).await
    }

    fn record_sent(&self, events: &[Value]) {
        if let Ok(mut s) = self.sent.lock() {
            for e in events {
                if s.len() >= SENT_LOG_CAP {
                    s.pop_front();
                }
                s.push_back(e.clone());
            }
        }
    }
}

/// Starts the loop that turns changes into deliveries (see [`deliver`]).
pub fn spawn_delivery_loop(sim: Simulator, rx: mpsc::UnboundedReceiver<Change>) {
    deliver::spawn(sim, rx);
}

pub(crate) fn routes() -> Router<Simulator> {
    manage::routes()
}

/// Parses a JSON body, answering HubSpot's 400 `VALIDATION_ERROR` when it is not valid.
pub(crate) fn json_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, HubspotError> {
    serde_json::from_slice(body).map_err(|e| {
        HubspotError::validation(format!(
            "Invalid input JSON on line {}, column {}: {e}",
            e.line(),
            e.column()
        ))
    })
}

// ---------------------------------------------------------------------------------------------
// Control routes

async fn get_deliveries(State(sim): State<Simulator>) -> Json<Value> {
    let w = &sim.inner.webhooks;
    Json(json!({
        "stats": w.deliverer.stats(),
        "attempts": w.deliverer.records(),
        "pending_events": w.pending_events.load(Ordering::Relaxed),
        "discarded_batches": w.discarded_batches.load(Ordering::Relaxed),
    }))
}

async fn clear_deliveries(State(sim): State<Simulator>) -> StatusCode {
    sim.inner.webhooks.deliverer.clear_records();
    StatusCode::NO_CONTENT
}

async fn get_delivery_knobs(State(sim): State<Simulator>) -> Json<DeliveryKnobs> {
    Json(sim.inner.webhooks.deliverer.knobs())
}

async fn put_delivery_knobs(State(sim): State<Simulator>, body: Bytes) -> Response {
    control::put_knobs(json_body::<DeliveryKnobs>(&body), |k| {
        sim.inner.webhooks.deliverer.set_knobs(k.clone());
        if let Ok(mut all) = sim.inner.webhooks.knobs.write() {
            all.delivery = k.clone();
        }
    })
}

async fn get_config(State(sim): State<Simulator>) -> Json<WebhookKnobs> {
    Json(sim.inner.webhooks.knobs())
}

async fn put_config(State(sim): State<Simulator>, body: Bytes) -> Response {
    control::put_knobs(json_body::<WebhookKnobs>(&body), |k| {
        sim.inner.webhooks.set_knobs(k.clone());
    })
}

#[derive(Deserialize)]
struct EventsQuery {
    #[serde(rename = "portalId")]
    portal_id: Option<u64>,
    #[serde(rename = "subscriptionType")]
    subscription_type: Option<String>,
}

async fn get_sent_events(
    State(sim): State<Simulator>,
    Query(q): Query<EventsQuery>,
) -> Json<Value> {
    let events: Vec<Value> = sim
        .inner
        .webhooks
        .sent_events()
        .into_iter()
        .filter(|e| {
            q.portal_id
                .is_none_or(|p| e["portalId"].as_u64() == Some(p))
        })
        .filter(|e| {
            q.subscription_type
                .as_deref()
                .is_none_or(|t| e["subscriptionType"].as_str() == Some(t))
        })
        .collect();
    Json(json!({"total": events.len(), "results": events}))
}

async fn clear_sent_events(State(sim): State<Simulator>) -> StatusCode {
    if let Ok(mut s) = sim.inner.webhooks.sent.lock() {
        s.clear();
    }
    StatusCode::NO_CONTENT
}

async fn app_overview(State(sim): State<Simulator>, Path(app_id): Path<u64>) -> Json<Value> {
    let w = &sim.inner.webhooks;
    let settings = w.data().settings.get(&app_id).map(manage::settings_json);
    let subs: Vec<Value> = w
        .subscriptions(app_id)
        .iter()
        .map(manage::subscription_json)
        .collect();
    Json(json!({"appId": app_id, "settings": settings, "subscriptions": subs}))
}

/// `/_sim/hubspot/webhooks/…` control routes:
/// - `GET`/`DELETE /_sim/hubspot/webhooks/deliveries`: sender stats and every attempt (status,
///   error, attempt number, duplicate flag), plus events waiting in batches; DELETE forgets the
///   attempts.
/// - `GET`/`PUT /_sim/hubspot/webhooks/knobs`: the sender's [`DeliveryKnobs`] (duplicate,
///   reorder, delay, drop, pause, retries, `time_scale`, timeout, concurrency).
/// - `GET`/`PUT /_sim/hubspot/webhooks/config`: all [`WebhookKnobs`] (batching, signatures, …).
/// - `GET`/`DELETE /_sim/hubspot/webhooks/events?portalId=&subscriptionType=`: events sent,
///   as rendered for their first attempt (last 10,000).
/// - `GET /_sim/hubspot/apps/{app_id}/webhooks`: an app's settings and subscriptions without a
///   developer key.
pub(crate) fn control_routes() -> Router<Simulator> {
    Router::new()
        .route(
            "/_sim/hubspot/webhooks/deliveries",
            get(get_deliveries).delete(clear_deliveries),
        )
        .route(
            "/_sim/hubspot/webhooks/knobs",
            get(get_delivery_knobs).put(put_delivery_knobs),
        )
        .route(
            "/_sim/hubspot/webhooks/config",
            get(get_config).put(put_config),
        )
        .route(
            "/_sim/hubspot/webhooks/events",
            get(get_sent_events).delete(clear_sent_events),
        )
        .route("/_sim/hubspot/apps/{app_id}/webhooks", get(app_overview))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knob_defaults_follow_section_13() {
        let k = WebhookKnobs::default();
        assert_eq!(k.webhook_batch_max, 100);
        assert_eq!(
            k.webhook_signatures,
            [SignatureVersion::V1, SignatureVersion::V3]
        );
        assert_eq!(k.delivery.concurrency, 10);
        assert_eq!(k.delivery.timeout_ms, 5_000);
        assert_eq!(k.delivery.max_retries, 10);
        assert_eq!(k.max_subscriptions_per_app, 1_000);
        assert!(serde_json::from_str::<WebhookKnobs>(r#"{"batch":1}"#).is_err());
        let k: WebhookKnobs =
            serde_json::from_str(r#"{"webhook_signatures":["v2"],"delivery":{"time_scale":0.5}}"#)
                .unwrap();
        assert_eq!(k.webhook_signatures, [SignatureVersion::V2]);
        assert_eq!(k.delivery.time_scale, 0.5);
        assert_eq!(k.delivery.max_retries, 10);
    }
}
