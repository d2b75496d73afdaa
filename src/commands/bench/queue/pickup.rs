//! Idle pickup latency: an idle worker in this process; one job is pushed at a time and the
//! time from just before the push call to the handler's first line is recorded.
//!
//! Our queue: a few warm-up samples, then `--pickup-samples`, each after a random 5–15 ms
//! pause (the worker is back in its blocking wait by then). apalis-redis sees new jobs only
//! at its 30 s heartbeat, so each of its samples is pushed after a random pause within one
//! heartbeat period and may take up to 30 s.

use std::{
    future::Future,
    pin::Pin,
    time::{Duration, Instant},
};

use apalis::{
    layers::WorkerBuilderExt,
    prelude::{BoxDynError, Data, TaskSink, WorkerBuilder},
};
use apalis_redis::{Config, RedisStorage};
use hubsync_queue::{NewJob, RedisQueue};
use rand::Rng;
use tokio::sync::{mpsc, oneshot};
use tracing::instrument::WithSubscriber;

use super::{Ctx, Measures, Val};
use crate::commands::{
    bench::support::{median, percentile},
    queue_probe::ProbeJob,
};

/// Reports `(job.n, handler start)` of every job it runs.
#[derive(Clone)]
pub struct Recorder(pub mpsc::UnboundedSender<(u64, Instant)>);

impl Recorder {
    fn record(&self, n: u64) {
        let _ = self.0.send((n, Instant::now()));
    }
}

pub async fn record_start(job: ProbeJob, rec: Data<Recorder>) -> Result<(), BoxDynError> {
    rec.record(job.n);
    Ok(())
}

/// A worker running in a task until `stop` is sent.
pub struct InProcess {
    stop: Option<oneshot::Sender<()>>,
    join: tokio::task::JoinHandle<()>,
}

impl InProcess {
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if tokio::time::timeout(Duration::from_secs(10), &mut self.join)
            .await
            .is_err()
        {
            self.join.abort();
        }
    }
}

/// The shutdown signal handed to a worker's `run_until`: completes once `stop` is sent.
type StopSignal = Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>>;

/// Spawns `run(signal)` in a task; the returned handle's `stop` completes `signal`.
/// `what` names the worker in the message printed if it stops with an error.
fn spawn_until_stopped<Fut, E>(what: &'static str, run: impl FnOnce(StopSignal) -> Fut) -> InProcess
where
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: std::fmt::Display,
{
    let (tx, rx) = oneshot::channel::<()>();
    let signal: StopSignal = Box::pin(async move {
        let _ = rx.await;
        Ok(())
    });
    let run = run(signal);
    let join = tokio::spawn(
        async move {
            if let Err(e) = run.await {
                eprintln!("[bench] {what} stopped: {e}");
            }
        }
        .with_current_subscriber(),
    );
    InProcess {
        stop: Some(tx),
        join,
    }
}

/// An in-process worker of our queue running [`record_start`].
pub fn our_worker(
    queue: RedisQueue<ProbeJob>,
    name: &str,
    concurrency: usize,
    rec: Recorder,
) -> InProcess {
    let worker = WorkerBuilder::new(name)
        .backend(queue)
        .concurrency(concurrency)
        .data(rec)
        .build(record_start);
    spawn_until_stopped("in-process worker", move |signal| worker.run_until(signal))
}

/// An in-process apalis-redis worker (default config) running [`record_start`].
pub fn apalis_worker(
    storage: RedisStorage<ProbeJob>,
    name: &str,
    concurrency: usize,
    rec: Recorder,
) -> InProcess {
    let worker = WorkerBuilder::new(name)
        .backend(storage)
        .concurrency(concurrency)
        .data(rec)
        .build(record_start);
    spawn_until_stopped("in-process apalis worker", move |signal| {
        worker.run_until(signal)
    })
}

/// Waits for the start of job `n` (skipping others), at most `within`.
async fn started(
    rx: &mut mpsc::UnboundedReceiver<(u64, Instant)>,
    n: u64,
    within: Duration,
) -> anyhow::Result<Instant> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some((m, t))) if m == n => return Ok(t),
            Ok(Some(_)) => continue,
            Ok(None) => anyhow::bail!("worker stopped"),
            Err(_) => anyhow::bail!("job not started within {within:?}"),
        }
    }
}

fn summarize(ctx: &Ctx, who: &str, lat_ms: &[f64], out: &mut Measures) {
    ctx.detail(
        format!("{who}.pickup.samples"),
        serde_json::json!(lat_ms.len()),
    );
    ctx.detail(
        format!("{who}.pickup_max_ms"),
        serde_json::json!(lat_ms.iter().copied().reduce(f64::max)),
    );
    let v = |x: Option<f64>| x.map_or(Val::Failed("no sample".into()), Val::Num);
    out.insert("pickup_p50_ms", v(median(lat_ms)));
    out.insert("pickup_p99_ms", v(percentile(lat_ms, 99.0)));
}

pub async fn ours(ctx: &Ctx, out: &mut Measures) -> anyhow::Result<()> {
    let queue = RedisQueue::<ProbeJob>::new(ctx.client.clone(), ctx.our_config("pickup"))?;
    let producer = queue.client();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let worker = our_worker(queue, "bench-pickup", 4, Recorder(tx));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let total = ctx.sizes.pickup_warmup + ctx.sizes.pickup_samples;
    let mut lat = Vec::with_capacity(total);
    let mut failure = None;
    for i in 0..total as u64 {
        let pause = rand::rng().random_range(5..=15);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        let t0 = Instant::now();
        if let Err(e) = producer.enqueue(NewJob::new("t0", ProbeJob::new(i))).await {
            failure = Some(anyhow::Error::from(e));
            break;
        }
        match started(&mut rx, i, Duration::from_secs(10)).await {
            Ok(t1) => {
                if i as usize >= ctx.sizes.pickup_warmup {
                    lat.push(t1.saturating_duration_since(t0).as_secs_f64() * 1000.0);
                }
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    worker.stop().await;
    ctx.drop_our_queue("pickup").await;
    if let Some(e) = failure {
        return Err(e.context("pickup latency"));
    }
    summarize(ctx, "ours", &lat, out);
    Ok(())
}

async fn apalis_inner(ctx: &Ctx, name: &str) -> anyhow::Result<Vec<f64>> {
    let conn = apalis_redis::connect(ctx.url.as_str()).await?;
    let storage = RedisStorage::<ProbeJob>::new(conn).with_config(Config::default().queue(name));
    let mut producer = storage.clone();
    let heartbeat = storage.get_config().heartbeat_interval;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let worker = apalis_worker(storage, &format!("{name}-w"), 4, Recorder(tx));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut lat = Vec::new();
    let mut failure = None;
    for i in 0..ctx.args.baseline_pickup_samples as u64 {
        let pause = rand::rng().random_range(0..heartbeat.as_millis().max(1) as u64);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        let t0 = Instant::now();
        if let Err(e) = producer.push(ProbeJob::new(i)).await {
            failure = Some(anyhow::anyhow!("push: {e}"));
            break;
        }
        match started(&mut rx, i, heartbeat * 2 + Duration::from_secs(5)).await {
            Ok(t1) => lat.push(t1.saturating_duration_since(t0).as_secs_f64() * 1000.0),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    worker.stop().await;
    match failure {
        Some(e) if lat.is_empty() => Err(e),
        _ => Ok(lat),
    }
}

pub async fn apalis(ctx: &Ctx) -> Measures {
    let mut out = Measures::new();
    let name = ctx.apalis_queue("pickup");
    let res = apalis_inner(ctx, &name).await;
    ctx.drop_apalis_queue(&name).await;
    match res {
        Ok(lat) => summarize(ctx, "baseline", &lat, &mut out),
        Err(e) => {
            let v = Val::from_result(Err(e));
            out.insert("pickup_p50_ms", v.clone());
            out.insert("pickup_p99_ms", v);
        }
    }
    out
}
