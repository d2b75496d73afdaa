//! HubSpot simulator, platform half, over real HTTP: OAuth (§12), timeline (§8), webhook
//! management (§9.1) and signed webhook deliveries (§9.3, §9.4, §10).
#![allow(clippy::unwrap_used)]

mod common;

#[path = "hubspot_platform/deliveries.rs"]
mod deliveries;
#[path = "hubspot_platform/oauth.rs"]
mod oauth;
#[path = "hubspot_platform/scopes.rs"]
mod scopes;
#[path = "hubspot_platform/timeline.rs"]
mod timeline;
#[path = "hubspot_platform/webhooks.rs"]
mod webhooks;

use hubsync_sim::hubspot::{Config, Simulator};
use hubsync_sim::serve::{Running, spawn};
use reqwest::Method;
use serde_json::Value;

/// The default app.
pub const APP: u64 = 54321;
/// Its developer key.
pub const KEY: &str = "sim-dev-key";
/// Its OAuth client.
pub const CLIENT_ID: &str = "sim-client-id";
/// Its secret (also the webhook signing secret).
pub const SECRET: &str = "sim-client-secret";
/// Private-app token of portal 62515.
pub const PAT: &str = "pat-sim-62515";

/// A running simulator and a client that does not follow redirects.
pub struct Env {
    pub sim: Simulator,
    pub server: Running,
    pub http: reqwest::Client,
}

/// A small config: few seeded records, searchable at once.
pub fn config() -> Config {
    Config::default()
}

impl Env {
    pub async fn start() -> Self {
        Self::with(config()).await
    }

    pub async fn with(config: Config) -> Self {
        let sim = Simulator::new(config);
        let server = spawn("127.0.0.1:0", sim.router())
            .await
            .expect("bind simulator");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self { sim, server, http }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.server.base_url(), path)
    }

    /// Sends a request with an optional bearer token and JSON body; status and parsed body
    /// (`Null` when empty, a string when not JSON).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        read(self.send(method, path, bearer, body).await).await
    }

    /// The raw response of a request with an optional bearer token and JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("request")
    }

    /// `GET` with a bearer token.
    pub async fn get_as(&self, path: &str, bearer: &str) -> (u16, Value) {
        self.call(Method::GET, path, Some(bearer), None).await
    }

    /// `POST` of a JSON body with a bearer token.
    pub async fn post_as(&self, path: &str, bearer: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(bearer), Some(body))
            .await
    }

    /// `DELETE` with a bearer token.
    pub async fn delete_as(&self, path: &str, bearer: &str) -> (u16, Value) {
        self.call(Method::DELETE, path, Some(bearer), None).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, None, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, None, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::PUT, path, None, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.call(Method::DELETE, path, None, None).await
    }

    /// POSTs a form (`application/x-www-form-urlencoded`).
    pub async fn form(&self, path: &str, pairs: &[(&str, &str)]) -> (u16, Value) {
        let resp = self
            .http
            .post(self.url(path))
            .form(pairs)
            .send()
            .await
            .expect("request");
        read(resp).await
    }

    /// Mints an access/refresh pair through the control route.
    pub async fn mint(&self, portal_id: u64) -> Value {
        let (s, body) = self
            .post(
                "/_sim/hubspot/oauth/tokens",
                serde_json::json!({"portal_id": portal_id}),
            )
            .await;
        assert_eq!(s, 201, "{body}");
        body
    }

    /// Mints an access token with the default (every checked) scopes; the access token.
    pub async fn bearer(&self, portal_id: u64) -> String {
        self.mint(portal_id).await["access_token"]
            .as_str()
            .expect("access token")
            .to_string()
    }

    /// Mints an access token holding exactly `scopes`; the access token.
    pub async fn token_with(&self, portal_id: u64, scopes: &[&str]) -> String {
        let (s, body) = self
            .post(
                "/_sim/hubspot/oauth/tokens",
                serde_json::json!({"portal_id": portal_id, "scopes": scopes}),
            )
            .await;
        assert_eq!(s, 201, "{body}");
        body["access_token"]
            .as_str()
            .expect("access token")
            .to_string()
    }

    /// Creates a contact with the private-app token; its id.
    pub async fn contact(&self, email: &str) -> String {
        let (s, body) = self
            .call(
                Method::POST,
                "/crm/v3/objects/contacts",
                Some(PAT),
                Some(serde_json::json!({"properties": {"email": email, "firstname": "Test"}})),
            )
            .await;
        assert_eq!(s, 201, "{body}");
        body["id"].as_str().expect("contact id").to_string()
    }
}

pub async fn read(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}
