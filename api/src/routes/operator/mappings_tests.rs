//! Mappings API against the in-process HubSpot and Userflow simulators over real HTTP, a
//! migrated SQLite database and the real Redis.

use hubsync_entities::{SyncDirection, event_streams, field_mappings};
use hubsync_sim::{hubspot, serve, userflow};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use hubsync_sync::test_support::{Tokens, connected_integration, sim_settings};

use crate::test_support::{TestApp, call_router, state_with};

const TOKEN: &str = "op-token";
const APP_ID: u64 = 54321;
const DEV_KEY: &str = "sim-dev-key";

struct Env {
    app: TestApp,
    hs: hubspot::Simulator,
    _hs_srv: serve::Running,
    _uf_srv: serve::Running,
    hs_token: String,
}

/// Calls a simulator route in process (control routes and checks).
async fn sim_call(
    sim: &hubspot::Simulator,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    call_router(sim.router(), method, path, bearer, body).await
}

impl Env {
    async fn start() -> Env {
        let cfg: hubspot::Config = serde_json::from_value(json!({
            "seed": {"custom_objects": true},
            "crm": {"search_index_lag_ms": 0},
        }))
        .expect("config");
        let hs = hubspot::Simulator::new(cfg);
        let hs_srv = serve::spawn("127.0.0.1:0", hs.router())
            .await
            .expect("hubspot sim");
        let uf = userflow::Simulator::new(userflow::Config::default());
        let uf_srv = serve::spawn("127.0.0.1:0", uf.router())
            .await
            .expect("userflow sim");
        let settings = hubsync_sync::Settings {
            public_url: Some("https://hubsync.example.test".into()),
            ..sim_settings(&hs_srv.base_url(), &uf_srv.base_url())
        };
        let mut app = TestApp::new(&[TOKEN]).await;
        app.state = state_with(&[TOKEN], settings).await;
        hubsync_migrations::migrate(&app.state.db)
            .await
            .expect("migrate");
        let (status, minted) = sim_call(
            &hs,
            "POST",
            "/_sim/hubspot/oauth/tokens",
            None,
            Some(json!({})),
        )
        .await;
        assert_eq!(status, 201, "{minted}");
        let hs_token = minted["access_token"].as_str().expect("token").to_owned();
        Env {
            app,
            hs,
            _hs_srv: hs_srv,
            _uf_srv: uf_srv,
            hs_token,
        }
    }

    /// A connected integration with sealed simulator credentials.
    async fn integration(&self, name: &str) -> Uuid {
        let tokens = Tokens {
            access_token: self.hs_token.clone(),
            refresh_token: "unused".into(),
        };
        connected_integration(&self.app.state.db, &self.app.state.secrets, name, &tokens)
            .await
            .id
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.app.call(method, path, Some(TOKEN), body).await
    }

    async fn subscriptions(&self) -> Vec<String> {
        let (status, v) = sim_call(
            &self.hs,
            "GET",
            &format!("/webhooks/v3/{APP_ID}/subscriptions?hapikey={DEV_KEY}"),
            None,
            None,
        )
        .await;
        assert_eq!(status, 200, "{v}");
        let mut out: Vec<String> = v["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|s| {
                let mut k = s["eventType"].as_str().expect("type").to_owned();
                if let Some(p) = s["propertyName"].as_str() {
                    k.push_str(&format!(":{p}"));
                }
                k
            })
            .collect();
        out.sort();
        out
    }
}

/// Asserts that `answer` has the shape the OpenAPI document gives schema `name`: every
/// required property, and no property the schema does not name.
fn assert_documented(name: &str, answer: &Value) {
    let doc = serde_json::to_value(crate::openapi::document()).expect("document");
    let schema = &doc["components"]["schemas"][name];
    let properties = schema["properties"].as_object().expect("documented schema");
    let keys = answer.as_object().expect("an object answer");
    for key in keys.keys() {
        assert!(
            properties.contains_key(key),
            "{name}: `{key}` is not documented: {answer}"
        );
    }
    for required in schema["required"].as_array().into_iter().flatten() {
        let required = required.as_str().expect("name");
        assert!(
            keys.contains_key(required),
            "{name}: no `{required}`: {answer}"
        );
    }
}

fn contact_mapping() -> Value {
    json!({
        "hubspot_object_type": "contacts",
        "userflow_object_type": "user",
        "match": {"hubspot_property": "email", "userflow_attribute": "email"},
        "fields_to_userflow": [
            {"hubspot": "firstname", "userflow": "first_name"},
            {"hubspot": "companies.name", "userflow": "company_name"},
            {"hubspot": "lifecyclestage", "userflow": "stage", "type": "string"}
        ],
        "fields_to_hubspot": [
            {"userflow": "plan"},
            {"userflow": "logins"},
            {"userflow": "nps", "type": "number"}
        ],
        "events": {"mode": "selected", "names": ["flow_completed", "flow_started"]}
    })
}

#[tokio::test]
async fn a_valid_contact_user_mapping_is_saved_set_up_and_subscribed() {
    let env = Env::start().await;
    let id = env.integration("acme").await;
    let base = format!("/api/v1/integrations/{id}/mappings");

    // Validation alone saves nothing.
    let (status, v) = env
        .call(
            "POST",
            &format!("{base}?validate_only=true"),
            Some(contact_mapping()),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["valid"], true);
    let (status, v) = env
        .call("POST", &format!("{base}/validate"), Some(contact_mapping()))
        .await;
    assert_eq!((status, &v["valid"]), (200, &json!(true)), "{v}");
    assert_documented("MappingValidation", &v);
    assert_documented("Mapping", &v["mapping"]);
    let (_, listed) = env.call("GET", &base, None).await;
    assert_eq!(listed["mappings"], json!([]));

    let (status, created) = env.call("POST", &base, Some(contact_mapping())).await;
    assert_eq!(status, 201, "{created}");
    assert_documented("Mapping", &created);
    for (field, schema) in [
        ("match", "MappingMatch"),
        ("events", "MappingEvents"),
        ("fields_to_userflow/0", "FieldToUserflow"),
        ("fields_to_hubspot/0", "FieldToHubspot"),
    ] {
        let part = created.pointer(&format!("/{field}")).expect("answered");
        assert_documented(schema, part);
    }
    assert_eq!(created["hubspot_object_type"], "contacts");
    assert_eq!(
        created["match"],
        json!({"hubspot_property": "email", "userflow_attribute": "email"})
    );
    let mut props: Vec<&str> = created["hubspot_properties"]
        .as_array()
        .expect("properties")
        .iter()
        .map(|p| p.as_str().expect("name"))
        .collect();
    props.sort();
    assert_eq!(
        props,
        [
            "userflow_user_logins",
            "userflow_user_nps",
            "userflow_user_plan"
        ]
    );
    let outgoing = created["fields_to_hubspot"].as_array().expect("to hubspot");
    assert!(
        outgoing.contains(
            &json!({"userflow": "logins", "hubspot": "userflow_user_logins", "type": "number"})
        ),
        "{outgoing:?}"
    );
    assert!(
        outgoing.contains(
            &json!({"userflow": "plan", "hubspot": "userflow_user_plan", "type": "string"})
        )
    );
    let incoming = created["fields_to_userflow"]
        .as_array()
        .expect("to userflow");
    assert!(
        incoming.contains(
            &json!({"hubspot": "companies.name", "userflow": "company_name", "type": "string"})
        ),
        "{incoming:?}"
    );
    assert_eq!(created["events"]["mode"], "selected");
    assert_eq!(
        created["events"]["names"],
        json!(["flow_completed", "flow_started"])
    );
    let mapping_id = created["id"].as_str().expect("id").to_owned();

    // Stored as the workers read it.
    let mid = Uuid::parse_str(&mapping_id).expect("uuid");
    let rows = field_mappings::Entity::find()
        .filter(field_mappings::Column::ObjectMappingId.eq(mid))
        .all(&env.app.state.db)
        .await
        .expect("fields");
    assert_eq!(rows.len(), 6);
    let assoc = rows
        .iter()
        .find(|r| r.source_path == "companies.name")
        .expect("assoc row");
    assert_eq!(
        (assoc.direction, assoc.target.as_str()),
        (SyncDirection::HubspotToUserflow, "company_name")
    );
    let nps = rows
        .iter()
        .find(|r| r.source_path == "nps")
        .expect("nps row");
    assert_eq!(
        (nps.direction, nps.target.as_str()),
        (SyncDirection::UserflowToHubspot, "userflow_user_nps")
    );
    let stream = event_streams::Entity::find()
        .filter(event_streams::Column::ObjectMappingId.eq(mid))
        .one(&env.app.state.db)
        .await
        .expect("stream")
        .expect("stream row");
    assert_eq!(stream.event_names.len(), 2);

    // Setup pending with a job queued; webhooks reconciled for the mapped properties.
    let (_, status_view) = env
        .call("GET", &format!("/api/v1/integrations/{id}/status"), None)
        .await;
    assert_eq!(status_view["setup"]["state"], "pending", "{status_view}");
    assert_eq!(status_view["setup"]["webhooks"], "in line", "{status_view}");
    let (_, jobs) = env
        .call(
            "GET",
            &format!("/api/v1/queues/realtime/jobs?state=waiting&tenant={id}"),
            None,
        )
        .await;
    let jobs = jobs["jobs"].as_array().cloned().unwrap_or_default();
    assert!(
        jobs.iter()
            .any(|j| j.to_string().contains("ensure-schema")
                || j.to_string().contains("EnsureSchema")),
        "{jobs:?}"
    );
    let subs = env.subscriptions().await;
    for want in [
        "contact.creation",
        "contact.deletion",
        "contact.merge",
        "contact.associationChange",
        "contact.propertyChange:email",
        "contact.propertyChange:firstname",
        "contact.propertyChange:lifecyclestage",
        "company.propertyChange:name",
    ] {
        assert!(
            subs.iter().any(|s| s == want),
            "{want} missing from {subs:?}"
        );
    }

    // The setup job's report shows in the status.
    let tenant = env.app.state.sync.tenant(id).await.expect("tenant");
    hubsync_sync::schema_setup::ensure_schema(&tenant)
        .await
        .expect("schema setup");
    let (_, status_view) = env
        .call("GET", &format!("/api/v1/integrations/{id}/status"), None)
        .await;
    let setup = &status_view["setup"];
    assert_eq!(setup["state"], "done", "{status_view}");
    assert_eq!(
        setup["timeline"]["availability"], "available",
        "{status_view}"
    );
    assert_eq!(
        setup["schema"]["properties_created"]
            .as_array()
            .map(Vec::len),
        Some(3),
        "{status_view}"
    );
    let (_, shown) = env.call("GET", &format!("{base}/{mapping_id}"), None).await;
    assert!(
        shown["events"]["timeline_templates"]["flow_started"].is_string(),
        "{shown}"
    );

    // Read back, list, replace.
    let (status, shown) = env.call("GET", &format!("{base}/{mapping_id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(shown["id"], created["id"]);
    let (_, listed) = env.call("GET", &base, None).await;
    assert_eq!(listed["mappings"].as_array().map(Vec::len), Some(1));
    assert_documented("MappingList", &listed);
    let mut changed = contact_mapping();
    changed["fields_to_userflow"] = json!([{"hubspot": "jobtitle", "userflow": "job_title"}]);
    changed["events"] = json!({"mode": "off"});
    let (status, replaced) = env
        .call("PUT", &format!("{base}/{mapping_id}"), Some(changed))
        .await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(
        replaced["fields_to_userflow"],
        json!([{"hubspot": "jobtitle", "userflow": "job_title", "type": "string"}])
    );
    let subs = env.subscriptions().await;
    assert!(
        subs.iter().any(|s| s == "contact.propertyChange:jobtitle"),
        "{subs:?}"
    );
    assert!(
        !subs.iter().any(|s| s == "company.propertyChange:name"),
        "stale kept: {subs:?}"
    );

    // A second mapping of the same HubSpot type is refused.
    let (status, v) = env.call("POST", &base, Some(contact_mapping())).await;
    assert_eq!(status, 422, "{v}");

    let (status, _) = env
        .call("DELETE", &format!("{base}/{mapping_id}"), None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = env.call("GET", &format!("{base}/{mapping_id}"), None).await;
    assert_eq!(status, 404);
    assert!(env.subscriptions().await.is_empty());
}

#[tokio::test]
async fn type_mismatches_and_unknown_names_are_422_listing_every_problem() {
    let env = Env::start().await;
    let id = env.integration("acme").await;
    // HubSpot `plan` is a number; Userflow's `plan` is a string.
    let (status, v) = sim_call(
        &env.hs,
        "POST",
        "/crm/v3/properties/contacts",
        Some(&env.hs_token),
        Some(json!({"name": "plan", "label": "Plan", "type": "number", "fieldType": "number", "groupName": "contactinformation"})),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    let base = format!("/api/v1/integrations/{id}/mappings");

    let mut body = contact_mapping();
    body["fields_to_userflow"] = json!([{"hubspot": "plan", "userflow": "plan"}]);
    body["fields_to_hubspot"] = json!([]);
    let (status, v) = env.call("POST", &base, Some(body)).await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["code"], "invalid_mapping");
    assert_documented("InvalidMapping", &v);
    assert_eq!(
        v["problems"],
        json!([
            "field \"plan\": HubSpot property \"plan\" is number but Userflow attribute \"plan\" is string"
        ])
    );
    assert!(
        v["message"]
            .as_str()
            .expect("message")
            .contains("is number but Userflow attribute \"plan\" is string")
    );

    let body = json!({
        "hubspot_object_type": "contacts",
        "userflow_object_type": "user",
        "match": {"hubspot_property": "app_user_id", "userflow_attribute": "id"},
        "fields_to_userflow": [
            {"hubspot": "no_such_property", "userflow": "a"},
            {"hubspot": "companies.no_such_property", "userflow": "b"},
            {"hubspot": "widgets.name", "userflow": "c"},
            {"hubspot": "firstname", "userflow": "logins"},
            {"hubspot": "lastname", "userflow": "both"}
        ],
        "fields_to_hubspot": [
            {"userflow": "brand_new"},
            {"userflow": "both", "type": "string"},
            {"userflow": "signed_up_at", "type": "number"}
        ],
        "events": {"mode": "selected"}
    });
    let (status, v) = env.call("POST", &base, Some(body)).await;
    assert_eq!(status, 422, "{v}");
    let problems: Vec<&str> = v["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| p.as_str().expect("text"))
        .collect();
    let has = |needle: &str| problems.iter().any(|p| p.contains(needle));
    assert!(
        has("match: HubSpot contacts have no property \"app_user_id\""),
        "{problems:?}"
    );
    assert!(
        has("field \"a\": HubSpot contacts have no property \"no_such_property\""),
        "{problems:?}"
    );
    assert!(
        has("field \"b\": association path \"companies.no_such_property\""),
        "{problems:?}"
    );
    assert!(
        has(
            "field \"c\": association path \"widgets.name\": HubSpot has no object type \"widgets\""
        ),
        "{problems:?}"
    );
    assert!(
        has(
            "field \"logins\": HubSpot property \"firstname\" is string but Userflow attribute \"logins\" is number"
        ),
        "{problems:?}"
    );
    assert!(
        has("field \"both\" is mapped in both directions"),
        "{problems:?}"
    );
    assert!(
        has("field \"brand_new\": Userflow attribute \"brand_new\" does not exist yet"),
        "{problems:?}"
    );
    assert!(
        has(
            "field \"signed_up_at\": declared type is number but Userflow attribute \"signed_up_at\" is datetime"
        ),
        "{problems:?}"
    );
    assert!(has("`events.names`"), "{problems:?}");

    let mut body = contact_mapping();
    body["hubspot_object_type"] = json!("2-999999");
    let (status, v) = env.call("POST", &base, Some(body)).await;
    assert_eq!(status, 422, "{v}");
    assert!(
        v["message"]
            .as_str()
            .expect("message")
            .contains("no object type \"2-999999\""),
        "{v}"
    );

    // Nothing was stored.
    let (_, listed) = env.call("GET", &base, None).await;
    assert_eq!(listed["mappings"], json!([]));
}

#[tokio::test]
async fn custom_objects_map_by_type_id() {
    let env = Env::start().await;
    let id = env.integration("acme").await;
    let (_, schemas) = sim_call(
        &env.hs,
        "GET",
        "/crm-object-schemas/v3/schemas",
        Some(&env.hs_token),
        None,
    )
    .await;
    let schema = &schemas["results"][0];
    let type_id = schema["objectTypeId"].as_str().expect("type id");
    let text_prop = schema["properties"]
        .as_array()
        .expect("properties")
        .iter()
        .find(|p| p["type"] == "string")
        .and_then(|p| p["name"].as_str())
        .expect("a string property");
    let body = json!({
        "hubspot_object_type": schema["name"],
        "userflow_object_type": "group",
        "match": {"hubspot_property": text_prop, "userflow_attribute": "id"},
        "fields_to_userflow": [{"hubspot": text_prop, "userflow": "project_name"}]
    });
    let (status, v) = env
        .call(
            "POST",
            &format!("/api/v1/integrations/{id}/mappings"),
            Some(body),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    // Stored by type id, whatever name the request used.
    assert_eq!(v["hubspot_object_type"], type_id);
}

#[tokio::test]
async fn another_integration_cannot_read_change_or_delete_a_mapping() {
    let env = Env::start().await;
    let a = env.integration("a").await;
    let b = env.integration("b").await;
    let (status, created) = env
        .call(
            "POST",
            &format!("/api/v1/integrations/{a}/mappings"),
            Some(contact_mapping()),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let mapping_id = created["id"].as_str().expect("id");
    let other = format!("/api/v1/integrations/{b}/mappings/{mapping_id}");
    for (method, body) in [
        ("GET", None),
        ("PUT", Some(contact_mapping())),
        ("DELETE", None),
    ] {
        let (status, v) = env.call(method, &other, body).await;
        assert_eq!(
            (status, v["code"].as_str()),
            (404, Some("not_found")),
            "{method}: {v}"
        );
    }
    let (_, listed) = env
        .call("GET", &format!("/api/v1/integrations/{b}/mappings"), None)
        .await;
    assert_eq!(listed["mappings"], json!([]));
    let (status, _) = env
        .call(
            "GET",
            &format!("/api/v1/integrations/{a}/mappings/{mapping_id}"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = env
        .app
        .call(
            "GET",
            &format!("/api/v1/integrations/{a}/mappings"),
            None,
            None,
        )
        .await;
    assert_eq!(status, 401);
}
