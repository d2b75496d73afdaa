//! Outgoing webhook deliveries shared by both simulators: signing at send time, timeouts,
//! retries spread over a window, bounded concurrency per partition, and switches that make the
//! sender misbehave (duplicate, reorder, delay, drop, pause) the way real senders do.
//!
//! Each simulator decides *what* to send (HubSpot batches up to 100 events per request, Userflow
//! sends one notification per request) and *how to sign it* (a [`Signer`]); this module decides
//! *when and how often* it reaches the target. Every attempt is recorded so tests can assert on
//! what was delivered (`GET /_sim/<service>/webhooks/deliveries`).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::Rng;
use serde::{Deserialize, Serialize};
use tokio::sync::{Semaphore, watch};

/// Adds signature headers to one attempt. Called again for every retry, so timestamps are fresh.
pub trait Signer: Send + Sync {
    /// Headers for a `POST` of `body` to `url` at `now_ms` (epoch milliseconds).
    fn headers(&self, url: &str, body: &[u8], now_ms: i64) -> Vec<(String, String)>;

    /// The body to send on attempt `attempt` (0 = first), when it differs from the queued one:
    /// HubSpot's payload carries `attemptNumber`, so its signer re-renders the body per attempt
    /// (and signs what it rendered). Default: `None`, send the queued body unchanged.
    fn body_for_attempt(&self, _body: &[u8], _attempt: u32) -> Option<Vec<u8>> {
        None
    }
}

/// Delivery switches and retry policy. Defaults follow HubSpot's documented behaviour
/// (10 retries over 24 hours, 5 s timeout, 10 concurrent requests per account).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DeliveryKnobs {
    /// Share (0.0–1.0) of deliveries sent twice. Default 0.
    pub duplicate_rate: f64,
    /// When true, each delivery waits a random time in `0..reorder_window_ms` first, so later
    /// deliveries overtake earlier ones. Default false.
    pub reorder: bool,
    /// Window used by `reorder`, in milliseconds. Default 200.
    pub reorder_window_ms: u64,
    /// Fixed delay before the first attempt, in milliseconds. Default 0.
    pub delay_ms: u64,
    /// Share (0.0–1.0) of deliveries dropped without any attempt. Default 0.
    pub drop_rate: f64,
    /// When true, deliveries wait until it is switched off again. Default false.
    pub paused: bool,
    /// Per-attempt timeout, in milliseconds. Default 5,000.
    pub timeout_ms: u64,
    /// Retries after the first attempt on a connection error, timeout or non-2xx. Default 10.
    pub max_retries: u32,
    /// Span over which the retries are spread, in milliseconds. Default 24 h.
    pub retry_window_ms: u64,
    /// Factor applied to every retry delay; tests use a small one (0.00001) to see retries
    /// within milliseconds. Default 1.0.
    pub time_scale: f64,
    /// Concurrent requests per partition (HubSpot: per portal). Default 10.
    pub concurrency: usize,
}

impl Default for DeliveryKnobs {
    fn default() -> Self {
        Self {
            duplicate_rate: 0.0,
            reorder: false,
            reorder_window_ms: 200,
            delay_ms: 0,
            drop_rate: 0.0,
            paused: false,
            timeout_ms: 5_000,
            max_retries: 10,
            retry_window_ms: 24 * 60 * 60 * 1000,
            time_scale: 1.0,
            concurrency: 10,
        }
    }
}

impl DeliveryKnobs {
    /// Delay before retry number `retry` (1-based): exponential, jittered by ±20 %, scaled so that
    /// all `max_retries` delays add up to about `retry_window_ms`.
    pub fn retry_delay(&self, retry: u32) -> Duration {
        let n = self.max_retries.clamp(1, 30);
        let total_weight = (1u64 << n) - 1;
        let weight = 1u64 << (retry.clamp(1, n) - 1);
        let base = self.retry_window_ms as f64 * weight as f64 / total_weight as f64;
        let jitter = rand::rng().random_range(0.8..=1.2);
        Duration::from_secs_f64((base * jitter * self.time_scale.max(0.0)) / 1000.0)
    }
}

/// One webhook request to make.
pub struct Delivery {
    /// Concurrency partition (HubSpot: the portal id; Userflow: the subscription id).
    pub partition: String,
    /// Target URL.
    pub url: String,
    /// Exact body bytes; signatures are computed over these.
    pub body: Vec<u8>,
    /// Signs each attempt.
    pub signer: Arc<dyn Signer>,
    /// Short description for the record (e.g. `contact.propertyChange x3`).
    pub label: String,
}

/// The outcome of one attempt, kept for inspection.
#[derive(Debug, Clone, Serialize)]
pub struct AttemptRecord {
    /// Delivery sequence number (duplicates share it).
    pub delivery: u64,
    /// 0 for the first attempt.
    pub attempt: u32,
    /// Target URL.
    pub url: String,
    /// Description given by the simulator.
    pub label: String,
    /// HTTP status, if an answer came.
    pub status: Option<u16>,
    /// Transport error or timeout, if no answer came.
    pub error: Option<String>,
    /// Epoch milliseconds of the attempt.
    pub at_ms: i64,
    /// Whether this attempt was an injected duplicate.
    pub duplicate: bool,
}

/// Counters over the simulator's lifetime.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DeliveryStats {
    /// Deliveries handed to the sender.
    pub queued: u64,
    /// Deliveries answered 2xx.
    pub delivered: u64,
    /// Attempts made, including retries and duplicates.
    pub attempts: u64,
    /// Attempts that failed (non-2xx, transport error, timeout).
    pub failed_attempts: u64,
    /// Deliveries abandoned after the last retry.
    pub given_up: u64,
    /// Deliveries dropped by `drop_rate`.
    pub dropped: u64,
    /// Extra copies sent by `duplicate_rate`.
    pub duplicated: u64,
    /// Deliveries not finished yet.
    pub in_flight: u64,
}

const RECORD_CAP: usize = 20_000;

#[derive(Default)]
struct Counters {
    queued: AtomicU64,
    delivered: AtomicU64,
    attempts: AtomicU64,
    failed_attempts: AtomicU64,
    given_up: AtomicU64,
    dropped: AtomicU64,
    duplicated: AtomicU64,
    in_flight: AtomicU64,
    seq: AtomicU64,
}

struct Inner {
    knobs: RwLock<DeliveryKnobs>,
    paused: watch::Sender<bool>,
    http: reqwest::Client,
    /// Partition → (the concurrency it was built for, its permits).
    partitions: Mutex<HashMap<String, (usize, Arc<Semaphore>)>>,
    records: Mutex<VecDeque<AttemptRecord>>,
    counters: Counters,
}

/// Sends deliveries in the background. Cheap to clone.
#[derive(Clone)]
pub struct Deliverer {
    inner: Arc<Inner>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Deliverer {
    /// Creates a sender with the given knobs.
    pub fn new(knobs: DeliveryKnobs) -> Self {
        let (paused, _) = watch::channel(knobs.paused);
        Self {
            inner: Arc::new(Inner {
                knobs: RwLock::new(knobs),
                paused,
                http: reqwest::Client::builder()
                    .build()
                    .unwrap_or_else(|_| reqwest::Client::new()),
                partitions: Mutex::new(HashMap::new()),
                records: Mutex::new(VecDeque::new()),
                counters: Counters::default(),
            }),
        }
    }

    /// Current knobs.
    pub fn knobs(&self) -> DeliveryKnobs {
        self.inner
            .knobs
            .read()
            .map(|k| k.clone())
            .unwrap_or_default()
    }

    /// Replaces the knobs; unpausing releases held deliveries at once.
    pub fn set_knobs(&self, knobs: DeliveryKnobs) {
        self.inner.paused.send_replace(knobs.paused);
        if let Ok(mut k) = self.inner.knobs.write() {
            *k = knobs;
        }
    }

    /// Counters.
    pub fn stats(&self) -> DeliveryStats {
        let c = &self.inner.counters;
        DeliveryStats {
            queued: c.queued.load(Ordering::Relaxed),
            delivered: c.delivered.load(Ordering::Relaxed),
            attempts: c.attempts.load(Ordering::Relaxed),
            failed_attempts: c.failed_attempts.load(Ordering::Relaxed),
            given_up: c.given_up.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            duplicated: c.duplicated.load(Ordering::Relaxed),
            in_flight: c.in_flight.load(Ordering::Relaxed),
        }
    }

    /// The most recent attempts (at most 20,000), oldest first.
    pub fn records(&self) -> Vec<AttemptRecord> {
        self.inner
            .records
            .lock()
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Forgets recorded attempts (counters stay).
    pub fn clear_records(&self) {
        if let Ok(mut r) = self.inner.records.lock() {
            r.clear();
        }
    }

    /// Waits until no delivery is in flight, or `timeout` passes. Returns whether it went idle.
    pub async fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.inner.counters.in_flight.load(Ordering::Acquire) > 0 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }

    /// Queues one delivery; it is sent in the background.
    pub fn send(&self, delivery: Delivery) {
        let c = &self.inner.counters;
        c.queued.fetch_add(1, Ordering::Relaxed);
        let knobs = self.knobs();
        let mut rng = rand::rng();
        if knobs.drop_rate > 0.0 && rng.random_bool(knobs.drop_rate.clamp(0.0, 1.0)) {
            c.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(url = %delivery.url, label = %delivery.label, "webhook delivery dropped by switch");
            return;
        }
        let duplicate =
            knobs.duplicate_rate > 0.0 && rng.random_bool(knobs.duplicate_rate.clamp(0.0, 1.0));
        let seq = c.seq.fetch_add(1, Ordering::Relaxed);
        let delivery = Arc::new(delivery);
        let copies = if duplicate { 2 } else { 1 };
        if duplicate {
            c.duplicated.fetch_add(1, Ordering::Relaxed);
        }
        for copy in 0..copies {
            c.in_flight.fetch_add(1, Ordering::AcqRel);
            let this = self.clone();
            let delivery = delivery.clone();
            let mut pre_delay = knobs.delay_ms;
            if knobs.reorder && knobs.reorder_window_ms > 0 {
                pre_delay += rng.random_range(0..knobs.reorder_window_ms);
            }
            tokio::spawn(async move {
                this.run(seq, delivery, copy == 1, Duration::from_millis(pre_delay))
                    .await;
                this.inner.counters.in_flight.fetch_sub(1, Ordering::AcqRel);
            });
        }
    }

    /// The partition's permits. A changed `concurrency` gets a fresh semaphore: attempts that
    /// start afterwards obey the new bound, running ones finish under the old one.
    fn semaphore(&self, partition: &str, concurrency: usize) -> Arc<Semaphore> {
        let concurrency = concurrency.max(1);
        let mut map = match self.inner.partitions.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        let entry = map
            .entry(partition.to_string())
            .or_insert_with(|| (concurrency, Arc::new(Semaphore::new(concurrency))));
        if entry.0 != concurrency {
            *entry = (concurrency, Arc::new(Semaphore::new(concurrency)));
        }
        entry.1.clone()
    }

    async fn wait_unpaused(&self) {
        let mut rx = self.inner.paused.subscribe();
        // An error means the sender is gone, which cannot happen while `self` lives.
        let _ = rx.wait_for(|paused| !*paused).await;
    }

    async fn run(&self, seq: u64, d: Arc<Delivery>, duplicate: bool, pre_delay: Duration) {
        if !pre_delay.is_zero() {
            tokio::time::sleep(pre_delay).await;
        }
        let c = &self.inner.counters;
        let mut attempt = 0u32;
        loop {
            self.wait_unpaused().await;
            let knobs = self.knobs();
            let sem = self.semaphore(&d.partition, knobs.concurrency);
            let outcome = {
                let _permit = sem.acquire().await;
                self.attempt(&d, attempt, Duration::from_millis(knobs.timeout_ms.max(1)))
                    .await
            };
            c.attempts.fetch_add(1, Ordering::Relaxed);
            let ok = matches!(outcome, Ok(s) if (200..300).contains(&s));
            self.record(AttemptRecord {
                delivery: seq,
                attempt,
                url: d.url.clone(),
                label: d.label.clone(),
                status: outcome.as_ref().ok().copied(),
                error: outcome.as_ref().err().cloned(),
                at_ms: now_ms(),
                duplicate,
            });
            if ok {
                c.delivered.fetch_add(1, Ordering::Relaxed);
                return;
            }
            c.failed_attempts.fetch_add(1, Ordering::Relaxed);
            if attempt >= knobs.max_retries {
                c.given_up.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(url = %d.url, label = %d.label, attempts = attempt + 1, "webhook delivery given up");
                return;
            }
            attempt += 1;
            tokio::time::sleep(knobs.retry_delay(attempt)).await;
        }
    }

    async fn attempt(&self, d: &Delivery, attempt: u32, timeout: Duration) -> Result<u16, String> {
        let body = d
            .signer
            .body_for_attempt(&d.body, attempt)
            .unwrap_or_else(|| d.body.clone());
        let headers = d.signer.headers(&d.url, &body, now_ms());
        let mut req = self
            .inner
            .http
            .post(&d.url)
            .timeout(timeout)
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in headers {
            req = req.header(name, value);
        }
        match req.send().await {
            Ok(resp) => Ok(resp.status().as_u16()),
            Err(e) if e.is_timeout() => Err("timeout".to_string()),
            Err(e) => Err(format!("transport: {e}")),
        }
    }

    fn record(&self, rec: AttemptRecord) {
        if let Ok(mut r) = self.inner.records.lock() {
            if r.len() >= RECORD_CAP {
                r.pop_front();
            }
            r.push_back(rec);
        }
    }

    /// Control routes under `prefix` (e.g. `/_sim/webhooks`): `GET {prefix}/deliveries`
    /// (stats and attempts), `DELETE {prefix}/deliveries` (forget attempts),
    /// `GET`/`PUT {prefix}/knobs`.
    pub fn control_router<S>(&self, prefix: &str) -> axum::Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        use axum::Json;
        use axum::extract::State;
        use axum::routing::get;
        axum::Router::new()
            .route(
                &format!("{prefix}/deliveries"),
                get(|State(d): State<Deliverer>| async move {
                    Json(serde_json::json!({"stats": d.stats(), "attempts": d.records()}))
                })
                .delete(|State(d): State<Deliverer>| async move {
                    d.clear_records();
                    axum::http::StatusCode::NO_CONTENT
                }),
            )
            .route(
                &format!("{prefix}/knobs"),
                get(|State(d): State<Deliverer>| async move { Json(d.knobs()) }).put(
                    |State(d): State<Deliverer>, Json(k): Json<DeliveryKnobs>| async move {
                        d.set_knobs(k.clone());
                        Json(k)
                    },
                ),
            )
            .with_state(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_span_the_window() {
        let k = DeliveryKnobs::default();
        let total: f64 = (1..=k.max_retries)
            .map(|r| k.retry_delay(r).as_secs_f64())
            .sum();
        let window = k.retry_window_ms as f64 / 1000.0;
        assert!(
            total > window * 0.75 && total < window * 1.25,
            "total {total} vs {window}"
        );
    }

    #[test]
    fn retry_delays_grow() {
        let k = DeliveryKnobs {
            max_retries: 5,
            retry_window_ms: 31_000,
            ..Default::default()
        };
        assert!(k.retry_delay(5) > k.retry_delay(1) * 8);
    }

    #[test]
    fn time_scale_shrinks_delays() {
        let k = DeliveryKnobs {
            time_scale: 0.0,
            ..Default::default()
        };
        assert!(k.retry_delay(3).is_zero());
    }
}
