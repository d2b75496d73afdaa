//! CRM half of the HubSpot simulator, exercised over real HTTP: objects, batch, search,
//! validation, properties, schemas, associations v4, rate limits, faults, seeding and control
//! routes.

#[path = "hubspot_crm/associations.rs"]
mod associations;
#[path = "hubspot_crm/batch.rs"]
mod batch;
#[path = "hubspot_crm/control.rs"]
mod control;
#[path = "hubspot_crm/faults.rs"]
mod faults;
#[path = "hubspot_crm/objects.rs"]
mod objects;
#[path = "hubspot_crm/properties.rs"]
mod properties;
#[path = "hubspot_crm/ratelimit.rs"]
mod ratelimit;
#[path = "hubspot_crm/schemas.rs"]
mod schemas;
#[path = "hubspot_crm/search.rs"]
mod search;
#[path = "hubspot_crm/seed.rs"]
mod seed;
#[path = "hubspot_crm/validation.rs"]
mod validation;

use hubsync_sim::hubspot::{Config, Simulator};
use hubsync_sim::serve::{Running, spawn};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

/// One simulator on a local port plus a client holding portal 62515's private-app token.
pub struct Sim {
    pub run: Running,
    pub client: reqwest::Client,
    pub token: String,
    pub sim: Simulator,
}

/// A response: status, headers, JSON body (Null when empty).
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

/// Empty portals, no search lag, default knobs otherwise.
pub fn empty_config() -> Config {
    let mut c = Config::default();
    c.seed.contacts = 0;
    c.seed.companies = 0;
    c.seed.deals = 0;
    c.crm.search_index_lag_ms = 0;
    // Tests search a lot; the 5/s limit has its own test.
    c.rate_limits.search_rps = 10_000;
    c
}

pub async fn start() -> Sim {
    start_with(empty_config()).await
}

pub async fn start_with(config: Config) -> Sim {
    let sim = Simulator::new(config);
    let run = spawn("127.0.0.1:0", sim.router())
        .await
        .expect("bind simulator");
    Sim {
        run,
        client: reqwest::Client::new(),
        token: "pat-sim-62515".into(),
        sim,
    }
}

impl Sim {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.run.base_url(), path)
    }

    pub async fn call_as(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Resp {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        self.call_as(Some(&self.token.clone()), method, path, body)
            .await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.call(Method::DELETE, path, None).await
    }

    /// Creates an object and returns its id (asserting 201).
    pub async fn create(&self, t: &str, props: Value) -> String {
        let r = self
            .post(
                &format!("/crm/v3/objects/{t}"),
                json!({"properties": props}),
            )
            .await;
        assert_eq!(r.status, 201, "create {t}: {}", r.body);
        r.body["id"].as_str().expect("id").to_string()
    }

    pub async fn search(&self, t: &str, body: Value) -> Resp {
        self.post(&format!("/crm/v3/objects/{t}/search"), body)
            .await
    }

    /// Sets CRM knobs by merging `patch` into the current ones.
    pub async fn crm_knobs(&self, patch: Value) {
        let mut k = self.get("/_sim/hubspot/crm").await.body;
        for (key, v) in patch.as_object().expect("object") {
            k[key] = v.clone();
        }
        let r = self.put("/_sim/hubspot/crm", k).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }

    /// Sets rate-limit knobs by merging `patch` into the current ones.
    pub async fn limit_knobs(&self, patch: Value) {
        let mut k = self.get("/_sim/hubspot/rate-limits").await.body;
        for (key, v) in patch.as_object().expect("object") {
            k[key] = v.clone();
        }
        let r = self.put("/_sim/hubspot/rate-limits", k).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
}
