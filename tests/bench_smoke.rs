//! Smoke test of `hubsync bench queue`: a tiny run (`--quick --jobs 500 --skip-baseline`)
//! prints exactly one JSON object in which every metric of our queue is a positive number.
//! It checks that the benchmark works end to end (Redis, worker processes, kill -9, stub
//! server), not how fast anything is.
//!
//! Needs Redis at `HUBSYNC_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`); the run uses
//! its own key prefix and deletes its keys.

use std::process::Command;

use serde_json::Value;

/// Every metric the benchmark reports (the keys of its `ours` and `baseline` objects).
const METRICS: [&str; 10] = [
    "enqueue_single_seq_per_s",
    "enqueue_single_concurrent_per_s",
    "enqueue_batch_per_s",
    "noop_jobs_per_s",
    "noop_default_prefetch_jobs_per_s",
    "http_jobs_per_s",
    "pickup_p50_ms",
    "pickup_p99_ms",
    "kill9_recovery_s",
    "worker_peak_rss_mb",
];

#[test]
fn bench_queue_json_has_every_metric() {
    let redis =
        std::env::var("HUBSYNC_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let out = Command::new(env!("CARGO_BIN_EXE_hubsync"))
        .args([
            "bench",
            "queue",
            "--json",
            "--quick",
            "--skip-baseline",
            "--jobs",
            "500",
            "--redis-url",
            &redis,
        ])
        .env("RUST_LOG", "warn")
        .output()
        .expect("run hubsync bench queue");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "bench failed ({}):\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );

    let v: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!("stdout is not exactly one JSON object ({e}):\n{stdout}\nstderr: {stderr}")
    });
    assert_eq!(v["bench"], "queue");
    assert!(v["machine"]["cores"].as_u64().is_some_and(|c| c > 0));
    assert!(v["machine"]["redis_version"].is_string());
    assert!(v["date"].is_string());
    assert!(
        v["baseline"].is_null(),
        "--skip-baseline: {}",
        v["baseline"]
    );
    let ours = v["ours"].as_object().expect("an `ours` object");
    for key in METRICS {
        let x = ours.get(key).and_then(Value::as_f64);
        assert!(
            x.is_some_and(|x| x > 0.0),
            "ours.{key} should be a positive number, got {:?}\nfull output: {stdout}",
            ours.get(key)
        );
    }
    assert_eq!(
        ours.len(),
        METRICS.len(),
        "unexpected metrics: {:?}",
        ours.keys()
    );
    for key in ["targets", "met", "params", "details"] {
        assert!(v[key].is_object(), "{key} missing: {stdout}");
    }
    eprintln!("bench queue smoke: {}", v["ours"]);
}

/// Smoke test of `hubsync bench e2e`: a tiny run (`--quick`: 2 s at 10 changes/s each way,
/// a short ingest ramp) of a real cluster (simulators, api, one worker, SQLite, Redis) prints
/// exactly one JSON object in which every change landed with a latency, and both ingest ramps
/// have a highest passing rate. It checks that the benchmark works end to end, not how fast
/// anything is.
#[test]
fn bench_e2e_json_has_latencies_and_ingest() {
    let redis =
        std::env::var("HUBSYNC_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let started = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_hubsync"))
        .args(["bench", "e2e", "--json", "--quick", "--redis-url", &redis])
        .env("RUST_LOG", "warn")
        .output()
        .expect("run hubsync bench e2e");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "bench failed ({}):\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    let v: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!("stdout is not exactly one JSON object ({e}):\n{stdout}\nstderr: {stderr}")
    });
    assert_eq!(v["bench"], "e2e");
    assert!(v["machine"]["cores"].as_u64().is_some_and(|c| c > 0));

    let runs = v["latency"].as_array().expect("a `latency` array");
    let directions: Vec<&str> = runs
        .iter()
        .filter_map(|r| r["direction"].as_str())
        .collect();
    assert_eq!(
        directions,
        ["hubspot_to_userflow", "userflow_to_hubspot"],
        "{stdout}"
    );
    for r in runs {
        let sent = r["sent"].as_u64().unwrap_or(0);
        assert!(sent >= 10, "too few changes sent: {r}");
        assert_eq!(r["landed"].as_u64(), Some(sent), "every change lands: {r}");
        assert_eq!(r["lost"].as_u64(), Some(0), "{r}");
        let p50 = r["p50_ms"].as_f64().expect("p50_ms");
        let p99 = r["p99_ms"].as_f64().expect("p99_ms");
        // Positive (the write lands after the webhook) and below the drain timeout.
        assert!(p50 > 0.0 && p50 <= p99 && p99 < 60_000.0, "{r}");
        assert!(r["hubspot_calls"].as_u64().is_some_and(|c| c > 0), "{r}");
    }

    let ingest = &v["ingest"];
    for side in ["ours", "baseline"] {
        let max = ingest[side]["max_rate_per_s"].as_u64();
        assert!(max.is_some_and(|m| m > 0), "{side}: {}", ingest[side]);
        let p99 = ingest[side]["at_max"]["p99_ms"]
            .as_f64()
            .expect("p99 at max");
        assert!(p99 > 0.0 && p99 < 20.0, "{side}: {}", ingest[side]);
    }
    let ratio = ingest["ratio"].as_f64().expect("ratio");
    assert!(ratio > 0.0, "{ingest}");
    assert!(v["targets"]["ingest_met"].is_boolean(), "{}", v["targets"]);
    eprintln!(
        "bench e2e smoke ({:.0} s): {}",
        started.elapsed().as_secs_f64(),
        v["latency"]
    );
}
