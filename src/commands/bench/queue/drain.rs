//! Drain rate of one worker process and its peak RSS.
//!
//! A backlog of `warm-up + n` jobs is pushed first; then the worker process starts, and the
//! rate is measured between the moment the completed count passes the warm-up jobs and the
//! moment it reaches `warm-up + n` (so process start, connection and script loading are not
//! counted). The count is polled from Redis every 2 ms: our `P:stats` `completed` counter,
//! apalis-redis's `<queue>:done` set. Peak RSS is the worker's `VmHWM` after the no-op drain.
//!
//! Modes: `noop` (`--concurrency` in flight) and `http` (`--http-concurrency` in flight, each
//! job POSTs itself to the bench's stub server).

use std::time::Duration;

use anyhow::{Context, bail};
use apalis::prelude::TaskSink;
use apalis_redis::{Config, RedisStorage};

use super::{Ctx, Measures, Val, one_line};
use crate::commands::{
    bench::support::{Worker, measure_drain, median, redis_cpu_s},
    queue_probe::ProbeJob,
};

/// A drain that makes no progress for this long has failed.
const STALL: Duration = Duration::from_secs(20);
const READY: Duration = Duration::from_secs(20);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Noop,
    Http,
}

impl Mode {
    fn arg(self) -> &'static str {
        match self {
            Mode::Noop => "noop",
            Mode::Http => "http",
        }
    }
}

struct Drained {
    rate: f64,
    peak_rss: Option<u64>,
    /// Redis CPU time per drained job (µs), over the whole drain (warm-up included).
    redis_us_per_job: Option<f64>,
    /// Worker process CPU time per drained job (µs), same window.
    worker_us_per_job: Option<f64>,
}

/// One drain of `n` jobs by a `queue-probe` process; `prefetch: None` keeps the probe's
/// default (the `QueueConfig` default of 8, or the concurrency if lower).
async fn ours_once(
    ctx: &Ctx,
    mode: Mode,
    prefetch: Option<usize>,
    rep: usize,
    n: u64,
) -> anyhow::Result<Drained> {
    let queue = format!(
        "drain-{}-{}-{rep}",
        mode.arg(),
        prefetch.map_or("default".to_owned(), |p| p.to_string())
    );
    let warm = ctx.sizes.warmup_jobs;
    let client = ctx.our_client(&queue)?;
    let mut next = 0u64;
    while next < warm + n {
        let end = (next + 5_000).min(warm + n);
        client
            .enqueue_many(
                (next..end)
                    .map(|i| hubsync_queue::NewJob::new(format!("t{}", i % 4), ProbeJob::new(i)))
                    .collect(),
            )
            .await?;
        next = end;
    }
    let concurrency = match mode {
        Mode::Noop => ctx.args.concurrency,
        Mode::Http => ctx.args.http_concurrency,
    };
    let mut args: Vec<String> = [
        "queue-probe",
        "--redis-url",
        &ctx.url,
        "--prefix",
        &ctx.prefix,
        "--queue",
        &queue,
        "--concurrency",
        &concurrency.to_string(),
        "--mode",
        mode.arg(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some(p) = prefetch {
        args.extend(["--prefetch".to_owned(), p.to_string()]);
    }
    if mode == Mode::Http {
        args.extend(["--stub-url".to_owned(), ctx.stub.url.clone()]);
    }
    let mut cpu_conn = ctx.conn.clone();
    let cpu0 = redis_cpu_s(&mut cpu_conn).await.ok();
    let mut worker = Worker::spawn(&args, READY).await?;
    let stats = ctx.our_key(&queue, "stats");
    let conn = ctx.conn.clone();
    let res = measure_drain(
        || {
            let (mut conn, stats) = (conn.clone(), stats.clone());
            async move {
                let c: Option<u64> = redis::cmd("HGET")
                    .arg(&stats)
                    .arg("completed")
                    .query_async(&mut conn)
                    .await?;
                Ok(c.unwrap_or(0))
            }
        },
        || match worker.exited() {
            Some(status) => bail!("worker exited ({status})"),
            None => Ok(()),
        },
        warm,
        n,
        STALL,
    )
    .await;
    let cpu1 = redis_cpu_s(&mut cpu_conn).await.ok();
    let wcpu = worker.cpu_seconds();
    let peak_rss = worker.peak_rss_bytes();
    let tail = worker.output_tail();
    worker.kill9().await;
    ctx.drop_our_queue(&queue).await;
    let rate = res.with_context(|| format!("worker output: {tail}"))?;
    Ok(Drained {
        rate,
        peak_rss,
        redis_us_per_job: per_job_us(cpu0, cpu1, warm + n),
        worker_us_per_job: per_job_us(Some(0.0), wcpu, warm + n),
    })
}

fn per_job_us(cpu0: Option<f64>, cpu1: Option<f64>, jobs: u64) -> Option<f64> {
    Some((cpu1? - cpu0?) * 1e6 / jobs.max(1) as f64)
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

pub async fn ours(ctx: &Ctx, out: &mut Measures) -> anyhow::Result<()> {
    let mut rates = Vec::new();
    let mut rss = Vec::new();
    let mut cpu = Vec::new();
    let mut wcpu = Vec::new();
    for rep in 0..ctx.sizes.reps {
        let d = ours_once(
            ctx,
            Mode::Noop,
            Some(ctx.noop_prefetch()),
            rep,
            ctx.sizes.jobs,
        )
        .await?;
        rates.push(d.rate);
        rss.extend(d.peak_rss.map(mb));
        cpu.extend(d.redis_us_per_job);
        wcpu.extend(d.worker_us_per_job);
    }
    ctx.detail(
        "ours.noop_worker_cpu_us_per_job",
        serde_json::json!(median(&wcpu)),
    );
    ctx.detail("ours.noop_jobs_per_s.runs", serde_json::json!(rates));
    ctx.detail(
        "ours.noop_redis_cpu_us_per_job",
        serde_json::json!(median(&cpu)),
    );
    ctx.detail("ours.worker_peak_rss_mb.runs", serde_json::json!(rss));
    out.insert("noop_jobs_per_s", num(median(&rates)));
    out.insert(
        "worker_peak_rss_mb",
        num(rss.iter().copied().reduce(f64::max)),
    );

    ctx.progress(&format!(
        "hubsync-queue: no-op drain of {} jobs, {} in flight, default prefetch",
        ctx.sizes.jobs, ctx.args.concurrency
    ));
    let mut rates = Vec::new();
    for rep in 0..ctx.sizes.reps {
        rates.push(
            ours_once(ctx, Mode::Noop, None, rep, ctx.sizes.jobs)
                .await?
                .rate,
        );
    }
    ctx.detail(
        "ours.noop_default_prefetch_jobs_per_s.runs",
        serde_json::json!(rates),
    );
    out.insert("noop_default_prefetch_jobs_per_s", num(median(&rates)));

    ctx.progress(&format!(
        "hubsync-queue: HTTP-stub drain of {} jobs, {} in flight",
        ctx.sizes.http_jobs, ctx.args.http_concurrency
    ));
    let mut rates = Vec::new();
    for rep in 0..ctx.sizes.reps {
        rates.push(
            ours_once(
                ctx,
                Mode::Http,
                Some(ctx.http_prefetch()),
                rep,
                ctx.sizes.http_jobs,
            )
            .await?
            .rate,
        );
    }
    ctx.detail("ours.http_jobs_per_s.runs", serde_json::json!(rates));
    ctx.detail(
        "stub_requests_after_ours",
        serde_json::json!(ctx.stub.hits.load(std::sync::atomic::Ordering::Relaxed)),
    );
    out.insert("http_jobs_per_s", num(median(&rates)));
    Ok(())
}

fn num(x: Option<f64>) -> Val {
    x.map_or(Val::Failed("no run".into()), Val::Num)
}

async fn apalis_once(
    ctx: &Ctx,
    mode: Mode,
    rep: usize,
    n: u64,
    warm: u64,
) -> anyhow::Result<Drained> {
    let name = ctx.apalis_queue(&format!("drain-{}-{rep}-{n}", mode.arg()));
    let conn = apalis_redis::connect(ctx.url.as_str()).await?;
    let mut storage =
        RedisStorage::<ProbeJob>::new(conn).with_config(Config::default().queue(&name));
    let mut next = 0u64;
    while next < warm + n {
        let end = (next + 500).min(warm + n);
        storage
            .push_bulk((next..end).map(ProbeJob::new).collect())
            .await
            .map_err(|e| anyhow::anyhow!("push_bulk: {e}"))?;
        next = end;
    }
    let concurrency = match mode {
        Mode::Noop => ctx.args.concurrency,
        Mode::Http => ctx.args.http_concurrency,
    };
    let mut args: Vec<String> = [
        "bench",
        "apalis-probe",
        "--redis-url",
        &ctx.url,
        "--queue",
        &name,
        "--name",
        &format!("{name}-w"),
        "--concurrency",
        &concurrency.to_string(),
        "--mode",
        mode.arg(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if mode == Mode::Http {
        args.extend(["--stub-url".to_owned(), ctx.stub.url.clone()]);
    }
    let mut cpu_conn = ctx.conn.clone();
    let cpu0 = redis_cpu_s(&mut cpu_conn).await.ok();
    let mut worker = Worker::spawn(&args, READY).await?;
    let done = format!("{name}:done");
    let conn = ctx.conn.clone();
    let res = measure_drain(
        || {
            let (mut conn, done) = (conn.clone(), done.clone());
            async move {
                let c: u64 = redis::cmd("SCARD")
                    .arg(&done)
                    .query_async(&mut conn)
                    .await?;
                Ok(c)
            }
        },
        || match worker.exited() {
            Some(status) => bail!("worker exited ({status})"),
            None => Ok(()),
        },
        warm,
        n,
        STALL,
    )
    .await;
    let cpu1 = redis_cpu_s(&mut cpu_conn).await.ok();
    let wcpu = worker.cpu_seconds();
    let peak_rss = worker.peak_rss_bytes();
    let failure = worker
        .find_line("too many results to unpack")
        .map(|_| "too many results to unpack".to_owned())
        .or_else(|| worker.find_line("apalis worker failed"));
    worker.kill9().await;
    ctx.drop_apalis_queue(&name).await;
    match (res, failure) {
        (Ok(rate), _) => Ok(Drained {
            rate,
            peak_rss,
            redis_us_per_job: per_job_us(cpu0, cpu1, warm + n),
            worker_us_per_job: per_job_us(Some(0.0), wcpu, warm + n),
        }),
        (Err(_), Some(f)) => bail!("{f}"),
        (Err(e), None) => Err(e),
    }
}

/// Runs `reps` drains of `n` jobs; median rate and max peak RSS.
async fn apalis_series(
    ctx: &Ctx,
    mode: Mode,
    n: u64,
    warm: u64,
    reps: usize,
) -> anyhow::Result<(f64, Option<f64>, Vec<f64>)> {
    let mut rates = Vec::new();
    let mut rss: Option<f64> = None;
    let mut cpu = Vec::new();
    let mut wcpu = Vec::new();
    for rep in 0..reps {
        let d = apalis_once(ctx, mode, rep, n, warm).await?;
        rates.push(d.rate);
        cpu.extend(d.redis_us_per_job);
        wcpu.extend(d.worker_us_per_job);
        if let Some(b) = d.peak_rss {
            rss = Some(rss.map_or(mb(b), |r: f64| r.max(mb(b))));
        }
    }
    ctx.detail(
        format!("baseline.{}_redis_cpu_us_per_job", mode.arg()),
        serde_json::json!(median(&cpu)),
    );
    ctx.detail(
        format!("baseline.{}_worker_cpu_us_per_job", mode.arg()),
        serde_json::json!(median(&wcpu)),
    );
    let m = median(&rates).context("no run")?;
    Ok((m, rss, rates))
}

pub async fn apalis(ctx: &Ctx, out: &mut Measures) {
    let cap = ctx.args.baseline_max_backlog.max(50);
    let warm = (cap / 10).max(20);
    let n = ctx.sizes.jobs.min(cap.saturating_sub(warm)).max(20);

    // First the same backlog our queue drained, once: apalis-redis promotes every due job in
    // one Lua `unpack`, which fails beyond ~8,000.
    let full = ctx.sizes.jobs + ctx.sizes.warmup_jobs;
    if full > cap {
        let r = apalis_once(ctx, Mode::Noop, 99, ctx.sizes.jobs, ctx.sizes.warmup_jobs).await;
        let v = match r {
            Ok(d) => Val::Num(d.rate),
            Err(e) => Val::Failed(format!("failed: {}", one_line(&e))),
        };
        ctx.note(format!(
            "apalis-redis no-op drain at our backlog ({full} jobs): {}",
            match &v {
                Val::Num(x) => format!("{x:.0} jobs/s"),
                Val::Failed(s) => s.clone(),
            }
        ));
        ctx.detail(
            "baseline.noop_jobs_per_s.full_backlog",
            match &v {
                Val::Num(x) => serde_json::json!(x),
                Val::Failed(s) => serde_json::json!(s),
            },
        );
    }

    ctx.progress(&format!(
        "apalis-redis: no-op drain of {n} jobs ({} in flight)",
        ctx.args.concurrency
    ));
    match apalis_series(ctx, Mode::Noop, n, warm, ctx.sizes.reps).await {
        Ok((rate, rss, runs)) => {
            out.insert("noop_jobs_per_s", Val::Num(rate));
            out.insert(
                "worker_peak_rss_mb",
                rss.map_or(Val::Failed("no /proc data".into()), Val::Num),
            );
            ctx.detail("baseline.noop_jobs_per_s.runs", serde_json::json!(runs));
            ctx.detail("baseline.noop_backlog", serde_json::json!(warm + n));
            if full > cap {
                ctx.note(format!(
                    "apalis-redis throughput measured at a backlog of {} jobs (it cannot drain more than ~8,000 due jobs)",
                    warm + n
                ));
            }
        }
        Err(e) => {
            let v = Val::Failed(format!("failed: {}", one_line(&e)));
            out.insert("noop_jobs_per_s", v.clone());
            out.insert("worker_peak_rss_mb", v);
        }
    }

    let hn = ctx.sizes.http_jobs.min(cap.saturating_sub(warm)).max(20);
    ctx.progress(&format!(
        "apalis-redis: HTTP-stub drain of {hn} jobs ({} in flight)",
        ctx.args.http_concurrency
    ));
    match apalis_series(ctx, Mode::Http, hn, warm, ctx.sizes.reps).await {
        Ok((rate, _, runs)) => {
            out.insert("http_jobs_per_s", Val::Num(rate));
            ctx.detail("baseline.http_jobs_per_s.runs", serde_json::json!(runs));
        }
        Err(e) => {
            out.insert(
                "http_jobs_per_s",
                Val::Failed(format!("failed: {}", one_line(&e))),
            );
        }
    }
}
