//! Durability tests of the job queue (`hubsync-queue`) against real worker *processes*: each
//! worker is a `hubsync queue-probe` child process, killed with SIGKILL or stopped with
//! SIGTERM like a replica would be. Jobs are pushed by the test with `QueueClient`; with
//! `--record` a probe counts each completion in `{<prefix>:probe}:done` (job id → runs)
//! before acknowledging it, which is how lost jobs and duplicates are counted.
//!
//! Every test uses its own key prefix and deletes its keys. The tests run one at a time
//! (they measure timings on a 2-core machine), and print their numbers with `--nocapture`.

mod harness;

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use harness::{Proc, redis_url, unique};
use hubsync_queue::{JobFilter, JobState, NewJob, QueueAdmin, QueueClient, QueueConfig};
use serde::Serialize;

/// The probe's payload (`hubsync::commands::queue_probe::ProbeJob`, same JSON).
#[derive(Debug, Clone, Serialize)]
struct ProbeJob {
    n: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
}

fn job(n: u64) -> ProbeJob {
    ProbeJob { n, body: None }
}

/// These tests measure timings and load the machine: run them one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The keys of one test (`{<prefix>:*`), deleted on drop.
struct Keyspace {
    url: String,
    prefix: String,
    client: redis::Client,
}

impl Keyspace {
    fn new(url: &str, tag: &str) -> Self {
        Self {
            url: url.to_owned(),
            prefix: unique(tag),
            client: redis::Client::open(url).expect("redis url"),
        }
    }

    fn config(&self, queue: &str) -> QueueConfig {
        QueueConfig::new(self.prefix.clone(), queue)
    }

    fn producer(&self, queue: &str) -> QueueClient<ProbeJob> {
        QueueClient::new(self.client.clone(), self.config(queue)).expect("queue client")
    }

    fn admin(&self, queue: &str) -> QueueAdmin {
        QueueAdmin::new(self.client.clone(), self.config(queue)).expect("queue admin")
    }

    fn record_key(&self) -> String {
        format!("{{{}:probe}}:done", self.prefix)
    }

    async fn conn(&self) -> redis::aio::MultiplexedConnection {
        self.client
            .get_multiplexed_async_connection()
            .await
            .expect("redis connection")
    }

    /// Job id → completions recorded by the probes.
    async fn recorded(&self) -> HashMap<String, u64> {
        redis::cmd("HGETALL")
            .arg(self.record_key())
            .query_async(&mut self.conn().await)
            .await
            .expect("HGETALL record")
    }

    async fn recorded_count(&self) -> u64 {
        redis::cmd("HLEN")
            .arg(self.record_key())
            .query_async(&mut self.conn().await)
            .await
            .expect("HLEN record")
    }

    /// Every key of this test, sorted.
    async fn key_names(&self) -> Vec<String> {
        let mut conn = self.conn().await;
        let mut cursor: u64 = 0;
        let mut keys = Vec::new();
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{{{}:*", self.prefix))
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .expect("SCAN");
            keys.extend(batch);
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        keys.sort();
        keys.dedup();
        keys
    }

    /// Every key of this test, with its `MEMORY USAGE` in bytes.
    async fn key_sizes(&self) -> Vec<(String, u64)> {
        let keys = self.key_names().await;
        let mut conn = self.conn().await;
        let mut out = Vec::new();
        for k in keys {
            let bytes: Option<u64> = redis::cmd("MEMORY")
                .arg("USAGE")
                .arg(&k)
                .arg("SAMPLES")
                .arg(0)
                .query_async(&mut conn)
                .await
                .expect("MEMORY USAGE");
            if let Some(b) = bytes {
                out.push((k, b));
            }
        }
        out
    }

    /// `INFO memory` `used_memory` of the whole server.
    async fn used_memory(&self) -> u64 {
        let info: String = redis::cmd("INFO")
            .arg("memory")
            .query_async(&mut self.conn().await)
            .await
            .expect("INFO");
        info.lines()
            .find_map(|l| l.strip_prefix("used_memory:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("used_memory in INFO")
    }

    fn delete_all(&self) {
        let Ok(mut conn) = self.client.get_connection() else {
            return;
        };
        let mut cursor: u64 = 0;
        loop {
            let Ok((next, keys)): redis::RedisResult<(u64, Vec<String>)> = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{{{}:*", self.prefix))
                .arg("COUNT")
                .arg(5000)
                .query(&mut conn)
            else {
                return;
            };
            if !keys.is_empty() {
                let _: redis::RedisResult<()> = redis::cmd("UNLINK").arg(&keys).query(&mut conn);
            }
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
    }
}

impl Drop for Keyspace {
    fn drop(&mut self) {
        self.delete_all();
        // A probe killed on drop may have had a last write in flight.
        std::thread::sleep(Duration::from_millis(300));
        self.delete_all();
    }
}

/// A running `hubsync queue-probe` and the id prefix of its workers.
struct Probe {
    proc: Proc,
    id: String,
}

impl Probe {
    async fn start(ks: &Keyspace, args: &[&str]) -> Self {
        let mut full = vec![
            "queue-probe",
            "--redis-url",
            &ks.url,
            "--prefix",
            &ks.prefix,
        ];
        full.extend_from_slice(args);
        let mut proc = Proc::spawn(&full, &[("RUST_LOG", "warn")]);
        let line = proc.wait_line("probe ready", Duration::from_secs(60)).await;
        let id = line
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix("worker_id="))
            .unwrap_or_else(|| panic!("no worker_id in {line:?}"))
            .to_owned();
        Self { proc, id }
    }

    /// SIGTERM; asserts a clean exit and returns its `completed=` count.
    async fn stop(mut self) -> u64 {
        let status = self.proc.stop().await;
        assert!(
            status.success(),
            "probe exited with {status}:\n{}",
            self.proc.output()
        );
        let line = self
            .proc
            .wait_line("probe stopped", Duration::from_secs(5))
            .await;
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix("completed="))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }
}

/// Whether a job's lease owner (`<worker name>:<random>`, worker name `<probe id>-<queue>-<i>`)
/// is a worker of the probe `probe_id`.
fn owned_by(probe_id: &str, owner: Option<&str>) -> bool {
    owner.is_some_and(|o| o.starts_with(&format!("{probe_id}-")))
}

/// Two probes on queue `bench`: concurrency 8, 10 ms sleep jobs, 2 s lease, recording.
async fn two_light_probes(ks: &Keyspace) -> Vec<Probe> {
    let args = [
        "--queue",
        "bench",
        "--concurrency",
        "8",
        "--mode",
        "sleep",
        "--sleep-ms",
        "10",
        "--lease-ms",
        "2000",
        "--record",
    ];
    start_two(ks, &args).await
}

/// Starts two probes with the same `args`.
async fn start_two(ks: &Keyspace, args: &[&str]) -> Vec<Probe> {
    vec![Probe::start(ks, args).await, Probe::start(ks, args).await]
}

/// Stops every probe.
async fn stop_all(probes: Vec<Probe>) {
    for p in probes {
        p.stop().await;
    }
}

/// Pushes jobs `0..jobs` for tenant `t`.
async fn enqueue_numbered(producer: &QueueClient<ProbeJob>, jobs: u64) {
    producer
        .enqueue_many((0..jobs).map(|n| NewJob::new("t", job(n))).collect())
        .await
        .expect("enqueue");
}

/// Waits (at most 60 s) until the queue counts `jobs` completions.
async fn all_completed(admin: &QueueAdmin, jobs: u64) {
    eventually(Duration::from_secs(60), "all jobs completed", || async {
        let s = admin.stats(Duration::from_secs(60)).await.expect("stats");
        counter(&s, "completed") == jobs
    })
    .await;
}

/// Asserts every probe process is still running (none exited during `what`).
fn assert_all_running(probes: &mut [Probe], what: &str) {
    for p in probes.iter_mut() {
        assert!(
            p.proc.is_running(),
            "probe {} exited during {what}:\n{}",
            p.id,
            p.proc.output()
        );
    }
}

/// Ids of the active jobs leased by the probe `probe_id`.
async fn held_by(admin: &QueueAdmin, probe_id: &str) -> Vec<String> {
    let active = admin
        .list(JobState::Active, &JobFilter::all(), 10_000, None)
        .await
        .expect("list active");
    active
        .jobs
        .iter()
        .filter(|r| owned_by(probe_id, r.owner.as_deref()))
        .map(|r| r.id.0.clone())
        .collect()
}

/// Runs beyond the first, summed over all recorded jobs.
fn duplicate_runs(recorded: &HashMap<String, u64>) -> u64 {
    recorded.values().map(|v| v.saturating_sub(1)).sum()
}

/// Polls `check` every 20 ms until it returns true; panics after `within`.
async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return;
        }
        assert!(
            start.elapsed() < within,
            "timed out after {within:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn counter(stats: &hubsync_queue::QueueStats, name: &str) -> u64 {
    stats.counters.get(name).copied().unwrap_or(0)
}

/// kill -9 one of three worker processes every 500 ms while 5,000 jobs run, start a
/// replacement each time, and check that every job completed at least once and that the
/// duplicates are no more than the jobs the killed processes held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_workers_mid_load_loses_no_job() {
    const JOBS: u64 = 5_000;
    const PROCS: usize = 3;
    const KILLS: usize = 6;
    const KILL_EVERY: Duration = Duration::from_millis(500);
    let _serial = SERIAL.lock().await;
    let ks = Keyspace::new(&redis_url(), "kill9");
    let producer = ks.producer("bench");
    let admin = ks.admin("bench");
    let args = [
        "--queue",
        "bench",
        "--concurrency",
        "16",
        "--mode",
        "sleep",
        "--sleep-ms",
        "50",
        "--lease-ms",
        "1000",
        "--retention-ms",
        "300000",
        "--record",
    ];
    let mut probes = Vec::new();
    for _ in 0..PROCS {
        probes.push(Probe::start(&ks, &args).await);
    }

    let started = Instant::now();
    let jobs = (0..JOBS)
        .map(|n| NewJob::new(format!("t{}", n % 4), job(n)))
        .collect();
    let ids: Vec<String> = producer
        .enqueue_many(jobs)
        .await
        .expect("enqueue")
        .into_iter()
        .map(|o| o.id().0.clone())
        .collect();

    let mut held_total = 0usize;
    let mut waiting_at_last_kill = 0;
    let mut recoveries = Vec::new();
    for round in 0..KILLS {
        tokio::time::sleep(KILL_EVERY).await;
        let Probe {
            proc: mut victim,
            id: victim_id,
        } = probes.remove(round % PROCS);
        victim.kill9().await;
        let killed_at = Instant::now();
        // Everything the dead process held (leased, running or finished but not acked).
        let held = held_by(&admin, &victim_id).await;
        held_total += held.len();
        let stats = admin.stats(Duration::from_secs(60)).await.expect("stats");
        waiting_at_last_kill = stats.counts.waiting;
        eprintln!(
            "kill9 round {round}: killed {victim_id} holding {} jobs; waiting {}, active {}, recorded {}",
            held.len(),
            stats.counts.waiting,
            stats.counts.active,
            ks.recorded_count().await
        );
        // Recovery: until every job the dead process held is completed by another one.
        let watcher_admin = admin.clone();
        recoveries.push(tokio::spawn(async move {
            loop {
                let mut all_done = true;
                for id in &held {
                    let rec = watcher_admin.job(id).await.expect("job");
                    if rec.is_none_or(|r| r.state != JobState::Completed) {
                        all_done = false;
                        break;
                    }
                }
                if all_done {
                    return killed_at.elapsed();
                }
                if killed_at.elapsed() > Duration::from_secs(60) {
                    panic!("jobs of a killed worker not completed after 60 s");
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
        probes.insert(round % PROCS, Probe::start(&ks, &args).await);
    }
    assert!(
        waiting_at_last_kill > 0,
        "the queue drained before the last kill: the kills were not mid-load (make jobs longer)"
    );

    eventually(
        Duration::from_secs(120),
        "all jobs recorded and queue drained",
        || async {
            let s = admin.stats(Duration::from_secs(60)).await.expect("stats");
            s.counts.waiting == 0
                && s.counts.active == 0
                && s.counts.delayed == 0
                && ks.recorded_count().await >= JOBS
        },
    )
    .await;
    let drained_in = started.elapsed();
    let mut recovery_times = Vec::new();
    for r in recoveries {
        recovery_times.push(r.await.expect("recovery watcher"));
    }
    let recorded = ks.recorded().await;
    let lost: Vec<&String> = ids
        .iter()
        .filter(|id| !recorded.contains_key(*id))
        .collect();
    let unknown = recorded.len() - (ids.len() - lost.len());
    let duplicates = duplicate_runs(&recorded);
    let stats = admin.stats(Duration::from_secs(60)).await.expect("stats");
    let (reclaimed, stale) = (counter(&stats, "reclaimed"), counter(&stats, "stale"));
    let worst = recovery_times.iter().max().copied().unwrap_or_default();
    eprintln!(
        "kill9 summary: jobs {JOBS}, completed {} distinct, lost {}, duplicates {duplicates}, \
         held by killed processes {held_total}, reclaimed {reclaimed}, stale acks {stale}, \
         dead {}, {KILLS} kills, drained in {drained_in:?}, recovery (kill -> all its jobs \
         completed elsewhere) max {worst:?}, all {recovery_times:?}",
        recorded.len(),
        lost.len(),
        stats.counts.dead
    );
    assert!(
        lost.is_empty(),
        "{} jobs lost: {:?}",
        lost.len(),
        &lost[..lost.len().min(10)]
    );
    assert_eq!(unknown, 0, "completions of unknown job ids");
    assert_eq!(stats.counts.dead, 0, "no job may die of the kills");
    assert_eq!(
        counter(&stats, "completed"),
        JOBS,
        "each job acknowledged once"
    );
    // At-least-once: a job runs twice only if its first run was in a killed process (or its
    // lease was lost, which shows as a stale ack).
    assert!(
        duplicates <= held_total as u64 + stale,
        "{duplicates} duplicates > {held_total} jobs held by killed processes + {stale} stale acks"
    );
    assert!(
        worst < Duration::from_secs(5),
        "a killed worker's jobs took {worst:?} to complete elsewhere (lease 1 s)"
    );
    stop_all(probes).await;
}

/// A `redis-server` of our own (AOF on, fsync on every write), restartable on the same port
/// and data directory.
struct OwnRedis {
    port: u16,
    dir: std::path::PathBuf,
    child: Option<tokio::process::Child>,
}

impl OwnRedis {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let dir = std::env::temp_dir().join(unique("redis"));
        std::fs::create_dir_all(&dir).expect("redis dir");
        let mut r = Self {
            port,
            dir,
            child: None,
        };
        r.spawn().await;
        r
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn spawn(&mut self) {
        let child = tokio::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(&self.dir)
            .args([
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn redis-server (is it on PATH?)");
        self.child = Some(child);
        let client = redis::Client::open(self.url()).expect("url");
        let start = Instant::now();
        loop {
            if let Ok(mut c) = client.get_multiplexed_async_connection().await {
                // PING fails with LOADING while the AOF is replayed.
                let pong: redis::RedisResult<String> = redis::cmd("PING").query_async(&mut c).await;
                if pong.is_ok() {
                    return;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "redis-server did not answer within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends `signal` (`STOP`, `CONT`) to the server.
    fn signal(&self, signal: &str) {
        let pid = self
            .child
            .as_ref()
            .and_then(|c| c.id())
            .expect("redis-server running");
        let ok = std::process::Command::new("kill")
            .args([format!("-{signal}"), pid.to_string()])
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill -{signal} {pid} failed");
    }

    /// SIGKILL: whatever was not fsynced is gone.
    async fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.start_kill();
            let _ = c.wait().await;
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Redis is SIGKILLed and restarted (same port, same AOF) while workers run and a producer
/// pushes: every push that returned `Ok` completes, and the worker processes never exit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restart_mid_load_loses_no_acknowledged_push() {
    const DOWN: Duration = Duration::from_millis(1000);
    let _serial = SERIAL.lock().await;
    let mut redis = OwnRedis::start().await;
    let ks = Keyspace::new(&redis.url(), "restart");
    let producer = ks.producer("bench");
    let admin = ks.admin("bench");
    let mut probes = two_light_probes(&ks).await;

    // Two producers: single pushes back to back, and batches of 50 every 50 ms (together
    // more than the workers' capacity, so jobs wait and run when Redis dies).
    let acked = Arc::new(Mutex::new(Vec::<(String, Instant)>::new()));
    let failed = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut pushers = Vec::new();
    for (batch, pause) in [(1u64, 2u64), (50, 50)] {
        let (acked, failed, stop, producer) = (
            acked.clone(),
            failed.clone(),
            stop.clone(),
            producer.clone(),
        );
        pushers.push(tokio::spawn(async move {
            let mut n = batch * 1_000_000_000;
            while !stop.load(Ordering::SeqCst) {
                let jobs = (n..n + batch)
                    .map(|i| NewJob::new(format!("t{}", i % 3), job(i)))
                    .collect();
                n += batch;
                match producer.enqueue_many(jobs).await {
                    Ok(out) => {
                        let now = Instant::now();
                        acked
                            .lock()
                            .expect("lock")
                            .extend(out.iter().map(|o| (o.id().0.clone(), now)));
                    }
                    Err(_) => {
                        failed.fetch_add(batch, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
        }));
    }

    tokio::time::sleep(Duration::from_millis(2000)).await;
    let recorded_before_kill = ks.recorded_count().await;
    redis.kill9().await;
    let killed_at = Instant::now();
    let acked_before_kill = acked.lock().expect("lock").len();
    tokio::time::sleep(DOWN).await;
    redis.spawn().await;
    let back_at = Instant::now();
    let recorded_at_restart = ks.recorded_count().await;
    // The workers reconnect by themselves and go on completing jobs.
    eventually(
        Duration::from_secs(30),
        "a completion after the restart",
        || async { ks.recorded_count().await > recorded_at_restart },
    )
    .await;
    let resumed_in = back_at.elapsed();
    tokio::time::sleep(Duration::from_millis(2000)).await;
    stop.store(true, Ordering::SeqCst);
    for p in pushers {
        p.await.expect("pusher");
    }

    let acked = acked.lock().expect("lock").clone();
    let acked_after_restart = acked.iter().filter(|(_, at)| *at > back_at).count();
    assert!(
        acked_after_restart > 0,
        "no push succeeded after the restart"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let recorded = ks.recorded().await;
        let missing: Vec<&String> = acked
            .iter()
            .filter(|(id, _)| !recorded.contains_key(id))
            .map(|(id, _)| id)
            .collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} acknowledged pushes never completed, e.g. {:?}",
            missing.len(),
            &missing[..missing.len().min(10)]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_all_running(&mut probes, "the Redis restart");
    let stats = admin.stats(Duration::from_secs(600)).await.expect("stats");
    let recorded = ks.recorded().await;
    let duplicates = duplicate_runs(&recorded);
    eprintln!(
        "redis restart summary: acknowledged pushes {} ({acked_before_kill} before the kill, \
         {acked_after_restart} after the restart), failed pushes {} jobs, all acknowledged completed; \
         recorded before kill {recorded_before_kill}, at restart {recorded_at_restart} (AOF \
         replay), Redis down {:?}, first completion {resumed_in:?} after Redis was back, \
         duplicates {duplicates}, retried {}, reclaimed {}, stale {}, dead {}",
        acked.len(),
        failed.load(Ordering::SeqCst),
        back_at - killed_at,
        counter(&stats, "retried"),
        counter(&stats, "reclaimed"),
        counter(&stats, "stale"),
        stats.counts.dead,
    );
    assert!(
        recorded_at_restart >= recorded_before_kill,
        "recorded completions went back from {recorded_before_kill} to {recorded_at_restart}"
    );
    assert_eq!(stats.counts.dead, 0);
    stop_all(probes).await;
    drop(ks);
    redis.kill9().await;
}

/// Sum of `MEMORY USAGE` over the test's keys: (latency keys, all other keys, other key names).
fn split_sizes(sizes: &[(String, u64)]) -> (u64, u64, Vec<String>) {
    let lat = sizes
        .iter()
        .filter(|(k, _)| k.contains(":lat:"))
        .map(|(_, b)| b)
        .sum();
    let other = sizes
        .iter()
        .filter(|(k, _)| !k.contains(":lat:"))
        .map(|(_, b)| b)
        .sum();
    let names = sizes
        .iter()
        .filter(|(k, _)| !k.contains(":lat:"))
        .map(|(k, _)| k.clone())
        .collect();
    (lat, other, names)
}

/// 1,000,000 no-op jobs are pushed (with no worker running), then drained by two worker
/// processes; after the completed-job retention (1 s), the test's keys take no more memory
/// than before (within 16 KiB; the per-minute latency keys, which expire after 2 h, within
/// 32 KiB).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn million_job_backlog_drains_and_memory_returns_to_baseline() {
    let jobs_total: u64 = std::env::var("HUBSYNC_TEST_BACKLOG_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    const WARMUP: u64 = 1_000;
    const CHUNK: u64 = 20_000;
    let _serial = SERIAL.lock().await;
    let ks = Keyspace::new(&redis_url(), "backlog");
    let producer = ks.producer("bench");
    let admin = ks.admin("bench");
    let args = [
        "--queue",
        "bench",
        "--mode",
        "noop",
        "--workers",
        "2",
        "--concurrency",
        "64",
        "--prefetch",
        "64",
        "--retention-ms",
        "1000",
    ];
    let settled = |target: u64| {
        let admin = admin.clone();
        let ks = &ks;
        move || {
            let admin = admin.clone();
            async move {
                let s = admin.stats(Duration::from_secs(60)).await.expect("stats");
                counter(&s, "completed") == target
                    && s.counts == Default::default()
                    && ks.key_names().await.iter().all(|k| !k.contains(":job:"))
            }
        }
    };

    // Baseline: the queue after a warm-up batch has come and gone (counters, latency keys).
    let mut probes = vec![Probe::start(&ks, &args).await];
    producer
        .enqueue_many((0..WARMUP).map(|n| NewJob::new("t", job(n))).collect())
        .await
        .expect("enqueue warm-up");
    eventually(
        Duration::from_secs(60),
        "warm-up drained and trimmed",
        settled(WARMUP),
    )
    .await;
    for p in probes.drain(..) {
        p.stop().await;
    }
    let baseline = ks.key_sizes().await;
    let (base_lat, base_other, base_names) = split_sizes(&baseline);
    let used_before = ks.used_memory().await;

    // The backlog, pushed with no worker running.
    let t0 = Instant::now();
    let mut n = 0;
    while n < jobs_total {
        let end = (n + CHUNK).min(jobs_total);
        let batch = (n..end)
            .map(|i| NewJob::new(format!("t{}", i % 8), job(i)))
            .collect();
        producer.enqueue_many(batch).await.expect("enqueue backlog");
        n = end;
    }
    let enqueue_time = t0.elapsed();
    let stats = admin.stats(Duration::from_secs(60)).await.expect("stats");
    assert_eq!(stats.counts.waiting, jobs_total, "the whole backlog waits");
    let used_peak = ks.used_memory().await;

    let t1 = Instant::now();
    for _ in 0..2 {
        probes.push(Probe::start(&ks, &args).await);
    }
    let mut last_report = Instant::now();
    eventually(Duration::from_secs(600), "backlog drained", || {
        let admin = admin.clone();
        let report = last_report.elapsed() > Duration::from_secs(10);
        if report {
            last_report = Instant::now();
        }
        async move {
            let s = admin.stats(Duration::from_secs(60)).await.expect("stats");
            if report {
                eprintln!(
                    "backlog: waiting {}, active {}, completed {}",
                    s.counts.waiting,
                    s.counts.active,
                    counter(&s, "completed")
                );
            }
            counter(&s, "completed") == WARMUP + jobs_total
        }
    })
    .await;
    let drain_time = t1.elapsed();
    let t2 = Instant::now();
    eventually(
        Duration::from_secs(120),
        "completed jobs removed after retention",
        settled(WARMUP + jobs_total),
    )
    .await;
    let trim_time = t2.elapsed();
    let mut completed_by_probes = 0;
    for p in probes.drain(..) {
        completed_by_probes += p.stop().await;
    }
    let after = ks.key_sizes().await;
    let (after_lat, after_other, after_names) = split_sizes(&after);
    let used_after = ks.used_memory().await;
    let stats = admin.stats(Duration::from_secs(600)).await.expect("stats");
    eprintln!(
        "backlog summary: {jobs_total} jobs; enqueue {enqueue_time:?} ({:.0}/s), drain \
         {drain_time:?} ({:.0}/s, 2 processes x 2 workers x 64), retention trim {trim_time:?}; \
         test keys before {} B ({base_lat} B latency) in {} keys, after {} B ({after_lat} B \
         latency) in {} keys; server used_memory before {used_before}, with the backlog \
         {used_peak} (+{:.1} MiB), after {used_after}; completed by probes \
         {completed_by_probes}, started {}, duplicates by counters {}",
        jobs_total as f64 / enqueue_time.as_secs_f64(),
        jobs_total as f64 / drain_time.as_secs_f64(),
        base_lat + base_other,
        baseline.len(),
        after_lat + after_other,
        after.len(),
        used_peak.saturating_sub(used_before) as f64 / 1_048_576.0,
        counter(&stats, "started"),
        counter(&stats, "started").saturating_sub(WARMUP + jobs_total),
    );
    // The same keys as at baseline, latency keys aside; the wake-up marker (one member) may
    // or may not be left over depending on when the workers stopped.
    let extra: Vec<&String> = after_names
        .iter()
        .filter(|k| !base_names.contains(k) && !k.ends_with(":marker"))
        .collect();
    assert!(extra.is_empty(), "keys left behind: {extra:?}");
    assert!(
        after_other <= base_other + 16 * 1024,
        "keys grew from {base_other} B to {after_other} B"
    );
    assert!(
        after_lat <= 32 * 1024,
        "latency keys take {after_lat} B (bounded by minute and 2 h TTL)"
    );
}

/// Tenant A pushes 100,000 bulk jobs; then tenant B pushes 100 realtime jobs. Two worker
/// processes each serve the realtime queue (registered first) and the bulk queue with separate
/// pools, so B's jobs do not wait behind A's backlog: all of B's 100 jobs complete within
/// 500 ms of their push (Redis clock: `done_ms - enq_ms`), while A's backlog is still waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn realtime_jobs_are_not_delayed_by_a_bulk_backlog_across_processes() {
    const A_JOBS: u64 = 100_000;
    const B_JOBS: u64 = 100;
    const BOUND_MS: u64 = 500;
    let _serial = SERIAL.lock().await;
    let ks = Keyspace::new(&redis_url(), "fairness");
    let realtime = ks.producer("realtime");
    let bulk = ks.producer("bulk");
    let (rt_admin, bulk_admin) = (ks.admin("realtime"), ks.admin("bulk"));
    let args = [
        "--queue",
        "realtime,bulk",
        "--concurrency",
        "16",
        "--mode",
        "noop",
    ];
    let probes = start_two(&ks, &args).await;
    let mut n = 0;
    while n < A_JOBS {
        let end = (n + 10_000).min(A_JOBS);
        bulk.enqueue_many((n..end).map(|i| NewJob::new("A", job(i))).collect())
            .await
            .expect("enqueue A");
        n = end;
    }
    let a_before = bulk_admin
        .stats(Duration::from_secs(60))
        .await
        .expect("stats");
    let pushed = Instant::now();
    let b_ids: Vec<String> = realtime
        .enqueue_many((0..B_JOBS).map(|i| NewJob::new("B", job(i))).collect())
        .await
        .expect("enqueue B")
        .into_iter()
        .map(|o| o.id().0.clone())
        .collect();
    eventually(Duration::from_secs(60), "B's jobs completed", || async {
        let s = rt_admin
            .stats(Duration::from_secs(60))
            .await
            .expect("stats");
        counter(&s, "completed") == B_JOBS
    })
    .await;
    let b_wall = pushed.elapsed();
    let a_after = bulk_admin
        .stats(Duration::from_secs(60))
        .await
        .expect("stats");
    let mut latencies = Vec::new();
    for id in &b_ids {
        let r = rt_admin.job(id).await.expect("job").expect("kept");
        assert_eq!(r.state, JobState::Completed);
        latencies.push(r.done_ms.expect("done_ms").saturating_sub(r.enqueued_ms));
    }
    latencies.sort_unstable();
    let worst = latencies.last().copied().unwrap_or(0);
    let a_during = counter(&a_after, "completed").saturating_sub(counter(&a_before, "completed"));
    eprintln!(
        "fairness summary: A {A_JOBS} bulk jobs (waiting at B's push {}, completed {}), B \
         {B_JOBS} realtime jobs: push-to-done p50 {} ms, max {worst} ms (bound {BOUND_MS} ms), \
         all done {b_wall:?} after the push; A jobs completed meanwhile {a_during}, A still \
         waiting {}",
        a_before.counts.waiting,
        counter(&a_before, "completed"),
        latencies[latencies.len() / 2],
        a_after.counts.waiting,
    );
    assert!(
        a_after.counts.waiting > 0,
        "A's backlog drained before B finished: the test proves nothing"
    );
    assert!(
        worst <= BOUND_MS,
        "a realtime job of B took {worst} ms behind A's bulk backlog (bound {BOUND_MS} ms)"
    );
    stop_all(probes).await;
}

/// `--fail-rate`: a third of all attempts fail; every job still completes (retried with
/// backoff, across processes), none dies, and the retries are counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_attempts_are_retried_across_processes() {
    const JOBS: u64 = 500;
    let _serial = SERIAL.lock().await;
    let ks = Keyspace::new(&redis_url(), "retries");
    let producer = ks.producer("bench");
    let admin = ks.admin("bench");
    let args = [
        "--queue",
        "bench",
        "--mode",
        "noop",
        "--fail-rate",
        "0.33",
        "--backoff-ms",
        "20",
        "--record",
    ];
    let probes = start_two(&ks, &args).await;
    enqueue_numbered(&producer, JOBS).await;
    all_completed(&admin, JOBS).await;
    let stats = admin.stats(Duration::from_secs(60)).await.expect("stats");
    let recorded = ks.recorded().await;
    eprintln!(
        "retries summary: {JOBS} jobs, {} attempts failed and were retried, dead {}",
        counter(&stats, "retried"),
        stats.counts.dead
    );
    assert_eq!(recorded.len() as u64, JOBS);
    assert!(
        recorded.values().all(|v| *v == 1),
        "no duplicates without kills"
    );
    assert_eq!(stats.counts.dead, 0);
    assert!(counter(&stats, "retried") > JOBS / 10);
    let mut failed_total = 0;
    for p in probes {
        let mut proc = p.proc;
        let status = proc.stop().await;
        assert!(status.success());
        let line = proc
            .wait_line("probe stopped", Duration::from_secs(5))
            .await;
        failed_total += line
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix("failed="))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
    }
    assert_eq!(failed_total, counter(&stats, "retried"));
}

/// `--mode http`: each job is POSTed as JSON to the stub; a 503 fails the attempt, which is
/// retried. Every job reaches the stub, the failed ones twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_mode_posts_every_job_to_the_stub() {
    const JOBS: u64 = 200;
    let _serial = SERIAL.lock().await;
    let ks = Keyspace::new(&redis_url(), "http");
    let producer = ks.producer("bench");
    let admin = ks.admin("bench");
    let hits = Arc::new(Mutex::new(HashMap::<u64, u64>::new()));
    let h = hits.clone();
    let app = axum::Router::new().route(
        "/jobs",
        axum::routing::post(move |axum::Json(v): axum::Json<serde_json::Value>| {
            let h = h.clone();
            async move {
                let n = v["n"].as_u64().expect("n");
                let seen = {
                    let mut h = h.lock().expect("lock");
                    let c = h.entry(n).or_default();
                    *c += 1;
                    *c
                };
                if n % 10 == 0 && seen == 1 {
                    axum::http::StatusCode::SERVICE_UNAVAILABLE
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let stub_url = format!("http://{}/jobs", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let args = [
        "--queue",
        "bench",
        "--mode",
        "http",
        "--stub-url",
        stub_url.as_str(),
        "--backoff-ms",
        "20",
    ];
    let probe = Probe::start(&ks, &args).await;
    enqueue_numbered(&producer, JOBS).await;
    all_completed(&admin, JOBS).await;
    let hits = hits.lock().expect("lock").clone();
    assert_eq!(hits.len() as u64, JOBS, "every job reached the stub");
    for (n, c) in &hits {
        assert_eq!(*c, if n % 10 == 0 { 2 } else { 1 }, "job {n}");
    }
    let stats = admin.stats(Duration::from_secs(60)).await.expect("stats");
    assert_eq!(counter(&stats, "retried"), JOBS / 10);
    assert_eq!(probe.stop().await, JOBS);
}

/// SIGTERM mid-load: the process finishes its running jobs, gives back the ones it had
/// leased but not started, and exits 0 within a second; nothing it held waits for a lease to
/// expire, and no job runs twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_load_releases_held_jobs_at_once() {
    const JOBS: u64 = 2_000;
    let _serial = SERIAL.lock().await;
    let ks = Keyspace::new(&redis_url(), "sigterm");
    let producer = ks.producer("bench");
    let admin = ks.admin("bench");
    let args = [
        "--queue",
        "bench",
        "--concurrency",
        "8",
        "--prefetch",
        "8",
        "--mode",
        "sleep",
        "--sleep-ms",
        "20",
        "--lease-ms",
        "30000",
        "--record",
    ];
    let mut probes = start_two(&ks, &args).await;
    enqueue_numbered(&producer, JOBS).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let Probe {
        proc: mut victim,
        id,
    } = probes.remove(0);
    let t = Instant::now();
    let status = victim.stop().await;
    let stop_time = t.elapsed();
    assert!(status.success(), "exit {status}:\n{}", victim.output());
    let still_held = held_by(&admin, &id).await.len();
    let stats = admin.stats(Duration::from_secs(60)).await.expect("stats");
    assert_eq!(still_held, 0, "jobs left leased by a stopped process");
    assert!(stats.counts.waiting > 0, "the stop was not mid-load");
    all_completed(&admin, JOBS).await;
    let recorded = ks.recorded().await;
    let stats = admin.stats(Duration::from_secs(60)).await.expect("stats");
    eprintln!(
        "sigterm summary: stopped in {stop_time:?}, released {}, reclaimed {}, recorded {} \
         jobs, max runs per job {}",
        counter(&stats, "released"),
        counter(&stats, "reclaimed"),
        recorded.len(),
        recorded.values().max().copied().unwrap_or(0)
    );
    assert!(
        stop_time < Duration::from_secs(2),
        "graceful stop took {stop_time:?}"
    );
    assert_eq!(recorded.len() as u64, JOBS);
    assert!(recorded.values().all(|v| *v == 1), "a job ran twice");
    assert_eq!(counter(&stats, "reclaimed"), 0, "no lease had to expire");
    stop_all(probes).await;
}

/// Redis stalls (SIGSTOP) for 7 s, longer than the clients' 5 s command timeout and the
/// workers' 2 s lease, while workers run and producers push: the workers wait and carry on
/// (never exit), leases that ran out are reclaimed, and every acknowledged push completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stall_mid_load_workers_wait_and_resume() {
    const STALL: Duration = Duration::from_secs(7);
    let _serial = SERIAL.lock().await;
    let redis = OwnRedis::start().await;
    let ks = Keyspace::new(&redis.url(), "stall");
    let producer = ks.producer("bench");
    let admin = ks.admin("bench");
    let mut probes = two_light_probes(&ks).await;
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let pusher = {
        let (acked, stop, producer) = (acked.clone(), stop.clone(), producer.clone());
        tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let jobs = (n..n + 10).map(|i| NewJob::new("t", job(i))).collect();
                n += 10;
                if let Ok(out) = producer.enqueue_many(jobs).await {
                    acked
                        .lock()
                        .expect("lock")
                        .extend(out.iter().map(|o| o.id().0.clone()));
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    redis.signal("STOP");
    tokio::time::sleep(STALL).await;
    let before = acked.lock().expect("lock").len();
    redis.signal("CONT");
    let resumed = Instant::now();
    eventually(Duration::from_secs(30), "pushes succeed again", || async {
        acked.lock().expect("lock").len() > before + 100
    })
    .await;
    let pushes_back = resumed.elapsed();
    stop.store(true, Ordering::SeqCst);
    pusher.await.expect("pusher");
    let acked = acked.lock().expect("lock").clone();
    eventually(
        Duration::from_secs(60),
        "every acknowledged push completed",
        || async {
            let recorded = ks.recorded().await;
            acked.iter().all(|id| recorded.contains_key(id))
        },
    )
    .await;
    let done_in = resumed.elapsed();
    assert_all_running(&mut probes, "the Redis stall");
    let stats = admin.stats(Duration::from_secs(600)).await.expect("stats");
    let recorded = ks.recorded().await;
    let duplicates = duplicate_runs(&recorded);
    eprintln!(
        "redis stall summary: stalled {STALL:?}; pushes succeed again {pushes_back:?} after, all \
         {} acknowledged pushes completed {done_in:?} after; reclaimed {}, stale {}, retried {}, \
         duplicates {duplicates}, dead {}",
        acked.len(),
        counter(&stats, "reclaimed"),
        counter(&stats, "stale"),
        counter(&stats, "retried"),
        stats.counts.dead
    );
    assert_eq!(stats.counts.dead, 0);
    stop_all(probes).await;
}
