//! Fault injection shared by both simulators: added latency, a 5xx rate and hanging requests.
//!
//! The knobs are read on every request, so tests flip them at run time through the control
//! endpoints (`GET`/`PUT /_sim/faults`) without restarting the simulator. Control routes are
//! never subject to faults: the layer is applied to the API router only.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Fault switches. Every field has a default of "off".
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct FaultKnobs {
    /// Fixed latency added to every API response, in milliseconds. Default 0.
    pub latency_ms: u64,
    /// Extra random latency, uniform in `0..=latency_jitter_ms`. Default 0.
    pub latency_jitter_ms: u64,
    /// Share of requests (0.0–1.0) answered with `error_status` instead of being served. Default 0.
    pub error_rate: f64,
    /// Status used by `error_rate`. Default 0 means 503.
    pub error_status: u16,
    /// Share of requests (0.0–1.0) that hang for `timeout_ms` and then get no answer
    /// (the connection is closed). Default 0.
    pub timeout_rate: f64,
    /// How long a hanging request hangs, in milliseconds. Default 0 means 30,000.
    pub timeout_ms: u64,
}

impl FaultKnobs {
    fn status(&self) -> u16 {
        if self.error_status == 0 {
            503
        } else {
            self.error_status
        }
    }

    fn hang(&self) -> Duration {
        Duration::from_millis(if self.timeout_ms == 0 {
            30_000
        } else {
            self.timeout_ms
        })
    }
}

/// Builds the body of an injected error response, in the simulated service's own error shape.
pub type ErrorResponder = fn(status: u16) -> Response;

/// Shared, run-time switchable fault state of one simulator.
#[derive(Clone)]
pub struct Faults {
    knobs: Arc<RwLock<FaultKnobs>>,
    responder: ErrorResponder,
}

impl Faults {
    /// Creates the fault state with initial knobs and the service's error body builder.
    pub fn new(knobs: FaultKnobs, responder: ErrorResponder) -> Self {
        Self {
            knobs: Arc::new(RwLock::new(knobs)),
            responder,
        }
    }

    /// Current knobs.
    pub fn get(&self) -> FaultKnobs {
        self.knobs.read().map(|k| k.clone()).unwrap_or_default()
    }

    /// Replaces the knobs.
    pub fn set(&self, knobs: FaultKnobs) {
        if let Ok(mut k) = self.knobs.write() {
            *k = knobs;
        }
    }
}

/// What the fault layer decided for one request.
enum Verdict {
    Serve(Duration),
    Fail(Duration, u16),
    Hang(Duration),
}

fn decide(knobs: &FaultKnobs) -> Verdict {
    let mut rng = rand::rng();
    let mut delay = knobs.latency_ms;
    if knobs.latency_jitter_ms > 0 {
        delay += rng.random_range(0..=knobs.latency_jitter_ms);
    }
    let delay = Duration::from_millis(delay);
    if knobs.timeout_rate > 0.0 && rng.random_bool(knobs.timeout_rate.clamp(0.0, 1.0)) {
        return Verdict::Hang(knobs.hang());
    }
    if knobs.error_rate > 0.0 && rng.random_bool(knobs.error_rate.clamp(0.0, 1.0)) {
        return Verdict::Fail(delay, knobs.status());
    }
    Verdict::Serve(delay)
}

/// Axum middleware: `axum::middleware::from_fn_with_state(faults, faults::inject)`.
pub async fn inject(State(faults): State<Faults>, req: Request, next: Next) -> Response {
    match decide(&faults.get()) {
        Verdict::Serve(delay) => {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            next.run(req).await
        }
        Verdict::Fail(delay, status) => {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            (faults.responder)(status)
        }
        Verdict::Hang(hang) => {
            tokio::time::sleep(hang).await;
            // After the hang the client has normally given up; answer a gateway timeout for
            // the ones that waited this long.
            (faults.responder)(504)
        }
    }
}

/// Control routes for one simulator's faults: `GET` and `PUT /_sim/faults`.
pub fn control_router<S>(faults: Faults) -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    use axum::Json;
    use axum::routing::get;
    axum::Router::new()
        .route(
            "/_sim/faults",
            get(|State(f): State<Faults>| async move { Json(f.get()) }).put(
                |State(f): State<Faults>, Json(k): Json<FaultKnobs>| async move {
                    f.set(k.clone());
                    Json(k)
                },
            ),
        )
        .with_state(faults)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_serve_without_delay() {
        assert!(matches!(decide(&FaultKnobs::default()), Verdict::Serve(d) if d.is_zero()));
    }

    #[test]
    fn full_error_rate_always_fails_with_the_configured_status() {
        let k = FaultKnobs {
            error_rate: 1.0,
            error_status: 502,
            ..Default::default()
        };
        for _ in 0..100 {
            assert!(matches!(decide(&k), Verdict::Fail(_, 502)));
        }
    }

    #[test]
    fn unknown_knob_is_rejected() {
        assert!(serde_json::from_str::<FaultKnobs>(r#"{"latency":5}"#).is_err());
    }
}
