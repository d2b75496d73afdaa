//! The delivery sender shared by both simulators (`hubsync_sim::delivery`), driven directly:
//! the reorder, delay, pause and concurrency switches, against a local receiver that can answer
//! slowly and counts the requests it is serving at once.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::post;
use hubsync_sim::delivery::{Deliverer, Delivery, DeliveryKnobs, Signer};
use hubsync_sim::serve::{Running, spawn};

const WAIT: Duration = Duration::from_secs(10);

/// Signs nothing: these tests are about timing, not signatures.
struct NoSignature;

impl Signer for NoSignature {
    fn headers(&self, _url: &str, _body: &[u8], _now_ms: i64) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// What the receiver saw, shared with its handler.
#[derive(Default)]
struct Seen {
    /// Bodies in arrival order, with the arrival time.
    arrivals: Mutex<Vec<(String, Instant)>>,
    /// Requests being served now, per path.
    in_flight: Mutex<HashMap<String, usize>>,
    /// Most requests served at once, per path.
    peak: Mutex<HashMap<String, usize>>,
    /// Most requests served at once over all paths.
    peak_total: AtomicUsize,
    total: AtomicUsize,
}

/// A receiver answering 200 on `POST /{path}` after `delay`.
struct SlowReceiver {
    seen: Arc<Seen>,
    server: Running,
}

async fn receive(
    State((seen, delay)): State<(Arc<Seen>, Duration)>,
    Path(path): Path<String>,
    body: Bytes,
) {
    seen.arrivals
        .lock()
        .unwrap()
        .push((String::from_utf8_lossy(&body).into_owned(), Instant::now()));
    {
        let mut in_flight = seen.in_flight.lock().unwrap();
        let n = in_flight.entry(path.clone()).or_default();
        *n += 1;
        let mut peak = seen.peak.lock().unwrap();
        let p = peak.entry(path.clone()).or_default();
        *p = (*p).max(*n);
    }
    let now = seen.total.fetch_add(1, Ordering::SeqCst) + 1;
    seen.peak_total.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(delay).await;
    seen.total.fetch_sub(1, Ordering::SeqCst);
    *seen.in_flight.lock().unwrap().entry(path).or_default() -= 1;
}

impl SlowReceiver {
    async fn start(delay: Duration) -> Self {
        let seen = Arc::new(Seen::default());
        let app = Router::new()
            .route("/{path}", post(receive))
            .with_state((seen.clone(), delay));
        let server = spawn("127.0.0.1:0", app).await.expect("bind receiver");
        Self { seen, server }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.server.base_url())
    }

    /// Bodies in arrival order.
    fn bodies(&self) -> Vec<String> {
        let arrivals = self.seen.arrivals.lock().unwrap();
        arrivals.iter().map(|(b, _)| b.clone()).collect()
    }

    fn first_arrival(&self) -> Option<Instant> {
        self.seen.arrivals.lock().unwrap().first().map(|(_, t)| *t)
    }

    fn peak(&self, path: &str) -> usize {
        self.seen
            .peak
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// Waits until `n` requests arrived (panics after `WAIT`).
    async fn wait_for(&self, n: usize) {
        let deadline = Instant::now() + WAIT;
        while self.bodies().len() < n {
            assert!(
                Instant::now() < deadline,
                "{} of {n} arrived",
                self.bodies().len()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// A sender with fast retries and the given switches.
fn deliverer(knobs: DeliveryKnobs) -> Deliverer {
    Deliverer::new(DeliveryKnobs {
        time_scale: 0.000_001,
        ..knobs
    })
}

/// Queues one delivery of `body` to `url` in `partition`.
fn send(d: &Deliverer, partition: &str, url: &str, body: &str) {
    d.send(Delivery {
        partition: partition.into(),
        url: url.into(),
        body: body.as_bytes().to_vec(),
        signer: Arc::new(NoSignature),
        label: body.into(),
    });
}

#[tokio::test]
async fn reorder_lets_later_deliveries_overtake_earlier_ones() {
    const N: usize = 20;
    let mut overtaken = false;
    for _try in 0..3 {
        let rx = SlowReceiver::start(Duration::ZERO).await;
        let d = deliverer(DeliveryKnobs {
            reorder: true,
            reorder_window_ms: 200,
            ..DeliveryKnobs::default()
        });
        for i in 0..N {
            send(&d, "p", &rx.url("hook"), &format!("{i:02}"));
        }
        assert!(d.wait_idle(WAIT).await);
        let got = rx.bodies();
        let mut sorted = got.clone();
        sorted.sort();
        assert_eq!(sorted.len(), N, "every delivery arrives once: {got:?}");
        sorted.dedup();
        assert_eq!(sorted.len(), N, "no duplicates: {got:?}");
        if got != sorted {
            overtaken = true;
            break;
        }
    }
    assert!(
        overtaken,
        "20 deliveries in a 200 ms window never overtook each other"
    );
}

#[tokio::test]
async fn delay_holds_back_the_first_attempt() {
    let rx = SlowReceiver::start(Duration::ZERO).await;
    let d = deliverer(DeliveryKnobs {
        delay_ms: 300,
        ..DeliveryKnobs::default()
    });
    let sent = Instant::now();
    send(&d, "p", &rx.url("hook"), "late");
    rx.wait_for(1).await;
    let waited = rx.first_arrival().unwrap() - sent;
    assert!(
        waited >= Duration::from_millis(300),
        "first attempt after {waited:?}"
    );
    assert!(d.wait_idle(WAIT).await);
    assert_eq!(d.stats().delivered, 1);
}

#[tokio::test]
async fn pause_holds_deliveries_until_unpaused() {
    let rx = SlowReceiver::start(Duration::ZERO).await;
    let d = deliverer(DeliveryKnobs {
        paused: true,
        ..DeliveryKnobs::default()
    });
    for body in ["a", "b", "c"] {
        send(&d, "p", &rx.url("hook"), body);
    }
    assert!(!d.wait_idle(Duration::from_millis(300)).await, "held");
    assert!(rx.bodies().is_empty());
    assert_eq!(d.stats().in_flight, 3);
    assert_eq!(d.stats().attempts, 0);

    d.set_knobs(DeliveryKnobs {
        paused: false,
        ..d.knobs()
    });
    rx.wait_for(3).await;
    assert!(d.wait_idle(WAIT).await);
    let mut got = rx.bodies();
    got.sort();
    assert_eq!(got, ["a", "b", "c"]);
    assert_eq!(d.stats().delivered, 3);

    // Pausing again holds new deliveries, not the ones already sent.
    d.set_knobs(DeliveryKnobs {
        paused: true,
        ..d.knobs()
    });
    send(&d, "p", &rx.url("hook"), "d");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rx.bodies().len(), 3);
    d.set_knobs(DeliveryKnobs {
        paused: false,
        ..d.knobs()
    });
    rx.wait_for(4).await;
}

#[tokio::test]
async fn a_slow_receiver_sees_at_most_concurrency_requests_per_partition() {
    let rx = SlowReceiver::start(Duration::from_millis(200)).await;
    let d = deliverer(DeliveryKnobs {
        concurrency: 2,
        ..DeliveryKnobs::default()
    });
    for i in 0..6 {
        send(&d, "a", &rx.url("a"), &format!("a{i}"));
        send(&d, "b", &rx.url("b"), &format!("b{i}"));
    }
    assert!(d.wait_idle(WAIT).await);
    assert_eq!(rx.bodies().len(), 12);
    assert_eq!(
        rx.peak("a"),
        2,
        "partition a: bounded, and used to the bound"
    );
    assert_eq!(
        rx.peak("b"),
        2,
        "partition b: bounded, and used to the bound"
    );
    assert!(
        rx.seen.peak_total.load(Ordering::SeqCst) > 2,
        "partitions do not share their permits"
    );
}

#[tokio::test]
async fn lowering_concurrency_at_run_time_applies_to_later_deliveries() {
    let rx = SlowReceiver::start(Duration::from_millis(150)).await;
    let d = deliverer(DeliveryKnobs::default());
    send(&d, "p", &rx.url("warm"), "warm-up at concurrency 10");
    assert!(d.wait_idle(WAIT).await);
    d.set_knobs(DeliveryKnobs {
        concurrency: 1,
        ..d.knobs()
    });
    for i in 0..4 {
        send(&d, "p", &rx.url("slow"), &format!("{i}"));
    }
    assert!(d.wait_idle(WAIT).await);
    assert_eq!(rx.bodies().len(), 5);
    assert_eq!(rx.peak("slow"), 1, "one at a time after the change");
}
