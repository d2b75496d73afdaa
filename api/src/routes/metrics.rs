//! `GET /metrics`: the queues in the Prometheus text exposition format (0.0.4), rendered by
//! hand from [`hubsync_queue::QueueAdmin::stats`]. The data lives in Redis, so every API
//! replica exports the same cluster-wide values: scrape one replica, or aggregate with `max`.
//!
//! Open by default, as Prometheus scrapers expect (keep the API port private to the
//! cluster); with [`crate::AppState::metrics_require_token`] it needs an operator token
//! (`authorization` with `type: Bearer` in the scrape config).
//!
//! | series | type | from |
//! |---|---|---|
//! | `hubsync_queue_jobs{queue,state}` | gauge | jobs per state (completed: within retention) |
//! | `hubsync_queue_tenant_jobs{queue,tenant,state}` | gauge | waiting, delayed, active, dead per tenant |
//! | `hubsync_queue_events_total{queue,event}` | counter | the queue's lifetime counters |
//! | `hubsync_queue_wait_seconds{queue}` | histogram | due → start, over the window |
//! | `hubsync_queue_run_seconds{queue}` | histogram | handler run time, over the window |
//! | `hubsync_queue_paused{queue}` | gauge | 1 when paused |
//! | `hubsync_queue_workers{queue}` | gauge | workers that renewed within three lease periods |
//!
//! The histograms hold the samples of the last `window_s` seconds (default 300, `?window_s=`
//! up to 7200, whole minutes), not a count since start: the queue keeps per-minute
//! histograms in Redis, shared by all processes. So take quantiles directly, without
//! `rate()`: `histogram_quantile(0.99, max by (le) (hubsync_queue_wait_seconds_bucket{queue="realtime"}))`.
//! Buckets are the queue's own (durations are whole ms; bucket `b` holds `floor(4·log2(ms+1)) = b`),
//! merged two by two (≈41 % wide) up to about an hour; each `le` is the largest whole-ms
//! duration of its bucket, so the cumulative counts are exact. There is no `_sum` (the queue
//! keeps none).

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hubsync_queue::{JobState, LatencyHistogram, QueueStats};
use utoipa::OpenApi;

use crate::AppState;
use crate::auth::authorize;
use crate::error::{ApiError, ErrorBody};
use crate::query::Params;
use crate::routes::operator::queues::{DEFAULT_WINDOW_S, MAX_WINDOW_S, counters};

/// Content type of the text exposition format.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Last fine bucket of the ladder: `2^(88/4)` ms ≈ 70 min.
const LAST_BUCKET: u32 = 87;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// `/metrics`, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(metrics),
    tags((name = "metrics", description = "Prometheus metrics of the queues."))
)]
pub(crate) struct Api;

/// Prometheus metrics of every queue (text exposition format 0.0.4).
///
/// Cluster-wide values (read from Redis): scrape one replica. Open by default; needs an
/// operator token when the server runs with `metrics_require_token`. The histograms cover the
/// last `window_s` seconds, not the time since start: take quantiles without `rate()`.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "metrics",
    params(
        ("window_s" = Option<u64>, Query, minimum = 1, maximum = 7200,
            description = "Latency window of the histograms in seconds (default 300, whole minutes)."),
    ),
    security((), ("bearerAuth" = [])),
    responses(
        (status = 200, description = "The exposition.", body = String,
            content_type = "text/plain; version=0.0.4; charset=utf-8"),
        (status = 400, description = "Unknown parameter or `window_s` out of range.", body = ErrorBody),
        (status = 401, description = "A token is required and missing or wrong.", body = ErrorBody),
    )
)]
async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    if state.metrics_require_token {
        authorize(&state, &headers)?;
    }
    let params = Params::parse(query.as_deref(), &["window_s"])?;
    let window = params.int_in("window_s", 1..=MAX_WINDOW_S, DEFAULT_WINDOW_S)?;
    let mut all = Vec::new();
    for admin in state.queues.iter() {
        all.push(
            admin
                .stats(Duration::from_secs(window))
                .await
                .map_err(ApiError::internal)?,
        );
    }
    tracing::debug!(queues = all.len(), window_s = window, "metrics scraped");
    let mut resp = render(&all).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    Ok(resp)
}

/// The exposition of these queues' statistics.
pub(crate) fn render(all: &[QueueStats]) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "hubsync_queue_jobs",
        "gauge",
        "Jobs per queue and state (completed: kept within the retention window).",
    );
    for s in all {
        for st in JobState::ALL {
            let n = state_count(&s.counts, st);
            sample(
                &mut out,
                "hubsync_queue_jobs",
                &[("queue", &s.queue), ("state", st.as_str())],
                n,
            );
        }
    }
    family(
        &mut out,
        "hubsync_queue_tenant_jobs",
        "gauge",
        "Jobs per queue, tenant and state (waiting, delayed, active, dead).",
    );
    for s in all {
        for (tenant, c) in &s.tenants {
            for st in [
                JobState::Waiting,
                JobState::Delayed,
                JobState::Active,
                JobState::Dead,
            ] {
                sample(
                    &mut out,
                    "hubsync_queue_tenant_jobs",
                    &[
                        ("queue", &s.queue),
                        ("tenant", tenant),
                        ("state", st.as_str()),
                    ],
                    state_count(c, st),
                );
            }
        }
    }
    family(
        &mut out,
        "hubsync_queue_events_total",
        "counter",
        "Queue events since the queue was created (enqueued, started, completed, failed, dead, …).",
    );
    for s in all {
        for (event, n) in counters(&s.counters) {
            sample(
                &mut out,
                "hubsync_queue_events_total",
                &[("queue", &s.queue), ("event", &event)],
                n,
            );
        }
    }
    for (name, help, pick) in [
        (
            "hubsync_queue_wait_seconds",
            "Time from a job being due to its start, over the last window_s seconds (not cumulative).",
            (|s: &QueueStats| &s.wait) as fn(&QueueStats) -> &LatencyHistogram,
        ),
        (
            "hubsync_queue_run_seconds",
            "Handler run time, over the last window_s seconds (not cumulative).",
            |s: &QueueStats| &s.run,
        ),
    ] {
        family(&mut out, name, "histogram", help);
        for s in all {
            histogram(&mut out, name, &s.queue, pick(s));
        }
    }
    family(
        &mut out,
        "hubsync_queue_paused",
        "gauge",
        "1 while the queue is paused (workers lease nothing).",
    );
    for s in all {
        sample(
            &mut out,
            "hubsync_queue_paused",
            &[("queue", &s.queue)],
            u64::from(s.paused),
        );
    }
    family(
        &mut out,
        "hubsync_queue_workers",
        "gauge",
        "Workers that renewed their leases within three lease periods.",
    );
    for s in all {
        sample(
            &mut out,
            "hubsync_queue_workers",
            &[("queue", &s.queue)],
            s.live_workers,
        );
    }
    out
}

fn state_count(c: &hubsync_queue::StateCounts, st: JobState) -> u64 {
    match st {
        JobState::Waiting => c.waiting,
        JobState::Delayed => c.delayed,
        JobState::Active => c.active,
        JobState::Completed => c.completed,
        JobState::Dead => c.dead,
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {}", escape_help(help));
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: u64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape_label(v));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

fn histogram(out: &mut String, name: &str, queue: &str, h: &LatencyHistogram) {
    let bucket = format!("{name}_bucket");
    for (b, le_ms) in ladder() {
        let cumulative: u64 = h.buckets.range(..=*b).map(|(_, n)| n).sum();
        let le = format!("{}", *le_ms as f64 / 1000.0);
        sample(out, &bucket, &[("queue", queue), ("le", &le)], cumulative);
    }
    let total = h.count();
    sample(out, &bucket, &[("queue", queue), ("le", "+Inf")], total);
    sample(out, &format!("{name}_count"), &[("queue", queue)], total);
}

/// The queue's latency bucket of a whole-ms duration, computed as its scripts do
/// (`math.floor(math.log(ms + 1) / math.log(2) * 4)`).
fn fine_bucket(ms: u64) -> u32 {
    ((ms as f64 + 1.0).ln() / 2f64.ln() * 4.0).floor() as u32
}

/// `(b, ms)`: the cumulative count of fine buckets `..=b` is exactly the count of durations
/// `<= ms`. Every second fine bucket up to [`LAST_BUCKET`], without repeated bounds.
fn ladder() -> &'static [(u32, u64)] {
    static LADDER: OnceLock<Vec<(u32, u64)>> = OnceLock::new();
    LADDER.get_or_init(|| {
        let mut out: Vec<(u32, u64)> = Vec::new();
        for b in (1..=LAST_BUCKET).step_by(2) {
            // Largest whole ms whose bucket is <= b: start at the exclusive upper bound and
            // correct for floating-point rounding either way.
            let mut ms = LatencyHistogram::bucket_upper_ms(b).ceil() as u64;
            while ms > 0 && fine_bucket(ms) > b {
                ms -= 1;
            }
            while fine_bucket(ms + 1) <= b {
                ms += 1;
            }
            if out.last().is_none_or(|(_, prev)| *prev != ms) {
                out.push((b, ms));
            }
        }
        out
    })
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Parses an exposition back into `series{labels} -> value` (tests only).
#[cfg(test)]
pub(crate) fn parse(text: &str) -> std::collections::BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ladder_bounds_are_the_last_whole_ms_of_their_bucket() {
        let l = ladder();
        assert_eq!(l[0], (1, 0), "sub-ms waits: le=0");
        for w in l.windows(2) {
            assert!(w[0].1 < w[1].1, "strictly increasing: {w:?}");
        }
        for (b, ms) in l {
            assert!(
                fine_bucket(*ms) <= *b && fine_bucket(ms + 1) > *b,
                "{b} {ms}"
            );
        }
        let last = l.last().map(|(_, ms)| *ms).unwrap_or_default();
        assert!((3_000_000..5_000_000).contains(&last), "{last}");
        assert!(l.len() <= 45, "{}", l.len());
    }

    #[test]
    fn histogram_is_cumulative_with_inf_and_count() {
        let mut h = LatencyHistogram::default();
        h.buckets.insert(0, 3); // 0 ms
        h.buckets.insert(4, 2); // 1 ms
        h.buckets.insert(fine_bucket(100), 1);
        h.buckets.insert(fine_bucket(50_000_000), 1); // beyond the ladder
        let mut out = String::new();
        histogram(&mut out, "x", "q", &h);
        let m = parse(&out);
        assert_eq!(m[r#"x_bucket{queue="q",le="0"}"#], 3.0);
        assert_eq!(m[r#"x_bucket{queue="q",le="0.001"}"#], 5.0);
        assert_eq!(m[r#"x_bucket{queue="q",le="+Inf"}"#], 7.0);
        assert_eq!(m[r#"x_count{queue="q"}"#], 7.0);
        let below_100: Vec<f64> = ladder()
            .iter()
            .filter(|(_, ms)| *ms < 100)
            .map(|(_, ms)| m[&format!("x_bucket{{queue=\"q\",le=\"{}\"}}", *ms as f64 / 1000.0)])
            .collect();
        assert_eq!(below_100.last(), Some(&5.0));
        let at_or_above_100 = ladder()
            .iter()
            .find(|(_, ms)| *ms >= 100)
            .map(|(_, ms)| m[&format!("x_bucket{{queue=\"q\",le=\"{}\"}}", *ms as f64 / 1000.0)]);
        assert_eq!(at_or_above_100, Some(6.0));
    }

    use hubsync_queue::NewJob;

    use crate::test_support::{Behavior, RunningWorker, TestApp, TestJob, eventually};

    /// Runs `behavior` on `queue` until `event` has happened `n` times, then stops.
    async fn run_until(app: &TestApp, queue: &str, behavior: Behavior, event: &str, n: u64) {
        let admin = app.state.queues.get(queue).expect("queue").clone();
        let worker = RunningWorker::spawn(app.backend(queue), 4, behavior);
        eventually(&format!("{queue}: {event} = {n}"), || async {
            admin
                .stats(Duration::from_secs(60))
                .await
                .expect("stats")
                .counters
                .get(event)
                == Some(&n)
        })
        .await;
        worker.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn metrics_export_every_queue_series_with_correct_values() {
        let app = TestApp::new(&["op"]).await;
        let rt = app.producer("realtime");
        rt.enqueue_many((0..4).map(|n| NewJob::new("a", TestJob { n })).collect())
            .await
            .expect("enqueue");
        run_until(&app, "realtime", Behavior::Succeed, "completed", 4).await;
        rt.enqueue_many((4..7).map(|n| NewJob::new("b", TestJob { n })).collect())
            .await
            .expect("enqueue");
        let odd = "t\"x";
        app.producer("bulk")
            .enqueue_many((0..2).map(|n| NewJob::new(odd, TestJob { n })).collect())
            .await
            .expect("enqueue");
        run_until(&app, "bulk", Behavior::Fail, "dead", 2).await;
        app.state
            .queues
            .get("bulk")
            .expect("bulk")
            .pause()
            .await
            .expect("pause");

        let (status, content_type, text) = app.raw("GET", "/metrics", None, None).await;
        assert_eq!(status, 200, "open without a token by default: {text}");
        assert_eq!(content_type, CONTENT_TYPE);
        for (family, kind) in [
            ("hubsync_queue_jobs", "gauge"),
            ("hubsync_queue_tenant_jobs", "gauge"),
            ("hubsync_queue_events_total", "counter"),
            ("hubsync_queue_wait_seconds", "histogram"),
            ("hubsync_queue_run_seconds", "histogram"),
            ("hubsync_queue_paused", "gauge"),
            ("hubsync_queue_workers", "gauge"),
        ] {
            let line = format!("# TYPE {family} {kind}");
            assert_eq!(text.lines().filter(|l| *l == line).count(), 1, "{line}");
        }
        let m = parse(&text);
        let get = |k: &str| *m.get(k).unwrap_or_else(|| panic!("missing {k} in\n{text}"));
        for (state, rt_n, bulk_n) in [
            ("waiting", 3.0, 0.0),
            ("delayed", 0.0, 0.0),
            ("active", 0.0, 0.0),
            ("completed", 4.0, 0.0),
            ("dead", 0.0, 2.0),
        ] {
            assert_eq!(
                get(&format!(
                    r#"hubsync_queue_jobs{{queue="realtime",state="{state}"}}"#
                )),
                rt_n,
                "{state}"
            );
            assert_eq!(
                get(&format!(
                    r#"hubsync_queue_jobs{{queue="bulk",state="{state}"}}"#
                )),
                bulk_n,
                "{state}"
            );
        }
        assert_eq!(
            get(r#"hubsync_queue_tenant_jobs{queue="realtime",tenant="b",state="waiting"}"#),
            3.0
        );
        assert_eq!(
            get(r#"hubsync_queue_tenant_jobs{queue="realtime",tenant="b",state="dead"}"#),
            0.0
        );
        assert_eq!(
            get(r#"hubsync_queue_tenant_jobs{queue="bulk",tenant="t\"x",state="dead"}"#),
            2.0
        );
        assert!(
            !text.contains(r#"tenant="a""#),
            "tenant a has no jobs left: no series"
        );
        for (queue, event, n) in [
            ("realtime", "enqueued", 7.0),
            ("realtime", "started", 4.0),
            ("realtime", "completed", 4.0),
            ("realtime", "dead", 0.0),
            ("bulk", "enqueued", 2.0),
            ("bulk", "dead", 2.0),
            ("bulk", "completed", 0.0),
        ] {
            assert_eq!(
                get(&format!(
                    r#"hubsync_queue_events_total{{queue="{queue}",event="{event}"}}"#
                )),
                n,
                "{queue} {event}"
            );
        }
        for (hist, queue, n) in [
            ("hubsync_queue_wait_seconds", "realtime", 4.0),
            ("hubsync_queue_run_seconds", "realtime", 4.0),
            ("hubsync_queue_wait_seconds", "bulk", 2.0),
            ("hubsync_queue_run_seconds", "bulk", 2.0),
        ] {
            assert_eq!(get(&format!(r#"{hist}_count{{queue="{queue}"}}"#)), n);
            assert_eq!(
                get(&format!(r#"{hist}_bucket{{queue="{queue}",le="+Inf"}}"#)),
                n
            );
            let mut prev = 0.0;
            for (_, ms) in ladder() {
                let le = *ms as f64 / 1000.0;
                let v = get(&format!(r#"{hist}_bucket{{queue="{queue}",le="{le}"}}"#));
                assert!(v >= prev && v <= n, "{hist} {queue} le={le}: {v}");
                prev = v;
            }
            assert_eq!(prev, n, "{hist} {queue}: every sample is under an hour");
        }
        assert_eq!(get(r#"hubsync_queue_paused{queue="realtime"}"#), 0.0);
        assert_eq!(get(r#"hubsync_queue_paused{queue="bulk"}"#), 1.0);
        assert_eq!(get(r#"hubsync_queue_workers{queue="realtime"}"#), 0.0);
        assert_eq!(get(r#"hubsync_queue_workers{queue="bulk"}"#), 0.0);

        // A worker running is counted.
        let worker = RunningWorker::spawn(app.backend("realtime"), 1, Behavior::Succeed);
        eventually("one realtime worker", || async {
            parse(&app.raw("GET", "/metrics", None, None).await.2)
                .get(r#"hubsync_queue_workers{queue="realtime"}"#)
                == Some(&1.0)
        })
        .await;
        worker.stop().await;
    }

    #[tokio::test]
    async fn metrics_can_require_the_operator_token() {
        let mut app = TestApp::new(&["op"]).await;
        app.state.metrics_require_token = true;
        let (status, _, body) = app.raw("GET", "/metrics", None, None).await;
        assert_eq!(status, 401, "{body}");
        assert!(body.contains("missing_operator_token"));
        let (status, _, body) = app.raw("GET", "/metrics", Some("nope"), None).await;
        assert_eq!(status, 401, "{body}");
        let (status, content_type, body) = app
            .raw("GET", "/metrics?window_s=60", Some("op"), None)
            .await;
        assert_eq!((status, content_type.as_str()), (200, CONTENT_TYPE));
        assert!(
            body.contains(r#"hubsync_queue_jobs{queue="realtime",state="waiting"} 0"#),
            "{body}"
        );
        let (status, _, body) = app.raw("GET", "/metrics?window=60", Some("op"), None).await;
        assert_eq!(status, 400, "{body}");
    }

    #[test]
    fn label_values_are_escaped() {
        let mut out = String::new();
        sample(&mut out, "m", &[("tenant", "a\"b\\c\nd")], 1);
        assert_eq!(out, "m{tenant=\"a\\\"b\\\\c\\nd\"} 1\n");
    }
}
