//! The backend's tower layer ([`LeaseLayer`]): it wraps every task after all user layers
//! have run and settles the job from the handler's result: acknowledge, retry with backoff,
//! defer without using an attempt, or bury. Settling goes through the keeper (batched, fenced
//! by the lease token) and is awaited, so a worker's graceful drain waits for its acks.

use std::{
    panic::AssertUnwindSafe,
    sync::Arc,
    task::{Context, Poll},
    time::{Instant, SystemTime},
};

use apalis_core::{
    error::{AbortError, BoxDynError, RetryAfterError},
    task::Task,
};
use futures::{FutureExt, future::BoxFuture};
use tokio::sync::{mpsc, oneshot};
use tower::{Layer, Service};
use tracing::Instrument;

use crate::{
    BackoffPolicy, JobError, JobInfo,
    error::panic_message,
    keeper::{SettleKind, SettleOutcome, SettleReq},
    metrics::Metrics,
    ops::{self, retry_or_bury::FailMode},
};

/// Longest error text stored on a job.
const MAX_ERROR_BYTES: usize = 4096;

/// Layer returned by [`crate::RedisQueue`]'s `BackendConfig::middleware`.
#[derive(Clone)]
pub struct LeaseLayer {
    tx: mpsc::UnboundedSender<SettleReq>,
    backoff: BackoffPolicy,
    metrics: Arc<Metrics>,
}

impl LeaseLayer {
    pub(crate) fn new(
        tx: mpsc::UnboundedSender<SettleReq>,
        backoff: BackoffPolicy,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            tx,
            backoff,
            metrics,
        }
    }
}

impl std::fmt::Debug for LeaseLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaseLayer").finish_non_exhaustive()
    }
}

impl<S> Layer<S> for LeaseLayer {
    type Service = LeaseService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        LeaseService {
            inner,
            layer: self.clone(),
        }
    }
}

/// Service of [`LeaseLayer`].
#[derive(Clone)]
pub struct LeaseService<S> {
    inner: S,
    layer: LeaseLayer,
}

impl<S> std::fmt::Debug for LeaseService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaseService").finish_non_exhaustive()
    }
}

impl<S, T> Service<Task<T>> for LeaseService<S>
where
    S: Service<Task<T>>,
    S::Future: Send + 'static,
    S::Error: Into<BoxDynError>,
    S::Response: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxDynError;
    type Future = BoxFuture<'static, Result<S::Response, BoxDynError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, task: Task<T>) -> Self::Future {
        let info = task.data().get::<JobInfo>().cloned();
        let fut = self.inner.call(task);
        let Some(info) = info else {
            return Box::pin(async move { fut.await.map_err(Into::into) });
        };
        let layer = self.layer.clone();
        let span = tracing::info_span!(
            "queue.job",
            job.id = %info.id,
            tenant = %info.tenant,
            queue = %info.queue,
            attempt = info.attempt,
        );
        Box::pin(
            async move {
                layer.metrics.record_wait(&info);
                let started = Instant::now();
                let res = match AssertUnwindSafe(fut).catch_unwind().await {
                    Ok(r) => r.map_err(Into::into),
                    Err(p) => {
                        Err(Box::new(JobError::Retry(panic_message(&p).into())) as BoxDynError)
                    }
                };
                let run = started.elapsed();
                layer.metrics.record_run(&info, run, res.is_ok());
                let kind = match &res {
                    Ok(_) => SettleKind::Ack,
                    Err(e) => classify(e, info.attempt, &layer.backoff),
                };
                if let SettleKind::Fail { mode, error, .. } = &kind {
                    tracing::warn!(?mode, error = %error, "job failed");
                }
                let (reply, rx) = oneshot::channel();
                let req = SettleReq {
                    id: info.id.0.clone(),
                    token: info.token.clone(),
                    run_ms: ops::ms(run),
                    kind,
                    reply: Some(reply),
                };
                if layer.tx.send(req).is_err() {
                    tracing::error!(
                        "keeper gone; the job's lease will expire and it will run again"
                    );
                } else {
                    match rx.await {
                        Ok(SettleOutcome::Stale) => {
                            tracing::warn!(
                                "lease was lost before settling; another worker owns the job"
                            )
                        }
                        Ok(outcome) => tracing::debug!(?outcome, "job settled"),
                        Err(_) => tracing::error!("keeper dropped the settle request"),
                    }
                }
                res
            }
            .instrument(span),
        )
    }
}

/// Decides what a handler error means for the job (walking the error's source chain).
pub(crate) fn classify(err: &BoxDynError, attempt: u32, backoff: &BackoffPolicy) -> SettleKind {
    let text = error_text(err);
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err.as_ref());
    while let Some(e) = cur {
        if let Some(je) = e.downcast_ref::<JobError>() {
            return match je {
                JobError::Retry(_) => fail(attempt, backoff, text),
                JobError::RetryAfter { after, .. } => defer(ops::ms(*after), text),
                JobError::RetryAt { at, .. } => defer(
                    ops::ms(at.duration_since(SystemTime::now()).unwrap_or_default()),
                    text,
                ),
                JobError::Permanent(_) => SettleKind::Fail {
                    mode: FailMode::Abort,
                    delay_ms: 0,
                    error: text,
                },
            };
        }
        if let Some(ra) = e.downcast_ref::<RetryAfterError>() {
            return defer(ops::ms(ra.get_duration()), text);
        }
        if e.is::<AbortError>() {
            return SettleKind::Fail {
                mode: FailMode::Abort,
                delay_ms: 0,
                error: text,
            };
        }
        cur = e.source();
    }
    fail(attempt, backoff, text)
}

fn fail(attempt: u32, backoff: &BackoffPolicy, error: String) -> SettleKind {
    SettleKind::Fail {
        mode: FailMode::Fail,
        delay_ms: ops::ms(backoff.delay(attempt.max(1))),
        error,
    }
}

fn defer(delay_ms: u64, error: String) -> SettleKind {
    SettleKind::Fail {
        mode: FailMode::Defer,
        delay_ms,
        error,
    }
}

/// The error and its sources, `: `-joined, truncated at a char boundary.
pub(crate) fn error_text(err: &BoxDynError) -> String {
    let mut s = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let part = e.to_string();
        if !s.contains(&part) {
            s.push_str(": ");
            s.push_str(&part);
        }
        cur = e.source();
    }
    truncate(s, MAX_ERROR_BYTES)
}

pub(crate) fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn mode(k: &SettleKind) -> Option<(FailMode, u64)> {
        match k {
            SettleKind::Ack => None,
            SettleKind::Fail { mode, delay_ms, .. } => Some((*mode, *delay_ms)),
        }
    }

    #[test]
    fn classifies_handler_errors() {
        let p = BackoffPolicy {
            jitter: crate::Jitter::None,
            ..BackoffPolicy::default()
        };
        let e: BoxDynError = Box::new(JobError::retry_after(Duration::from_secs(7), "429"));
        assert_eq!(mode(&classify(&e, 3, &p)), Some((FailMode::Defer, 7000)));
        let e: BoxDynError = Box::new(JobError::permanent("bad input"));
        assert_eq!(
            mode(&classify(&e, 1, &p)).map(|m| m.0),
            Some(FailMode::Abort)
        );
        let e: BoxDynError = Box::new(AbortError::new("stop"));
        assert_eq!(
            mode(&classify(&e, 1, &p)).map(|m| m.0),
            Some(FailMode::Abort)
        );
        let e: BoxDynError = Box::new(RetryAfterError::new("x", Duration::from_millis(1500)));
        assert_eq!(mode(&classify(&e, 1, &p)), Some((FailMode::Defer, 1500)));
        let e: BoxDynError = "plain".into();
        assert_eq!(mode(&classify(&e, 3, &p)), Some((FailMode::Fail, 4000)));
        let e: BoxDynError = Box::new(JobError::retry_at(
            SystemTime::now() + Duration::from_secs(60),
            "later",
        ));
        let (m, d) = mode(&classify(&e, 1, &p)).expect("fail");
        assert_eq!(m, FailMode::Defer);
        assert!((55_000..=60_000).contains(&d), "{d}");
    }

    #[test]
    fn truncates_on_char_boundary() {
        assert_eq!(truncate("héllo".to_owned(), 2), "h");
    }
}
