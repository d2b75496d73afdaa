#![allow(clippy::unwrap_used, dead_code)]

use hubsync_hubspot::{Client, RetryPolicy};
use hubsync_sim::hubspot::{Config, Simulator};
use hubsync_sim::serve::{self, Running};
use serde_json::{Value, json};

pub const TOKEN: &str = "pat-sim-62515";
pub const PORTAL: u64 = 62515;
pub const APP_ID: u64 = 54321;
pub const CLIENT_ID: &str = "sim-client-id";
pub const CLIENT_SECRET: &str = "sim-client-secret";
pub const DEV_KEY: &str = "sim-dev-key";

pub struct Env {
    pub sim: Simulator,
    pub srv: Running,
    pub base: String,
    pub http: reqwest::Client,
}

pub async fn start() -> Env {
    start_with(json!({})).await
}

/// Starts a simulator with `overrides` merged over: search lag 0, custom objects on.
pub async fn start_with(overrides: Value) -> Env {
    let mut cfg = json!({
        "seed": {"custom_objects": true},
        "crm": {"search_index_lag_ms": 0},
    });
    if let (Some(o), Some(over)) = (cfg.as_object_mut(), overrides.as_object()) {
        for (k, v) in over {
            o.insert(k.clone(), v.clone());
        }
    }
    let config: Config = serde_json::from_value(cfg).unwrap();
    let sim = Simulator::new(config);
    let srv = serve::spawn("127.0.0.1:0", sim.router()).await.unwrap();
    let base = srv.base_url();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Env {
        sim,
        srv,
        base,
        http,
    }
}

impl Env {
    /// A client with the private-app token and no retries.
    pub fn client(&self) -> Client {
        self.client_with_token(TOKEN)
    }

    pub fn client_with_token(&self, token: &str) -> Client {
        Client::builder()
            .base_url(self.base.clone())
            .access_token(token)
            .developer_api_key(DEV_KEY)
            .retry_policy(RetryPolicy::never())
            .build()
            .unwrap()
    }

    pub async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let resp = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_success(),
            "control call {path} failed: {}",
            resp.status()
        );
        let text = resp.text().await.unwrap();
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        }
    }

    /// Mints an OAuth token pair for the app on the portal (every scope).
    pub async fn mint_oauth(&self) -> Value {
        self.control(
            reqwest::Method::POST,
            "/_sim/hubspot/oauth/tokens",
            json!({}),
        )
        .await
    }

    /// The `objectTypeId` of the seeded custom object `projects`.
    pub async fn projects_type_id(&self) -> String {
        let v: Value = self
            .http
            .get(format!("{}/crm-object-schemas/v3/schemas", self.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "projects")
            .unwrap()["objectTypeId"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

pub const EMAIL1: &str = "donald.turing1@acme.example";
pub const EMAIL2: &str = "hedy.allen2@globex.example";

impl Env {
    /// The object id of the contact with `email`.
    pub async fn contact_id(&self, email: &str) -> String {
        let v: Value = self
            .http
            .get(format!("{}/crm/v3/objects/contacts/{email}", self.base))
            .query(&[("idProperty", "email")])
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["id"].as_str().unwrap().to_owned()
    }

    /// Ids of seeded contacts 1 and 2.
    pub async fn two_contacts(&self) -> (String, String) {
        (self.contact_id(EMAIL1).await, self.contact_id(EMAIL2).await)
    }
}
