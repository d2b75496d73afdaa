//! A connected integration against both in-process simulators, a throw-away database and a
//! unique Redis prefix, with helpers to store mappings and look at both systems. Shared by
//! the engine tests and the worker tests.
#![allow(clippy::unwrap_used, dead_code)]

use hubsync_core::secrets::SecretBox;
use hubsync_entities::integrations::ActiveModel as IntegrationRow;
use hubsync_entities::prelude::{ObjectLinksEntity, SyncLogEntity};
use hubsync_entities::{
    EventStreamMode, FieldDataType, IntegrationStatus, StringList, SyncDirection,
    TimelineTemplates, UserflowMatchAttribute, UserflowObjectType, event_streams, field_mappings,
    object_links, object_mappings, sync_log,
};
use hubsync_migrations::test_support::{Backend, TestDb};
use hubsync_sim::{hubspot, serve, userflow};
use hubsync_sync::{JobQueues, SyncContext, test_support};
use reqwest::Method;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, QueryOrder};
use serde_json::{Value, json};
use uuid::Uuid;

pub const PORTAL: i64 = test_support::PORTAL;
pub const PAT: &str = "pat-sim-62515";
pub const UF_KEY: &str = test_support::USERFLOW_KEY;
pub const EMAIL1: &str = "donald.turing1@acme.example";

pub fn redis_url() -> String {
    std::env::var("HUBSYNC_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

pub struct Env {
    pub db: TestDb,
    pub hs: hubspot::Simulator,
    pub uf: userflow::Simulator,
    _hs_srv: serve::Running,
    _uf_srv: serve::Running,
    pub hs_base: String,
    pub uf_base: String,
    pub http: reqwest::Client,
    pub prefix: String,
    pub ctx: SyncContext,
    pub jobs: JobQueues,
    pub integration_id: Uuid,
}

impl Env {
    pub async fn start(backend: Backend) -> Env {
        let hs_cfg: hubspot::Config =
            serde_json::from_value(json!({"crm": {"search_index_lag_ms": 0}})).unwrap();
        let hs = hubspot::Simulator::new(hs_cfg);
        let uf = userflow::Simulator::new(userflow::Config::default());
        let hs_srv = serve::spawn("127.0.0.1:0", hs.router()).await.unwrap();
        let uf_srv = serve::spawn("127.0.0.1:0", uf.router()).await.unwrap();
        let (hs_base, uf_base) = (hs_srv.base_url(), uf_srv.base_url());
        let settings = test_support::sim_settings(&hs_base, &uf_base);
        let db = TestDb::migrated(backend).await.unwrap();
        let prefix = format!("test-{}", Uuid::new_v4().simple());
        let secrets = SecretBox::new([9; 32]);
        let client = redis::Client::open(redis_url()).unwrap();
        let redis = redis::aio::ConnectionManager::new(client.clone())
            .await
            .unwrap();
        let ctx = SyncContext::new(
            db.conn().clone(),
            redis,
            prefix.clone(),
            secrets.clone(),
            settings,
        );
        let jobs = JobQueues::new(client, &prefix).unwrap();
        let http = reqwest::Client::new();
        let tokens = test_support::mint_tokens(&hs_base, &json!({})).await;
        let integration =
            test_support::connected_integration(db.conn(), &secrets, "acme", &tokens).await;
        Env {
            db,
            hs,
            uf,
            _hs_srv: hs_srv,
            _uf_srv: uf_srv,
            hs_base,
            uf_base,
            http,
            prefix,
            ctx,
            jobs,
            integration_id: integration.id,
        }
    }

    /// Deletes the test's Redis keys and its database.
    pub async fn close(self) {
        let client = redis::Client::open(redis_url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("*{}*", self.prefix))
            .query_async(&mut conn)
            .await
            .unwrap();
        if !keys.is_empty() {
            let _: () = redis::cmd("DEL")
                .arg(&keys)
                .query_async(&mut conn)
                .await
                .unwrap();
        }
        self.db.close().await.unwrap();
    }

    async fn call(
        &self,
        method: Method,
        url: String,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> Value {
        let mut req = self.http.request(method, &url);
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert!(status.is_success(), "{url}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// A HubSpot call (API with the private-app token, or a control route).
    pub async fn hs_api(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        self.call(method, format!("{}{path}", self.hs_base), Some(PAT), body)
            .await
    }

    /// A Userflow call (API with the demo key, or a control route).
    pub async fn uf_api(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        self.call(
            method,
            format!("{}{path}", self.uf_base),
            Some(UF_KEY),
            body,
        )
        .await
    }

    /// Creates a HubSpot property on `object_type`.
    pub async fn create_property(&self, object_type: &str, name: &str, ty: &str) {
        let field_type = match ty {
            "number" => "number",
            "datetime" | "date" => "date",
            "bool" => "booleancheckbox",
            _ => "text",
        };
        let group = if object_type == "companies" {
            "companyinformation"
        } else {
            "contactinformation"
        };
        self.hs_api(
            Method::POST,
            &format!("/crm/v3/properties/{object_type}"),
            Some(json!({"name": name, "label": name, "type": ty, "fieldType": field_type, "groupName": group})),
        )
        .await;
    }

    /// The HubSpot object as the simulator holds it (all properties, associations).
    pub async fn hs_object(&self, object_type: &str, id: &str) -> Value {
        self.hs_api(
            Method::GET,
            &format!("/_sim/hubspot/portals/{PORTAL}/objects/{object_type}/{id}"),
            None,
        )
        .await
    }

    pub async fn hs_property(&self, object_type: &str, id: &str, name: &str) -> Option<String> {
        let o = self.hs_object(object_type, id).await;
        o["properties"][name].as_str().map(str::to_owned)
    }

    /// Sets properties as a person in HubSpot's UI would.
    pub async fn hs_ui_set(&self, object_type: &str, id: &str, props: Value) {
        self.hs_api(
            Method::PATCH,
            &format!("/_sim/hubspot/portals/{PORTAL}/ui/objects/{object_type}/{id}"),
            Some(json!({ "properties": props })),
        )
        .await;
    }

    pub async fn contact_id(&self, email: &str) -> String {
        let v = self
            .hs_api(
                Method::GET,
                &format!("/crm/v3/objects/contacts/{email}?idProperty=email"),
                None,
            )
            .await;
        v["id"].as_str().unwrap().to_owned()
    }

    /// Calls to the HubSpot API counted by route (`"PATCH /crm/v3/objects/{objectType}/{objectId}"`).
    pub async fn hs_calls(&self, route: &str) -> u64 {
        let v = self.hs_api(Method::GET, "/_sim/hubspot/calls", None).await;
        v["counts"][route].as_u64().unwrap_or(0)
    }

    /// Requests to the Userflow API counted by route (`"POST /users"`).
    pub async fn uf_requests(&self, route: &str) -> u64 {
        let v = self
            .uf_api(Method::GET, "/_sim/userflow/requests", None)
            .await;
        v["counts"]["by_route"][route].as_u64().unwrap_or(0)
    }

    pub async fn uf_user(&self, id: &str) -> Value {
        self.uf_api(Method::GET, &format!("/users/{id}"), None)
            .await
    }

    pub async fn uf_group(&self, id: &str) -> Value {
        self.uf_api(Method::GET, &format!("/groups/{id}"), None)
            .await
    }

    pub async fn uf_user_count(&self) -> u64 {
        let v = self.uf_api(Method::GET, "/_sim/userflow/envs", None).await;
        v.as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == "env_demo")
            .unwrap()["users"]
            .as_u64()
            .unwrap()
    }

    /// Stores an enabled object mapping.
    pub async fn mapping(
        &self,
        hubspot_type: &str,
        userflow_type: UserflowObjectType,
        match_property: &str,
        match_attribute: UserflowMatchAttribute,
    ) -> Uuid {
        object_mappings::ActiveModel {
            integration_id: Set(self.integration_id),
            hubspot_object_type: Set(hubspot_type.into()),
            userflow_object_type: Set(userflow_type),
            match_hubspot_property: Set(match_property.into()),
            match_userflow_attribute: Set(match_attribute),
            enabled: Set(true),
            ..Default::default()
        }
        .insert(self.db.conn())
        .await
        .unwrap()
        .id
    }

    /// Contacts ↔ users by email.
    pub async fn contacts_by_email(&self) -> Uuid {
        self.mapping(
            "contacts",
            UserflowObjectType::User,
            "email",
            UserflowMatchAttribute::Email,
        )
        .await
    }

    pub async fn field(
        &self,
        mapping: Uuid,
        direction: SyncDirection,
        source: &str,
        target: &str,
        ty: FieldDataType,
    ) {
        field_mappings::ActiveModel {
            object_mapping_id: Set(mapping),
            direction: Set(direction),
            source_path: Set(source.into()),
            target: Set(target.into()),
            data_type: Set(ty),
            ..Default::default()
        }
        .insert(self.db.conn())
        .await
        .unwrap();
    }

    pub async fn to_userflow(&self, mapping: Uuid, source: &str, target: &str) {
        self.field(
            mapping,
            SyncDirection::HubspotToUserflow,
            source,
            target,
            FieldDataType::String,
        )
        .await;
    }

    pub async fn to_hubspot(&self, mapping: Uuid, source: &str, target: &str) {
        self.field(
            mapping,
            SyncDirection::UserflowToHubspot,
            source,
            target,
            FieldDataType::String,
        )
        .await;
    }

    pub async fn event_stream(&self, mapping: Uuid, templates: &[(&str, &str)]) {
        event_streams::ActiveModel {
            object_mapping_id: Set(mapping),
            mode: Set(EventStreamMode::All),
            event_names: Set(StringList::new()),
            timeline_templates: Set(if templates.is_empty() {
                None
            } else {
                Some(templates.iter().copied().collect::<TimelineTemplates>())
            }),
            ..Default::default()
        }
        .insert(self.db.conn())
        .await
        .unwrap();
    }

    pub async fn set_status(&self, status: IntegrationStatus) {
        IntegrationRow {
            id: Set(self.integration_id),
            status: Set(status),
            ..Default::default()
        }
        .update(self.db.conn())
        .await
        .unwrap();
    }

    pub async fn log(&self) -> Vec<sync_log::Model> {
        SyncLogEntity::find()
            .order_by_asc(sync_log::Column::Id)
            .all(self.db.conn())
            .await
            .unwrap()
    }

    pub async fn links(&self) -> Vec<object_links::Model> {
        ObjectLinksEntity::find().all(self.db.conn()).await.unwrap()
    }
}
