//! [`RedisQueue`]: the apalis backend (`Backend` + `BackendConfig`, `Kind = Ephemeral`).
//!
//! Fetching is a small state machine driven by `poll_next`: `lease_next` (up to `prefetch`
//! jobs, tenants round robin) → if nothing came back, `BZPOPMIN <marker>` on a dedicated
//! connection for at most `idle_block` (or until the next delayed job is due) → `lease_next`
//! again. Enqueue adds the marker, so an idle worker wakes within a round trip. Under a
//! backlog (the last lease came back full) the next `lease_next` is sent once fewer than half
//! of `prefetch` jobs remain buffered, so the worker never waits on a lease round trip.
//! Redis errors are logged and retried after a capped backoff; `poll_next` never yields `Err`
//! or `None`, which would end the apalis worker.

use std::{
    collections::{HashMap, VecDeque},
    future::Future,
    marker::PhantomData,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, ready},
    time::Duration,
};

use apalis_core::{
    backend::{Backend, BackendConfig, queue::Queue},
    task::{Task, builder::TaskBuilder, metadata::MetadataStore, task_id::TaskId},
    worker::context::WorkerContext,
};
use futures::future::BoxFuture;
use redis::{AsyncConnectionConfig, aio::MultiplexedConnection};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::{
    JobId, JobInfo, QueueAdmin, QueueClient, QueueConfig, QueueError, Result,
    client::Shared,
    keeper::{self, Pause, Registry, SettleKind, SettleReq},
    layer::{LeaseLayer, truncate},
    metrics::Metrics,
    ops::{
        self,
        lease_next::{LeaseBatch, LeasedJob, NextDue},
        retry_or_bury::FailMode,
    },
    reaper,
};

/// How long shutdown waits for a lease call that was in flight.
const CLOSE_LEASE_WAIT: Duration = Duration::from_secs(2);

/// The apalis backend of one queue, for one worker. `Clone` gives an independent backend
/// (new worker id, empty buffer) sharing the connection: use one per `WorkerBuilder`.
///
/// ```ignore
/// let queue = RedisQueue::<SyncJob>::new(redis::Client::open(url)?, QueueConfig::new("hubsync", "realtime"))?;
/// let worker = WorkerBuilder::new("realtime-0")
///     .backend(queue.clone())
///     .concurrency(16)          // always bound concurrency (see docs/queue-design.md §4)
///     .build(handle_sync);      // async fn handle_sync(job: SyncJob, info: Data<JobInfo>) -> Result<(), JobError>
/// ```
pub struct RedisQueue<T> {
    shared: Arc<Shared>,
    worker_id: String,
    metrics: Arc<Metrics>,
    registry: Arc<Registry>,
    tx: Option<mpsc::UnboundedSender<SettleReq>>,
    rx: Option<mpsc::UnboundedReceiver<SettleReq>>,
    fetch: Fetch,
    buffer: VecDeque<LeasedJob>,
    /// The last lease came back full (a backlog is likely): lease the next batch before the
    /// buffer runs dry, so the worker never idles on a lease round trip.
    ahead: bool,
    waiter: Option<MultiplexedConnection>,
    pause: Pause,
    close: Close,
    _t: PhantomData<fn() -> T>,
}

enum Fetch {
    Idle,
    Leasing(BoxFuture<'static, Result<LeaseBatch>>),
    Waiting(BoxFuture<'static, (Option<MultiplexedConnection>, Result<()>)>),
    Backoff(Pin<Box<tokio::time::Sleep>>),
}

enum Close {
    Open,
    /// A lease call was in flight at shutdown: wait for it (bounded) so its jobs can be
    /// released instead of left to expire.
    Finishing(Pin<Box<tokio::time::Timeout<BoxFuture<'static, Result<LeaseBatch>>>>>),
    Releasing(BoxFuture<'static, ()>),
    Closed,
}

impl<T> std::fmt::Debug for RedisQueue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisQueue")
            .field("queue", &self.shared.keys.tag())
            .field("worker_id", &self.worker_id)
            .field("buffered", &self.buffer.len())
            .finish()
    }
}

impl<T> Clone for RedisQueue<T> {
    fn clone(&self) -> Self {
        Self::from_shared(self.shared.clone())
    }
}

impl<T> RedisQueue<T> {
    /// A backend for the queue described by `cfg`. Connects lazily (no I/O here), so a worker
    /// can start while Redis is down.
    pub fn new(client: redis::Client, cfg: QueueConfig) -> Result<Self> {
        Ok(Self::from_shared(Shared::new(client, cfg)?))
    }

    /// A backend sharing `client`'s connection and configuration.
    pub fn from_client(client: &QueueClient<T>) -> Self {
        Self::from_shared(client.shared.clone())
    }

    fn from_shared(shared: Arc<Shared>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self {
            metrics: Arc::new(Metrics::new(&shared.cfg.name)),
            worker_id: format!("worker:{}", short_id()),
            shared,
            registry: Arc::new(Registry::default()),
            tx: Some(tx),
            rx: Some(rx),
            fetch: Fetch::Idle,
            buffer: VecDeque::new(),
            ahead: false,
            waiter: None,
            pause: Pause::new(),
            close: Close::Open,
            _t: PhantomData,
        }
    }

    /// The producer handle of this queue.
    pub fn client(&self) -> QueueClient<T> {
        QueueClient::from_shared(self.shared.clone())
    }

    /// The operator handle of this queue.
    pub fn admin(&self) -> QueueAdmin {
        QueueAdmin::from_shared(self.shared.clone())
    }

    /// The queue's configuration.
    pub fn queue_config(&self) -> &QueueConfig {
        &self.shared.cfg
    }

    /// This backend's worker id (`<worker name>:<random>`; fresh per backend, never reused, so
    /// a restarted worker is never refused).
    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    fn start_background(&mut self) {
        if let Some(rx) = self.rx.take() {
            tokio::spawn(keeper::run(
                self.shared.clone(),
                self.worker_id.clone(),
                self.registry.clone(),
                rx,
            ));
        }
        if self.shared.cfg.run_reaper
            && let Ok(mut guard) = self.shared.reaper.lock()
            && guard.is_none()
        {
            *guard = Some(reaper::spawn(&self.shared));
        }
    }

    fn lease_future(&self) -> BoxFuture<'static, Result<LeaseBatch>> {
        let shared = self.shared.clone();
        let worker_id = self.worker_id.clone();
        Box::pin(async move {
            let mut conn = shared.conn.clone();
            let cfg = &shared.cfg;
            ops::lease_next::run(
                &mut conn,
                &shared.keys,
                &worker_id,
                ops::ms(cfg.lease),
                cfg.prefetch,
                cfg.chunk,
            )
            .await
        })
    }

    fn wait_future(
        &mut self,
        block: Duration,
    ) -> BoxFuture<'static, (Option<MultiplexedConnection>, Result<()>)> {
        let client = self.shared.client.clone();
        let marker = self.shared.keys.marker.clone();
        let idle_block = self.shared.cfg.idle_block;
        let existing = self.waiter.take();
        Box::pin(async move {
            let mut conn = match existing {
                Some(c) => c,
                None => {
                    // Dedicated connection: a blocking command must never sit on the shared
                    // multiplexed one, and its response timeout must exceed the block.
                    let cfg = AsyncConnectionConfig::new()
                        .set_response_timeout(Some(idle_block + Duration::from_secs(2)))
                        .set_connection_timeout(Some(Duration::from_secs(2)));
                    match client
                        .get_multiplexed_async_connection_with_config(&cfg)
                        .await
                    {
                        Ok(c) => c,
                        Err(e) => return (None, Err(e.into())),
                    }
                }
            };
            let secs = block.as_secs_f64().max(0.01);
            let res: redis::RedisResult<Option<(String, String, f64)>> = redis::cmd("BZPOPMIN")
                .arg(&marker)
                .arg(secs)
                .query_async(&mut conn)
                .await;
            match res {
                Ok(_) => (Some(conn), Ok(())),
                Err(e) => (None, Err(e.into())),
            }
        })
    }

    fn backoff(&mut self, what: &str, e: &QueueError) {
        let d = self.pause.bump();
        tracing::warn!(queue = %self.shared.cfg.name, worker = %self.worker_id, error = %e, retry_in = ?d, "{what} failed; retrying");
        self.fetch = Fetch::Backoff(Box::pin(tokio::time::sleep(d)));
    }

    fn accept(&mut self, batch: LeaseBatch) {
        self.ahead = batch.jobs.len() >= self.shared.cfg.prefetch;
        for j in &batch.jobs {
            self.registry.insert(&j.id, &j.token);
        }
        self.buffer.extend(batch.jobs);
    }

    /// Lease ahead: while jobs remain buffered, start the next `lease_next` once the buffer
    /// is down to less than half of `prefetch` (after a full lease only), and collect its
    /// result when it is in. The buffer thus holds at most `1.5 × prefetch` jobs.
    fn lease_ahead(&mut self, cx: &mut Context<'_>) {
        if matches!(self.fetch, Fetch::Idle)
            && self.ahead
            && self.buffer.len() < self.shared.cfg.prefetch.div_ceil(2)
        {
            self.fetch = Fetch::Leasing(self.lease_future());
        }
        self.collect_ahead(cx);
    }

    /// Takes in the result of a lease in flight, if it is in. Also called from `poll_ready`:
    /// while every slot is busy apalis does not call `poll_next`, and leased jobs must reach
    /// the registry (whose leases the keeper renews) without waiting for a free slot.
    fn collect_ahead(&mut self, cx: &mut Context<'_>) {
        if let Fetch::Leasing(f) = &mut self.fetch
            && let Poll::Ready(res) = f.as_mut().poll(cx)
        {
            self.on_lease(res);
        }
    }

    /// Next fetch state after a `lease_next` answered.
    fn on_lease(&mut self, res: Result<LeaseBatch>) {
        self.fetch = Fetch::Idle;
        match res {
            Ok(batch) if batch.jobs.is_empty() => {
                self.pause.reset();
                self.ahead = false;
                if !self.buffer.is_empty() {
                    // A lease sent ahead found nothing more; the buffer still has work.
                    return;
                }
                let idle = self.shared.cfg.idle_block;
                let block = match batch.next_due {
                    NextDue::In(d) => d.min(idle),
                    NextDue::Paused | NextDue::Never => idle,
                };
                // A zero block means due jobs remain beyond one promotion chunk: lease again.
                if !block.is_zero() {
                    self.fetch = Fetch::Waiting(self.wait_future(block));
                }
            }
            Ok(batch) => {
                self.pause.reset();
                self.accept(batch);
            }
            Err(e) => self.backoff("lease_next", &e),
        }
    }

    fn releasing(&mut self) -> Close {
        Close::Releasing(self.release_future())
    }

    /// Gives back the buffered (never started) jobs and deregisters the worker from
    /// `P:workers`. apalis closes the backend only once nothing runs any more, so renewals
    /// stop first; deregistering here rather than when the keeper ends means a process that
    /// exits right after its workers leaves no worker entry behind.
    fn release_future(&mut self) -> BoxFuture<'static, ()> {
        let held: Vec<(String, String)> = self.buffer.drain(..).map(|j| (j.id, j.token)).collect();
        let shared = self.shared.clone();
        let registry = self.registry.clone();
        let worker_id = self.worker_id.clone();
        registry.close();
        Box::pin(async move {
            let mut conn = shared.conn.clone();
            if !held.is_empty() {
                let mut pause = Pause::new();
                for _ in 0..5 {
                    match ops::release_jobs::run(&mut conn, &shared.keys, &held).await {
                        Ok(n) => {
                            tracing::info!(queue = %shared.cfg.name, released = n, "released unstarted jobs");
                            break;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "release failed; the leases will expire instead");
                            tokio::time::sleep(pause.bump()).await;
                        }
                    }
                }
                for (id, _) in &held {
                    registry.remove(id);
                }
            }
            let res: redis::RedisResult<()> = redis::cmd("ZREM")
                .arg(&shared.keys.workers)
                .arg(&worker_id)
                .query_async(&mut conn)
                .await;
            if let Err(e) = res {
                tracing::debug!(error = %e, worker = %worker_id, "deregistering the worker failed; the reaper forgets it within an hour");
            }
        })
    }
}

impl<T: DeserializeOwned> RedisQueue<T> {
    /// Decodes a leased job; an undecodable payload is buried (never an error to apalis).
    fn decode(&mut self, job: LeasedJob) -> Option<Task<T>> {
        let args: T = match serde_json::from_str(&job.payload) {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(job.id = %job.id, tenant = %job.tenant, error = %e, "undecodable payload; burying the job");
                let req = SettleReq {
                    id: job.id,
                    token: job.token,
                    run_ms: 0,
                    kind: SettleKind::Fail {
                        mode: FailMode::Abort,
                        delay_ms: 0,
                        error: truncate(format!("undecodable payload: {e}"), 4096),
                    },
                    reply: None,
                };
                if let Some(tx) = &self.tx {
                    let _ = tx.send(req);
                }
                return None;
            }
        };
        let meta: HashMap<String, String> = serde_json::from_str(&job.meta).unwrap_or_default();
        let info = JobInfo {
            id: JobId(job.id.clone()),
            tenant: job.tenant,
            queue: self.shared.cfg.name.clone(),
            attempt: job.attempts,
            max_attempts: job.max_attempts,
            enqueued_ms: job.enq_ms,
            wait: Duration::from_millis(job.wait_ms),
            token: job.token,
        };
        Some(
            TaskBuilder::new(args)
                .task_id(TaskId::from_string(job.id))
                // apalis increments the attempt when the task starts: handlers see `attempts`.
                .attempt(job.attempts.saturating_sub(1) as usize)
                .max_attempts(job.max_attempts as usize)
                .queue(Queue::from(self.shared.cfg.name.as_str()))
                .with_metadata(MetadataStore::from_map(meta))
                .lock_by(Some(self.worker_id.clone()))
                .data(info)
                .build(),
        )
    }
}

impl<T: DeserializeOwned + Send + 'static> Backend for RedisQueue<T> {
    type Task = Task<T>;
    type Error = QueueError;

    fn poll_ready(
        &mut self,
        cx: &mut Context<'_>,
        _worker: &WorkerContext,
    ) -> Poll<Result<(), QueueError>> {
        self.start_background();
        self.collect_ahead(cx);
        Poll::Ready(Ok(()))
    }

    fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
        _worker: &WorkerContext,
    ) -> Poll<Option<Result<Task<T>, QueueError>>> {
        loop {
            if let Some(job) = self.buffer.pop_front() {
                self.lease_ahead(cx);
                if let Some(task) = self.decode(job) {
                    return Poll::Ready(Some(Ok(task)));
                }
                continue;
            }
            match &mut self.fetch {
                Fetch::Idle => self.fetch = Fetch::Leasing(self.lease_future()),
                Fetch::Leasing(f) => {
                    let res = ready!(f.as_mut().poll(cx));
                    self.on_lease(res);
                }
                Fetch::Waiting(f) => {
                    let (conn, res) = ready!(f.as_mut().poll(cx));
                    self.waiter = conn;
                    match res {
                        Ok(()) => {
                            self.pause.reset();
                            self.fetch = Fetch::Idle;
                        }
                        Err(e) => self.backoff("waiting for jobs", &e),
                    }
                }
                Fetch::Backoff(s) => {
                    ready!(s.as_mut().poll(cx));
                    self.fetch = Fetch::Idle;
                }
            }
        }
    }

    fn poll_close(
        &mut self,
        cx: &mut Context<'_>,
        _worker: &WorkerContext,
    ) -> Poll<Result<(), QueueError>> {
        loop {
            match &mut self.close {
                Close::Open => {
                    // Dropping the waiter closes its socket, which unblocks its BZPOPMIN.
                    self.waiter = None;
                    match std::mem::replace(&mut self.fetch, Fetch::Idle) {
                        Fetch::Leasing(f) => {
                            self.close = Close::Finishing(Box::pin(tokio::time::timeout(
                                CLOSE_LEASE_WAIT,
                                f,
                            )));
                        }
                        _ => self.close = self.releasing(),
                    }
                }
                Close::Finishing(f) => {
                    if let Ok(Ok(batch)) = ready!(f.as_mut().poll(cx)) {
                        self.accept(batch);
                    }
                    self.close = self.releasing();
                }
                Close::Releasing(f) => {
                    ready!(f.as_mut().poll(cx));
                    self.close = Close::Closed;
                }
                Close::Closed => {
                    // The keeper stops once the layer's senders are gone too.
                    self.tx = None;
                    return Poll::Ready(Ok(()));
                }
            }
        }
    }
}

impl<T: DeserializeOwned + Send + 'static> BackendConfig for RedisQueue<T> {
    type Args = T;
    type Id = JobId;
    type Kind = apalis_core::backend::finalize::Ephemeral;
    type Config = QueueConfig;
    type Layer = LeaseLayer;

    fn config(&self) -> &QueueConfig {
        &self.shared.cfg
    }

    fn middleware(&mut self, worker: &mut WorkerContext) -> LeaseLayer {
        self.worker_id = format!("{}:{}", worker.name(), short_id());
        let tx = match &self.tx {
            Some(tx) => tx.clone(),
            None => {
                // Closed before: start over with a fresh channel and registry.
                self.registry = Arc::new(Registry::default());
                let (tx, rx) = mpsc::unbounded_channel();
                self.tx = Some(tx.clone());
                self.rx = Some(rx);
                tx
            }
        };
        LeaseLayer::new(tx, self.shared.cfg.backoff, self.metrics.clone())
    }
}

fn short_id() -> String {
    let mut s = uuid::Uuid::new_v4().simple().to_string();
    s.truncate(12);
    s
}
