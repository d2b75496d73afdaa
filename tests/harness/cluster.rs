//! A whole hubsync cluster as separate processes for end-to-end tests: both simulators
//! (`hubsync sim`), the api, one or more workers and a scheduler, on a database and a Redis
//! prefix of their own, with the simulated HubSpot app's credentials.
#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use hubsync_migrations::test_support::{Backend, TestDb};
use reqwest::Method;
use serde_json::{Value, json};

use super::{Proc, redis_url, unique};

/// Encryption key of test clusters (base64 of 32 bytes).
pub const KEY: &str = "dGVzdC1jbHVzdGVyLWtleS0zMi1ieXRlcy1sb25nISE=";
/// Operator token of test clusters.
pub const TOKEN: &str = "e2e-operator-token";
/// The simulated HubSpot app (docs/simulators.md §2.1).
pub const APP_ID: &str = "54321";
pub const CLIENT_ID: &str = "sim-client-id";
pub const CLIENT_SECRET: &str = "sim-client-secret";
pub const DEV_KEY: &str = "sim-dev-key";

/// How to start a cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    pub workers: usize,
    pub scheduler: bool,
    pub backend: Backend,
    /// Extra flags for `hubsync sim`.
    pub sim_args: Vec<String>,
    /// Extra environment for every cluster role.
    pub env: Vec<(String, String)>,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self {
            workers: 1,
            scheduler: true,
            backend: Backend::Postgres,
            sim_args: Vec::new(),
            env: Vec::new(),
        }
    }
}

/// A running cluster. Dropping it kills every process; the database goes with it.
pub struct Cluster {
    pub sim: Proc,
    pub api: Proc,
    pub workers: Vec<Proc>,
    pub scheduler: Option<Proc>,
    /// `http://…` of the HubSpot simulator.
    pub hubspot: String,
    /// `http://…` of the Userflow simulator.
    pub userflow: String,
    /// `http://…` of the api.
    pub api_url: String,
    pub prefix: String,
    pub http: reqwest::Client,
    env: Vec<(String, String)>,
    db: TestDb,
}

/// A free TCP port on 127.0.0.1 (the api's public URL must be known before it starts).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

impl Cluster {
    pub async fn start(opts: ClusterOptions) -> Self {
        let db = TestDb::new(opts.backend).await.expect("test database");
        let prefix = unique("e2e");
        let mut sim_args: Vec<String> = [
            "sim",
            "--hubspot-bind",
            "127.0.0.1:0",
            "--userflow-bind",
            "127.0.0.1:0",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        sim_args.extend(opts.sim_args.iter().cloned());
        let sim_refs: Vec<&str> = sim_args.iter().map(String::as_str).collect();
        let mut sim = Proc::spawn(&sim_refs, &[]);
        let hubspot = sim.url_of("sim-hubspot").await;
        let userflow = sim.url_of("sim-userflow").await;

        let api_addr = format!("127.0.0.1:{}", free_port());
        let mut env: Vec<(String, String)> = vec![
            ("HUBSYNC_DATABASE_URL".into(), db.url().to_string()),
            ("HUBSYNC_REDIS_URL".into(), redis_url()),
            ("HUBSYNC_REDIS_PREFIX".into(), prefix.clone()),
            ("HUBSYNC_ENCRYPTION_KEY".into(), KEY.into()),
            ("HUBSYNC_HUBSPOT_API_BASE".into(), hubspot.clone()),
            ("HUBSYNC_USERFLOW_API_BASE".into(), userflow.clone()),
            ("HUBSYNC_PUBLIC_URL".into(), format!("http://{api_addr}")),
            ("HUBSYNC_HUBSPOT_APP_ID".into(), APP_ID.into()),
            ("HUBSYNC_HUBSPOT_CLIENT_ID".into(), CLIENT_ID.into()),
            ("HUBSYNC_HUBSPOT_CLIENT_SECRET".into(), CLIENT_SECRET.into()),
            ("HUBSYNC_HUBSPOT_DEVELOPER_API_KEY".into(), DEV_KEY.into()),
            (
                "HUBSYNC_HUBSPOT_AUTHORIZE_URL".into(),
                format!("{hubspot}/oauth/authorize"),
            ),
            ("HUBSYNC_OPERATOR_TOKENS".into(), TOKEN.into()),
        ];
        env.extend(opts.env.iter().cloned());
        let env_refs: Vec<(&str, &str)> =
            env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();

        let mut api = Proc::spawn(&["api", "--migrate", "--bind", &api_addr], &env_refs);
        let api_url = api.url_of("api").await;
        api.wait_ok(&format!("{api_url}/readyz")).await;
        let mut cluster = Self {
            sim,
            api,
            workers: Vec::new(),
            scheduler: None,
            hubspot,
            userflow,
            api_url,
            prefix,
            http: reqwest::Client::new(),
            env,
            db,
        };
        for _ in 0..opts.workers {
            cluster.add_worker();
        }
        if opts.scheduler {
            cluster.scheduler = Some(cluster.spawn_role("scheduler"));
        }
        cluster
    }

    fn spawn_role(&self, role: &str) -> Proc {
        let env_refs: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Proc::spawn(&[role], &env_refs)
    }

    /// Starts one more worker process.
    pub fn add_worker(&mut self) {
        let w = self.spawn_role("worker");
        self.workers.push(w);
    }

    /// Everything every process printed, for failure messages.
    pub fn output(&self) -> String {
        let mut out = format!("--- api ---\n{}\n", self.api.output());
        for (i, w) in self.workers.iter().enumerate() {
            out.push_str(&format!("--- worker {i} ---\n{}\n", w.output()));
        }
        if let Some(s) = &self.scheduler {
            out.push_str(&format!("--- scheduler ---\n{}\n", s.output()));
        }
        out
    }

    /// Calls the operator API; answers the status and the JSON body (Null when empty).
    pub async fn op(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}/api/v1{path}", self.api_url))
            .bearer_auth(TOKEN);
        if let Some(b) = body {
            req = req.json(&b);
        }
        send(req).await
    }

    /// Calls the HubSpot simulator (`path` starting with `/`).
    pub async fn hs(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.hubspot));
        if let Some(b) = body {
            req = req.json(&b);
        }
        send(req).await
    }

    /// Calls a simulator control route: `/_sim/hubspot/…` or `/_sim/userflow/…`.
    pub async fn hs_or_uf(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        if path.starts_with("/_sim/userflow") {
            self.uf(method, path, None, body).await
        } else {
            self.hs(method, path, body).await
        }
    }

    /// Calls the Userflow simulator with an API key (`path` starting with `/`).
    pub async fn uf(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.userflow));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        send(req).await
    }

    /// Polls `check` every 50 ms until it answers `Some`, or fails after `timeout` with
    /// every process's output.
    pub async fn eventually<T, F, Fut>(&self, what: &str, timeout: Duration, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(v) = check().await {
                return v;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("{what}: not within {timeout:?}\n{}", self.output());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The cluster's database, for assertions on stored rows.
    pub fn db(&self) -> &sea_orm::DatabaseConnection {
        self.db.conn()
    }

    /// Creates a connected integration: Userflow with the simulator's key `uf_key`, then
    /// HubSpot through the OAuth flow (authorize → the simulator's redirect → callback).
    pub async fn connected_integration(&self, name: &str, uf_key: &str, env: &str) -> String {
        let (s, created) = self
            .op(Method::POST, "/integrations", Some(json!({ "name": name })))
            .await;
        assert_eq!(s, 201, "create integration: {created}\n{}", self.output());
        let id = created["id"].as_str().unwrap().to_string();
        let (s, body) = self
            .op(
                Method::PUT,
                &format!("/integrations/{id}/userflow"),
                Some(json!({ "api_key": uf_key, "environment": env })),
            )
            .await;
        assert_eq!(s, 200, "connect userflow: {body}\n{}", self.output());
        let (s, auth) = self
            .op(
                Method::POST,
                &format!("/integrations/{id}/hubspot/authorize"),
                Some(json!({})),
            )
            .await;
        assert_eq!(s, 200, "authorize: {auth}\n{}", self.output());
        let url = auth["authorize_url"].as_str().unwrap();
        // The simulator approves at once and redirects to our callback, which reqwest follows.
        let resp = self.http.get(url).send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        assert!(
            (200..300).contains(&status),
            "callback {status}: {text}\n{}",
            self.output()
        );
        let (_, st) = self
            .op(Method::GET, &format!("/integrations/{id}/status"), None)
            .await;
        assert_eq!(st["status"], "connected", "status: {st}\n{}", self.output());
        id
    }
}

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

/// The HubSpot portal the simulator's OAuth flow grants by default, and its private-app token
/// (a "someone else" writer: its changes are not hubsync's).
pub const PORTAL: u64 = 62515;
pub const PAT: &str = "pat-sim-62515";
/// The seeded Userflow environment and its key.
pub const UF_ENV: &str = "env_demo";
pub const UF_KEY: &str = "ak_sim_demo";

impl Cluster {
    /// Saves a mapping; answers its id, failing with the body when refused.
    pub async fn mapping(&self, integration: &str, body: Value) -> String {
        let (s, m) = self
            .op(
                Method::POST,
                &format!("/integrations/{integration}/mappings"),
                Some(body),
            )
            .await;
        assert_eq!(s, 201, "save mapping: {m}\n{}", self.output());
        m["id"].as_str().unwrap().to_string()
    }

    /// A HubSpot object's properties, read with the private-app token (`id` may be an email
    /// with `id_property=email`).
    pub async fn hs_object(
        &self,
        object_type: &str,
        id: &str,
        properties: &[&str],
        id_property: Option<&str>,
    ) -> Option<Value> {
        let mut url = format!(
            "{}/crm/v3/objects/{object_type}/{id}?properties={}",
            self.hubspot,
            properties.join(",")
        );
        if let Some(p) = id_property {
            url.push_str(&format!("&idProperty={p}"));
        }
        let resp = self.http.get(url).bearer_auth(PAT).send().await.unwrap();
        if resp.status().as_u16() == 404 {
            return None;
        }
        assert!(resp.status().is_success(), "read {object_type}/{id}");
        Some(resp.json().await.unwrap())
    }

    /// Changes a HubSpot object's properties as a HubSpot user would (private-app token).
    pub async fn hs_update(&self, object_type: &str, id: &str, properties: Value) {
        let (s, body) = self
            .http_json(
                Method::PATCH,
                &format!("{}/crm/v3/objects/{object_type}/{id}", self.hubspot),
                PAT,
                json!({ "properties": properties }),
            )
            .await;
        assert_eq!(s, 200, "update {object_type}/{id}: {body}");
    }

    /// Creates a text property in HubSpot as an account admin would (private-app token).
    pub async fn hs_text_property(&self, object_type: &str, name: &str, group: &str) {
        let (s, body) = self
            .http_json(
                Method::POST,
                &format!("{}/crm/v3/properties/{object_type}", self.hubspot),
                PAT,
                json!({ "name": name, "label": name, "type": "string",
                        "fieldType": "text", "groupName": group }),
            )
            .await;
        assert_eq!(s, 201, "create {object_type} property {name}: {body}");
    }

    /// A Userflow user (or group with `kind = "groups"`) as the API answers it.
    pub async fn uf_object(&self, kind: &str, id: &str) -> Option<Value> {
        let (s, body) = self
            .uf(Method::GET, &format!("/{kind}/{id}"), Some(UF_KEY), None)
            .await;
        (s == 200).then_some(body)
    }

    /// Calls `url` with a bearer token and a JSON body.
    pub async fn http_json(
        &self,
        method: Method,
        url: &str,
        token: &str,
        body: Value,
    ) -> (u16, Value) {
        send(
            self.http
                .request(method, url)
                .bearer_auth(token)
                .json(&body),
        )
        .await
    }

    /// The integration's sync log rows (newest first) matching `query` (`outcome=skipped&…`).
    pub async fn sync_log(&self, integration: &str, query: &str) -> Vec<Value> {
        let (s, body) = self
            .op(
                Method::GET,
                &format!("/integrations/{integration}/sync-log?{query}"),
                None,
            )
            .await;
        assert_eq!(s, 200, "sync log: {body}");
        body["entries"].as_array().cloned().unwrap_or_default()
    }
}
