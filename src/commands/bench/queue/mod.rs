//! `hubsync bench queue`: our queue (`hubsync-queue`) against apalis-redis 1.0.0 (default
//! `Config`) as the baseline, measured in the same run on the same Redis.
//!
//! One module per measured thing, each measuring both systems the same way:
//! - [`enqueue`]: pushes/s, single (sequential and 16 concurrent pushers) and batched;
//! - [`drain`]: jobs/s of one worker process draining a pre-filled backlog (no-op jobs, and
//!   jobs that POST to a local stub server with 16 in flight), and its peak RSS;
//! - [`pickup`]: push → handler start of an idle in-process worker, one job at a time;
//! - [`recovery`]: a worker process holding leased jobs is killed with SIGKILL; time until
//!   another worker has started every job it held.
//!
//! Every run uses a fresh key prefix (ours) and queue-name namespace (apalis-redis) and
//! deletes its keys at the end. Worker processes are `hubsync queue-probe` (ours) and
//! `hubsync bench apalis-probe` (baseline).

mod drain;
mod enqueue;
mod pickup;
mod recovery;
mod report;

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use clap::Args;
use hubsync_queue::{QueueClient, QueueConfig, keys::Keys};
use tracing::instrument::WithSubscriber;

use super::support::{self, Stub};
use crate::commands::queue_probe::ProbeJob;

#[derive(Debug, Clone, Args)]
pub struct QueueBenchArgs {
    /// Print exactly one JSON object of results instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Redis to measure against (keys use a fresh prefix and are deleted at the end).
    #[arg(
        long,
        env = "HUBSYNC_REDIS_URL",
        default_value = "redis://127.0.0.1:6379"
    )]
    pub redis_url: String,
    /// Backlog of each no-op drain (ours; the baseline is capped, see
    /// `--baseline-max-backlog`).
    #[arg(long, default_value_t = 50_000)]
    pub jobs: u64,
    /// Jobs of each HTTP-stub drain (default: a fifth of `--jobs`, at least 100).
    #[arg(long)]
    pub http_jobs: Option<u64>,
    /// Duration of each timed enqueue run, in seconds (default 2; 0.3 with `--quick`).
    #[arg(long)]
    pub seconds: Option<f64>,
    /// Repetitions of each throughput measurement; the median is reported (default 3; 1
    /// with `--quick`).
    #[arg(long)]
    pub reps: Option<usize>,
    /// Idle-pickup samples for our queue (default 200; 20 with `--quick`).
    #[arg(long)]
    pub pickup_samples: Option<usize>,
    /// In-flight jobs of the worker process in the no-op drain (both systems).
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// In-flight jobs in the HTTP-stub drain (both systems).
    #[arg(long, default_value_t = 16)]
    pub http_concurrency: usize,
    /// Jobs our worker leases per fetch (`QueueConfig::prefetch`) in the drains; default: the
    /// drain's in-flight count (the documented ceiling). The no-op drain is also run with the
    /// `QueueConfig` default (8), reported on its own row.
    #[arg(long)]
    pub prefetch: Option<usize>,
    /// Lease of our workers in the kill -9 measurement (recovery ≈ lease + reaper period).
    #[arg(long, default_value_t = 2000)]
    pub lease_ms: u64,
    /// Largest backlog given to apalis-redis for its throughput numbers: more than ~8,000 due
    /// jobs make its fetch fail (`too many results to unpack`).
    #[arg(long, default_value_t = 5_000)]
    pub baseline_max_backlog: u64,
    /// Idle-pickup samples for apalis-redis (each waits for its 30 s heartbeat).
    #[arg(long, default_value_t = 8)]
    pub baseline_pickup_samples: usize,
    /// How long to wait for apalis-redis to recover a killed worker's jobs (300 s orphan
    /// threshold + 30 s heartbeat by default) before recording a failure.
    #[arg(long, default_value_t = 400)]
    pub baseline_recovery_timeout_secs: u64,
    /// Measure our queue only.
    #[arg(long)]
    pub skip_baseline: bool,
    /// Run only these parts (comma-separated: enqueue, drain, pickup, recovery); the others
    /// are left out of the results.
    #[arg(long, value_delimiter = ',', value_enum)]
    pub only: Vec<Part>,
    /// Small, fast settings (one repetition, short runs): a smoke test, not a benchmark.
    #[arg(long)]
    pub quick: bool,
}

/// A part of the benchmark (`--only`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    Enqueue,
    Drain,
    Pickup,
    Recovery,
}

impl QueueBenchArgs {
    fn runs(&self, part: Part) -> bool {
        self.only.is_empty() || self.only.contains(&part)
    }
}

/// Effective sizes of one run.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub seconds: f64,
    pub reps: usize,
    pub jobs: u64,
    pub warmup_jobs: u64,
    pub http_jobs: u64,
    pub pickup_samples: usize,
    pub pickup_warmup: usize,
    pub kill_reps: usize,
    pub held_jobs: u64,
}

impl Sizes {
    fn from_args(a: &QueueBenchArgs) -> Self {
        let jobs = a.jobs.max(50);
        Self {
            seconds: a
                .seconds
                .unwrap_or(if a.quick { 0.3 } else { 2.0 })
                .max(0.05),
            reps: a.reps.unwrap_or(if a.quick { 1 } else { 3 }).max(1),
            jobs,
            warmup_jobs: (jobs / 10).clamp(20, 5_000),
            http_jobs: a.http_jobs.unwrap_or(jobs / 5).max(100),
            pickup_samples: a
                .pickup_samples
                .unwrap_or(if a.quick { 20 } else { 200 })
                .max(1),
            pickup_warmup: if a.quick { 3 } else { 20 },
            kill_reps: if a.quick { 1 } else { 3 },
            held_jobs: 16,
        }
    }
}

/// One measured value: a number, or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Num(f64),
    Failed(String),
}

impl Val {
    pub fn num(&self) -> Option<f64> {
        match self {
            Val::Num(x) => Some(*x),
            _ => None,
        }
    }

    fn from_result(r: anyhow::Result<f64>) -> Self {
        match r {
            Ok(x) => Val::Num(x),
            Err(e) => Val::Failed(format!("failed: {}", one_line(&e))),
        }
    }
}

/// Results of one system, by metric key (see [`report::METRICS`]).
pub type Measures = BTreeMap<&'static str, Val>;

/// Everything a measurement needs.
pub struct Ctx {
    pub url: String,
    pub client: redis::Client,
    pub conn: redis::aio::MultiplexedConnection,
    /// Our key prefix: every key is `{<prefix>:<queue>}:…`.
    pub prefix: String,
    /// apalis-redis queue names are `<apalis_ns>-<what>` (its keys `<name>:…`).
    pub apalis_ns: String,
    pub sizes: Sizes,
    pub args: QueueBenchArgs,
    pub stub: Stub,
    /// Details (per-repetition values, notes) for the JSON output.
    pub details: std::sync::Mutex<BTreeMap<String, serde_json::Value>>,
    pub notes: std::sync::Mutex<Vec<String>>,
}

impl Ctx {
    /// Our queue's configuration for in-process workers and producers: the defaults.
    pub fn our_config(&self, queue: &str) -> QueueConfig {
        QueueConfig::new(self.prefix.clone(), queue)
    }

    /// Prefetch of the worker process in the no-op drain.
    pub fn noop_prefetch(&self) -> usize {
        self.args
            .prefetch
            .unwrap_or(self.args.concurrency)
            .clamp(1, 256)
    }

    /// Prefetch of the worker process in the HTTP-stub drain.
    pub fn http_prefetch(&self) -> usize {
        self.args
            .prefetch
            .unwrap_or(self.args.http_concurrency)
            .clamp(1, 256)
    }

    pub fn our_client(&self, queue: &str) -> anyhow::Result<QueueClient<ProbeJob>> {
        Ok(QueueClient::new(
            self.client.clone(),
            self.our_config(queue),
        )?)
    }

    /// `{<prefix>:<queue>}:<what>`.
    pub fn our_key(&self, queue: &str, what: &str) -> String {
        format!("{}:{what}", Keys::new(&self.prefix, queue).tag())
    }

    pub fn apalis_queue(&self, what: &str) -> String {
        format!("{}-{what}", self.apalis_ns)
    }

    /// Deletes the keys of one of our queues.
    pub async fn drop_our_queue(&self, queue: &str) {
        let mut conn = self.conn.clone();
        let pattern = Keys::new(&self.prefix, queue).pattern();
        if let Err(e) = support::delete_keys(&mut conn, &pattern).await {
            tracing::warn!(error = %e, "deleting benchmark keys failed");
        }
    }

    /// Deletes the keys of one apalis-redis queue.
    pub async fn drop_apalis_queue(&self, name: &str) {
        let mut conn = self.conn.clone();
        if let Err(e) = support::delete_keys(&mut conn, &format!("{name}:*")).await {
            tracing::warn!(error = %e, "deleting benchmark keys failed");
        }
        let _: redis::RedisResult<i64> = redis::cmd("ZREM")
            .arg("core:apalis:queues:list")
            .arg(format!("{name}:workers"))
            .query_async(&mut conn)
            .await;
    }

    pub fn detail(&self, key: impl Into<String>, value: serde_json::Value) {
        if let Ok(mut d) = self.details.lock() {
            d.insert(key.into(), value);
        }
    }

    pub fn note(&self, text: impl Into<String>) {
        let text = text.into();
        self.progress(&format!("note: {text}"));
        if let Ok(mut n) = self.notes.lock() {
            n.push(text);
        }
    }

    /// A progress line on stderr (stdout carries only the results).
    pub fn progress(&self, line: &str) {
        eprintln!("[bench] {line}");
    }
}

/// The first line of an error chain, shortened.
pub fn one_line(e: &anyhow::Error) -> String {
    let s = format!("{e:#}").replace('\n', " ");
    if s.len() > 300 {
        let mut cut = 300;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}…", &s[..cut])
    } else {
        s
    }
}

pub async fn run(args: QueueBenchArgs) -> anyhow::Result<()> {
    let sizes = Sizes::from_args(&args);
    let client = redis::Client::open(args.redis_url.as_str())
        .with_context(|| format!("bad Redis URL {}", crate::roles::redact(&args.redis_url)))?;
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .with_context(|| {
            format!(
                "cannot connect to Redis at {}",
                crate::roles::redact(&args.redis_url)
            )
        })?;
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query_async(&mut conn)
        .await?;
    let redis_version = info
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .unwrap_or("unknown")
        .trim()
        .to_owned();
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let ctx = Arc::new(Ctx {
        url: args.redis_url.clone(),
        client,
        conn,
        prefix: format!("hubsync-bench-{run_id}"),
        apalis_ns: format!("hubsync-bench-{run_id}-apalis"),
        sizes,
        stub: Stub::start().await?,
        args,
        details: Default::default(),
        notes: Default::default(),
    });
    let started = Instant::now();
    // This process's own logs (in-process workers) go to stderr: stdout carries only the
    // results (one JSON object with --json).
    let measured = measure(&ctx).with_subscriber(stderr_logs()).await;
    cleanup(&ctx).await;
    let (ours, baseline) = measured?;
    let report = report::Report {
        ctx: &ctx,
        ours,
        baseline,
        redis_version,
        elapsed: started.elapsed(),
    };
    if ctx.args.json {
        println!("{}", serde_json::to_string(&report.json())?);
    } else {
        print!("{}", report.table());
    }
    Ok(())
}

async fn measure(ctx: &Arc<Ctx>) -> anyhow::Result<(Measures, Option<Measures>)> {
    let a = &ctx.args;
    let mut ours = Measures::new();
    if a.runs(Part::Enqueue) {
        ctx.progress(&format!(
            "hubsync-queue: enqueue ({} s per run, {} reps)",
            ctx.sizes.seconds, ctx.sizes.reps
        ));
        enqueue::ours(ctx, &mut ours).await?;
    }
    if a.runs(Part::Drain) {
        ctx.progress(&format!(
            "hubsync-queue: no-op drain of {} jobs, {} in flight",
            ctx.sizes.jobs, a.concurrency
        ));
        drain::ours(ctx, &mut ours).await?;
    }
    if a.runs(Part::Pickup) {
        ctx.progress("hubsync-queue: idle pickup latency");
        pickup::ours(ctx, &mut ours).await?;
    }
    if a.runs(Part::Recovery) {
        ctx.progress("hubsync-queue: kill -9 recovery");
        recovery::ours(ctx, &mut ours).await?;
    }

    if a.skip_baseline {
        return Ok((ours, None));
    }
    let mut base = Measures::new();
    if a.runs(Part::Enqueue) {
        ctx.progress("apalis-redis: enqueue");
        enqueue::apalis(ctx, &mut base).await;
    }
    if a.runs(Part::Drain) {
        ctx.progress("apalis-redis: drains");
        drain::apalis(ctx, &mut base).await;
    }
    let (pick, rec) = (a.runs(Part::Pickup), a.runs(Part::Recovery));
    if pick || rec {
        ctx.progress(&format!(
            "apalis-redis: idle pickup ({} samples, heartbeat-bound) and kill -9 recovery (up to {} s), concurrently",
            a.baseline_pickup_samples, a.baseline_recovery_timeout_secs
        ));
        let (p, r) = tokio::join!(
            async {
                if pick {
                    pickup::apalis(ctx).await
                } else {
                    Measures::new()
                }
            },
            async {
                if rec {
                    recovery::apalis(ctx).await
                } else {
                    Measures::new()
                }
            }
        );
        base.extend(p);
        base.extend(r);
    }
    Ok((ours, Some(base)))
}

async fn cleanup(ctx: &Ctx) {
    let mut conn = ctx.conn.clone();
    // `{` and `}` are not glob characters; the prefix has none either.
    let ours = format!("{{{}:*", ctx.prefix);
    let apalis = format!("{}-*", ctx.apalis_ns);
    for pattern in [ours, apalis] {
        if let Err(e) = support::delete_keys(&mut conn, &pattern).await {
            ctx.progress(&format!("cleanup of {pattern} failed: {e}"));
        }
    }
    let members: Vec<String> = redis::cmd("ZRANGE")
        .arg("core:apalis:queues:list")
        .arg(0)
        .arg(-1)
        .query_async(&mut conn)
        .await
        .unwrap_or_default();
    for m in members.iter().filter(|m| m.starts_with(&ctx.apalis_ns)) {
        let _: redis::RedisResult<i64> = redis::cmd("ZREM")
            .arg("core:apalis:queues:list")
            .arg(m)
            .query_async(&mut conn)
            .await;
    }
}

/// A log subscriber writing to stderr (`RUST_LOG`, default `warn`).
fn stderr_logs() -> tracing::Dispatch {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing::Dispatch::new(
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(filter)
            .finish(),
    )
}

/// Waits until `check` is true, polling every `every`, for at most `within`.
pub async fn wait_until<F, Fut>(within: Duration, every: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(every).await;
    }
}
