//! Test harness: an [`AppState`] on `sqlite::memory:` and the real Redis
//! (`HUBSYNC_TEST_REDIS_URL`, default `redis://127.0.0.1:6379`) under a unique `test-<uuid>`
//! prefix whose keys are deleted on drop, one-shot requests, and real apalis workers over
//! the cluster's queues.

use std::sync::Arc;
use std::time::{Duration, Instant};

use apalis::prelude::*;
use axum::body::Body;
use axum::http::Request;
use hubsync_queue::{JobError, JobInfo, QueueConfig, RedisQueue};
use serde::{Deserialize, Serialize};
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinHandle;
use tower::ServiceExt;

use crate::{AppState, Queues, app};

pub(crate) fn redis_url() -> String {
    std::env::var("HUBSYNC_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A request with a bearer `token` and a JSON `body`, each if given.
fn request(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> Request<Body> {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let body = match body {
        Some(v) => {
            req = req.header("content-type", "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    req.body(body).expect("request")
}

/// Sends one request to `router` in process (a simulator's, say), with a bearer `token` and
/// a JSON `body` if given; answers the status and the JSON answer (`null` if it is not JSON).
pub(crate) async fn call_router(
    router: axum::Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let resp = router
        .oneshot(request(method, path, token, body))
        .await
        .expect("response");
    let status = resp.status().as_u16();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

/// The key of every test state.
pub(crate) fn test_secrets() -> hubsync_core::secrets::SecretBox {
    hubsync_core::secrets::SecretBox::new([42; 32])
}

/// A state with these operator tokens under a fresh prefix (nothing is written to Redis
/// until a handler or test does).
pub(crate) async fn state(tokens: &[&str]) -> AppState {
    state_with(tokens, hubsync_sync::Settings::default()).await
}

/// [`state`] with these cluster settings (simulator URLs, the app's credentials).
pub(crate) async fn state_with(tokens: &[&str], settings: hubsync_sync::Settings) -> AppState {
    let db = hubsync_entities::connect("sqlite::memory:")
        .await
        .expect("sqlite");
    let client = redis::Client::open(redis_url()).expect("redis url");
    let redis = redis::aio::ConnectionManager::new(client.clone())
        .await
        .expect("redis");
    let prefix = format!("test-{}", uuid::Uuid::new_v4().simple());
    let sync = hubsync_sync::SyncContext::new(
        db.clone(),
        redis.clone(),
        prefix.clone(),
        test_secrets(),
        settings,
    );
    AppState {
        sync,
        jobs: hubsync_sync::JobQueues::new(client.clone(), &prefix).expect("job queues"),
        db,
        redis,
        queues: Queues::new(client, &prefix).expect("queues"),
        redis_prefix: prefix,
        operator_tokens: tokens
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .into(),
        metrics_require_token: false,
        secrets: test_secrets(),
    }
}

/// A state whose Redis keys are deleted when dropped.
pub(crate) struct TestApp {
    pub state: AppState,
    client: redis::Client,
}

impl TestApp {
    pub(crate) async fn new(tokens: &[&str]) -> Self {
        Self {
            state: state(tokens).await,
            client: redis::Client::open(redis_url()).expect("redis url"),
        }
    }

    /// The configuration of queue `name`, as the API's admins use it.
    pub(crate) fn config(&self, name: &str) -> QueueConfig {
        QueueConfig::new(&self.state.redis_prefix, name)
    }

    /// A producer for queue `name`.
    pub(crate) fn producer(&self, name: &str) -> hubsync_queue::QueueClient<TestJob> {
        hubsync_queue::QueueClient::new(self.client.clone(), self.config(name)).expect("client")
    }

    /// A backend for queue `name`.
    pub(crate) fn backend(&self, name: &str) -> RedisQueue<TestJob> {
        RedisQueue::new(self.client.clone(), self.config(name)).expect("backend")
    }

    /// Sends one request; answers the status and the body as JSON (`null` if empty, a string
    /// if not JSON).
    pub(crate) async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let (status, _, text) = self.raw(method, path, token, body).await;
        let value = if text.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
        };
        (status, value)
    }

    /// Sends one request; answers the status, the content type and the body text.
    pub(crate) async fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (u16, String, String) {
        let resp = app(self.state.clone())
            .oneshot(request(method, path, token, body))
            .await
            .expect("response");
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 22)
            .await
            .expect("body");
        (
            status,
            content_type,
            String::from_utf8(bytes.to_vec()).expect("utf-8"),
        )
    }

    fn delete_all(&self) {
        let Ok(mut conn) = self.client.get_connection() else {
            return;
        };
        // `{<prefix>:<queue>}:…` and `{<prefix>}:…`; braces are not special in patterns.
        let pattern = format!("{{{}*", self.state.redis_prefix);
        let mut cursor: u64 = 0;
        loop {
            let Ok((next, keys)): redis::RedisResult<(u64, Vec<String>)> = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(10_000)
                .query(&mut conn)
            else {
                return;
            };
            if !keys.is_empty() {
                let _: redis::RedisResult<()> = redis::cmd("UNLINK").arg(&keys).query(&mut conn);
            }
            if next == 0 {
                return;
            }
            cursor = next;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.delete_all();
        // A worker's keeper finishing its last call may write once more.
        std::thread::sleep(Duration::from_millis(300));
        self.delete_all();
    }
}

/// The payload of test jobs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TestJob {
    pub n: u64,
}

/// What a test worker does with each job.
#[derive(Clone)]
pub(crate) enum Behavior {
    /// Completes at once.
    Succeed,
    /// Fails permanently with `boom-<tenant> job <n>` (a dead letter at once).
    Fail,
    /// Waits for a permit of this semaphore, then completes.
    Block(Arc<Semaphore>),
}

async fn handle(
    job: TestJob,
    info: Data<JobInfo>,
    behavior: Data<Behavior>,
) -> Result<(), JobError> {
    match &*behavior {
        Behavior::Succeed => Ok(()),
        Behavior::Fail => Err(JobError::permanent(format!(
            "boom-{} job {}",
            info.tenant, job.n
        ))),
        Behavior::Block(gate) => {
            let permit = gate.acquire().await.map_err(JobError::permanent)?;
            permit.forget();
            Ok(())
        }
    }
}

/// A running apalis worker.
pub(crate) struct RunningWorker {
    stop: Option<oneshot::Sender<()>>,
    join: JoinHandle<Result<(), WorkerError>>,
}

impl RunningWorker {
    /// Starts a worker on `queue` with this behavior.
    pub(crate) fn spawn(
        queue: RedisQueue<TestJob>,
        concurrency: usize,
        behavior: Behavior,
    ) -> Self {
        let (tx, rx) = oneshot::channel::<()>();
        let worker = WorkerBuilder::new(format!("w-{}", uuid::Uuid::new_v4().simple()))
            .backend(queue)
            .concurrency(concurrency)
            .data(behavior)
            .build(handle);
        let join = tokio::spawn(async move {
            worker
                .run_until(async move {
                    let _ = rx.await;
                    Ok::<(), std::io::Error>(())
                })
                .await
        });
        Self {
            stop: Some(tx),
            join,
        }
    }

    /// Graceful stop: in-flight jobs finish, unstarted ones are released.
    pub(crate) async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        tokio::time::timeout(Duration::from_secs(30), &mut self.join)
            .await
            .expect("worker stops within 30 s")
            .expect("worker task")
            .expect("worker exits cleanly");
    }
}

/// Polls `check` every 50 ms until it returns true, for at most 20 s.
pub(crate) async fn eventually<F, Fut>(what: &str, mut check: F)
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
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl TestApp {
    /// [`TestApp::new`] with these cluster settings (public URL, the HubSpot app's secret).
    pub(crate) async fn with_settings(tokens: &[&str], settings: hubsync_sync::Settings) -> Self {
        Self {
            state: state_with(tokens, settings).await,
            client: redis::Client::open(redis_url()).expect("redis url"),
        }
    }
}
