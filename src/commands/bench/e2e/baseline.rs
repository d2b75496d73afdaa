//! The ingest baseline: a bare axum server with one route, `POST /ingest`, that `RPUSH`es the
//! body to one Redis list and answers 200 — the least any webhook receiver that hands work to
//! Redis can do. It runs on its own threads and Tokio runtime (as many workers as cores, like
//! the api's), so the load generator's tasks do not share its executor.

use std::{sync::mpsc, thread::JoinHandle};

use anyhow::{Context, anyhow};
use axum::{Router, body::Bytes, extract::State, http::StatusCode, routing::post};
use tokio::sync::oneshot;

/// The running baseline server; stops when dropped.
pub struct Baseline {
    /// `http://…/ingest`.
    pub url: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Clone)]
struct AppState {
    redis: redis::aio::ConnectionManager,
    key: String,
}

async fn ingest(State(s): State<AppState>, body: Bytes) -> StatusCode {
    let mut conn = s.redis.clone();
    let pushed: redis::RedisResult<i64> = redis::cmd("RPUSH")
        .arg(&s.key)
        .arg(body.as_ref())
        .query_async(&mut conn)
        .await;
    match pushed {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

impl Baseline {
    pub fn start(redis_url: &str, key: String) -> anyhow::Result<Self> {
        let client = redis::Client::open(redis_url).context("baseline Redis URL")?;
        let (ready_tx, ready_rx) = mpsc::channel::<anyhow::Result<String>>();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let list = key;
        let thread = std::thread::Builder::new()
            .name("bench-baseline".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(threads)
                    .thread_name("bench-baseline-worker")
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(anyhow!("baseline runtime: {e}")));
                        return;
                    }
                };
                rt.block_on(async move {
                    let setup = async {
                        let redis = redis::aio::ConnectionManager::new(client)
                            .await
                            .context("baseline Redis connection")?;
                        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                            .await
                            .context("binding the baseline server")?;
                        anyhow::Ok((redis, listener))
                    };
                    let (redis, listener) = match setup.await {
                        Ok(x) => x,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let addr = listener
                        .local_addr()
                        .map(|a| a.to_string())
                        .unwrap_or_default();
                    let app = Router::new()
                        .route("/ingest", post(ingest))
                        .with_state(AppState { redis, key: list });
                    let _ = ready_tx.send(Ok(format!("http://{addr}/ingest")));
                    let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                        let _ = stop_rx.await;
                    });
                    if let Err(e) = serve.await {
                        tracing::error!(error = %e, "baseline server failed");
                    }
                });
            })
            .context("starting the baseline thread")?;
        let url = ready_rx
            .recv()
            .map_err(|_| anyhow!("the baseline thread ended before it was ready"))??;
        Ok(Self {
            url,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

impl Drop for Baseline {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Graceful shutdown waits for open keep-alive connections; do not block on it.
        drop(self.thread.take());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn pushes_each_body_to_redis() {
        let url = std::env::var("HUBSYNC_TEST_REDIS_URL")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let key = format!("test-bench-baseline-{}", uuid::Uuid::new_v4().simple());
        let b = Baseline::start(&url, key.clone()).unwrap();
        let http = reqwest::Client::new();
        for body in ["one", "two"] {
            let r = http.post(&b.url).body(body).send().await.unwrap();
            assert_eq!(r.status(), 200);
        }
        let client = redis::Client::open(url.as_str()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let items: Vec<String> = redis::cmd("LRANGE")
            .arg(&key)
            .arg(0)
            .arg(-1)
            .query_async(&mut conn)
            .await
            .unwrap();
        let _: i64 = redis::cmd("DEL")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(items, vec!["one", "two"]);
    }
}
