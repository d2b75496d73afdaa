//! kill -9 recovery: a worker process (A) holds 16 leased, running jobs (each sleeps for 10
//! minutes); an idle worker in this process (B) runs on the same queue. A is killed with
//! SIGKILL; the result is the time from the kill until B has started every job A held.
//!
//! Ours: A is `hubsync queue-probe --lease-ms <--lease-ms>`; recovery is about lease expiry
//! (the last renewal was at most a third of a lease before the kill) plus one reaper period.
//! apalis-redis: A is `hubsync bench apalis-probe`; its jobs come back when another worker's
//! heartbeat (30 s) finds A's last beat older than 300 s (`orphaned_duration`).

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use apalis::prelude::TaskSink;
use apalis_redis::{Config, RedisStorage};
use hubsync_queue::{NewJob, QueueConfig, RedisQueue};
use tokio::sync::mpsc;

use super::{
    Ctx, Measures, Val,
    pickup::{Recorder, apalis_worker, our_worker},
    wait_until,
};
use crate::commands::{
    bench::support::{Worker, median},
    queue_probe::ProbeJob,
};

const SLEEP_MS: &str = "600000";

/// Collects starts until every job in `held` has started or `within` passes; returns the
/// time from `t0` to the last of them.
async fn all_started(
    rx: &mut mpsc::UnboundedReceiver<(u64, Instant)>,
    held: u64,
    t0: Instant,
    within: Duration,
) -> anyhow::Result<Duration> {
    let mut seen: HashMap<u64, Instant> = HashMap::new();
    let deadline = tokio::time::Instant::now() + within;
    while (seen.len() as u64) < held {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some((n, t))) if n < held => {
                seen.entry(n).or_insert(t);
            }
            Ok(Some(_)) => {}
            Ok(None) => bail!("the surviving worker stopped"),
            Err(_) => bail!(
                "not recovered within {within:?} ({} of {held} jobs restarted)",
                seen.len()
            ),
        }
    }
    let last = seen.values().max().copied().unwrap_or(t0);
    Ok(last.saturating_duration_since(t0))
}

async fn ours_once(ctx: &Ctx, rep: usize) -> anyhow::Result<f64> {
    let queue = format!("kill-{rep}");
    let held = ctx.sizes.held_jobs;
    let lease = ctx.args.lease_ms.to_string();
    let args: Vec<String> = [
        "queue-probe",
        "--redis-url",
        &ctx.url,
        "--prefix",
        &ctx.prefix,
        "--queue",
        &queue,
        "--concurrency",
        &held.to_string(),
        "--mode",
        "sleep",
        "--sleep-ms",
        SLEEP_MS,
        "--lease-ms",
        &lease,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let victim = Worker::spawn(&args, Duration::from_secs(20)).await?;
    let producer = ctx.our_client(&queue)?;
    producer
        .enqueue_many(
            (0..held)
                .map(|n| NewJob::new("t0", ProbeJob::new(n)))
                .collect(),
        )
        .await?;
    let active = ctx.our_key(&queue, "active");
    let conn = ctx.conn.clone();
    let all_held = wait_until(Duration::from_secs(10), Duration::from_millis(5), || {
        let (mut conn, active) = (conn.clone(), active.clone());
        async move {
            let n: u64 = redis::cmd("ZCARD")
                .arg(&active)
                .query_async(&mut conn)
                .await
                .unwrap_or(0);
            n >= held
        }
    })
    .await;
    if !all_held {
        let tail = victim.output_tail();
        victim.kill9().await;
        bail!("the victim did not lease all {held} jobs: {tail}");
    }
    // The survivor: same queue, same lease, reaper on (it reclaims the expired leases).
    let cfg = QueueConfig {
        lease: Duration::from_millis(ctx.args.lease_ms),
        ..ctx.our_config(&queue)
    };
    let survivor_queue = RedisQueue::<ProbeJob>::new(ctx.client.clone(), cfg)?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let survivor = our_worker(
        survivor_queue,
        "bench-survivor",
        held as usize * 2,
        Recorder(tx),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let t0 = Instant::now();
    victim.kill9().await;
    let res = all_started(&mut rx, held, t0, Duration::from_secs(30)).await;
    survivor.stop().await;
    Ok(res?.as_secs_f64())
}

pub async fn ours(ctx: &Ctx, out: &mut Measures) -> anyhow::Result<()> {
    let mut runs = Vec::new();
    for rep in 0..ctx.sizes.kill_reps {
        let r = ours_once(ctx, rep).await;
        ctx.drop_our_queue(&format!("kill-{rep}")).await;
        runs.push(r.context("kill -9 recovery")?);
    }
    ctx.detail("ours.kill9_recovery_s.runs", serde_json::json!(runs));
    ctx.detail("ours.lease_ms", serde_json::json!(ctx.args.lease_ms));
    out.insert(
        "kill9_recovery_s",
        median(&runs).map_or(Val::Failed("no run".into()), Val::Num),
    );
    Ok(())
}

async fn apalis_inner(ctx: &Ctx, name: &str) -> anyhow::Result<f64> {
    let held = ctx.sizes.held_jobs;
    let victim_name = format!("{name}-victim");
    let args: Vec<String> = [
        "bench",
        "apalis-probe",
        "--redis-url",
        &ctx.url,
        "--queue",
        name,
        "--name",
        &victim_name,
        "--concurrency",
        &held.to_string(),
        "--mode",
        "sleep",
        "--sleep-ms",
        SLEEP_MS,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let conn = apalis_redis::connect(ctx.url.as_str()).await?;
    let mut storage =
        RedisStorage::<ProbeJob>::new(conn).with_config(Config::default().queue(name));
    // Pushed before the victim starts: its first fetch takes them (an idle apalis-redis
    // worker would only look again at its next heartbeat).
    storage
        .push_bulk((0..held).map(ProbeJob::new).collect())
        .await
        .map_err(|e| anyhow::anyhow!("push_bulk: {e}"))?;
    let victim = Worker::spawn(&args, Duration::from_secs(20)).await?;
    let inflight = format!("{name}:inflight:{victim_name}");
    let c = ctx.conn.clone();
    let all_held = wait_until(Duration::from_secs(20), Duration::from_millis(10), || {
        let (mut conn, inflight) = (c.clone(), inflight.clone());
        async move {
            let n: u64 = redis::cmd("SCARD")
                .arg(&inflight)
                .query_async(&mut conn)
                .await
                .unwrap_or(0);
            n >= held
        }
    })
    .await;
    if !all_held {
        let tail = victim.output_tail();
        victim.kill9().await;
        bail!("the victim did not take all {held} jobs: {tail}");
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let survivor = apalis_worker(
        storage.clone(),
        &format!("{name}-survivor"),
        held as usize * 2,
        Recorder(tx),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let t0 = Instant::now();
    victim.kill9().await;
    let within = Duration::from_secs(ctx.args.baseline_recovery_timeout_secs);
    let res = all_started(&mut rx, held, t0, within).await;
    survivor.stop().await;
    Ok(res?.as_secs_f64())
}

pub async fn apalis(ctx: &Ctx) -> Measures {
    let name = ctx.apalis_queue("kill");
    let res = apalis_inner(ctx, &name).await;
    ctx.drop_apalis_queue(&name).await;
    let mut out = Measures::new();
    out.insert("kill9_recovery_s", Val::from_result(res));
    out
}
