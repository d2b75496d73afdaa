//! `hubsync bench e2e`: end-to-end latency and ingest throughput of a real cluster.
//!
//! The benchmark starts the real processes (`hubsync sim`, `hubsync api --migrate`, one or more
//! `hubsync worker`) on a fresh database and Redis prefix, connects one integration through
//! the operator API (Userflow key, HubSpot OAuth, a contacts ↔ users mapping by email), and
//! measures:
//!
//! - [`latency`]: changes driven on each side at fixed rates (open loop). Each change is
//!   written into the source simulator, then the benchmark itself sends the signed webhook to
//!   the api (the simulators' own deliveries are switched off), so the clock starts exactly
//!   when the webhook reaches the api. The landing time is read afterwards from the target
//!   simulator ([`landing`]): p50/p95/p99 per direction and rate.
//! - [`ingest`]: the highest offered rate at which `POST /webhooks/hubspot` answers with a
//!   p99 under 20 ms, beside a bare axum handler that only pushes the body to Redis
//!   ([`baseline`]), stepped up the same way in the same run.
//!
//! Modules: [`cluster`] (processes), [`setup`] (integration and mapping), [`driver`] (the
//! open-loop generator), [`changes`] (one change on each side, with its signed webhook),
//! [`landing`], [`latency`], [`ingest`], [`baseline`], [`report`], [`time`].

mod baseline;
mod changes;
mod cluster;
mod driver;
mod ingest;
mod landing;
mod latency;
mod report;
mod setup;
mod time;

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;

use super::support;

#[derive(Debug, Clone, Args)]
pub struct E2eBenchArgs {
    /// Print exactly one JSON object of results instead of the tables.
    #[arg(long)]
    pub json: bool,
    /// Database of the cluster: a Postgres URL (`postgres://…`; migrations are applied), or by
    /// default a fresh SQLite file in a temporary directory.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Redis of the cluster (keys use a fresh prefix and are deleted at the end).
    #[arg(
        long,
        env = "HUBSYNC_REDIS_URL",
        default_value = "redis://127.0.0.1:6379"
    )]
    pub redis_url: String,
    /// Worker processes (`hubsync worker`).
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// Changes per second driven on each side (comma-separated; each rate is one run per
    /// direction). Default 5,100,1000 (10 with `--quick`).
    #[arg(long, value_delimiter = ',')]
    pub rates: Vec<u32>,
    /// Seconds each rate is driven (default 10; 2 with `--quick`).
    #[arg(long)]
    pub seconds: Option<f64>,
    /// People seeded in both simulators per direction (default: enough for one distinct
    /// person per change of the longest run).
    #[arg(long)]
    pub people: Option<usize>,
    /// Longest wait, in seconds, for the cluster to finish a run's jobs after the run stopped
    /// sending; jobs still queued then are purged and their changes count as lost.
    #[arg(long, default_value_t = 60)]
    pub drain_timeout_secs: u64,
    /// Seconds each offered rate of the ingest measurement lasts (default 2; 1 with `--quick`).
    #[arg(long)]
    pub ingest_seconds: Option<f64>,
    /// The ingest throughput is the highest rate whose HTTP answer p99 stays under this.
    #[arg(long, default_value_t = 20.0)]
    pub ingest_p99_ms: f64,
    /// Keep the HubSpot simulator's rate limits on (by default they are off: the simulators
    /// answer at once, so the cluster's own costs are what is measured).
    #[arg(long)]
    pub sim_rate_limits: bool,
    /// The cluster's HubSpot budget per portal (`--hubspot-calls-per-10s` of the roles). By
    /// default unlimited while the simulator's rate limits are off, so the pipeline itself is
    /// measured; HubSpot's real budget for a public app (100) caps one portal at about ten
    /// changes a second.
    #[arg(long)]
    pub hubspot_calls_per_10s: Option<u32>,
    /// Run only these parts (comma-separated: latency, ingest).
    #[arg(long, value_delimiter = ',', value_enum)]
    pub only: Vec<Part>,
    /// Small, fast settings (2 s at 10 changes/s, a short ingest ramp): a smoke test, not a
    /// benchmark.
    #[arg(long)]
    pub quick: bool,
}

/// Default changes per second: one rate within the HubSpot budget the cluster keeps to (100
/// calls per 10 s per portal, ≈ 10 changes/s), and the two.
pub const DEFAULT_RATES: [u32; 3] = [5, 100, 1000];
/// `--quick`: a rate whose calls fit in one HubSpot budget window, so the run ends quickly.
pub const QUICK_RATE: u32 = 10;

/// A part of the benchmark (`--only`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    Latency,
    Ingest,
}

/// Effective settings of one run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub rates: Vec<u32>,
    pub seconds: f64,
    /// Distinct people per direction.
    pub people: usize,
    pub ingest_seconds: f64,
    /// Offered ingest rates, in increasing order.
    pub ingest_rates: Vec<u32>,
    pub latency: bool,
    pub ingest: bool,
}

impl Plan {
    pub fn from_args(a: &E2eBenchArgs) -> Self {
        let mut rates: Vec<u32> = a.rates.iter().copied().filter(|r| *r > 0).collect();
        if rates.is_empty() {
            rates = if a.quick {
                vec![QUICK_RATE]
            } else {
                DEFAULT_RATES.to_vec()
            };
        }
        let seconds = a
            .seconds
            .unwrap_or(if a.quick { 2.0 } else { 10.0 })
            .max(0.1);
        let longest = rates
            .iter()
            .map(|r| (f64::from(*r) * seconds).ceil() as usize)
            .max()
            .unwrap_or(1);
        let people = a.people.unwrap_or(longest).max(1);
        let ingest_rates = if a.quick {
            vec![50, 100, 250, 500, 1000, 2000, 4000, 8000]
        } else {
            ingest::ramp(250, 40_000, 1.25)
        };
        let runs = |p: Part| a.only.is_empty() || a.only.contains(&p);
        Self {
            rates,
            seconds,
            people,
            ingest_seconds: a
                .ingest_seconds
                .unwrap_or(if a.quick { 1.0 } else { 2.0 })
                .max(0.2),
            ingest_rates,
            latency: runs(Part::Latency),
            ingest: runs(Part::Ingest),
        }
    }
}

/// A progress line on stderr (stdout carries only the results).
pub fn progress(line: &str) {
    eprintln!("[bench e2e] {line}");
}

pub async fn run(args: E2eBenchArgs) -> anyhow::Result<()> {
    let plan = Plan::from_args(&args);
    let started = Instant::now();
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let redis = redis::Client::open(args.redis_url.as_str())
        .with_context(|| format!("bad Redis URL {}", crate::roles::redact(&args.redis_url)))?;
    let mut conn = redis
        .get_multiplexed_async_connection()
        .await
        .with_context(|| {
            format!(
                "cannot connect to Redis at {}",
                crate::roles::redact(&args.redis_url)
            )
        })?;
    let redis_version = redis_version(&mut conn).await;

    let mut cluster = match cluster::Cluster::start(&args, &plan, &run_id).await {
        Ok(c) => c,
        Err(e) => {
            cleanup(&mut conn, &cluster::prefix(&run_id)).await;
            return Err(e);
        }
    };
    let outcome = measure(&args, &plan, &mut cluster, &run_id).await;
    let outcome = outcome.map_err(|e| {
        anyhow::anyhow!(
            "{e:#}\n\nlast output of the cluster's processes:\n{}",
            cluster.output_tail()
        )
    });
    let database = cluster.database_kind().to_owned();
    cluster.stop().await;
    cleanup(&mut conn, &cluster.prefix).await;
    cluster.remove_temp_dir();
    let results = outcome?;

    let report = report::Report {
        plan: &plan,
        args: &args,
        results,
        redis_version,
        database,
        elapsed: started.elapsed(),
    };
    if args.json {
        println!("{}", serde_json::to_string(&report.json())?);
    } else {
        print!("{}", report.table());
    }
    Ok(())
}

/// Everything measured in one run.
#[derive(Debug, Default)]
pub struct Results {
    pub latency: Vec<latency::RunResult>,
    pub ingest: Option<ingest::IngestResult>,
    pub notes: Vec<String>,
}

async fn measure(
    args: &E2eBenchArgs,
    plan: &Plan,
    cluster: &mut cluster::Cluster,
    run_id: &str,
) -> anyhow::Result<Results> {
    let mut results = Results::default();
    progress("connecting the integration (Userflow key, HubSpot OAuth, mapping)");
    let integration = setup::connect(cluster, &mut results.notes).await?;
    let drivers = std::sync::Arc::new(
        changes::Drivers::new(cluster, &integration, plan.people, run_id).await?,
    );

    if plan.latency {
        for (i, rate) in plan.rates.iter().enumerate() {
            for direction in [
                changes::Direction::HubspotToUserflow,
                changes::Direction::UserflowToHubspot,
            ] {
                progress(&format!(
                    "{}: {rate} changes/s for {} s",
                    direction.label(),
                    plan.seconds
                ));
                cluster.check_alive()?;
                let r = latency::run(
                    &drivers,
                    direction,
                    *rate,
                    plan.seconds,
                    Duration::from_secs(args.drain_timeout_secs),
                    i,
                )
                .await
                .with_context(|| format!("{} at {rate}/s", direction.label()))?;
                progress(&format!(
                    "  sent {}, landed {}, p99 {}",
                    r.sent,
                    r.landed,
                    report::ms_or_dash(r.p99_ms)
                ));
                results.latency.push(r);
            }
        }
    }

    if plan.ingest {
        // The workers would compete with the api for the CPU while the queue fills; the
        // baseline has no consumer either.
        progress("stopping the workers for the ingest measurement");
        cluster.stop_workers().await;
        results.ingest = Some(ingest::run(cluster, &drivers, plan, args.ingest_p99_ms).await?);
    }
    Ok(results)
}

async fn redis_version(conn: &mut redis::aio::MultiplexedConnection) -> String {
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query_async(conn)
        .await
        .unwrap_or_default();
    info.lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .unwrap_or("unknown")
        .trim()
        .to_owned()
}

/// Deletes every key of the run: the cluster's (`{<prefix>}:…`, `{<prefix>:…}:…`) and the
/// baseline's.
async fn cleanup(conn: &mut redis::aio::MultiplexedConnection, prefix: &str) {
    for pattern in [
        format!("{{{prefix}}}*"),
        format!("{{{prefix}:*"),
        format!("{prefix}*"),
    ] {
        if let Err(e) = support::delete_keys(conn, &pattern).await {
            progress(&format!("cleanup of {pattern} failed: {e}"));
        }
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
