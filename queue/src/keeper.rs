//! The keeper: one task per backend (worker), independent of apalis's poll loop, so it keeps
//! running while the worker drains at shutdown. It renews the leases the worker holds every
//! `lease / 3` and settles finished jobs in batches (`ack_jobs`, `retry_or_bury`). Redis
//! errors are logged and retried with a capped backoff, never propagated.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use tokio::sync::{mpsc, oneshot};

use crate::{
    client::Shared,
    ops::{
        self,
        retry_or_bury::{FailMode, Failure, Settled},
    },
};

/// Settle requests per script call.
const SETTLE_BATCH: usize = 256;
/// Leases renewed per script call.
const RENEW_CHUNK: usize = 500;

/// How a finished job is settled.
#[derive(Debug, Clone)]
pub(crate) enum SettleKind {
    Ack,
    Fail {
        mode: FailMode,
        delay_ms: u64,
        error: String,
    },
}

/// The final outcome of a job run, as recorded in Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettleOutcome {
    /// Acknowledged: completed.
    Completed,
    /// Failed; retried after backoff.
    Retried,
    /// Deferred ("retry at") without using an attempt.
    Deferred,
    /// Dead letter.
    Dead,
    /// The lease had been lost (expired and reclaimed); nothing was changed.
    Stale,
}

pub(crate) struct SettleReq {
    pub id: String,
    pub token: String,
    pub run_ms: u64,
    pub kind: SettleKind,
    pub reply: Option<oneshot::Sender<SettleOutcome>>,
}

/// id -> fencing token of every job this worker holds (buffered or running).
#[derive(Default)]
pub(crate) struct Registry {
    map: Mutex<HashMap<String, String>>,
    /// Set when the backend closes: the keeper renews nothing more (nor writes the beat).
    closed: AtomicBool,
}

impl Registry {
    /// The worker has closed: stop renewing.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    pub fn insert(&self, id: &str, token: &str) {
        if let Ok(mut m) = self.map.lock() {
            m.insert(id.to_owned(), token.to_owned());
        }
    }

    pub fn remove(&self, id: &str) {
        if let Ok(mut m) = self.map.lock() {
            m.remove(id);
        }
    }

    fn snapshot(&self) -> Vec<(String, String)> {
        self.map
            .lock()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }

    fn remove_if(&self, id: &str, token: &str) {
        if let Ok(mut m) = self.map.lock()
            && m.get(id).is_some_and(|t| t == token)
        {
            m.remove(id);
        }
    }
}

/// Capped exponential pause for retry loops (50 ms doubling to 2 s).
pub(crate) struct Pause {
    next: Duration,
}

impl Pause {
    pub const MIN: Duration = Duration::from_millis(50);
    pub const MAX: Duration = Duration::from_secs(2);

    pub fn new() -> Self {
        Self { next: Self::MIN }
    }

    /// The delay to wait now; doubles the next one.
    pub fn bump(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        d
    }

    pub fn reset(&mut self) {
        self.next = Self::MIN;
    }
}

pub(crate) async fn run(
    shared: Arc<Shared>,
    worker_id: String,
    registry: Arc<Registry>,
    mut rx: mpsc::UnboundedReceiver<SettleReq>,
) {
    let every = (shared.cfg.lease / 3).max(Duration::from_millis(30));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            req = rx.recv() => match req {
                None => break,
                Some(first) => {
                    let mut batch = vec![first];
                    while batch.len() < SETTLE_BATCH {
                        match rx.try_recv() {
                            Ok(r) => batch.push(r),
                            Err(_) => break,
                        }
                    }
                    settle(&shared, &registry, batch).await;
                }
            },
            _ = tick.tick() => renew(&shared, &worker_id, &registry).await,
        }
    }
    // Best effort: the worker is gone.
    let mut conn = shared.conn.clone();
    let _: Result<(), _> = redis::cmd("ZREM")
        .arg(&shared.keys.workers)
        .arg(&worker_id)
        .query_async(&mut conn)
        .await;
    tracing::debug!(worker = %worker_id, "keeper stopped");
}

async fn renew(shared: &Shared, worker_id: &str, registry: &Registry) {
    if registry.is_closed() {
        return;
    }
    let held = registry.snapshot();
    let mut conn = shared.conn.clone();
    let lease_ms = ops::ms(shared.cfg.lease);
    let chunks: Vec<&[(String, String)]> = if held.is_empty() {
        vec![&[]]
    } else {
        held.chunks(RENEW_CHUNK).collect()
    };
    for chunk in chunks {
        match ops::renew_leases::run(&mut conn, &shared.keys, worker_id, lease_ms, chunk).await {
            Ok(lost) => {
                for id in lost {
                    if let Some((_, token)) = chunk.iter().find(|(i, _)| *i == id) {
                        tracing::warn!(job.id = %id, worker = %worker_id, "lease lost (expired and reclaimed); the job may run twice");
                        registry.remove_if(&id, token);
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, worker = %worker_id, "lease renewal failed; retrying at the next tick");
                return;
            }
        }
    }
}

async fn settle(shared: &Shared, registry: &Registry, batch: Vec<SettleReq>) {
    let (acks, fails): (Vec<SettleReq>, Vec<SettleReq>) = batch
        .into_iter()
        .partition(|r| matches!(r.kind, SettleKind::Ack));
    let mut conn = shared.conn.clone();
    let cfg = &shared.cfg;

    if !acks.is_empty() {
        let args: Vec<(String, String, u64)> = acks
            .iter()
            .map(|r| (r.id.clone(), r.token.clone(), r.run_ms))
            .collect();
        let retention = ops::ms(cfg.completed_retention);
        let mut pause = Pause::new();
        let stale = loop {
            match ops::ack_jobs::run(
                &mut conn,
                &shared.keys,
                retention,
                cfg.keep_completed_payload,
                &args,
            )
            .await
            {
                Ok(stale) => break stale,
                Err(e) => {
                    tracing::warn!(error = %e, jobs = args.len(), "ack failed; retrying");
                    tokio::time::sleep(pause.bump()).await;
                }
            }
        };
        for r in acks {
            let outcome = if stale.contains(&r.id) {
                tracing::warn!(job.id = %r.id, "ack of a lost lease ignored (stale token)");
                SettleOutcome::Stale
            } else {
                SettleOutcome::Completed
            };
            registry.remove_if(&r.id, &r.token);
            if let Some(tx) = r.reply {
                let _ = tx.send(outcome);
            }
        }
    }

    if !fails.is_empty() {
        let args: Vec<Failure> = fails
            .iter()
            .filter_map(|r| match &r.kind {
                SettleKind::Fail {
                    mode,
                    delay_ms,
                    error,
                } => Some(Failure {
                    id: r.id.clone(),
                    token: r.token.clone(),
                    mode: *mode,
                    delay_ms: *delay_ms,
                    error: error.clone(),
                    run_ms: r.run_ms,
                }),
                SettleKind::Ack => None,
            })
            .collect();
        let mut pause = Pause::new();
        let settled = loop {
            match ops::retry_or_bury::run(&mut conn, &shared.keys, cfg.max_deferrals, &args).await {
                Ok(s) => break s,
                Err(e) => {
                    tracing::warn!(error = %e, jobs = args.len(), "retry_or_bury failed; retrying");
                    tokio::time::sleep(pause.bump()).await;
                }
            }
        };
        for (r, s) in fails.into_iter().zip(settled) {
            let outcome = match s {
                Settled::Stale => SettleOutcome::Stale,
                Settled::Retried => SettleOutcome::Retried,
                Settled::Deferred => SettleOutcome::Deferred,
                Settled::Dead => SettleOutcome::Dead,
            };
            registry.remove_if(&r.id, &r.token);
            if let Some(tx) = r.reply {
                let _ = tx.send(outcome);
            }
        }
    }
}
