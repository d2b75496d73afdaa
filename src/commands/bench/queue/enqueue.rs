//! Enqueue rate: single pushes (one pusher, then 16 concurrent pushers on one connection)
//! and batched pushes (500 jobs per call: our `enqueue_many`, apalis-redis `push_bulk`).
//! Each run lasts `--seconds`; the median of `--reps` runs is reported. Nothing consumes the
//! jobs; the queue's keys are deleted after each run.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use apalis::prelude::TaskSink;
use apalis_redis::{Config, RedisStorage};
use hubsync_queue::{NewJob, QueueClient};
use tracing::instrument::WithSubscriber;

use super::{Ctx, Measures, Val};
use crate::commands::{bench::support::median, queue_probe::ProbeJob};

/// Pushers in the concurrent single-push run.
pub const PUSHERS: usize = 16;
/// Jobs per batched call.
pub const BATCH: usize = 500;
/// Tenants our jobs are spread over.
const TENANTS: u64 = 4;

fn our_job(n: u64) -> NewJob<ProbeJob> {
    NewJob::new(format!("t{}", n % TENANTS), ProbeJob::new(n))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sequential,
    Concurrent,
    Batched,
}

impl Kind {
    const ALL: [(Kind, &'static str); 3] = [
        (Kind::Sequential, "enqueue_single_seq_per_s"),
        (Kind::Concurrent, "enqueue_single_concurrent_per_s"),
        (Kind::Batched, "enqueue_batch_per_s"),
    ];
}

/// Runs `pushers` loops of `step` until `dur` has passed; returns jobs/s.
async fn timed<F, Fut>(dur: Duration, pushers: usize, step: F) -> anyhow::Result<f64>
where
    F: Fn(usize, u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<u64>> + Send,
{
    let count = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + dur;
    let mut tasks = Vec::new();
    for p in 0..pushers {
        let (count, step) = (count.clone(), step.clone());
        tasks.push(tokio::spawn(
            async move {
                let mut i = 0u64;
                while Instant::now() < deadline {
                    let n = step(p, i).await?;
                    count.fetch_add(n, Ordering::Relaxed);
                    i += 1;
                }
                anyhow::Ok(())
            }
            .with_current_subscriber(),
        ));
    }
    for t in tasks {
        t.await??;
    }
    Ok(count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64())
}

async fn ours_once(
    client: &QueueClient<ProbeJob>,
    kind: Kind,
    dur: Duration,
) -> anyhow::Result<f64> {
    match kind {
        Kind::Sequential | Kind::Concurrent => {
            let pushers = if kind == Kind::Sequential { 1 } else { PUSHERS };
            let client = client.clone();
            timed(dur, pushers, move |p, i| {
                let client = client.clone();
                async move {
                    client
                        .enqueue(our_job(i * PUSHERS as u64 + p as u64))
                        .await?;
                    Ok(1)
                }
            })
            .await
        }
        Kind::Batched => {
            let client = client.clone();
            timed(dur, 1, move |_, i| {
                let client = client.clone();
                async move {
                    let base = i * BATCH as u64;
                    let jobs = (base..base + BATCH as u64).map(our_job).collect();
                    client.enqueue_many(jobs).await?;
                    Ok(BATCH as u64)
                }
            })
            .await
        }
    }
}

pub async fn ours(ctx: &Ctx, out: &mut Measures) -> anyhow::Result<()> {
    let dur = Duration::from_secs_f64(ctx.sizes.seconds);
    for (kind, key) in Kind::ALL {
        let queue = "enqueue";
        let client = ctx.our_client(queue)?;
        // Warm-up: connection, script load.
        for n in 0..100 {
            client.enqueue(our_job(n)).await?;
        }
        client
            .enqueue_many((0..BATCH as u64).map(our_job).collect())
            .await?;
        ctx.drop_our_queue(queue).await;
        let mut runs = Vec::new();
        for _ in 0..ctx.sizes.reps {
            let client = ctx.our_client(queue)?;
            runs.push(ours_once(&client, kind, dur).await?);
            ctx.drop_our_queue(queue).await;
        }
        ctx.detail(format!("ours.{key}.runs"), serde_json::json!(runs));
        out.insert(
            key,
            median(&runs).map_or(Val::Failed("no run".into()), Val::Num),
        );
    }
    Ok(())
}

async fn apalis_once(
    storage: &RedisStorage<ProbeJob>,
    kind: Kind,
    dur: Duration,
) -> anyhow::Result<f64> {
    match kind {
        Kind::Sequential | Kind::Concurrent => {
            let pushers = if kind == Kind::Sequential { 1 } else { PUSHERS };
            // One storage clone per pusher (push takes `&mut self`), all on one connection.
            let storages: Vec<_> = (0..pushers)
                .map(|_| Arc::new(tokio::sync::Mutex::new(storage.clone())))
                .collect();
            timed(dur, pushers, move |p, i| {
                let s = storages[p].clone();
                async move {
                    s.lock()
                        .await
                        .push(ProbeJob::new(i * PUSHERS as u64 + p as u64))
                        .await
                        .map_err(|e| anyhow::anyhow!("push: {e}"))?;
                    Ok(1)
                }
            })
            .await
        }
        Kind::Batched => {
            let s = Arc::new(tokio::sync::Mutex::new(storage.clone()));
            timed(dur, 1, move |_, i| {
                let s = s.clone();
                async move {
                    let base = i * BATCH as u64;
                    let jobs = (base..base + BATCH as u64).map(ProbeJob::new).collect();
                    s.lock()
                        .await
                        .push_bulk(jobs)
                        .await
                        .map_err(|e| anyhow::anyhow!("push_bulk: {e}"))?;
                    Ok(BATCH as u64)
                }
            })
            .await
        }
    }
}

async fn apalis_kind(ctx: &Ctx, kind: Kind, key: &'static str) -> anyhow::Result<f64> {
    let dur = Duration::from_secs_f64(ctx.sizes.seconds);
    let name = ctx.apalis_queue("enqueue");
    let conn = apalis_redis::connect(ctx.url.as_str()).await?;
    let mut storage =
        RedisStorage::<ProbeJob>::new(conn).with_config(Config::default().queue(&name));
    for n in 0..100 {
        storage
            .push(ProbeJob::new(n))
            .await
            .map_err(|e| anyhow::anyhow!("push: {e}"))?;
    }
    storage
        .push_bulk((0..BATCH as u64).map(ProbeJob::new).collect())
        .await
        .map_err(|e| anyhow::anyhow!("push_bulk: {e}"))?;
    ctx.drop_apalis_queue(&name).await;
    let mut runs = Vec::new();
    for _ in 0..ctx.sizes.reps {
        let r = apalis_once(&storage, kind, dur).await;
        ctx.drop_apalis_queue(&name).await;
        runs.push(r?);
    }
    ctx.detail(format!("baseline.{key}.runs"), serde_json::json!(runs));
    median(&runs).ok_or_else(|| anyhow::anyhow!("no run"))
}

pub async fn apalis(ctx: &Ctx, out: &mut Measures) {
    for (kind, key) in Kind::ALL {
        out.insert(key, Val::from_result(apalis_kind(ctx, kind, key).await));
    }
}
