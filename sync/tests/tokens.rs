//! HubSpot token refresh against the in-process HubSpot simulator, a real Redis (unique prefix
//! per test, keys deleted at the end) and a throw-away database per test.
#![allow(clippy::unwrap_used)]

use chrono::Utc;
use hubsync_core::secrets::SecretBox;
use hubsync_entities::IntegrationStatus;
use hubsync_entities::integrations::{ActiveModel, Entity as Integrations, Model};
use hubsync_migrations::backend_tests;
use hubsync_migrations::test_support::{Backend, TestDb};
use hubsync_sim::{hubspot, serve};
use hubsync_sync::{HubspotApp, Settings, SyncContext, SyncError};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};

const PORTAL: i64 = 62515;

fn redis_url() -> String {
    std::env::var("HUBSYNC_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

struct Env {
    db: TestDb,
    sim_base: String,
    _srv: serve::Running,
    http: reqwest::Client,
    prefix: String,
    secrets: SecretBox,
    settings: Settings,
}

impl Env {
    async fn start(backend: Backend) -> Env {
        let sim = hubspot::Simulator::new(hubspot::Config::default());
        let srv = serve::spawn("127.0.0.1:0", sim.router()).await.unwrap();
        let sim_base = srv.base_url();
        let settings = Settings {
            hubspot: HubspotApp {
                app_id: Some(54321),
                client_id: Some("sim-client-id".into()),
                client_secret: Some("sim-client-secret".into()),
                api_base: sim_base.clone(),
                authorize_url: format!("{sim_base}/oauth/authorize"),
                ..Default::default()
            },
            ..Default::default()
        };
        Env {
            db: TestDb::migrated(backend).await.unwrap(),
            sim_base,
            _srv: srv,
            http: reqwest::Client::new(),
            prefix: format!("test-{}", uuid::Uuid::new_v4().simple()),
            secrets: SecretBox::new([7; 32]),
            settings,
        }
    }

    /// A context as one replica has it (its own Redis connection).
    async fn replica(&self) -> SyncContext {
        let client = redis::Client::open(redis_url()).unwrap();
        let redis = redis::aio::ConnectionManager::new(client).await.unwrap();
        SyncContext::new(
            self.db.conn().clone(),
            redis,
            self.prefix.clone(),
            self.secrets.clone(),
            self.settings.clone(),
        )
    }

    async fn sim(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.sim_base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        let text = resp.text().await.unwrap();
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Access tokens the simulator issued.
    async fn issued_access_tokens(&self) -> Vec<String> {
        let v = self
            .sim(reqwest::Method::GET, "/_sim/hubspot/oauth/tokens", None)
            .await;
        v["access"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["token"].as_str().unwrap().to_owned())
            .collect()
    }

    /// An integration holding a freshly minted token pair that expires in `expires_in`.
    async fn connected(&self, expires_in: chrono::Duration) -> (Model, Value) {
        let minted = self
            .sim(
                reqwest::Method::POST,
                "/_sim/hubspot/oauth/tokens",
                Some(json!({})),
            )
            .await;
        let seal = |v: &Value| self.secrets.seal(v.as_str().unwrap()).unwrap();
        let model = ActiveModel {
            name: Set("acme".into()),
            hubspot_portal_id: Set(Some(PORTAL)),
            userflow_environment: Set(Some("env_demo".into())),
            userflow_api_key_enc: Set(Some(self.secrets.seal("ak_sim_demo").unwrap())),
            status: Set(IntegrationStatus::Connected),
            hubspot_access_token_enc: Set(Some(seal(&minted["access_token"]))),
            hubspot_refresh_token_enc: Set(Some(seal(&minted["refresh_token"]))),
            hubspot_token_expires_at: Set(Some(Utc::now() + expires_in)),
            ..Default::default()
        }
        .insert(self.db.conn())
        .await
        .unwrap();
        (model, minted)
    }

    async fn row(&self, id: uuid::Uuid) -> Model {
        Integrations::find_by_id(id)
            .one(self.db.conn())
            .await
            .unwrap()
            .unwrap()
    }

    async fn close(self) {
        let client = redis::Client::open(redis_url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{{{}*", self.prefix))
            .query_async(&mut conn)
            .await
            .unwrap();
        if !keys.is_empty() {
            let _: () = redis::cmd("DEL")
                .arg(keys)
                .query_async(&mut conn)
                .await
                .unwrap();
        }
        self.db.close().await.unwrap();
    }
}

async fn twenty_callers_refresh_once(backend: Backend) {
    let env = Env::start(backend).await;
    // Inside the five-minute margin: every caller wants a refresh.
    let (model, minted) = env.connected(chrono::Duration::seconds(60)).await;
    let old = minted["access_token"].as_str().unwrap().to_owned();
    assert_eq!(env.issued_access_tokens().await, vec![old.clone()]);

    let mut replicas = Vec::new();
    for _ in 0..4 {
        replicas.push(env.replica().await);
    }
    let mut callers = Vec::new();
    for n in 0..20 {
        let ctx = replicas[n % replicas.len()].clone();
        let id = model.id;
        callers.push(tokio::spawn(async move {
            ctx.tenant(id).await?.hubspot_token().await
        }));
    }
    let mut tokens = Vec::new();
    for c in callers {
        tokens.push(c.await.unwrap().unwrap());
    }

    let issued = env.issued_access_tokens().await;
    assert_eq!(
        issued.len(),
        2,
        "exactly one refresh at HubSpot: {issued:?}"
    );
    let new = issued.into_iter().find(|t| *t != old).unwrap();
    assert!(
        tokens.iter().all(|t| *t == new),
        "every caller got the new token"
    );

    let row = env.row(model.id).await;
    let stored = env
        .secrets
        .open(row.hubspot_access_token_enc.as_deref().unwrap())
        .unwrap();
    assert_eq!(stored, new);
    let expires = row.hubspot_token_expires_at.unwrap();
    assert!(
        expires > Utc::now() + chrono::Duration::minutes(25),
        "{expires}"
    );
    assert_eq!(row.status, IntegrationStatus::Connected);

    // Fresh now: no further refresh.
    let again = replicas[0]
        .tenant(model.id)
        .await
        .unwrap()
        .hubspot()
        .await
        .unwrap();
    drop(again);
    assert_eq!(env.issued_access_tokens().await.len(), 2);
    env.close().await;
}

async fn revoked_refresh_token_expires_the_authorization(backend: Backend) {
    let env = Env::start(backend).await;
    let (model, _) = env.connected(chrono::Duration::seconds(10)).await;
    // The admin uninstalls the app: every token of the app on the portal dies.
    let gone = env
        .sim(
            reqwest::Method::DELETE,
            &format!("/_sim/hubspot/portals/{PORTAL}/apps/54321/install"),
            None,
        )
        .await;
    assert_eq!(gone["installed"], false);

    let ctx = env.replica().await;
    let err = ctx
        .tenant(model.id)
        .await
        .unwrap()
        .hubspot()
        .await
        .unwrap_err();
    let SyncError::AuthorizationExpired { reason, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(
        reason.contains("HubSpot refused the refresh token"),
        "{reason}"
    );
    assert!(reason.contains("reconnect HubSpot"), "{reason}");

    let row = env.row(model.id).await;
    assert_eq!(row.status, IntegrationStatus::AuthorizationExpired);
    assert_eq!(row.status_reason.as_deref(), Some(reason.as_str()));

    // Later callers are told at once, without asking HubSpot again.
    let issued = env.issued_access_tokens().await.len();
    let err = ctx
        .tenant(model.id)
        .await
        .unwrap()
        .hubspot_token()
        .await
        .unwrap_err();
    assert!(
        matches!(err, SyncError::AuthorizationExpired { .. }),
        "{err:?}"
    );
    assert_eq!(env.issued_access_tokens().await.len(), issued);
    env.close().await;
}

backend_tests!(
    twenty_callers_refresh_once,
    revoked_refresh_token_expires_the_authorization
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthorized_refreshes_once_unless_already_replaced() {
    let env = Env::start(Backend::Sqlite).await;
    // Valid for half an hour, but HubSpot expires it early.
    let (model, minted) = env.connected(chrono::Duration::minutes(30)).await;
    let old = minted["access_token"].as_str().unwrap().to_owned();
    env.sim(
        reqwest::Method::POST,
        "/_sim/hubspot/oauth/expire",
        Some(json!({"token": old})),
    )
    .await;
    let ctx = env.replica().await;
    let tenant = ctx.tenant(model.id).await.unwrap();
    assert_eq!(tenant.hubspot_token().await.unwrap(), old, "not due yet");

    let (a, b) = tokio::join!(tenant.refresh_hubspot(&old), tenant.refresh_hubspot(&old));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a, b);
    assert_ne!(a, old);
    assert_eq!(env.issued_access_tokens().await.len(), 2, "one refresh");

    // A replica still holding the old token learns the new one without a refresh.
    let stale = ctx.tenant(model.id).await.unwrap();
    assert_eq!(stale.refresh_hubspot(&old).await.unwrap(), a);
    assert_eq!(env.issued_access_tokens().await.len(), 2);

    // The refreshed token works.
    let client = tenant.hubspot_with_token(a).unwrap();
    let page =
        hubsync_hubspot::requests::objects::ListObjects::new(hubsync_hubspot::ObjectType::Contacts)
            .limit(1)
            .send(&client)
            .await;
    assert!(page.is_ok(), "{page:?}");
    env.close().await;
}
