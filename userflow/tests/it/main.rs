//! Integration tests against the in-process Userflow simulator (`hubsync-sim`).

mod definitions;
mod errors;
mod events;
mod groups;
mod users;
mod webhooks;

use std::time::Duration;

use hubsync_sim::{serve, userflow};
use hubsync_userflow::{Client, RetryPolicy};
use serde_json::Value;

/// A running simulator and a client for `env_demo`.
pub struct Sim {
    _srv: serve::Running,
    pub base: String,
    pub client: Client,
    http: reqwest::Client,
}

/// Fast retries so fault tests stay quick.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(3),
    }
}

impl Sim {
    pub async fn start() -> Sim {
        let sim = userflow::Simulator::new(userflow::Config::default());
        let srv = serve::spawn("127.0.0.1:0", sim.router())
            .await
            .expect("spawn simulator");
        let base = srv.base_url();
        let client = Client::builder("ak_sim_demo")
            .base_url(&base)
            .retry_policy(fast_retry())
            .build()
            .expect("client");
        Sim {
            _srv: srv,
            base,
            client,
            http: reqwest::Client::new(),
        }
    }

    /// A client with another key or policy against the same simulator.
    pub fn client_with(&self, key: &str, retry: RetryPolicy) -> Client {
        Client::builder(key)
            .base_url(&self.base)
            .retry_policy(retry)
            .build()
            .expect("client")
    }

    pub async fn control_get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("control get")
            .json()
            .await
            .expect("control json")
    }

    pub async fn control_put(&self, path: &str, body: Value) {
        let resp = self
            .http
            .put(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .expect("control put");
        assert!(resp.status().is_success(), "PUT {path}: {}", resp.status());
    }

    pub async fn control_post(&self, path: &str, body: Value) -> Value {
        self.http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .expect("control post")
            .json()
            .await
            .expect("control json")
    }

    /// Number of API calls to `"<METHOD> <path>"`.
    pub async fn calls(&self, route: &str) -> u64 {
        let r = self.control_get("/_sim/userflow/requests").await;
        r["counts"]["by_route"][route].as_u64().unwrap_or(0)
    }
}
