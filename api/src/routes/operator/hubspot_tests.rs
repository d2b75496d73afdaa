//! The HubSpot connection lifecycle through the real router: both simulators in-process on
//! port 0 (HubSpot's authorize page followed by hand, as a browser would), the real Redis
//! under a unique prefix, and a migrated SQLite database.

use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use hubsync_entities::IntegrationStatus;
use hubsync_entities::integrations::{ActiveModel, Entity, Model};
use hubsync_queue::{JobState, NewJob};
use hubsync_sim::{hubspot, serve, userflow};
use hubsync_sync::{HubspotApp, Settings, SyncError};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};
use tower::ServiceExt;
use uuid::Uuid;

use crate::test_support::{TestApp, TestJob, state_with, test_secrets};

const TOKEN: &str = "op-token";
const PUBLIC: &str = "https://hubsync.example.test";
const PORTAL: i64 = 62515;

struct Env {
    app: TestApp,
    hs: hubspot::Simulator,
    uf: userflow::Simulator,
    _hs_srv: serve::Running,
    _uf_srv: serve::Running,
}

impl Env {
    async fn start() -> Env {
        Self::start_with(|_| {}).await
    }

    async fn start_with(tweak: impl FnOnce(&mut Settings)) -> Env {
        let hs = hubspot::Simulator::new(hubspot::Config::default());
        let uf = userflow::Simulator::new(userflow::Config::default());
        let hs_srv = serve::spawn("127.0.0.1:0", hs.router()).await.expect("hs");
        let uf_srv = serve::spawn("127.0.0.1:0", uf.router()).await.expect("uf");
        let hs_base = hs_srv.base_url();
        let mut settings = Settings {
            hubspot: HubspotApp {
                app_id: Some(54321),
                client_id: Some("sim-client-id".into()),
                client_secret: Some("sim-client-secret".into()),
                developer_api_key: Some("sim-dev-key".into()),
                api_base: hs_base.clone(),
                authorize_url: format!("{hs_base}/oauth/authorize"),
                scopes: hubsync_sync::DEFAULT_SCOPES
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            },
            userflow_api_base: uf_srv.base_url(),
            public_url: Some(PUBLIC.into()),
            ..Default::default()
        };
        tweak(&mut settings);
        let mut app = TestApp::new(&[TOKEN]).await;
        // Replaced before anything is written, so the drop cleans the new prefix.
        app.state = state_with(&[TOKEN], settings).await;
        hubsync_migrations::migrate(&app.state.db)
            .await
            .expect("migrate");
        Env {
            app,
            hs,
            uf,
            _hs_srv: hs_srv,
            _uf_srv: uf_srv,
        }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.app.call(method, path, Some(TOKEN), body).await
    }

    async fn create(&self, body: Value) -> Uuid {
        let (status, v) = self.call("POST", "/api/v1/integrations", Some(body)).await;
        assert_eq!(status, 201, "{v}");
        Uuid::parse_str(v["id"].as_str().expect("id")).expect("uuid")
    }

    async fn connect_userflow(&self, id: Uuid) -> Value {
        let (status, v) = self
            .call(
                "PUT",
                &format!("/api/v1/integrations/{id}/userflow"),
                Some(json!({"api_key": "ak_sim_demo", "environment": "env_demo"})),
            )
            .await;
        assert_eq!(status, 200, "{v}");
        v
    }

    async fn authorize(&self, id: Uuid, body: Option<Value>) -> (u16, Value) {
        self.call(
            "POST",
            &format!("/api/v1/integrations/{id}/hubspot/authorize"),
            body,
        )
        .await
    }

    /// What the admin's browser does: open the authorize URL at HubSpot, follow the redirect
    /// to our callback. Answers the callback's status and body.
    async fn approve(&self, authorize_url: &str, portal: Option<i64>) -> (u16, Value) {
        let mut path = authorize_url
            .strip_prefix(&self.app.state.sync.settings.hubspot.api_base)
            .expect("authorize URL at the simulator")
            .to_owned();
        if let Some(p) = portal {
            path.push_str(&format!("&portal_id={p}"));
        }
        let (status, headers, _) = sim_call(self.hs.router(), "GET", &path, None).await;
        assert_eq!(status, 302, "HubSpot's authorize page redirects");
        let location = headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .expect("location")
            .to_owned();
        let callback = location
            .strip_prefix(PUBLIC)
            .expect("redirect to the public URL");
        assert!(
            callback.starts_with("/oauth/hubspot/callback?"),
            "{callback}"
        );
        // No operator token: the state is the credential.
        self.app.call("GET", callback, None, None).await
    }

    /// Authorize and approve in one go; the callback must succeed.
    async fn connect_hubspot(&self, id: Uuid) -> Value {
        let (status, start) = self.authorize(id, None).await;
        assert_eq!(status, 200, "{start}");
        let (status, body) = self
            .approve(start["authorize_url"].as_str().expect("url"), None)
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    async fn row(&self, id: Uuid) -> Model {
        Entity::find_by_id(id)
            .one(&self.app.state.db)
            .await
            .expect("db")
            .expect("row")
    }

    async fn hs_control(&self, method: &str, path: &str) -> Value {
        let (status, _, text) = sim_call(self.hs.router(), method, path, None).await;
        assert!((200..300).contains(&status), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Refresh tokens the simulator still honours.
    async fn live_refresh_tokens(&self) -> Vec<String> {
        let v = self.hs_control("GET", "/_sim/hubspot/oauth/tokens").await;
        v["refresh"]
            .as_array()
            .expect("refresh")
            .iter()
            .map(|t| t["token"].as_str().expect("token").to_owned())
            .collect()
    }

    async fn uf_subscriptions(&self) -> Vec<Value> {
        let (status, _, text) = sim_call(
            self.uf.router(),
            "GET",
            "/_sim/userflow/envs/env_demo/dump",
            None,
        )
        .await;
        assert_eq!(status, 200, "{text}");
        let v: Value = serde_json::from_str(&text).expect("json");
        v["subscriptions"]
            .as_array()
            .expect("subscriptions")
            .clone()
    }

    fn open(&self, sealed: Option<&str>) -> String {
        test_secrets()
            .open(sealed.expect("sealed value stored"))
            .expect("opens")
    }
}

/// One request to a simulator's router: status, headers, body text.
async fn sim_call(
    router: axum::Router,
    method: &str,
    path: &str,
    form: Option<&str>,
) -> (u16, axum::http::HeaderMap, String) {
    let mut req = Request::builder().method(method).uri(path);
    let body = match form {
        Some(f) => {
            req = req.header("content-type", "application/x-www-form-urlencoded");
            Body::from(f.to_owned())
        }
        None => Body::empty(),
    };
    let resp = router
        .oneshot(req.body(body).expect("request"))
        .await
        .expect("response");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 22)
        .await
        .expect("body");
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn full_connect_flow_stores_sealed_tokens_and_never_answers_them() {
    let env = Env::start().await;
    let id = env.create(json!({"name": "acme"})).await;
    let uf = env.connect_userflow(id).await;
    assert_eq!(uf["status"], "pending", "HubSpot is not connected yet");

    let (status, start) = env.authorize(id, Some(json!({}))).await;
    assert_eq!(status, 200, "{start}");
    let url = start["authorize_url"].as_str().expect("url");
    let hs_base = &env.app.state.sync.settings.hubspot.api_base;
    assert!(
        url.starts_with(&format!("{hs_base}/oauth/authorize?")),
        "{url}"
    );
    assert_eq!(
        query_param(url, "client_id").as_deref(),
        Some("sim-client-id")
    );
    assert_eq!(
        query_param(url, "redirect_uri"),
        Some(format!("{PUBLIC}/oauth/hubspot/callback"))
    );
    let scope = query_param(url, "scope").expect("scope");
    assert!(
        scope.split(' ').any(|s| s == "crm.objects.contacts.write"),
        "{scope}"
    );
    let state = start["state"].as_str().expect("state");
    assert!(state.len() >= 32, "at least 128 random bits: {state}");
    assert_eq!(query_param(url, "state").as_deref(), Some(state));
    assert!(start["expires_at"].is_string());

    let (status, done) = env.approve(url, None).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["integration_id"], id.to_string());
    assert_eq!(done["status"], "connected");
    assert_eq!(done["hubspot_portal_id"], PORTAL);

    // Stored sealed; they are the tokens HubSpot issued.
    let row = env.row(id).await;
    assert_eq!(row.status, IntegrationStatus::Connected);
    assert_eq!(row.hubspot_portal_id, Some(PORTAL));
    let sealed_access = row.hubspot_access_token_enc.clone().expect("access");
    let sealed_refresh = row.hubspot_refresh_token_enc.clone().expect("refresh");
    let access = env.open(Some(&sealed_access));
    let refresh = env.open(Some(&sealed_refresh));
    assert!(access.starts_with("sim-at-") && !sealed_access.contains(&access));
    assert!(env.live_refresh_tokens().await.contains(&refresh));
    let expires = row.hubspot_token_expires_at.expect("expiry");
    assert!(expires > chrono::Utc::now() + chrono::Duration::minutes(25));
    assert!(
        row.hubspot_scopes
            .as_ref()
            .is_some_and(|s| s.contains("timeline"))
    );

    // Workers get a client with that token.
    let tenant = env.app.state.sync.tenant(id).await.expect("tenant");
    assert_eq!(tenant.hubspot_token().await.expect("token"), access);

    // Never answered.
    for path in [
        format!("/api/v1/integrations/{id}"),
        format!("/api/v1/integrations/{id}/status"),
        "/api/v1/integrations".to_owned(),
    ] {
        let (status, _, text) = env.app.raw("GET", &path, Some(TOKEN), None).await;
        assert_eq!(status, 200);
        assert!(
            !text.contains(&access) && !text.contains(&refresh),
            "{path}: {text}"
        );
    }
    let (_, st) = env
        .call("GET", &format!("/api/v1/integrations/{id}/status"), None)
        .await;
    assert_eq!(st["status"], "connected");
    assert_eq!(st["action"], Value::Null);
    assert_eq!(st["hubspot"]["connected"], true);
    assert_eq!(st["hubspot"]["token_expired"], false);
    assert!(st["hubspot"]["token_expires_at"].is_string(), "{st}");
    assert!(
        st["hubspot"]["scopes"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );
    assert_eq!(st["userflow"]["webhook_subscription"]["registered"], true);

    // The state worked once.
    let (status, again) = env.approve(url, None).await;
    assert_eq!((status, again["code"].as_str()), (400, Some("bad_request")));
    assert!(
        again["message"]
            .as_str()
            .expect("message")
            .contains("state"),
        "{again}"
    );
}

#[tokio::test]
async fn bad_states_and_refusals_are_400() {
    let env = Env::start().await;
    let id = env.create(json!({"name": "acme"})).await;
    for path in [
        "/oauth/hubspot/callback?code=abc&state=nope".to_owned(),
        "/oauth/hubspot/callback?code=abc".to_owned(),
        format!("/oauth/hubspot/callback?code=abc&state={}", "x".repeat(500)),
    ] {
        let (status, body) = env.app.call("GET", &path, None, None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("bad_request")),
            "{path}: {body}"
        );
        assert!(body["message"].as_str().expect("m").contains("state"));
    }

    // The admin declined at HubSpot.
    let (_, start) = env.authorize(id, None).await;
    let state = start["state"].as_str().expect("state");
    let (status, body) = env
        .app
        .call(
            "GET",
            &format!("/oauth/hubspot/callback?error=access_denied&error_description=User+declined&state={state}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let message = body["message"].as_str().expect("message");
    assert!(
        message.contains("did not authorize") && message.contains("access_denied"),
        "{message}"
    );
    // That state is spent too.
    let (status, _) = env
        .app
        .call(
            "GET",
            &format!("/oauth/hubspot/callback?code=abc&state={state}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, 400);

    // A code HubSpot does not know.
    let (_, start) = env.authorize(id, None).await;
    let state = start["state"].as_str().expect("state");
    let (status, body) = env
        .app
        .call(
            "GET",
            &format!("/oauth/hubspot/callback?code=forged&state={state}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .expect("m")
            .contains("HubSpot refused the authorization code"),
        "{body}"
    );
    assert_eq!(env.row(id).await.hubspot_refresh_token_enc, None);

    // The operator routes need the operator token.
    let (status, _) = env
        .app
        .call(
            "POST",
            &format!("/api/v1/integrations/{id}/hubspot/authorize"),
            None,
            None,
        )
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn authorize_without_the_app_settings_names_the_flags() {
    let env = Env::start_with(|s| {
        s.hubspot.client_secret = None;
        s.public_url = None;
    })
    .await;
    let id = env.create(json!({"name": "acme"})).await;
    let (status, body) = env.authorize(id, None).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("conflict")));
    let message = body["message"].as_str().expect("message");
    assert!(
        message.contains("--hubspot-client-secret")
            && message.contains("HUBSYNC_HUBSPOT_CLIENT_SECRET")
            && message.contains("--public-url")
            && message.contains("HUBSYNC_PUBLIC_URL")
            && !message.contains("--hubspot-client-id"),
        "{message}"
    );
    let (status, _) = env.authorize(Uuid::new_v4(), None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn callback_applies_the_pairing_rule_and_keeps_the_portal() {
    let env = Env::start().await;
    env.create(
        json!({"name": "prod", "hubspot_portal_id": PORTAL, "userflow_environment": "env_prod"}),
    )
    .await;
    let staging = env
        .create(json!({"name": "staging", "userflow_environment": "env_staging"}))
        .await;

    let (_, start) = env.authorize(staging, None).await;
    let (status, body) = env
        .approve(start["authorize_url"].as_str().expect("url"), None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("conflict")),
        "{body}"
    );
    let message = body["message"].as_str().expect("message");
    assert!(
        message.contains("env_prod") && message.contains("force"),
        "{message}"
    );
    let row = env.row(staging).await;
    assert_eq!(row.hubspot_portal_id, None);
    assert_eq!(row.hubspot_refresh_token_enc, None);

    // Forced at authorize time: paired anyway (pending: Userflow has no key yet).
    let (_, start) = env.authorize(staging, Some(json!({"force": true}))).await;
    let (status, body) = env
        .approve(start["authorize_url"].as_str().expect("url"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "pending");
    assert_eq!(body["hubspot_portal_id"], PORTAL);

    // An integration of another portal cannot be connected to this one.
    let other = env
        .create(json!({"name": "other", "hubspot_portal_id": 62516}))
        .await;
    let (_, start) = env.authorize(other, Some(json!({"force": true}))).await;
    let (status, body) = env
        .approve(start["authorize_url"].as_str().expect("url"), None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("conflict")),
        "{body}"
    );
    assert!(body["message"].as_str().expect("m").contains("62516"));
    // The same portal is fine.
    let (_, start) = env.authorize(other, None).await;
    let (status, body) = env
        .approve(start["authorize_url"].as_str().expect("url"), Some(62516))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["hubspot_portal_id"], 62516);
}

#[tokio::test]
async fn expired_authorization_is_explained_and_reconnect_resumes_parked_jobs() {
    let env = Env::start().await;
    let id = env.create(json!({"name": "acme"})).await;
    env.connect_userflow(id).await;
    env.connect_hubspot(id).await;

    // The admin uninstalls the app in HubSpot; the next refresh is refused.
    env.hs_control(
        "DELETE",
        &format!("/_sim/hubspot/portals/{PORTAL}/apps/54321/install"),
    )
    .await;
    let mut am: ActiveModel = env.row(id).await.into();
    am.hubspot_token_expires_at = Set(Some(chrono::Utc::now()));
    am.update(&env.app.state.db).await.expect("update");
    let tenant = env.app.state.sync.tenant(id).await.expect("tenant");
    let err = tenant.hubspot().await.expect_err("refused");
    assert!(
        matches!(err, SyncError::AuthorizationExpired { .. }),
        "{err:?}"
    );

    let (_, st) = env
        .call("GET", &format!("/api/v1/integrations/{id}/status"), None)
        .await;
    assert_eq!(st["status"], "authorization_expired", "{st}");
    let reason = st["hubspot"]["authorization_expired_reason"]
        .as_str()
        .expect("reason");
    assert!(
        reason.contains("HubSpot refused the refresh token")
            && reason.contains("reconnect HubSpot"),
        "{reason}"
    );
    assert_eq!(st["reason"], reason);
    assert!(
        st["action"]
            .as_str()
            .expect("action")
            .contains("/hubspot/authorize")
    );

    // Its jobs were parked far in the future meanwhile.
    let parked = env
        .app
        .producer("realtime")
        .enqueue(
            NewJob::new(id.to_string(), TestJob { n: 1 }).delay(Duration::from_secs(7 * 24 * 3600)),
        )
        .await
        .expect("enqueue")
        .id()
        .clone();
    let other_tenant = env
        .app
        .producer("bulk")
        .enqueue(
            NewJob::new(Uuid::new_v4().to_string(), TestJob { n: 2 })
                .delay(Duration::from_secs(7 * 24 * 3600)),
        )
        .await
        .expect("enqueue")
        .id()
        .clone();

    let done = env.connect_hubspot(id).await;
    assert_eq!(done["status"], "connected");
    assert_eq!(done["resumed_jobs"], 1);
    let realtime = env.app.state.queues.get("realtime").expect("queue");
    let job = realtime
        .job(parked.as_str())
        .await
        .expect("job")
        .expect("kept");
    assert_eq!(job.state, JobState::Waiting);
    let bulk = env.app.state.queues.get("bulk").expect("queue");
    let job = bulk
        .job(other_tenant.as_str())
        .await
        .expect("job")
        .expect("kept");
    assert_eq!(job.state, JobState::Delayed, "other tenants stay parked");

    let row = env.row(id).await;
    assert_eq!(row.status, IntegrationStatus::Connected);
    assert_eq!(row.status_reason, None);
    let tenant = env.app.state.sync.tenant(id).await.expect("tenant");
    tenant.hubspot().await.expect("works again");
}

#[tokio::test]
async fn disconnect_revokes_at_hubspot_and_reconnect_works() {
    let env = Env::start().await;
    let id = env.create(json!({"name": "acme"})).await;
    env.connect_userflow(id).await;
    env.connect_hubspot(id).await;
    let refresh = env.open(env.row(id).await.hubspot_refresh_token_enc.as_deref());
    assert!(env.live_refresh_tokens().await.contains(&refresh));

    let (status, body) = env
        .call(
            "POST",
            &format!("/api/v1/integrations/{id}/hubspot/disconnect"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "disconnected");
    assert_eq!(body["revoked"], true);
    assert_eq!(body["revoke_error"], Value::Null);
    assert!(
        body["status_reason"]
            .as_str()
            .expect("reason")
            .contains("disconnected")
    );

    // HubSpot no longer honours the refresh token.
    assert!(!env.live_refresh_tokens().await.contains(&refresh));
    let form = format!(
        "grant_type=refresh_token&client_id=sim-client-id&client_secret=sim-client-secret&refresh_token={refresh}"
    );
    let (status, _, text) = sim_call(env.hs.router(), "POST", "/oauth/v1/token", Some(&form)).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("invalid_grant"), "{text}");

    let row = env.row(id).await;
    assert_eq!(row.status, IntegrationStatus::Disconnected);
    assert_eq!(row.hubspot_access_token_enc, None);
    assert_eq!(row.hubspot_refresh_token_enc, None);
    assert_eq!(
        row.hubspot_portal_id,
        Some(PORTAL),
        "kept for the reconnect rule"
    );
    let tenant = env.app.state.sync.tenant(id).await.expect("tenant");
    assert!(!tenant.is_active());
    assert!(tenant.hubspot().await.is_err());

    // Disconnecting again: nothing left to revoke, said so.
    let (status, body) = env
        .call(
            "POST",
            &format!("/api/v1/integrations/{id}/hubspot/disconnect"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["revoked"], false);
    assert!(body["revoke_error"].is_string());

    let done = env.connect_hubspot(id).await;
    assert_eq!(done["status"], "connected");
}

#[tokio::test]
async fn userflow_subscription_is_registered_once_with_its_secret_stored() {
    let env = Env::start().await;
    let id = env.create(json!({"name": "acme"})).await;
    let view = env.connect_userflow(id).await;
    let subs = env.uf_subscriptions().await;
    assert_eq!(subs.len(), 1, "{subs:?}");
    let sub = &subs[0];
    assert_eq!(sub["url"], format!("{PUBLIC}/webhooks/userflow/{id}"));
    let topics: Vec<&str> = sub["topics"]
        .as_array()
        .expect("topics")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(topics, vec!["user", "group", "event"]);
    let row = env.row(id).await;
    assert_eq!(
        row.userflow_webhook_subscription_id.as_deref(),
        sub["id"].as_str()
    );
    let secret = env.open(row.userflow_webhook_secret_enc.as_deref());
    assert_eq!(Some(secret.as_str()), sub["secret"].as_str());
    assert_eq!(view["userflow_webhook_subscription"]["registered"], true);
    assert!(!view.to_string().contains(&secret));

    // Connecting again updates the subscription instead of adding one.
    env.connect_userflow(id).await;
    let again = env.uf_subscriptions().await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0]["id"], sub["id"]);
    let row = env.row(id).await;
    assert_eq!(env.open(row.userflow_webhook_secret_enc.as_deref()), secret);

    // A key Userflow refuses is not stored.
    let fresh = env.create(json!({"name": "bad key"})).await;
    let (status, body) = env
        .call(
            "PUT",
            &format!("/api/v1/integrations/{fresh}/userflow"),
            Some(json!({"api_key": "ak_wrong", "environment": "env_demo"})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("bad_request")),
        "{body}"
    );
    assert!(
        body["message"]
            .as_str()
            .expect("m")
            .contains("Userflow refused the API key")
    );
    assert_eq!(env.row(fresh).await.userflow_api_key_enc, None);
}

#[tokio::test]
async fn without_a_public_url_the_key_is_stored_and_the_status_says_why() {
    let env = Env::start_with(|s| s.public_url = None).await;
    let id = env.create(json!({"name": "acme"})).await;
    let view = env.connect_userflow(id).await;
    assert_eq!(view["userflow_api_key_set"], true);
    assert_eq!(view["userflow_webhook_subscription"]["registered"], false);
    assert!(env.uf_subscriptions().await.is_empty());
    let (_, st) = env
        .call("GET", &format!("/api/v1/integrations/{id}/status"), None)
        .await;
    let sub = &st["userflow"]["webhook_subscription"];
    assert_eq!(sub["registered"], false);
    assert!(
        sub["reason"]
            .as_str()
            .expect("reason")
            .contains("--public-url"),
        "{st}"
    );
}
