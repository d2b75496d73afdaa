//! Test harness: a unique `test-<uuid>` prefix per test, keys deleted on drop, and a helper
//! that runs a real apalis worker over a `RedisQueue`.
#![allow(dead_code)]

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use apalis::prelude::*;
use futures::future::BoxFuture;
use hubsync_queue::{JobError, JobInfo, QueueAdmin, QueueClient, QueueConfig, RedisQueue};
use serde::{Deserialize, Serialize};
use tokio::{sync::oneshot, task::JoinHandle};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestJob {
    pub n: u64,
    pub tag: String,
}

impl TestJob {
    pub fn new(n: u64) -> Self {
        Self {
            n,
            tag: String::new(),
        }
    }
}

pub fn redis_url() -> String {
    std::env::var("HUBSYNC_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// One queue under a unique prefix; deletes all its keys when dropped.
pub struct TestQueue {
    pub cfg: QueueConfig,
    pub client: redis::Client,
}

impl TestQueue {
    pub fn new(tweak: impl FnOnce(&mut QueueConfig)) -> Self {
        let mut cfg = QueueConfig::new(format!("test-{}", uuid::Uuid::new_v4().simple()), "q");
        tweak(&mut cfg);
        let client = redis::Client::open(redis_url()).expect("redis url");
        Self { cfg, client }
    }

    pub fn queue(&self) -> RedisQueue<TestJob> {
        RedisQueue::new(self.client.clone(), self.cfg.clone()).expect("queue")
    }

    pub fn producer<T: Serialize>(&self) -> QueueClient<T> {
        QueueClient::new(self.client.clone(), self.cfg.clone()).expect("client")
    }

    pub fn admin(&self) -> QueueAdmin {
        QueueAdmin::new(self.client.clone(), self.cfg.clone()).expect("admin")
    }

    pub fn pattern(&self) -> String {
        format!("{{{}:{}}}:*", self.cfg.prefix, self.cfg.name)
    }

    /// All key names of the queue, sorted.
    pub async fn key_names(&self) -> Vec<String> {
        let mut conn = self
            .client
            .get_multiplexed_async_connection()
            .await
            .expect("conn");
        let mut cursor: u64 = 0;
        let mut out = Vec::new();
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(self.pattern())
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .expect("scan");
            out.extend(batch);
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        out.sort();
        out.dedup();
        out
    }

    fn delete_all(&self) {
        let Ok(mut conn) = self.client.get_connection() else {
            return;
        };
        let keys: Vec<String> = match redis::cmd("KEYS").arg(self.pattern()).query(&mut conn) {
            Ok(k) => k,
            Err(_) => return,
        };
        for chunk in keys.chunks(500) {
            let _: redis::RedisResult<()> = redis::cmd("UNLINK").arg(chunk).query(&mut conn);
        }
    }
}

impl Drop for TestQueue {
    fn drop(&mut self) {
        self.delete_all();
        // A keeper or reaper finishing its last call may write once more.
        std::thread::sleep(Duration::from_millis(300));
        self.delete_all();
    }
}

pub type Behavior =
    Arc<dyn Fn(TestJob, JobInfo) -> BoxFuture<'static, Result<(), JobError>> + Send + Sync>;

#[derive(Clone)]
pub struct Probe(pub Behavior);

async fn handle(job: TestJob, info: Data<JobInfo>, probe: Data<Probe>) -> Result<(), JobError> {
    let f = probe.0.0.clone();
    f(job, (*info).clone()).await
}

/// A running apalis worker.
pub struct RunningWorker {
    stop: Option<oneshot::Sender<()>>,
    join: JoinHandle<Result<(), WorkerError>>,
}

impl RunningWorker {
    /// Graceful stop: in-flight jobs finish, unstarted ones are released.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let res = tokio::time::timeout(Duration::from_secs(30), &mut self.join)
            .await
            .expect("worker stops within 30 s");
        res.expect("worker task").expect("worker exits cleanly");
    }

    /// Whether the worker task is still running.
    pub fn is_running(&self) -> bool {
        !self.join.is_finished()
    }

    /// Kills the worker without any cleanup (as if its process died).
    pub fn abort(self) {
        self.join.abort();
    }
}

pub fn spawn_worker(
    queue: RedisQueue<TestJob>,
    concurrency: usize,
    behavior: Behavior,
) -> RunningWorker {
    let (tx, rx) = oneshot::channel::<()>();
    let worker = WorkerBuilder::new(format!("w-{}", uuid::Uuid::new_v4().simple()))
        .backend(queue)
        .concurrency(concurrency)
        .data(Probe(behavior))
        .build(handle);
    let join = tokio::spawn(async move {
        worker
            .run_until(async move {
                let _ = rx.await;
                Ok::<(), std::io::Error>(())
            })
            .await
    });
    RunningWorker {
        stop: Some(tx),
        join,
    }
}

/// A behavior from an async closure.
pub fn behavior<F, Fut>(f: F) -> Behavior
where
    F: Fn(TestJob, JobInfo) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), JobError>> + Send + 'static,
{
    Arc::new(move |j, i| Box::pin(f(j, i)))
}

/// Polls `check` every 50 ms until it returns true or `within` passes.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return;
        }
        assert!(
            start.elapsed() < within,
            "timed out after {within:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
