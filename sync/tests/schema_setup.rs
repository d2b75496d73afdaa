//! Schema setup and the app's webhook subscriptions against the in-process HubSpot and
//! Userflow simulators, a throw-away database per test and a real Redis.
#![allow(clippy::unwrap_used)]

use hubsync_core::secrets::SecretBox;
use hubsync_entities::setup_status::{SetupState, TimelineAvailability};
use hubsync_entities::{
    EventStreamMode, FieldDataType, IntegrationStatus, StringList, SyncDirection,
    UserflowMatchAttribute, UserflowObjectType, event_streams, field_mappings, integrations,
    object_mappings,
};
use hubsync_migrations::test_support::{Backend, TestDb};
use hubsync_sim::{hubspot, serve, userflow};
use hubsync_sync::{SyncContext, app_webhooks, schema_setup, test_support};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};
use uuid::Uuid;

const APP_ID: u64 = 54321;
const DEV_KEY: &str = "sim-dev-key";
const PUBLIC: &str = "https://hubsync.example.test";

fn redis_url() -> String {
    std::env::var("HUBSYNC_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

struct Env {
    db: TestDb,
    hs_base: String,
    _hs_srv: serve::Running,
    _uf_srv: serve::Running,
    http: reqwest::Client,
    ctx: SyncContext,
    token: String,
}

impl Env {
    async fn start(developer_key: bool) -> Env {
        Env::start_on(Backend::Sqlite, developer_key).await
    }

    async fn start_on(backend: Backend, developer_key: bool) -> Env {
        let cfg: hubspot::Config = serde_json::from_value(json!({
            "seed": {"custom_objects": true},
            "crm": {"search_index_lag_ms": 0},
        }))
        .unwrap();
        let hs = hubspot::Simulator::new(cfg);
        let hs_srv = serve::spawn("127.0.0.1:0", hs.router()).await.unwrap();
        let hs_base = hs_srv.base_url();
        let uf = userflow::Simulator::new(userflow::Config::default());
        let uf_srv = serve::spawn("127.0.0.1:0", uf.router()).await.unwrap();
        let mut settings = test_support::sim_settings(&hs_base, &uf_srv.base_url());
        settings.public_url = Some(PUBLIC.into());
        if !developer_key {
            settings.hubspot.developer_api_key = None;
        }
        let db = TestDb::migrated(backend).await.unwrap();
        let redis = redis::aio::ConnectionManager::new(redis::Client::open(redis_url()).unwrap())
            .await
            .unwrap();
        let ctx = SyncContext::new(
            db.conn().clone(),
            redis,
            format!("test-{}", Uuid::new_v4().simple()),
            SecretBox::new([9; 32]),
            settings,
        );
        let http = reqwest::Client::new();
        let token = test_support::mint_tokens(&hs_base, &json!({}))
            .await
            .access_token;
        Env {
            db,
            hs_base,
            _hs_srv: hs_srv,
            _uf_srv: uf_srv,
            http,
            ctx,
            token,
        }
    }

    async fn integration(&self) -> Uuid {
        let tokens = test_support::Tokens {
            access_token: self.token.clone(),
            refresh_token: "unused".into(),
        };
        test_support::connected_integration(self.db.conn(), &self.ctx.secrets, "acme", &tokens)
            .await
            .id
    }

    /// A contact ↔ user mapping: `plan`/`nps` to HubSpot, `firstname` and `companies.name`
    /// from HubSpot, events as given.
    async fn mapping(
        &self,
        integration: Uuid,
        object_type: &str,
        mode: EventStreamMode,
        events: &[&str],
    ) -> Uuid {
        let db = self.db.conn();
        let m = object_mappings::ActiveModel {
            integration_id: Set(integration),
            hubspot_object_type: Set(object_type.into()),
            userflow_object_type: Set(UserflowObjectType::User),
            match_hubspot_property: Set("email".into()),
            match_userflow_attribute: Set(UserflowMatchAttribute::Email),
            enabled: Set(true),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
        let fields = [
            (
                SyncDirection::UserflowToHubspot,
                "plan",
                "userflow_user_plan",
                FieldDataType::String,
            ),
            (
                SyncDirection::UserflowToHubspot,
                "nps",
                "userflow_user_nps",
                FieldDataType::Number,
            ),
            (
                SyncDirection::HubspotToUserflow,
                "firstname",
                "first_name",
                FieldDataType::String,
            ),
            (
                SyncDirection::HubspotToUserflow,
                "companies.name",
                "company_name",
                FieldDataType::String,
            ),
        ];
        for (direction, source, target, ty) in fields {
            field_mappings::ActiveModel {
                object_mapping_id: Set(m.id),
                direction: Set(direction),
                source_path: Set(source.into()),
                target: Set(target.into()),
                data_type: Set(ty),
                ..Default::default()
            }
            .insert(db)
            .await
            .unwrap();
        }
        event_streams::ActiveModel {
            object_mapping_id: Set(m.id),
            mode: Set(mode),
            event_names: Set(StringList::from_iter(events.iter().copied())),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
        m.id
    }

    async fn get(&self, path: &str, bearer: bool) -> Value {
        let mut req = self.http.get(format!("{}{path}", self.hs_base));
        if bearer {
            req = req.bearer_auth(&self.token);
        }
        let resp = req.send().await.unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap()
    }

    async fn property(&self, object_type: &str, name: &str) -> Option<Value> {
        let v = self
            .get(&format!("/crm/v3/properties/{object_type}"), true)
            .await;
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
    }

    async fn templates(&self) -> Vec<Value> {
        let v = self
            .get(
                &format!("/integrators/timeline/v3/{APP_ID}/event-templates?hapikey={DEV_KEY}"),
                false,
            )
            .await;
        v["results"].as_array().unwrap().clone()
    }

    async fn subscriptions(&self) -> Vec<String> {
        let v = self
            .get(
                &format!("/webhooks/v3/{APP_ID}/subscriptions?hapikey={DEV_KEY}"),
                false,
            )
            .await;
        let mut out: Vec<String> = v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let mut k = s["eventType"].as_str().unwrap().to_owned();
                if let Some(t) = s["objectTypeId"].as_str() {
                    k.push_str(&format!("[{t}]"));
                }
                if let Some(p) = s["propertyName"].as_str() {
                    k.push_str(&format!(":{p}"));
                }
                assert_eq!(s["active"], true, "{s}");
                k
            })
            .collect();
        out.sort();
        out
    }

    async fn stored_status(&self, id: Uuid) -> hubsync_entities::setup_status::SetupStatus {
        integrations::Entity::find_by_id(id)
            .one(self.db.conn())
            .await
            .unwrap()
            .unwrap()
            .setup_status
            .unwrap()
    }
}

#[tokio::test]
async fn ensure_schema_creates_group_properties_and_templates_once() {
    creates_once(Backend::Sqlite).await;
}

#[tokio::test]
async fn ensure_schema_creates_group_properties_and_templates_once_postgres() {
    creates_once(Backend::Postgres).await;
}

async fn creates_once(backend: Backend) {
    let env = Env::start_on(backend, true).await;
    let id = env.integration().await;
    let mapping = env
        .mapping(
            id,
            "contacts",
            EventStreamMode::Selected,
            &["flow_started", "checklist_completed"],
        )
        .await;
    let tenant = env.ctx.tenant(id).await.unwrap();

    let report = schema_setup::ensure_schema(&tenant).await.unwrap();
    assert_eq!(report.groups_created, ["contacts"]);
    assert_eq!(
        report.properties_created,
        ["contacts.userflow_user_nps", "contacts.userflow_user_plan"]
    );
    assert_eq!(
        report.templates_created,
        ["contacts.checklist_completed", "contacts.flow_started"]
    );
    assert_eq!(report.timeline, TimelineAvailability::Available);
    assert!(report.problems.is_empty(), "{:?}", report.problems);

    let groups = env.get("/crm/v3/properties/contacts/groups", true).await;
    let group = groups["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "userflow")
        .cloned()
        .expect("group created");
    assert_eq!(group["label"], "Userflow");
    let nps = env
        .property("contacts", "userflow_user_nps")
        .await
        .expect("nps");
    assert_eq!(
        (nps["type"].as_str(), nps["fieldType"].as_str()),
        (Some("number"), Some("number"))
    );
    assert_eq!(nps["groupName"], "userflow");
    let plan = env
        .property("contacts", "userflow_user_plan")
        .await
        .expect("plan");
    assert_eq!(plan["type"], "string");

    let templates = env.templates().await;
    assert_eq!(templates.len(), 2, "{templates:?}");
    let flow = templates
        .iter()
        .find(|t| t["name"] == "Userflow flow_started")
        .expect("flow template");
    assert_eq!(flow["objectType"], "contacts");
    let tokens: Vec<&str> = flow["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(tokens.contains(&"flow_name"), "{tokens:?}");
    let stream = event_streams::Entity::find()
        .all(env.db.conn())
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.object_mapping_id == mapping)
        .unwrap();
    let ids = stream.timeline_templates.unwrap();
    assert_eq!(ids.get("flow_started"), flow["id"].as_str());
    assert!(ids.get("checklist_completed").is_some());

    let status = env.stored_status(id).await;
    assert_eq!(status.state, SetupState::Done);
    assert_eq!(status.schema.as_ref(), Some(&report));

    // A second run finds everything and creates nothing.
    let again = schema_setup::ensure_schema(&tenant).await.unwrap();
    assert!(again.groups_created.is_empty());
    assert!(again.properties_created.is_empty(), "{again:?}");
    assert!(again.templates_created.is_empty(), "{again:?}");
    assert_eq!(again.properties_present.len(), 2);
    assert_eq!(again.templates_present.len(), 2);
    assert_eq!(env.templates().await.len(), 2);
}

#[tokio::test]
async fn a_property_with_another_type_is_reported_not_overwritten() {
    let env = Env::start(true).await;
    let id = env.integration().await;
    env.mapping(id, "contacts", EventStreamMode::Off, &[]).await;
    let resp = env
        .http
        .post(format!("{}/crm/v3/properties/contacts", env.hs_base))
        .bearer_auth(&env.token)
        .json(&json!({"name": "userflow_user_nps", "label": "NPS", "type": "string", "fieldType": "text", "groupName": "contactinformation"}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let tenant = env.ctx.tenant(id).await.unwrap();
    let report = schema_setup::ensure_schema(&tenant).await.unwrap();
    assert_eq!(report.properties_created, ["contacts.userflow_user_plan"]);
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(
        report.problems[0].contains("userflow_user_nps") && report.problems[0].contains("string"),
        "{:?}",
        report.problems
    );
    let nps = env.property("contacts", "userflow_user_nps").await.unwrap();
    assert_eq!(nps["type"], "string");
    assert_eq!(report.timeline, TimelineAvailability::NotNeeded);
}

#[tokio::test]
async fn without_a_developer_key_last_event_properties_replace_templates() {
    let env = Env::start(false).await;
    let id = env.integration().await;
    env.mapping(
        id,
        "contacts",
        EventStreamMode::Selected,
        &["flow_completed"],
    )
    .await;
    let tenant = env.ctx.tenant(id).await.unwrap();
    let report = schema_setup::ensure_schema(&tenant).await.unwrap();
    assert_eq!(report.timeline, TimelineAvailability::Unavailable);
    assert!(
        report
            .timeline_reason
            .as_deref()
            .unwrap_or_default()
            .contains("developer API key"),
        "{report:?}"
    );
    assert!(report.templates_created.is_empty());
    assert_eq!(
        report.fallback_properties,
        ["contacts.userflow_user_last_flow_completed_at"]
    );
    let p = env
        .property("contacts", "userflow_user_last_flow_completed_at")
        .await
        .expect("fallback property");
    assert_eq!(p["type"], "datetime");
    let status = env.stored_status(id).await;
    assert_eq!(
        status.schema.unwrap().timeline,
        TimelineAvailability::Unavailable
    );
    // Idempotent too.
    let again = schema_setup::ensure_schema(&tenant).await.unwrap();
    assert!(again.properties_created.is_empty(), "{again:?}");
}

#[tokio::test]
async fn a_refused_timeline_falls_back_and_says_why() {
    let env = Env::start(true).await;
    let resp = env
        .http
        .put(format!("{}/_sim/hubspot/timeline/knobs", env.hs_base))
        .json(&json!({"timeline_available": false}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let id = env.integration().await;
    env.mapping(id, "contacts", EventStreamMode::Selected, &["flow_started"])
        .await;
    let tenant = env.ctx.tenant(id).await.unwrap();
    let report = schema_setup::ensure_schema(&tenant).await.unwrap();
    assert_eq!(report.timeline, TimelineAvailability::Unavailable);
    assert!(
        report
            .timeline_reason
            .as_deref()
            .unwrap_or_default()
            .contains("403"),
        "{report:?}"
    );
    assert!(
        env.property("contacts", "userflow_user_last_flow_started_at")
            .await
            .is_some()
    );
}

#[tokio::test]
async fn a_failed_setup_is_recorded() {
    let env = Env::start(true).await;
    let id = integrations::ActiveModel {
        name: Set("no tokens".into()),
        status: Set(IntegrationStatus::Pending),
        ..Default::default()
    }
    .insert(env.db.conn())
    .await
    .unwrap()
    .id;
    env.mapping(id, "contacts", EventStreamMode::Off, &[]).await;
    let tenant = env.ctx.tenant(id).await.unwrap();
    assert!(schema_setup::ensure_schema(&tenant).await.is_err());
    let status = env.stored_status(id).await;
    assert_eq!(status.state, SetupState::Failed);
    let error = status.error.unwrap();
    assert!(error.contains("HubSpot"), "{error}");
}

#[tokio::test]
async fn reconcile_subscribes_to_what_mappings_need_and_removes_the_rest() {
    let env = Env::start(true).await;
    let id = env.integration().await;
    env.mapping(id, "contacts", EventStreamMode::Off, &[]).await;
    // A stale subscription and a disconnected integration's mapping: both must go.
    let resp = env
        .http
        .post(format!(
            "{}/webhooks/v3/{APP_ID}/subscriptions?hapikey={DEV_KEY}",
            env.hs_base
        ))
        .json(
            &json!({"eventType": "deal.propertyChange", "propertyName": "amount", "active": true}),
        )
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let gone = integrations::ActiveModel {
        name: Set("gone".into()),
        status: Set(IntegrationStatus::Disconnected),
        ..Default::default()
    }
    .insert(env.db.conn())
    .await
    .unwrap()
    .id;
    env.mapping(gone, "deals", EventStreamMode::Off, &[]).await;

    let report = app_webhooks::reconcile(&env.ctx).await.unwrap();
    assert!(report.in_line, "{report:?}");
    assert_eq!(report.deleted, ["deal.propertyChange:amount"]);
    assert!(
        report.drift.iter().any(|d| d.contains("no target URL")),
        "{report:?}"
    );
    let want = [
        "company.propertyChange:name",
        "contact.associationChange",
        "contact.creation",
        "contact.deletion",
        "contact.merge",
        "contact.propertyChange:email",
        "contact.propertyChange:firstname",
    ];
    assert_eq!(env.subscriptions().await, want);
    let settings = env
        .get(
            &format!("/webhooks/v3/{APP_ID}/settings?hapikey={DEV_KEY}"),
            false,
        )
        .await;
    assert_eq!(settings["targetUrl"], format!("{PUBLIC}/webhooks/hubspot"));

    // In line: a second run changes nothing.
    let again = app_webhooks::reconcile(&env.ctx).await.unwrap();
    assert!(again.in_line && again.drift.is_empty(), "{again:?}");
    assert!(again.created.is_empty() && again.deleted.is_empty());

    // A custom object mapping subscribes with the generic object.* types.
    let projects: Value = env.get("/crm-object-schemas/v3/schemas", true).await;
    let type_id = projects["results"][0]["objectTypeId"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = env.integration().await;
    env.mapping(other, &type_id, EventStreamMode::Off, &[])
        .await;
    let report = app_webhooks::reconcile_and_record(&env.ctx, other)
        .await
        .unwrap();
    assert!(report.in_line, "{report:?}");
    assert!(
        report
            .created
            .contains(&format!("object.creation[{type_id}]")),
        "{report:?}"
    );
    let status = env.stored_status(other).await;
    assert!(status.webhooks.unwrap().in_line);
}

#[tokio::test]
async fn reconcile_without_a_developer_key_is_recorded_not_in_line() {
    let env = Env::start(false).await;
    let id = env.integration().await;
    assert!(app_webhooks::reconcile(&env.ctx).await.is_err());
    let report = app_webhooks::reconcile_and_record(&env.ctx, id)
        .await
        .unwrap();
    assert!(!report.in_line);
    let integration = env.ctx.tenant(id).await.unwrap().integration;
    let view = schema_setup::status_json(&integration);
    let text = view["webhooks"].as_str().unwrap();
    assert!(text.starts_with("not in line because"), "{text}");
    assert!(text.contains("developer-api-key"), "{text}");
}

#[tokio::test]
async fn mode_all_sets_up_built_in_events_and_later_ones_on_demand() {
    let env = Env::start(true).await;
    let id = env.integration().await;
    let mapping = env.mapping(id, "contacts", EventStreamMode::All, &[]).await;
    let projects: Value = env.get("/crm-object-schemas/v3/schemas", true).await;
    let type_id = projects["results"][0]["objectTypeId"]
        .as_str()
        .unwrap()
        .to_owned();
    let custom = object_mappings::ActiveModel {
        integration_id: Set(id),
        hubspot_object_type: Set(type_id.clone()),
        userflow_object_type: Set(UserflowObjectType::Group),
        match_hubspot_property: Set("hs_object_id".into()),
        match_userflow_attribute: Set(UserflowMatchAttribute::Id),
        enabled: Set(true),
        ..Default::default()
    }
    .insert(env.db.conn())
    .await
    .unwrap();
    event_streams::ActiveModel {
        object_mapping_id: Set(custom.id),
        mode: Set(EventStreamMode::Selected),
        event_names: Set(StringList::from_iter(["flow_completed"])),
        ..Default::default()
    }
    .insert(env.db.conn())
    .await
    .unwrap();

    let tenant = env.ctx.tenant(id).await.unwrap();
    let report = schema_setup::ensure_schema(&tenant).await.unwrap();
    for name in schema_setup::BUILT_IN_EVENTS {
        assert!(
            report
                .templates_created
                .contains(&format!("contacts.{name}")),
            "{name}: {report:?}"
        );
    }
    let templates = env.templates().await.len();
    assert!(templates >= schema_setup::BUILT_IN_EVENTS.len());
    // Custom object types get last-event properties and the reason.
    assert_eq!(report.timeline, TimelineAvailability::Unavailable);
    assert!(
        report
            .timeline_reason
            .as_deref()
            .unwrap_or_default()
            .contains("custom object"),
        "{report:?}"
    );
    assert!(
        env.property(&type_id, "userflow_group_last_flow_completed_at")
            .await
            .is_some()
    );
    assert!(report.groups_created.contains(&type_id), "{report:?}");

    // An event first seen later gets its template on demand, once.
    let first = schema_setup::ensure_event_template(&tenant, mapping, "report_exported")
        .await
        .unwrap()
        .expect("template id");
    assert_eq!(env.templates().await.len(), templates + 1);
    let tenant = env.ctx.tenant(id).await.unwrap();
    let again = schema_setup::ensure_event_template(&tenant, mapping, "report_exported")
        .await
        .unwrap();
    assert_eq!(again.as_deref(), Some(first.as_str()));
    assert_eq!(env.templates().await.len(), templates + 1);
    assert_eq!(
        schema_setup::ensure_event_template(&tenant, custom.id, "flow_completed")
            .await
            .unwrap(),
        None
    );
}
