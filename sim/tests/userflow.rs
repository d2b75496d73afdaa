//! Userflow simulator over real HTTP: every endpoint family, its errors, notifications,
//! signatures, delivery switches, rate limits, faults, control actions and seeding.

// A test crate: helpers (here and in `common`) may unwrap like the tests themselves.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::Receiver;
use hmac::{Hmac, Mac};
use hubsync_sim::serve::{Running, spawn};
use hubsync_sim::userflow::{Config, SeedSpec, Simulator, demo_email};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;

const KEY: &str = "ak_sim_demo";
const STAGING_KEY: &str = "ak_sim_staging";
const VERSION: &str = "2020-01-03";

struct Sim {
    sim: Simulator,
    server: Running,
    http: reqwest::Client,
}

struct Resp {
    status: u16,
    body: Value,
    headers: reqwest::header::HeaderMap,
}

fn empty_config() -> Config {
    Config {
        seed: SeedSpec {
            users: 0,
            groups: 0,
            ..SeedSpec::default()
        },
        ..Config::default()
    }
}

impl Sim {
    async fn start() -> Self {
        Self::with(empty_config()).await
    }

    async fn with(config: Config) -> Self {
        let sim = Simulator::new(config);
        let server = spawn("127.0.0.1:0", sim.router())
            .await
            .expect("bind simulator");
        Self {
            sim,
            server,
            http: reqwest::Client::new(),
        }
    }

    async fn raw(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        version: bool,
        body: Option<Value>,
    ) -> Resp {
        let mut req = self
            .http
            .request(method, format!("{}{}", self.server.base_url(), path));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if version {
            req = req.header("Userflow-Version", VERSION);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("request");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("JSON body")
        };
        Resp {
            status,
            body,
            headers,
        }
    }

    async fn api(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        self.raw(method, path, Some(KEY), true, body).await
    }

    async fn get(&self, path: &str) -> Resp {
        self.api(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Resp {
        self.api(Method::POST, path, Some(body)).await
    }

    /// Setup writes: posts each `(path, body)` in order, without looking at the answers.
    async fn post_all(&self, writes: Vec<(&str, Value)>) {
        for (path, body) in writes {
            self.post(path, body).await;
        }
    }

    async fn delete(&self, path: &str) -> Resp {
        self.api(Method::DELETE, path, None).await
    }

    async fn patch(&self, path: &str, body: Value) -> Resp {
        self.api(Method::PATCH, path, Some(body)).await
    }

    /// An API request with the staging environment's key.
    async fn staging(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        self.raw(method, path, Some(STAGING_KEY), true, body).await
    }

    async fn ctl(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        self.raw(method, path, None, false, body).await
    }

    /// Body of a control `GET`.
    async fn ctl_get(&self, path: &str) -> Value {
        self.ctl(Method::GET, path, None).await.body
    }

    async fn ctl_post(&self, path: &str, body: Value) -> Resp {
        self.ctl(Method::POST, path, Some(body)).await
    }

    /// Everything in the demo environment.
    async fn dump(&self) -> Value {
        self.ctl_get("/_sim/userflow/envs/env_demo/dump").await
    }

    /// Reads the knobs at `path`, lets `change` edit them and puts them back.
    async fn edit_knobs(&self, path: &str, change: impl FnOnce(&mut Value)) {
        let mut k = self.ctl_get(path).await;
        change(&mut k);
        let r = self.ctl(Method::PUT, path, Some(k)).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }

    async fn knobs(&self, change: impl FnOnce(&mut Value)) {
        self.edit_knobs("/_sim/userflow/knobs", change).await;
    }

    async fn delivery_knobs(&self, change: impl FnOnce(&mut Value)) {
        self.edit_knobs("/_sim/userflow/webhooks/knobs", change)
            .await;
    }

    async fn faults(&self, faults: Value) -> Resp {
        self.ctl(Method::PUT, "/_sim/faults", Some(faults)).await
    }

    async fn subscribe(&self, url: &str, topics: &[&str]) -> Value {
        let r = self
            .post(
                "/webhook_subscriptions",
                json!({"api_version": VERSION, "url": url, "topics": topics}),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body
    }

    async fn idle(&self) {
        assert!(
            self.sim
                .deliverer()
                .wait_idle(Duration::from_secs(10))
                .await,
            "deliveries still in flight"
        );
    }
}

/// An empty simulator and a receiver whose `/uf` is subscribed to `topics` (the subscription
/// is the third value).
async fn subscribed(topics: &[&str]) -> (Sim, Receiver, Value) {
    let s = Sim::start().await;
    let rx = Receiver::start().await;
    let sub = s.subscribe(&rx.url("/uf"), topics).await;
    (s, rx, sub)
}

/// The items of a JSON array.
fn items(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap()
}

/// Length of a JSON array.
fn len(v: &Value) -> usize {
    items(v).len()
}

/// `field` of every item of a JSON array, as strings.
fn strings(v: &Value, field: &str) -> Vec<String> {
    items(v)
        .iter()
        .map(|x| x[field].as_str().unwrap().to_string())
        .collect()
}

fn assert_error(r: &Resp, status: u16, code: &str) {
    assert_eq!(r.status, status, "body: {}", r.body);
    assert_eq!(r.body["error"]["code"], code, "body: {}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "body: {}",
        r.body
    );
    assert_eq!(
        r.body.as_object().map(|o| o.len()),
        Some(1),
        "only `error` at top level: {}",
        r.body
    );
}

fn assert_iso(v: &Value) {
    let s = v.as_str().unwrap_or_else(|| panic!("not a string: {v}"));
    let t = chrono::DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}"));
    assert!(s.ends_with("+00:00"), "offset form expected: {s}");
    assert!(t.timestamp() > 1_600_000_000);
}

fn topics_of(got: &[common::Received]) -> Vec<String> {
    got.iter()
        .map(|r| r.json()["topic"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn verify_signature(header: &str, secret: &str, body: &[u8]) -> bool {
    let mut t = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        let (k, v) = part.split_once('=').expect("k=v");
        match k {
            "t" => t = Some(v.to_string()),
            "v1" => v1.push(v.to_string()),
            _ => {}
        }
    }
    let t = t.expect("t");
    let age = chrono::Utc::now().timestamp() - t.parse::<i64>().expect("numeric t");
    if !(-5..=300).contains(&age) {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let expected = hex::encode(mac.finalize().into_bytes());
    v1.contains(&expected)
}

// ---------------------------------------------------------------- auth and version header

#[tokio::test]
async fn auth_missing_or_wrong_key_is_401_and_keys_are_per_environment() {
    let s = Sim::start().await;
    let r = s.raw(Method::GET, "/users", None, true, None).await;
    assert_error(&r, 401, "unauthorized");
    let r = s
        .raw(Method::GET, "/users", Some("ak_wrong"), true, None)
        .await;
    assert_error(&r, 401, "unauthorized");
    let r = s
        .raw(
            Method::POST,
            "/users",
            Some("ak_wrong"),
            true,
            Some(json!({"id": "x"})),
        )
        .await;
    assert_error(&r, 401, "unauthorized");
    // Nothing was written by the rejected upsert.
    assert_eq!(s.get("/users/x").await.status, 404);

    assert_eq!(s.post("/users", json!({"id": "u1"})).await.status, 200);
    let demo = s.get("/users/u1").await;
    assert_eq!(demo.status, 200);
    let staging = s.staging(Method::GET, "/users/u1", None).await;
    assert_error(&staging, 404, "not_found");
    let staging_list = s.staging(Method::GET, "/users", None).await;
    assert_eq!(staging_list.body["data"], json!([]));
}

#[tokio::test]
async fn version_header_is_recorded_and_can_be_required() {
    let s = Sim::start().await;
    s.get("/users").await;
    s.get("/users").await;
    let r = s.raw(Method::GET, "/users", Some(KEY), false, None).await;
    assert_eq!(r.status, 200, "missing header accepted by default");
    s.ctl_get("/_sim/userflow/envs").await; // control: not counted

    let c = s.ctl_get("/_sim/userflow/requests").await;
    assert_eq!(c["counts"]["total"], 3);
    assert_eq!(c["counts"]["with_version_header"], 2);
    assert_eq!(c["counts"]["without_version_header"], 1);
    assert_eq!(c["counts"]["by_version"][VERSION], 2);
    assert_eq!(c["counts"]["by_route"]["GET /users"], 3);
    assert_eq!(c["recent"][2]["version"], Value::Null);
    assert_eq!(c["recent"][0]["version"], VERSION);

    let mut req = s
        .http
        .get(format!("{}/users", s.server.base_url()))
        .bearer_auth(KEY);
    req = req.header("Userflow-Version", "2019-01-01");
    let r = req.send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400);

    s.knobs(|k| k["require_version_header"] = json!(true)).await;
    let r = s.raw(Method::GET, "/users", Some(KEY), false, None).await;
    assert_error(&r, 400, "missing_api_version");
    assert_eq!(s.get("/users").await.status, 200);

    assert_eq!(
        s.ctl(Method::DELETE, "/_sim/userflow/requests", None)
            .await
            .status,
        204
    );
    let c = s.ctl_get("/_sim/userflow/requests").await;
    assert_eq!(c["counts"]["total"], 0);
}

// ---------------------------------------------------------------- users

#[tokio::test]
async fn user_upsert_creates_then_merges_with_exact_shape() {
    let s = Sim::start().await;
    let r = s
        .post(
            "/users",
            json!({"id": "u_1", "attributes": {"email": "jane@example.com", "plan": "free"}}),
        )
        .await;
    assert_eq!(r.status, 200);
    let u = &r.body;
    assert_eq!(u["id"], "u_1");
    assert_eq!(u["object"], "user");
    assert_eq!(
        u["attributes"],
        json!({"email": "jane@example.com", "plan": "free"})
    );
    assert_iso(&u["created_at"]);
    assert_iso(&u["updated_at"]);
    assert!(
        u.get("memberships").is_none(),
        "memberships only when expanded"
    );
    let mut keys: Vec<&String> = u.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["attributes", "created_at", "id", "object", "updated_at"]
    );

    let r = s
        .post(
            "/users",
            json!({"id": "u_1", "attributes": {"plan": "pro", "seats": 5}}),
        )
        .await;
    assert_eq!(
        r.body["attributes"],
        json!({"email": "jane@example.com", "plan": "pro", "seats": 5})
    );
    assert_eq!(r.body["created_at"], u["created_at"], "created_at is kept");

    let g = s.get("/users/u_1").await;
    assert_eq!(g.body["attributes"]["plan"], "pro");

    // Validation errors.
    assert_error(
        &s.post("/users", json!({"attributes": {}})).await,
        400,
        "invalid_request",
    );
    assert_error(
        &s.post("/users", json!({"id": ""})).await,
        400,
        "invalid_id",
    );
    assert_error(
        &s.post("/users", json!({"id": "u_1", "atributes": {}}))
            .await,
        400,
        "invalid_request",
    );
    let bad = s.api(Method::POST, "/users", None).await;
    assert_error(&bad, 400, "invalid_request");

    s.knobs(|k| k["upsert_status"] = json!(201)).await;
    assert_eq!(s.post("/users", json!({"id": "u_2"})).await.status, 201);
}

#[tokio::test]
async fn every_attribute_operation_and_data_type() {
    let s = Sim::start().await;
    s.post(
        "/users",
        json!({"id": "u", "attributes": {"logins": 2, "tags": ["a", "b"], "role": "dev", "first": "x"}}),
    )
    .await;
    let r = s
        .post(
            "/users",
            json!({"id": "u", "attributes": {
                "logins": {"add": "3"},
                "credits": {"subtract": 1.5},
                "tags": {"remove": "a"},
                "later": {"append": ["y", "z"]},
                "early": {"prepend": "p"},
                "first": {"set_once": "ignored"},
                "fresh": {"set_once": "kept"},
                "plan": {"set": "pro"},
                "score": {"set": "42", "data_type": "number"},
                "renews_at": {"set": "2024-05-01T00:00:00Z", "data_type": "datetime"},
                "vip": {"set": "true", "data_type": "boolean"},
                "gone": null
            }}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["attributes"],
        json!({"logins": 5, "credits": -1.5, "tags": ["b"], "later": ["y", "z"], "early": ["p"],
               "first": "x", "fresh": "kept", "plan": "pro", "score": 42, "role": "dev",
               "renews_at": "2024-05-01T00:00:00Z", "vip": true, "gone": null})
    );
    // prepend onto an existing list, remove several values.
    let r = s
        .post(
            "/users",
            json!({"id": "u", "attributes": {"later": {"prepend": "x"}}}),
        )
        .await;
    assert_eq!(r.body["attributes"]["later"], json!(["x", "y", "z"]));
    let r = s
        .post(
            "/users",
            json!({"id": "u", "attributes": {"later": {"remove": ["x", "z"]}}}),
        )
        .await;
    assert_eq!(r.body["attributes"]["later"], json!(["y"]));

    // Switching string → list converts stored strings into one-element lists.
    s.post("/users", json!({"id": "v", "attributes": {"role": "ops"}}))
        .await;
    s.post(
        "/users",
        json!({"id": "u", "attributes": {"role": {"append": "lead", "data_type": "list"}}}),
    )
    .await;
    assert_eq!(
        s.get("/users/u").await.body["attributes"]["role"],
        json!(["dev", "lead"])
    );
    assert_eq!(
        s.get("/users/v").await.body["attributes"]["role"],
        json!(["ops"])
    );

    // Errors leave the user untouched.
    let before = s.get("/users/u").await.body;
    for (attrs, code) in [
        (json!({"bad.name": 1}), "invalid_attribute_name"),
        (
            json!({"ok": 1, "x": {"add": "many"}}),
            "invalid_attribute_value",
        ),
        (
            json!({"x": {"set": 1, "add": 2}}),
            "invalid_attribute_operation",
        ),
        (json!({"x": {"multiply": 2}}), "invalid_attribute_operation"),
        (
            json!({"x": {"set": 1, "data_type": "money"}}),
            "invalid_data_type",
        ),
        (
            json!({"x": {"set": "abc", "data_type": "number"}}),
            "invalid_attribute_value",
        ),
        (
            json!({"x": {"data_type": "number"}}),
            "invalid_attribute_operation",
        ),
    ] {
        let r = s
            .post("/users", json!({"id": "u", "attributes": attrs}))
            .await;
        assert_error(&r, 400, code);
    }
    assert_eq!(
        s.get("/users/u").await.body["attributes"],
        before["attributes"]
    );

    // null can be configured to unset.
    s.knobs(|k| k["null_attribute"] = json!("unset")).await;
    let r = s
        .post("/users", json!({"id": "u", "attributes": {"plan": null}}))
        .await;
    assert!(r.body["attributes"].get("plan").is_none());
}

#[tokio::test]
async fn find_by_email_get_and_delete() {
    let s = Sim::start().await;
    s.post_all(vec![
        (
            "/users",
            json!({"id": "a", "attributes": {"email": "Ann@Example.com"}}),
        ),
        (
            "/users",
            json!({"id": "b", "attributes": {"email": "bob@example.com"}}),
        ),
    ])
    .await;
    let r = s.get("/users?email=ann%40example.com").await;
    assert_eq!(r.body["object"], "list");
    assert_eq!(len(&r.body["data"]), 1);
    assert_eq!(r.body["data"][0]["id"], "a");
    assert_eq!(r.body["has_more"], false);
    assert_eq!(r.body["url"], "/users");
    assert_eq!(r.body["next_page_url"], Value::Null);
    let none = s.get("/users?email=nobody%40example.com").await;
    assert_eq!(none.status, 200);
    assert_eq!(none.body["data"], json!([]));

    assert_error(&s.get("/users/zzz").await, 404, "not_found");

    // Delete removes memberships and events, the group stays.
    s.post_all(vec![
        ("/users", json!({"id": "a", "groups": [{"id": "acme"}]})),
        ("/events", json!({"name": "x", "user_id": "a"})),
    ])
    .await;
    let dump = s.dump().await;
    assert_eq!(len(&dump["memberships"]), 1);
    assert_eq!(len(&dump["events"]), 1);
    let d = s.delete("/users/a").await;
    assert_eq!(d.status, 200);
    assert_eq!(
        d.body,
        json!({"id": "a", "object": "user", "deleted": true})
    );
    assert_error(&s.get("/users/a").await, 404, "not_found");
    assert_error(&s.delete("/users/a").await, 404, "not_found");
    let dump = s.dump().await;
    assert_eq!(dump["memberships"], json!([]));
    assert_eq!(dump["events"], json!([]));
    assert_eq!(s.get("/groups/acme").await.status, 200);
}

#[tokio::test]
async fn list_paging_limits_order_and_next_page_url() {
    let s = Sim::start().await;
    for i in 0..25 {
        s.post("/users", json!({"id": format!("u{i:02}")})).await;
    }
    let r = s.get("/users").await;
    assert_eq!(len(&r.body["data"]), 20, "default page 20");
    assert_eq!(r.body["has_more"], true);
    assert_eq!(r.body["next_page_url"], "/users?starting_after=u19");

    let r = s
        .get("/users?sort=asc&order_by=created_at&limit=10&expand=memberships")
        .await;
    assert_eq!(r.body["data"][0]["id"], "u00");
    assert_eq!(r.body["data"][0]["memberships"], json!([]));
    let next = r.body["next_page_url"].as_str().unwrap().to_string();
    assert_eq!(
        next,
        "/users?sort=asc&order_by=created_at&limit=10&expand=memberships&starting_after=u09"
    );
    let mut ids = Vec::new();
    let mut path = "/users?sort=asc&order_by=created_at&limit=10".to_string();
    loop {
        let page = s.get(&path).await.body;
        ids.extend(strings(&page["data"], "id"));
        assert_iso(&page["data"][0]["created_at"]);
        if page["has_more"] == false {
            assert_eq!(page["next_page_url"], Value::Null);
            break;
        }
        path = page["next_page_url"].as_str().unwrap().to_string();
    }
    let expected: Vec<String> = (0..25).map(|i| format!("u{i:02}")).collect();
    assert_eq!(ids, expected);

    let r = s.get("/users?order_by=-created_at&limit=3").await;
    assert_eq!(strings(&r.body["data"], "id"), ["u24", "u23", "u22"]);
    let r = s
        .get("/users?order_by=-created_at&limit=3&starting_after=u22")
        .await;
    assert_eq!(r.body["data"][0]["id"], "u21");

    assert_eq!(len(&s.get("/users?limit=100").await.body["data"]), 25);
    assert_error(&s.get("/users?limit=101").await, 400, "invalid_parameter");
    assert_error(&s.get("/users?limit=abc").await, 400, "invalid_parameter");
    assert_error(
        &s.get("/users?order_by=name").await,
        400,
        "invalid_parameter",
    );
    assert_error(
        &s.get("/users?starting_after=nope").await,
        400,
        "invalid_starting_after",
    );
    let r = s.get("/users?starting_after=u24").await;
    assert_eq!(r.body["data"], json!([]));
    assert_eq!(r.body["has_more"], false);
}

// ---------------------------------------------------------------- groups and memberships

#[tokio::test]
async fn groups_and_memberships() {
    let s = Sim::start().await;
    let r = s
        .post(
            "/groups",
            json!({"id": "acme", "attributes": {"name": "Acme", "seats": 3}}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["object"], "group");
    assert_eq!(r.body["attributes"], json!({"name": "Acme", "seats": 3}));
    assert_iso(&r.body["created_at"]);
    let r = s
        .post(
            "/groups",
            json!({"id": "acme", "attributes": {"seats": {"add": 2}}}),
        )
        .await;
    assert_eq!(r.body["attributes"], json!({"name": "Acme", "seats": 5}));
    assert_eq!(s.get("/groups/acme").await.body["attributes"]["seats"], 5);
    assert_error(&s.get("/groups/none").await, 404, "not_found");

    // Membership through `groups` (group created on the fly) and through `memberships`.
    let r = s
        .post("/users?expand=memberships", json!({"id": "u1", "groups": [{"id": "acme"}, {"id": "globex", "attributes": {"name": "Globex"}}]}))
        .await;
    let ms = r.body["memberships"].as_array().unwrap();
    assert_eq!(ms.len(), 2);
    assert_eq!(ms[0]["object"], "group_membership");
    assert_eq!(ms[0]["group"]["id"], "acme");
    assert_eq!(ms[0]["group"]["object"], "group");
    assert_eq!(
        s.get("/groups/globex").await.body["attributes"]["name"],
        "Globex"
    );

    s.post("/users", json!({"id": "u1", "memberships": [{"attributes": {"role": "admin"}, "group": {"id": "acme"}}]}))
        .await;
    let g = s.get("/groups/acme?expand=memberships").await.body;
    assert_eq!(g["memberships"][0]["user_id"], "u1");
    assert_eq!(g["memberships"][0]["attributes"], json!({"role": "admin"}));
    assert_eq!(g["memberships"][0]["user"]["id"], "u1");
    let defs = s.get("/attribute_definitions?scope=membership").await.body;
    assert_eq!(defs["data"][0]["name"], "role");
    assert_eq!(defs["data"][0]["scope"], "group_membership");

    // Both together → 400 and nothing written.
    let r = s
        .post("/users", json!({"id": "u2", "groups": [{"id": "acme"}], "memberships": [{"group": {"id": "acme"}}]}))
        .await;
    assert_error(&r, 400, "invalid_request");
    assert_eq!(s.get("/users/u2").await.status, 404);

    // Prune keeps only the listed memberships.
    let r = s
        .post(
            "/users?expand=memberships",
            json!({"id": "u1", "groups": [{"id": "globex"}], "prune_memberships": true}),
        )
        .await;
    assert_eq!(strings(&r.body["memberships"], "group_id"), ["globex"]);

    // Remove membership (simulator path), then 404 when repeated.
    let r = s.delete("/groups/globex/memberships/u1").await;
    assert_eq!(
        r.body,
        json!({"object": "group_membership", "user_id": "u1", "group_id": "globex", "deleted": true})
    );
    assert_error(
        &s.delete("/groups/globex/memberships/u1").await,
        404,
        "not_found",
    );

    // Lists.
    let l = s.get("/groups?limit=1").await.body;
    assert_eq!(l["data"][0]["id"], "acme");
    assert_eq!(l["has_more"], true);
    assert_eq!(l["url"], "/groups");
    assert_eq!(l["next_page_url"], "/groups?limit=1&starting_after=acme");

    // Delete a group: memberships and its events go, users stay.
    s.post_all(vec![
        ("/users", json!({"id": "u1", "groups": [{"id": "acme"}]})),
        ("/events", json!({"name": "paid", "group_id": "acme"})),
    ])
    .await;
    let d = s.delete("/groups/acme").await;
    assert_eq!(
        d.body,
        json!({"id": "acme", "object": "group", "deleted": true})
    );
    assert_eq!(s.get("/users/u1").await.status, 200);
    let dump = s.dump().await;
    assert_eq!(dump["memberships"], json!([]));
    assert_eq!(dump["events"], json!([]));
}

// ---------------------------------------------------------------- events and definitions

#[tokio::test]
async fn events_shape_and_validation() {
    let s = Sim::start().await;
    s.post("/users", json!({"id": "u1"})).await;
    let r = s
        .post(
            "/events",
            json!({"name": "invoice_paid", "user_id": "u1", "group_id": "acme",
                   "attributes": {"amount": 10, "currency": {"set": "EUR"}, "at": {"set": "2024-01-01", "data_type": "datetime"}},
                   "time": "2024-05-01T10:00:00+02:00"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let e = &r.body;
    let mut keys: Vec<&String> = e.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "attributes",
            "created_at",
            "group_id",
            "id",
            "name",
            "object",
            "time",
            "user_id"
        ]
    );
    assert_eq!(e["object"], "event");
    assert_eq!(e["name"], "invoice_paid");
    assert_eq!(e["user_id"], "u1");
    assert_eq!(e["group_id"], "acme");
    assert_eq!(
        e["attributes"],
        json!({"amount": 10, "currency": "EUR", "at": "2024-01-01"})
    );
    assert_eq!(e["time"], "2024-05-01T08:00:00.000+00:00");
    assert_iso(&e["created_at"]);
    assert_eq!(
        s.get("/groups/acme").await.status,
        200,
        "unknown group created"
    );

    let r = s
        .post("/events", json!({"name": "flow_started", "user_id": "u1"}))
        .await;
    assert_eq!(r.status, 200);
    assert_iso(&r.body["time"]);
    assert_eq!(r.body["group_id"], Value::Null);

    assert_error(
        &s.post("/events", json!({"name": "x"})).await,
        400,
        "invalid_request",
    );
    assert_error(
        &s.post(
            "/events",
            json!({"name": "x", "user_id": "u1", "time": "yesterday"}),
        )
        .await,
        400,
        "invalid_time",
    );
    assert_error(
        &s.post("/events", json!({"name": "bad.name", "user_id": "u1"}))
            .await,
        400,
        "invalid_event_name",
    );
    assert_error(
        &s.post(
            "/events",
            json!({"name": "x", "user_id": "u1", "attributes": {"n": {"add": 1}}}),
        )
        .await,
        400,
        "invalid_attribute_operation",
    );
    assert_error(
        &s.post("/events", json!({"user_id": "u1"})).await,
        400,
        "invalid_request",
    );

    s.knobs(|k| k["event_creates_unknown"] = json!(false)).await;
    assert_error(
        &s.post("/events", json!({"name": "x", "user_id": "ghost"}))
            .await,
        404,
        "not_found",
    );
}

#[tokio::test]
async fn attribute_and_event_definitions() {
    let s = Sim::start().await;
    s.post_all(vec![
        (
            "/users",
            json!({"id": "u1", "attributes": {"plan": "pro", "seats": 3, "vip": true, "tags": ["a"],
                                               "renewal_at": "2025-01-01T00:00:00Z"}}),
        ),
        (
            "/groups",
            json!({"id": "g1", "attributes": {"industry": "tech"}}),
        ),
        (
            "/events",
            json!({"name": "flow_completed", "user_id": "u1", "attributes": {"flow_id": "f1"}}),
        ),
        (
            "/events",
            json!({"name": "flow_completed", "user_id": "u1"}),
        ),
    ])
    .await;

    let r = s
        .get("/attribute_definitions?scope=user&limit=100")
        .await
        .body;
    assert_eq!(r["object"], "list");
    let by_name = |name: &str| {
        items(&r["data"])
            .iter()
            .find(|d| d["name"] == name)
            .cloned()
            .unwrap()
    };
    let plan = by_name("plan");
    assert_eq!(plan["object"], "attribute_definition");
    assert_eq!(plan["data_type"], "string");
    assert_eq!(plan["scope"], "user");
    assert_eq!(plan["display_name"], "Plan");
    assert_eq!(by_name("seats")["data_type"], "number");
    assert_eq!(by_name("vip")["data_type"], "boolean");
    assert_eq!(by_name("tags")["data_type"], "list");
    assert_eq!(by_name("renewal_at")["data_type"], "datetime");
    assert_eq!(by_name("renewal_at")["display_name"], "Renewal at");
    assert_eq!(
        by_name("email")["data_type"],
        "string",
        "standard attribute"
    );
    assert!(items(&r["data"]).iter().all(|d| d["scope"] == "user"));

    let g = s.get("/attribute_definitions?scope=group").await.body;
    assert!(items(&g["data"]).iter().any(|d| d["name"] == "industry"));
    let ev = s.get("/attribute_definitions?scope=event").await.body;
    assert_eq!(ev["data"][0]["name"], "flow_id");
    assert_error(
        &s.get("/attribute_definitions?scope=planet").await,
        400,
        "invalid_parameter",
    );

    let p = s.get("/attribute_definitions?limit=2").await.body;
    assert_eq!(p["has_more"], true);
    let next = p["next_page_url"].as_str().unwrap();
    assert!(
        next.starts_with("/attribute_definitions?limit=2&starting_after="),
        "{next}"
    );
    assert_eq!(s.get(next).await.status, 200);

    let e = s.get("/event_definitions").await.body;
    assert_eq!(e["data"][0]["object"], "event_definition");
    assert_eq!(e["data"][0]["name"], "flow_completed");
    assert_eq!(e["data"][0]["count"], 2);

    let c = s
        .get("/content?type=flow&order_by=-created_at&limit=10")
        .await;
    assert_eq!(c.body["data"], json!([]));
    assert_error(&s.get("/content/c1").await, 404, "not_found");
}

// ---------------------------------------------------------------- subscriptions

#[tokio::test]
async fn subscription_crud_secret_only_on_create() {
    let s = Sim::start().await;
    let sub = s
        .subscribe(
            "https://hooks.example.com/uf",
            &["user.updated", "event.tracked.flow_completed"],
        )
        .await;
    let id = sub["id"].as_str().unwrap().to_string();
    let path = format!("/webhook_subscriptions/{id}");
    assert_eq!(sub["object"], "webhook_subscription");
    assert_eq!(sub["api_version"], VERSION);
    assert_eq!(sub["url"], "https://hooks.example.com/uf");
    assert_eq!(
        sub["topics"],
        json!(["user.updated", "event.tracked.flow_completed"])
    );
    assert_eq!(sub["disabled"], false);
    let secret = sub["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 64);
    assert!(
        secret
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    let other = s.subscribe("https://hooks.example.com/2", &["*"]).await;
    assert_ne!(other["secret"], sub["secret"]);

    let g = s.get(&path).await;
    assert_eq!(g.status, 200);
    assert!(g.body.get("secret").is_none(), "secret only on create");
    assert_eq!(g.body["topics"], sub["topics"]);
    let l = s.get("/webhook_subscriptions").await.body;
    assert_eq!(len(&l["data"]), 2);
    assert!(l["data"][0].get("secret").is_none());

    let p = s
        .patch(
            &path,
            json!({"topics": ["*"], "disabled": true, "url": "https://x.example/new"}),
        )
        .await;
    assert_eq!(p.status, 200);
    assert_eq!(p.body["topics"], json!(["*"]));
    assert_eq!(p.body["disabled"], true);
    assert_eq!(p.body["url"], "https://x.example/new");

    for body in [
        json!({"api_version": "2019-01-01", "url": "https://a.example", "topics": ["*"]}),
        json!({"url": "https://a.example", "topics": ["*"]}),
    ] {
        assert_error(
            &s.post("/webhook_subscriptions", body).await,
            400,
            "invalid_api_version",
        );
    }
    assert_error(
        &s.post(
            "/webhook_subscriptions",
            json!({"api_version": VERSION, "url": "not a url", "topics": ["*"]}),
        )
        .await,
        400,
        "invalid_url",
    );
    for topics in [
        json!([]),
        json!(["user.deleted"]),
        json!(["event.tracked."]),
    ] {
        let r = s
            .post(
                "/webhook_subscriptions",
                json!({"api_version": VERSION, "url": "https://a.example", "topics": topics}),
            )
            .await;
        assert_error(&r, 400, "invalid_topics");
    }
    assert_error(
        &s.patch(&path, json!({"topics": ["nope"]})).await,
        400,
        "invalid_topics",
    );

    s.knobs(|k| k["secret_on_get"] = json!(true)).await;
    assert_eq!(s.get(&path).await.body["secret"], sub["secret"]);

    let d = s.delete(&path).await;
    assert_eq!(
        d.body,
        json!({"id": id, "object": "webhook_subscription", "deleted": true})
    );
    assert_error(&s.get(&path).await, 404, "not_found");
    assert_error(&s.delete(&path).await, 404, "not_found");
}

// ---------------------------------------------------------------- notifications

#[tokio::test]
async fn user_created_then_updated_with_exact_diff_and_valid_signature() {
    let (s, rx, sub) = subscribed(&["user"]).await;
    let secret = sub["secret"].as_str().unwrap().to_string();

    s.post_all(vec![
        (
            "/users",
            json!({"id": "u1", "attributes": {"plan": "free", "seats": 5, "email": "a@b.c"}}),
        ),
        (
            "/users",
            json!({"id": "u1", "attributes": {"plan": "pro", "seats": 5, "new": 1}}),
        ),
    ])
    .await;
    let got = rx.wait_for(2, Duration::from_secs(5)).await;
    s.idle().await;
    assert_eq!(rx.received().len(), 2);
    let mut bodies: Vec<Value> = got.iter().map(|r| r.json()).collect();
    bodies.sort_by_key(|b| b["topic"].as_str().unwrap().to_string());

    let created = &bodies[0];
    assert_eq!(created["topic"], "user.created");
    assert_eq!(created["object"], "webhook_notification");
    assert_eq!(created["api_version"], VERSION);
    assert!(uuid::Uuid::parse_str(created["id"].as_str().unwrap()).is_ok());
    assert_iso(&created["created_at"]);
    assert_eq!(created["data"]["object"]["id"], "u1");
    assert_eq!(created["data"]["object"]["object"], "user");
    assert_eq!(
        created["data"]["object"]["attributes"],
        json!({"plan": "free", "seats": 5, "email": "a@b.c"})
    );
    assert!(created["data"].get("previous_attributes").is_none());
    assert!(created["data"].get("updated_attributes").is_none());

    let updated = &bodies[1];
    assert_eq!(updated["topic"], "user.updated");
    assert_eq!(
        updated["data"]["object"]["attributes"],
        json!({"plan": "pro", "seats": 5, "email": "a@b.c", "new": 1})
    );
    assert_eq!(
        updated["data"]["previous_attributes"],
        json!({"plan": "free", "new": null})
    );
    assert_eq!(
        updated["data"]["updated_attributes"],
        json!({"plan": "pro", "new": 1})
    );
    assert_ne!(created["id"], updated["id"]);

    for r in &got {
        let h = r.header("userflow-signature").expect("signature header");
        assert!(h.starts_with("t="), "{h}");
        assert!(
            verify_signature(&h, &secret, &r.body),
            "signature must verify: {h}"
        );
        assert!(!verify_signature(&h, "wrong-secret", &r.body));
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/json")
        );
        assert_eq!(r.uri.path(), "/uf");
    }
}

#[tokio::test]
async fn no_notification_when_nothing_changed_unless_knob() {
    let (s, rx, _) = subscribed(&["*"]).await;
    s.post_all(vec![
        ("/users", json!({"id": "u1", "attributes": {"plan": "pro"}})),
        ("/groups", json!({"id": "g1", "attributes": {"name": "G"}})),
    ])
    .await;
    rx.wait_for(2, Duration::from_secs(5)).await;
    let before = s.get("/users/u1").await.body;
    s.post_all(vec![
        ("/users", json!({"id": "u1", "attributes": {"plan": "pro"}})),
        (
            "/users",
            json!({"id": "u1", "attributes": {"plan": {"set_once": "free"}}}),
        ),
        ("/groups", json!({"id": "g1", "attributes": {"name": "G"}})),
    ])
    .await;
    s.idle().await;
    assert_eq!(topics_of(&rx.received()), ["user.created", "group.created"]);
    let out = s.ctl_get("/_sim/userflow/notifications").await;
    assert_eq!(len(&out), 2);
    assert_eq!(
        s.get("/users/u1").await.body["updated_at"],
        before["updated_at"],
        "no-op keeps updated_at"
    );

    s.knobs(|k| k["webhook_emit_on_noop_write"] = json!(true))
        .await;
    s.post("/users", json!({"id": "u1", "attributes": {"plan": "pro"}}))
        .await;
    let got = rx.wait_for(3, Duration::from_secs(5)).await;
    let last = got[2].json();
    assert_eq!(last["topic"], "user.updated");
    assert_eq!(last["data"]["previous_attributes"], json!({}));
    assert_eq!(last["data"]["updated_attributes"], json!({}));
}

#[tokio::test]
async fn topics_match_exact_parent_wildcard_and_event_names_and_disabled_gets_nothing() {
    let s = Sim::start().await;
    let rx = Receiver::start().await;
    s.subscribe(&rx.url("/flow_started"), &["event.tracked.flow_started"])
        .await;
    s.subscribe(&rx.url("/user"), &["user"]).await;
    s.subscribe(&rx.url("/group_created"), &["group.created"])
        .await;
    s.subscribe(&rx.url("/event"), &["event"]).await;
    s.subscribe(&rx.url("/tracked"), &["event.tracked"]).await;
    s.subscribe(&rx.url("/all"), &["*"]).await;
    let disabled = s.subscribe(&rx.url("/disabled"), &["*"]).await;
    let id = disabled["id"].as_str().unwrap();
    s.patch(
        &format!("/webhook_subscriptions/{id}"),
        json!({"disabled": true}),
    )
    .await;
    // Another environment's subscription does not see demo changes.
    s.staging(
        Method::POST,
        "/webhook_subscriptions",
        Some(json!({"api_version": VERSION, "url": rx.url("/staging"), "topics": ["*"]})),
    )
    .await;

    s.post_all(vec![
        ("/users", json!({"id": "u1"})),  // user.created
        ("/groups", json!({"id": "g1"})), // group.created
        ("/groups", json!({"id": "g1", "attributes": {"a": 1}})), // group.updated
        ("/events", json!({"name": "flow_started", "user_id": "u1"})), // event.tracked
        ("/events", json!({"name": "flow_ended", "user_id": "u1"})), // event.tracked
    ])
    .await;
    s.idle().await;

    let got = rx.received();
    let at = |path: &str| -> Vec<String> {
        got.iter()
            .filter(|r| r.uri.path() == path)
            .map(|r| {
                let j = r.json();
                let name = j["data"]["object"]["name"]
                    .as_str()
                    .map(|n| format!(":{n}"))
                    .unwrap_or_default();
                format!("{}{name}", j["topic"].as_str().unwrap())
            })
            .collect::<Vec<_>>()
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(at("/flow_started"), ["event.tracked:flow_started"]);
    assert_eq!(at("/user"), ["user.created"]);
    assert_eq!(at("/group_created"), ["group.created"]);
    assert_eq!(
        sorted(at("/event")),
        ["event.tracked:flow_ended", "event.tracked:flow_started"]
    );
    assert_eq!(
        sorted(at("/tracked")),
        ["event.tracked:flow_ended", "event.tracked:flow_started"]
    );
    assert_eq!(at("/all").len(), 5);
    assert!(at("/disabled").is_empty());
    assert!(at("/staging").is_empty());

    // event.tracked payload: the event with user/group null.
    let ev = got
        .iter()
        .find(|r| r.uri.path() == "/flow_started")
        .unwrap()
        .json();
    let obj = &ev["data"]["object"];
    assert_eq!(obj["object"], "event");
    assert_eq!(obj["user_id"], "u1");
    assert_eq!(obj["user"], Value::Null);
    assert!(obj.get("group").is_some_and(Value::is_null));
    assert!(ev["data"].get("previous_attributes").is_none());
}

#[tokio::test]
async fn delivery_retries_on_500_with_time_scale() {
    let (s, rx, _) = subscribed(&["user.created"]).await;
    s.delivery_knobs(|k| k["time_scale"] = json!(0.0001)).await;
    let k = s.ctl_get("/_sim/userflow/webhooks/knobs").await;
    assert_eq!(k["max_retries"], 3, "Userflow default: 3 retries");
    assert_eq!(k["timeout_ms"], 10_000, "Userflow default: 10 s timeout");
    rx.answer_next(&[500, 503]);
    s.post("/users", json!({"id": "u1"})).await;
    let got = rx.wait_for(3, Duration::from_secs(10)).await;
    s.idle().await;
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].body, got[2].body, "retries resend the same body");
    let d = s.ctl_get("/_sim/userflow/webhooks/deliveries").await;
    assert_eq!(d["stats"]["delivered"], 1);
    assert_eq!(d["stats"]["failed_attempts"], 2);
    let statuses: Vec<Value> = items(&d["attempts"])
        .iter()
        .map(|a| a["status"].clone())
        .collect();
    assert_eq!(statuses, [json!(500), json!(503), json!(200)]);

    // Giving up after 1 + 3 attempts.
    rx.answer_next(&[500, 500, 500, 500]);
    s.post("/users", json!({"id": "u2"})).await;
    rx.wait_for(7, Duration::from_secs(10)).await;
    s.idle().await;
    let d = s.ctl_get("/_sim/userflow/webhooks/deliveries").await;
    assert_eq!(d["stats"]["given_up"], 1);
    assert_eq!(rx.received().len(), 7);
}

#[tokio::test]
async fn duplicate_and_drop_switches() {
    let (s, rx, _) = subscribed(&["user"]).await;
    s.delivery_knobs(|k| k["duplicate_rate"] = json!(1.0)).await;
    s.post("/users", json!({"id": "u1"})).await;
    let got = rx.wait_for(2, Duration::from_secs(5)).await;
    s.idle().await;
    assert_eq!(rx.received().len(), 2);
    assert_eq!(
        got[0].json()["id"],
        got[1].json()["id"],
        "a duplicate has the same notification id"
    );

    s.delivery_knobs(|k| {
        k["duplicate_rate"] = json!(0.0);
        k["drop_rate"] = json!(1.0);
    })
    .await;
    s.post("/users", json!({"id": "u2"})).await;
    s.idle().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(rx.received().len(), 2, "dropped notification never arrives");
    let d = s.ctl_get("/_sim/userflow/webhooks/deliveries").await;
    assert_eq!(d["stats"]["dropped"], 1);
    assert_eq!(d["stats"]["duplicated"], 1);
    // The notification was still produced.
    let out = s.ctl_get("/_sim/userflow/notifications").await;
    assert_eq!(len(&out), 2);
}

#[tokio::test]
async fn stale_signature_timestamp_knob_and_unsigned_knob() {
    let (s, rx, sub) = subscribed(&["*"]).await;
    s.knobs(|k| k["webhook_signature_skew_s"] = json!(-400))
        .await;
    s.post("/users", json!({"id": "u1"})).await;
    let got = rx.wait_for(1, Duration::from_secs(5)).await;
    let h = got[0].header("userflow-signature").unwrap();
    assert!(
        !verify_signature(&h, sub["secret"].as_str().unwrap(), &got[0].body),
        "outside the 300 s window"
    );
    s.knobs(|k| k["webhook_sign"] = json!(false)).await;
    s.post("/users", json!({"id": "u2"})).await;
    let got = rx.wait_for(2, Duration::from_secs(5)).await;
    assert!(got[1].header("userflow-signature").is_none());
}

// ---------------------------------------------------------------- rate limit and faults

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after_per_key() {
    let s = Sim::start().await;
    for _ in 0..5 {
        assert_eq!(s.get("/users").await.status, 200, "off by default");
    }
    s.knobs(|k| {
        k["rate_limit"] =
            json!({"enabled": true, "per_second": 0.2, "burst": 3, "retry_after": true})
    })
    .await;
    for _ in 0..3 {
        assert_eq!(s.get("/users").await.status, 200);
    }
    let r = s.get("/users").await;
    assert_error(&r, 429, "rate_limited");
    let ra: u64 = r
        .headers
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=5).contains(&ra), "{ra}");
    let other = s.staging(Method::GET, "/users", None).await;
    assert_eq!(other.status, 200, "buckets are per key");
    assert_eq!(
        s.ctl(Method::GET, "/_sim/userflow/envs", None).await.status,
        200,
        "control not limited"
    );

    s.knobs(|k| {
        k["rate_limit"] =
            json!({"enabled": true, "per_second": 0.2, "burst": 1, "retry_after": false})
    })
    .await;
    s.get("/users").await;
    let r = s.get("/users").await;
    assert_eq!(r.status, 429);
    assert!(r.headers.get("retry-after").is_none());
}

#[tokio::test]
async fn injected_faults_hit_api_routes_only() {
    let s = Sim::start().await;
    let r = s
        .faults(json!({"error_rate": 1.0, "error_status": 500}))
        .await;
    assert_eq!(r.status, 200);
    let r = s.get("/users").await;
    assert_error(&r, 500, "internal_server_error");
    let r = s.post("/users", json!({"id": "u1"})).await;
    assert_eq!(r.status, 500);
    assert_eq!(
        s.ctl(Method::GET, "/_sim/userflow/envs", None).await.status,
        200
    );
    s.faults(json!({"error_rate": 1.0})).await;
    assert_error(&s.get("/users").await, 503, "service_unavailable");
    s.faults(json!({})).await;
    assert_eq!(
        s.get("/users/u1").await.status,
        404,
        "faulted write did not happen"
    );
    let c = s.ctl_get("/_sim/userflow/requests").await;
    assert_eq!(c["counts"]["total"], 4, "faulted requests are counted");
}

#[tokio::test]
async fn unknown_routes_and_methods_use_the_error_body() {
    let s = Sim::start().await;
    assert_error(&s.get("/v2/users").await, 404, "not_found");
    assert_error(
        &s.api(Method::PUT, "/users", Some(json!({}))).await,
        405,
        "method_not_allowed",
    );
}

// ---------------------------------------------------------------- control: as the product would

#[tokio::test]
async fn control_identify_group_and_track_produce_notifications() {
    let (s, rx, _) = subscribed(&["*"]).await;

    let r = s
        .ctl_post(
            "/_sim/userflow/envs/env_demo/identify",
            json!({"user_id": "u1", "attributes": {"name": "Ann", "logins": 1}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["attributes"], json!({"name": "Ann", "logins": 1}));
    s.ctl_post(
        "/_sim/userflow/envs/env_demo/identify",
        json!({"user_id": "u1", "attributes": {"logins": {"add": 1}}}),
    )
    .await;
    let r = s
        .ctl_post("/_sim/userflow/envs/env_demo/group", json!({"user_id": "u1", "group_id": "acme", "attributes": {"name": "Acme"}, "membership_attributes": {"role": "owner"}}))
        .await;
    assert_eq!(r.body["memberships"][0]["group_id"], "acme");
    assert_eq!(r.body["memberships"][0]["attributes"]["role"], "owner");
    let r = s
        .ctl_post(
            "/_sim/userflow/envs/env_demo/track",
            json!({"name": "flow_started", "user_id": "u1", "attributes": {"flow_id": "f_42"}}),
        )
        .await;
    assert_eq!(
        r.body["attributes"]["flow_id"], "f_42",
        "given attributes override defaults"
    );
    assert_eq!(
        r.body["attributes"]["flow_name"], "Onboarding",
        "built-in defaults filled in"
    );
    assert!(r.body["attributes"].get("flow_start_reason").is_some());

    let got = rx.wait_for(4, Duration::from_secs(5)).await;
    s.idle().await;
    let mut topics = topics_of(&got);
    topics.sort();
    assert_eq!(
        topics,
        [
            "event.tracked",
            "group.created",
            "user.created",
            "user.updated"
        ]
    );
    let upd = got
        .iter()
        .map(|r| r.json())
        .find(|j| j["topic"] == "user.updated")
        .unwrap();
    assert_eq!(upd["data"]["previous_attributes"], json!({"logins": 1}));
    assert_eq!(upd["data"]["updated_attributes"], json!({"logins": 2}));

    // The API sees what the product did.
    assert_eq!(s.get("/users/u1").await.body["attributes"]["logins"], 2);
    assert_eq!(
        s.get("/event_definitions").await.body["data"][0]["name"],
        "flow_started"
    );
    assert_error(
        &s.ctl_post(
            "/_sim/userflow/envs/env_nope/identify",
            json!({"user_id": "u"}),
        )
        .await,
        404,
        "not_found",
    );
    assert_error(
        &s.ctl_post("/_sim/userflow/envs/env_demo/track", json!({"name": "x"}))
            .await,
        400,
        "invalid_request",
    );
}

// ---------------------------------------------------------------- seeding

/// The seeded part of a dump: users (id, attributes, memberships' groups and attributes) and
/// groups (id, attributes).
fn seed_data(dump: &Value) -> Value {
    let users: Vec<Value> = items(&dump["users"])
        .iter()
        .map(|u| {
            json!([
                u["id"],
                u["attributes"],
                items(&u["memberships"])
                    .iter()
                    .map(|m| json!([m["group_id"], m["attributes"]]))
                    .collect::<Vec<_>>()
            ])
        })
        .collect();
    let groups: Vec<Value> = items(&dump["groups"])
        .iter()
        .map(|g| json!([g["id"], g["attributes"]]))
        .collect();
    json!({"users": users, "groups": groups})
}

#[tokio::test]
async fn seeding_is_deterministic_and_uses_the_email_scheme() {
    let a = Sim::with(Config::default()).await;
    let b = Sim::with(Config::default()).await;
    let c = Sim::with(Config {
        seed: SeedSpec {
            seed: 7,
            ..SeedSpec::default()
        },
        ..Config::default()
    })
    .await;
    let da = seed_data(&a.dump().await);
    let db = seed_data(&b.dump().await);
    let dc = seed_data(&c.dump().await);
    assert_eq!(da, db);
    assert_ne!(da, dc);
    assert_eq!(len(&da["users"]), 20);
    assert_eq!(len(&da["groups"]), 5);

    let u1 = a.get("/users/u_0001?expand=memberships").await.body;
    assert_eq!(u1["attributes"]["email"], demo_email(42, 1));
    assert_eq!(u1["attributes"]["email"], "donald.turing1@acme.example");
    assert_eq!(u1["attributes"]["name"], "Donald Turing");
    assert_eq!(u1["memberships"][0]["group_id"], "g_001");
    let g = a.get("/groups/g_001").await.body;
    assert_eq!(g["attributes"]["domain"], "acme.example");
    assert_eq!(g["attributes"]["name"], "Acme");
    let found = a
        .get(&format!("/users?email={}", demo_email(42, 7)))
        .await
        .body;
    assert_eq!(found["data"][0]["id"], "u_0007");
    // Only the first environment is seeded.
    let staging = a.staging(Method::GET, "/users", None).await;
    assert_eq!(staging.body["data"], json!([]));
    // Seeding more through control.
    let r = a
        .ctl_post(
            "/_sim/userflow/envs/env_staging/seed",
            json!({"seed": 42, "users": 3, "groups": 1}),
        )
        .await;
    assert_eq!(r.body["users"], 3);
    let st = a.staging(Method::GET, "/users/u_0001", None).await;
    assert_eq!(st.body["attributes"]["email"], demo_email(42, 1));
}

#[tokio::test]
async fn config_defaults_and_partial_delivery_config() {
    let c = Config::default();
    assert_eq!(c.environments.len(), 2);
    assert_eq!(c.environments[0].id, "env_demo");
    assert_eq!(c.environments[0].api_keys, ["ak_sim_demo"]);
    assert_eq!(c.environments[1].api_keys, ["ak_sim_staging"]);
    assert_eq!(
        c.seed,
        SeedSpec {
            seed: 42,
            users: 20,
            groups: 5
        }
    );
    assert_eq!(c.delivery.max_retries, 3);
    let parsed: Config = serde_json::from_value(json!({"delivery": {"time_scale": 0.5}})).unwrap();
    assert_eq!(parsed.delivery.time_scale, 0.5);
    assert_eq!(
        parsed.delivery.max_retries, 3,
        "partial delivery keeps Userflow defaults"
    );
    assert_eq!(parsed.delivery.timeout_ms, 10_000);
    assert!(serde_json::from_value::<Config>(json!({"enviroments": []})).is_err());
    assert!(serde_json::from_value::<Config>(json!({"delivery": {"nope": 1}})).is_err());
}
