//! `hubsync queue-probe` (hidden): a worker process on a test queue, for the queue's
//! durability tests and benchmarks.
//!
//! It runs `--workers` apalis workers per queue (`--queue`, repeatable or comma-separated;
//! pools are registered in the order given, so list `realtime` before `bulk`), each with
//! `.concurrency(--concurrency)`, over [`RedisQueue`] backends sharing one connection per
//! queue. Each job ([`ProbeJob`]) does nothing (`noop`), sleeps (`sleep`) or POSTs its payload
//! to a stub server (`http`). With `--record`, each completion increments the job's field in
//! the hash `{<prefix>:probe}:done` (`HINCRBY <key> <job id> 1`) *before* the job is
//! acknowledged, so a test can count lost jobs (missing fields) and duplicates (values > 1).
//!
//! Prints `probe ready worker_id=<id> pid=<pid> queues=<q,..> workers=<n>` once every worker
//! has started (`<id>` prefixes every worker id it uses in Redis, i.e. the `owner` of the
//! jobs it leases), and `probe stopped worker_id=<id> completed=<n> failed=<n>` after a
//! graceful shutdown on SIGTERM/SIGINT (exit code 0).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use anyhow::Context;
use apalis::{
    layers::WorkerBuilderExt,
    prelude::{Data, Event, Monitor, WorkerBuilder},
};
use clap::{Args, ValueEnum};
use hubsync_queue::{BackoffPolicy, JobError, JobInfo, QueueClient, QueueConfig, RedisQueue};
use serde::{Deserialize, Serialize};

use crate::roles;

/// The payload of probe jobs. Producers (tests, `hubsync bench queue`) push this type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeJob {
    /// A sequence number chosen by the producer.
    pub n: u64,
    /// Optional filler (payload size), sent as is to the stub in `http` mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

impl ProbeJob {
    /// A job without a body.
    pub fn new(n: u64) -> Self {
        Self { n, body: None }
    }
}

/// What a probe job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProbeMode {
    /// Nothing: measures the queue alone.
    Noop,
    /// POST the job as JSON to `--stub-url`; a non-2xx answer fails the attempt.
    Http,
    /// Sleep `--sleep-ms`.
    Sleep,
}

#[derive(Debug, Clone, Args)]
pub struct ProbeArgs {
    /// Redis URL.
    #[arg(
        long,
        env = "HUBSYNC_REDIS_URL",
        default_value = "redis://127.0.0.1:6379"
    )]
    pub redis_url: String,
    /// Key prefix of the queues (`{<prefix>:<queue>}:*`) and of the record hash.
    #[arg(long, default_value = "hubsync-probe")]
    pub prefix: String,
    /// Queue(s) to serve, repeatable or comma-separated; one worker pool per queue, registered
    /// in this order.
    #[arg(long = "queue", value_delimiter = ',', default_value = "bench")]
    pub queues: Vec<String>,
    /// In-flight jobs per worker (`WorkerBuilder::concurrency`).
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// apalis workers per queue in this process.
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// Jobs leased per fetch (1..=256); default min(8, concurrency).
    #[arg(long)]
    pub prefetch: Option<usize>,
    /// What each job does.
    #[arg(long, value_enum, default_value_t = ProbeMode::Noop)]
    pub mode: ProbeMode,
    /// Target of `--mode http`.
    #[arg(long)]
    pub stub_url: Option<String>,
    /// Duration of one job in `--mode sleep`.
    #[arg(long, default_value_t = 10)]
    pub sleep_ms: u64,
    /// Lease of a fetched job (renewed every third of it while the worker lives).
    #[arg(long, default_value_t = 5000)]
    pub lease_ms: u64,
    /// How long completed jobs are kept before removal (`completed_retention`).
    #[arg(long, default_value_t = 600_000)]
    pub retention_ms: u64,
    /// Reaper period (promote delayed jobs, reclaim expired leases, trim retention).
    #[arg(long, default_value_t = 250)]
    pub reaper_ms: u64,
    /// Base of the retry backoff after a failed attempt (doubling, capped at 30 s).
    #[arg(long, default_value_t = 1000)]
    pub backoff_ms: u64,
    /// Record each completion: `HINCRBY {<prefix>:probe}:done <job id> 1`.
    #[arg(long)]
    pub record: bool,
    /// Share of attempts that fail with a retryable error (0.0..=1.0).
    #[arg(long, default_value_t = 0.0)]
    pub fail_rate: f64,
    /// Longest graceful shutdown before in-flight jobs are abandoned (their leases expire).
    #[arg(long, default_value_t = 30_000)]
    pub shutdown_timeout_ms: u64,
}

/// The hash `{<prefix>:probe}:done` that `--record` writes: job id → completions.
pub fn record_key(prefix: &str) -> String {
    format!("{{{prefix}:probe}}:done")
}

/// What every job handler of the process shares.
struct Probe {
    mode: ProbeMode,
    sleep: Duration,
    http: Option<(reqwest::Client, String)>,
    record: Option<(redis::aio::ConnectionManager, String)>,
    fail_rate: f64,
    completed: AtomicU64,
    failed: AtomicU64,
}

async fn handle(
    job: ProbeJob,
    info: Data<JobInfo>,
    probe: Data<Arc<Probe>>,
) -> Result<(), JobError> {
    let res = probe.run(&job, &info).await;
    match &res {
        Ok(()) => probe.completed.fetch_add(1, Ordering::Relaxed),
        Err(_) => probe.failed.fetch_add(1, Ordering::Relaxed),
    };
    res
}

impl Probe {
    async fn run(&self, job: &ProbeJob, info: &JobInfo) -> Result<(), JobError> {
        if self.fail_rate > 0.0 && rand::random::<f64>() < self.fail_rate {
            return Err(JobError::retry(format!(
                "injected failure (attempt {})",
                info.attempt
            )));
        }
        match self.mode {
            ProbeMode::Noop => {}
            ProbeMode::Sleep => tokio::time::sleep(self.sleep).await,
            ProbeMode::Http => {
                let Some((client, url)) = &self.http else {
                    return Err(JobError::permanent("--mode http needs --stub-url"));
                };
                let resp = client
                    .post(url)
                    .json(job)
                    .send()
                    .await
                    .map_err(JobError::retry)?;
                let status = resp.status();
                if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                    let after = resp
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<u64>().ok())
                        .unwrap_or(1);
                    return Err(JobError::retry_after(
                        Duration::from_secs(after),
                        "stub answered 429",
                    ));
                }
                if !status.is_success() {
                    return Err(JobError::retry(format!("stub answered {status}")));
                }
            }
        }
        if let Some((conn, key)) = &self.record {
            let mut conn = conn.clone();
            let _: i64 = redis::cmd("HINCRBY")
                .arg(key)
                .arg(info.id.as_str())
                .arg(1)
                .query_async(&mut conn)
                .await
                .map_err(|e| JobError::retry(format!("recording the completion failed: {e}")))?;
        }
        Ok(())
    }
}

fn queue_config(args: &ProbeArgs, name: &str) -> QueueConfig {
    let prefetch = args
        .prefetch
        .unwrap_or_else(|| args.concurrency.clamp(1, 8));
    QueueConfig {
        lease: Duration::from_millis(args.lease_ms),
        prefetch,
        completed_retention: Duration::from_millis(args.retention_ms),
        reaper_period: Duration::from_millis(args.reaper_ms.max(10)),
        backoff: BackoffPolicy {
            base: Duration::from_millis(args.backoff_ms),
            cap: Duration::from_secs(30).max(Duration::from_millis(args.backoff_ms)),
            ..BackoffPolicy::default()
        },
        ..QueueConfig::new(args.prefix.clone(), name)
    }
}

pub async fn run(args: ProbeArgs) -> anyhow::Result<()> {
    if args.queues.is_empty() || args.queues.iter().any(|q| q.is_empty()) {
        anyhow::bail!("--queue must name at least one queue");
    }
    if args.workers == 0 || args.concurrency == 0 {
        anyhow::bail!("--workers and --concurrency must be at least 1");
    }
    if !(0.0..=1.0).contains(&args.fail_rate) {
        anyhow::bail!("--fail-rate must be within 0.0..=1.0");
    }
    if args.mode == ProbeMode::Http && args.stub_url.is_none() {
        anyhow::bail!("--mode http needs --stub-url");
    }
    let client = redis::Client::open(args.redis_url.as_str())
        .with_context(|| format!("bad Redis URL {}", roles::redact(&args.redis_url)))?;
    let record = if args.record {
        let cfg = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_connection_timeout(Some(Duration::from_secs(5)));
        let conn = redis::aio::ConnectionManager::new_lazy_with_config(client.clone(), cfg)
            .context("Redis connection for --record")?;
        Some((conn, record_key(&args.prefix)))
    } else {
        None
    };
    let http = match (&args.stub_url, args.mode) {
        (Some(url), ProbeMode::Http) => {
            let c = reqwest::Client::builder()
                .pool_max_idle_per_host(args.concurrency * args.workers)
                .timeout(Duration::from_secs(30))
                .build()
                .context("HTTP client")?;
            Some((c, url.clone()))
        }
        _ => None,
    };
    let probe = Arc::new(Probe {
        mode: args.mode,
        sleep: Duration::from_millis(args.sleep_ms),
        http,
        record,
        fail_rate: args.fail_rate,
        completed: AtomicU64::new(0),
        failed: AtomicU64::new(0),
    });

    let id = format!("probe-{}", short_id());
    let total = args.queues.len() * args.workers;
    let started = Arc::new(AtomicUsize::new(0));
    let announced = Arc::new(AtomicBool::new(false));
    let mut monitor = Monitor::new();
    for name in &args.queues {
        let producer = QueueClient::<ProbeJob>::new(client.clone(), queue_config(&args, name))
            .with_context(|| format!("queue {name}"))?;
        let (p, wid, q, concurrency) = (probe.clone(), id.clone(), name.clone(), args.concurrency);
        monitor = monitor.register_n(args.workers, move |i, _restarts| {
            WorkerBuilder::new(format!("{wid}-{q}-{i}"))
                .backend(RedisQueue::from_client(&producer))
                .concurrency(concurrency)
                .data(p.clone())
                .build(handle)
        });
    }
    let (s, a, queues, workers) = (
        started.clone(),
        announced.clone(),
        args.queues.join(","),
        args.workers,
    );
    let ready_id = id.clone();
    let monitor = monitor
        .on_event(move |_ctx, ev| {
            if matches!(ev, Event::Start)
                && s.fetch_add(1, Ordering::SeqCst) + 1 >= total
                && !a.swap(true, Ordering::SeqCst)
            {
                println!(
                    "probe ready worker_id={ready_id} pid={} queues={queues} workers={workers}",
                    std::process::id()
                );
            }
        })
        .should_restart(|ctx, e| {
            tracing::error!(worker = %ctx.name(), error = %e, "worker failed; restarting");
            true
        })
        .shutdown_timeout(Duration::from_millis(args.shutdown_timeout_ms));

    let mut stop = roles::shutdown_signal();
    monitor
        .run_with_signal(async move {
            let _ = stop.wait_for(|s| *s).await;
            Ok(())
        })
        .await
        .context("queue probe workers")?;
    println!(
        "probe stopped worker_id={id} completed={} failed={}",
        probe.completed.load(Ordering::Relaxed),
        probe.failed.load(Ordering::Relaxed)
    );
    Ok(())
}

fn short_id() -> String {
    let n: u64 = rand::random();
    format!("{:012x}", n & 0xffff_ffff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_job_wire_format() {
        assert_eq!(
            serde_json::to_string(&ProbeJob::new(7)).expect("json"),
            r#"{"n":7}"#
        );
        let j: ProbeJob = serde_json::from_str(r#"{"n":1,"body":"x"}"#).expect("json");
        assert_eq!(j.body.as_deref(), Some("x"));
        assert_eq!(record_key("p"), "{p:probe}:done");
    }
}
