//! The sync engine against both in-process simulators, a real Redis (unique prefix) and a
//! throw-away database per test: object syncs both ways, matching, echo suppression, events,
//! removals, failure classes and dry runs.
#![allow(clippy::unwrap_used)]

mod engine_support;

use engine_support::{EMAIL1, Env, PORTAL};
use hubsync_core::jobs::{
    HubspotRemoved, Job, PostTimelineEvent, SyncFromHubspot, SyncFromUserflow, UserflowKind,
};
use hubsync_entities::{
    FieldDataType, IntegrationStatus, SyncDirection, SyncOutcome, UserflowMatchAttribute,
    UserflowObjectType,
};
use hubsync_migrations::backend_tests;
use hubsync_migrations::test_support::Backend;
use hubsync_queue::JobError;
use hubsync_sync::engine::{self, EngineError, JobReport, Outcome, preview};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

const PATCH: &str = "PATCH /crm/v3/objects/{objectType}/{objectId}";
const UPSERT_USER: &str = "POST /users";

async fn run(env: &Env, job: Job) -> Result<JobReport, EngineError> {
    engine::run(&env.ctx, &job, Some("test-job")).await
}

fn from_hubspot(env: &Env, object_type: &str, id: &str) -> Job {
    Job::SyncFromHubspot(SyncFromHubspot {
        integration_id: env.integration_id,
        object_type: object_type.into(),
        object_id: id.into(),
    })
}

fn from_userflow(env: &Env, kind: UserflowKind, id: &str) -> Job {
    Job::SyncFromUserflow(SyncFromUserflow {
        integration_id: env.integration_id,
        kind,
        id: id.into(),
        changed: vec![],
    })
}

fn outcome(report: &JobReport) -> &Outcome {
    &report.objects.first().expect("one object synced").outcome
}

fn skipped(reason: &str) -> Outcome {
    Outcome::Skipped {
        reason: reason.into(),
    }
}

async fn contact_by_email_both_ways(backend: Backend) {
    let env = Env::start(backend).await;
    env.create_property("contacts", "userflow_user_plan", "string")
        .await;
    let m = env.contacts_by_email().await;
    env.to_userflow(m, "jobtitle", "job_title").await;
    env.to_hubspot(m, "plan", "userflow_user_plan").await;
    let c1 = env.contact_id(EMAIL1).await;
    let jobtitle = env.hs_property("contacts", &c1, "jobtitle").await.unwrap();

    let r = run(&env, from_hubspot(&env, "contacts", &c1))
        .await
        .unwrap();
    assert_eq!(
        outcome(&r),
        &Outcome::Synced {
            fields: vec!["job_title".into()]
        }
    );
    assert_eq!(
        env.uf_user("u_0001").await["attributes"]["job_title"],
        json!(jobtitle)
    );

    let r = run(&env, from_userflow(&env, UserflowKind::User, "u_0001"))
        .await
        .unwrap();
    assert_eq!(
        outcome(&r),
        &Outcome::Synced {
            fields: vec!["userflow_user_plan".into()]
        }
    );
    let plan = env.uf_user("u_0001").await["attributes"]["plan"].clone();
    assert_eq!(
        env.hs_property("contacts", &c1, "userflow_user_plan").await,
        plan.as_str().map(str::to_owned)
    );
    let links = env.links().await;
    assert_eq!(links.len(), 1);
    assert_eq!(
        (
            links[0].hubspot_object_id.as_str(),
            links[0].userflow_object_id.as_str()
        ),
        (c1.as_str(), "u_0001")
    );
    let log = env.log().await;
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|l| l.outcome == SyncOutcome::Synced));
    assert_eq!(log[0].fields_changed.0, vec!["job_title".to_owned()]);
    assert_eq!(log[0].job_id.as_deref(), Some("test-job"));

    // A second run of both finds nothing to write.
    let (patches, upserts) = (
        env.hs_calls(PATCH).await,
        env.uf_requests(UPSERT_USER).await,
    );
    assert_eq!((patches, upserts), (1, 1));
    let r = run(&env, from_hubspot(&env, "contacts", &c1))
        .await
        .unwrap();
    assert_eq!(outcome(&r), &skipped("unchanged"));
    let r = run(&env, from_userflow(&env, UserflowKind::User, "u_0001"))
        .await
        .unwrap();
    assert_eq!(outcome(&r), &skipped("unchanged"));
    assert_eq!(env.hs_calls(PATCH).await, patches);
    assert_eq!(env.uf_requests(UPSERT_USER).await, upserts);

    // A change on one side moves only that field.
    env.hs_ui_set("contacts", &c1, json!({"jobtitle": "Chief Tester"}))
        .await;
    run(&env, from_hubspot(&env, "contacts", &c1))
        .await
        .unwrap();
    assert_eq!(
        env.uf_user("u_0001").await["attributes"]["job_title"],
        json!("Chief Tester")
    );
    env.close().await;
}

backend_tests!(contact_by_email_both_ways);

#[tokio::test]
async fn match_by_id_property_both_ways() {
    let env = Env::start(Backend::Sqlite).await;
    env.create_property("contacts", "app_user_id", "string")
        .await;
    env.create_property("contacts", "userflow_user_plan", "string")
        .await;
    let m = env
        .mapping(
            "contacts",
            UserflowObjectType::User,
            "app_user_id",
            UserflowMatchAttribute::Id,
        )
        .await;
    env.to_userflow(m, "firstname", "first_name").await;
    env.to_hubspot(m, "plan", "userflow_user_plan").await;
    let c3 = env.contact_id("john.wirth3@initech.example").await;
    let c4 = env.contact_id("katherine.liskov4@umbrella.example").await;
    env.hs_ui_set("contacts", &c3, json!({"app_user_id": "u_0003"}))
        .await;
    env.hs_ui_set("contacts", &c4, json!({"app_user_id": "u_0004"}))
        .await;

    run(&env, from_hubspot(&env, "contacts", &c3))
        .await
        .unwrap();
    let first = env.hs_property("contacts", &c3, "firstname").await;
    assert_eq!(
        env.uf_user("u_0003").await["attributes"]["first_name"].as_str(),
        first.as_deref()
    );
    // No link yet for u_0004: found by searching the id property.
    let r = run(&env, from_userflow(&env, UserflowKind::User, "u_0004"))
        .await
        .unwrap();
    assert_eq!(r.objects[0].hubspot_object_id.as_deref(), Some(c4.as_str()));
    let plan = env.uf_user("u_0004").await["attributes"]["plan"].clone();
    assert_eq!(
        env.hs_property("contacts", &c4, "userflow_user_plan").await,
        plan.as_str().map(str::to_owned)
    );
    env.close().await;
}

#[tokio::test]
async fn company_and_group_both_ways() {
    let env = Env::start(Backend::Sqlite).await;
    env.create_property("companies", "userflow_group_id", "string")
        .await;
    env.create_property("companies", "userflow_group_seats", "number")
        .await;
    let m = env
        .mapping(
            "companies",
            UserflowObjectType::Group,
            "userflow_group_id",
            UserflowMatchAttribute::Id,
        )
        .await;
    env.to_userflow(m, "name", "hubspot_name").await;
    env.field(
        m,
        SyncDirection::HubspotToUserflow,
        "numberofemployees",
        "employees",
        FieldDataType::Number,
    )
    .await;
    env.field(
        m,
        SyncDirection::UserflowToHubspot,
        "seats",
        "userflow_group_seats",
        FieldDataType::Number,
    )
    .await;
    let page = env
        .hs_api(Method::GET, "/crm/v3/objects/companies?limit=1", None)
        .await;
    let co = page["results"][0]["id"].as_str().unwrap().to_owned();
    env.hs_ui_set("companies", &co, json!({"userflow_group_id": "g_001"}))
        .await;

    let r = run(&env, from_hubspot(&env, "companies", &co))
        .await
        .unwrap();
    assert_eq!(r.objects[0].userflow_object_id.as_deref(), Some("g_001"));
    let company = env.hs_object("companies", &co).await;
    let group = env.uf_group("g_001").await;
    assert_eq!(
        group["attributes"]["hubspot_name"],
        company["properties"]["name"]
    );
    let employees: i64 = company["properties"]["numberofemployees"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(group["attributes"]["employees"], json!(employees));

    run(&env, from_userflow(&env, UserflowKind::Group, "g_001"))
        .await
        .unwrap();
    let seats = group["attributes"]["seats"].as_i64().unwrap();
    assert_eq!(
        env.hs_property("companies", &co, "userflow_group_seats")
            .await,
        Some(seats.to_string())
    );
    env.close().await;
}

#[tokio::test]
async fn associated_company_name_reaches_the_user() {
    let env = Env::start(Backend::Sqlite).await;
    let m = env.contacts_by_email().await;
    env.to_userflow(m, "companies.name", "company_name").await;
    let c1 = env.contact_id(EMAIL1).await;
    let contact = env.hs_object("contacts", &c1).await;
    let assoc = contact["associations"]["0-2"].as_array().unwrap();
    let primary = assoc
        .iter()
        .find(|a| a["typeIds"].as_array().unwrap().contains(&json!(1)))
        .unwrap_or(&assoc[0]);
    let company_id = match &primary["id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let name = env.hs_property("companies", &company_id, "name").await;

    run(&env, from_hubspot(&env, "contacts", &c1))
        .await
        .unwrap();
    assert_eq!(
        env.uf_user("u_0001").await["attributes"]["company_name"].as_str(),
        name.as_deref()
    );
    env.close().await;
}

#[tokio::test]
async fn own_write_coming_back_is_not_written_back() {
    let env = Env::start(Backend::Sqlite).await;
    env.create_property("contacts", "userflow_user_title", "string")
        .await;
    let m = env.contacts_by_email().await;
    env.to_userflow(m, "jobtitle", "title").await;
    env.to_hubspot(m, "title", "userflow_user_title").await;
    let c1 = env.contact_id(EMAIL1).await;

    run(&env, from_hubspot(&env, "contacts", &c1))
        .await
        .unwrap();
    // Userflow announces the change hubsync made...
    let notes = env
        .uf_api(Method::GET, "/_sim/userflow/notifications", None)
        .await;
    assert!(
        notes
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["topic"] == "user.updated"
                && n["body"]["data"]["updated_attributes"]
                    .get("title")
                    .is_some()),
        "{notes}"
    );
    // ...and the sync that notification causes writes nothing back.
    let r = run(&env, from_userflow(&env, UserflowKind::User, "u_0001"))
        .await
        .unwrap();
    assert_eq!(outcome(&r), &skipped("echo"));
    assert_eq!(env.hs_calls(PATCH).await, 0);
    assert_eq!(
        env.hs_property("contacts", &c1, "userflow_user_title")
            .await,
        None
    );
    let last = env.log().await.pop().unwrap();
    assert_eq!(
        (last.outcome, last.reason.as_deref()),
        (SyncOutcome::Skipped, Some("echo"))
    );
    env.close().await;
}

#[tokio::test]
async fn contact_only_in_hubspot_is_skipped_and_nothing_created() {
    let env = Env::start(Backend::Sqlite).await;
    let m = env.contacts_by_email().await;
    env.to_userflow(m, "jobtitle", "job_title").await;
    let users = env.uf_user_count().await;
    // Contact 30 has no Userflow user (20 seeded).
    let page = env
        .hs_api(
            Method::GET,
            "/crm/v3/objects/contacts?limit=100&properties=email",
            None,
        )
        .await;
    let c30 = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["properties"]["email"].as_str().unwrap().contains("30@"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let r = run(&env, from_hubspot(&env, "contacts", &c30))
        .await
        .unwrap();
    assert_eq!(outcome(&r), &skipped("not_in_both_systems"));
    assert_eq!(env.uf_user_count().await, users);
    assert_eq!(env.uf_requests(UPSERT_USER).await, 0);
    assert!(env.links().await.is_empty());
    assert_eq!(
        env.log().await[0].reason.as_deref(),
        Some("not_in_both_systems")
    );
    env.close().await;
}

async fn timeline_events_on(env: &Env, object: &str) -> Vec<Value> {
    env.hs_api(
        Method::GET,
        &format!("/_sim/hubspot/portals/{PORTAL}/timeline/events?objectId={object}"),
        None,
    )
    .await["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn event(env: &Env, id: &str, time: &str) -> Job {
    let mut attributes = serde_json::Map::new();
    attributes.insert("flow_name".into(), json!("Onboarding"));
    attributes.insert("page_url".into(), json!("https://app.example/start"));
    Job::PostTimelineEvent(PostTimelineEvent {
        integration_id: env.integration_id,
        event_id: id.into(),
        name: "flow_started".into(),
        user_id: Some("u_0001".into()),
        group_id: None,
        time: time.into(),
        attributes,
    })
}

#[tokio::test]
async fn timeline_event_posted_once_when_the_job_runs_twice() {
    let env = Env::start(Backend::Sqlite).await;
    let tpl: Value = env
        .http
        .post(format!(
            "{}/integrators/timeline/v3/54321/event-templates?hapikey=sim-dev-key",
            env.hs_base
        ))
        .json(&json!({
            "name": "Flow started", "objectType": "contacts",
            "tokens": [{"name": "flow_name", "label": "Flow", "type": "string"}],
            "headerTemplate": "Started {{flow_name}}"
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tpl_id = tpl["id"].as_str().unwrap().to_owned();
    let m = env.contacts_by_email().await;
    env.event_stream(m, &[("flow_started", tpl_id.as_str())])
        .await;
    let c1 = env.contact_id(EMAIL1).await;

    for _ in 0..2 {
        let r = run(&env, event(&env, "evt-1", "2026-01-02T03:04:05Z"))
            .await
            .unwrap();
        assert_eq!(
            outcome(&r),
            &Outcome::Synced {
                fields: vec!["timeline:flow_started".into()]
            }
        );
    }
    let events = timeline_events_on(&env, &c1).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["tokens"]["flow_name"], json!("Onboarding"));
    env.close().await;
}

#[tokio::test]
async fn event_without_timeline_moves_the_last_event_property_forward() {
    let env = Env::start(Backend::Sqlite).await;
    env.create_property("contacts", "userflow_user_last_flow_started_at", "datetime")
        .await;
    env.hs_api(
        Method::PUT,
        "/_sim/hubspot/timeline/knobs",
        Some(json!({"timeline_available": false})),
    )
    .await;
    let m = env.contacts_by_email().await;
    env.event_stream(m, &[]).await;
    let c1 = env.contact_id(EMAIL1).await;
    let prop = "userflow_user_last_flow_started_at";

    run(&env, event(&env, "evt-2", "2026-01-02T03:04:05Z"))
        .await
        .unwrap();
    assert_eq!(
        env.hs_property("contacts", &c1, prop).await.as_deref(),
        Some("2026-01-02T03:04:05.000Z")
    );
    // An older event arriving late leaves the newer time alone.
    let r = run(&env, event(&env, "evt-0", "2025-12-31T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(outcome(&r), &skipped("unchanged"));
    assert_eq!(
        env.hs_property("contacts", &c1, prop).await.as_deref(),
        Some("2026-01-02T03:04:05.000Z")
    );
    env.close().await;
}

#[tokio::test]
async fn hubspot_429_retries_at_its_time_without_an_attempt() {
    let env = Env::start(Backend::Sqlite).await;
    let m = env.contacts_by_email().await;
    env.to_userflow(m, "jobtitle", "job_title").await;
    let c1 = env.contact_id(EMAIL1).await;
    env.hs_api(
        Method::PUT,
        "/_sim/faults",
        Some(json!({"error_rate": 1.0, "error_status": 429})),
    )
    .await;
    let before = std::time::SystemTime::now();
    let err = run(&env, from_hubspot(&env, "contacts", &c1))
        .await
        .unwrap_err();
    assert_eq!(err.category, "rate_limited");
    match err.clone().into_job_error() {
        JobError::RetryAt { at, .. } => assert!(at > before, "{at:?}"),
        other => panic!("expected retry_at, got {other:?}"),
    }
    env.hs_api(Method::PUT, "/_sim/faults", Some(json!({})))
        .await;

    // A real 10-second-window 429 (no rate-limit headers warned the limiter first): the job
    // waits for the window, and the shared limiter holds every replica back meanwhile (no
    // call reaches HubSpot).
    env.hs_api(
        Method::PUT,
        "/_sim/hubspot/rate-limits",
        Some(json!({"burst_max": 1, "retry_after_on_429": true, "emit_rate_limit_headers": false})),
    )
    .await;
    env.hs_api(Method::POST, "/_sim/hubspot/rate-limits/reset", None)
        .await;
    run(&env, from_hubspot(&env, "contacts", &c1))
        .await
        .unwrap();
    let err = run(&env, from_hubspot(&env, "contacts", &c1))
        .await
        .unwrap_err();
    let msg = err.to_string();
    match err.into_job_error() {
        JobError::RetryAt { at, .. } => assert!(
            at > std::time::SystemTime::now() + std::time::Duration::from_secs(5),
            "{at:?} {msg}"
        ),
        other => panic!("expected retry_at, got {other:?}"),
    }
    let calls = env
        .hs_calls("GET /crm/v3/objects/{objectType}/{objectId}")
        .await;
    let held = run(&env, from_hubspot(&env, "contacts", &c1))
        .await
        .unwrap_err();
    assert_eq!(held.category, "rate_limited");
    assert_eq!(
        env.hs_calls("GET /crm/v3/objects/{objectType}/{objectId}")
            .await,
        calls
    );
    let failed = env.log().await;
    assert_eq!(failed[0].outcome, SyncOutcome::Failed);
    assert_eq!(failed[0].error_category.as_deref(), Some("rate_limited"));
    env.close().await;
}

#[tokio::test]
async fn validation_error_is_permanent_and_names_the_property() {
    let env = Env::start(Backend::Sqlite).await;
    env.create_property("contacts", "userflow_user_plan_level", "number")
        .await;
    let m = env.contacts_by_email().await;
    // A text attribute mapped onto a number property: HubSpot refuses the value.
    env.to_hubspot(m, "plan", "userflow_user_plan_level").await;
    let err = run(&env, from_userflow(&env, UserflowKind::User, "u_0001"))
        .await
        .unwrap_err();
    assert_eq!(err.category, "validation");
    assert!(
        err.message.contains("userflow_user_plan_level"),
        "{}",
        err.message
    );
    assert!(matches!(
        err.clone().into_job_error(),
        JobError::Permanent(_)
    ));
    let row = env.log().await.pop().unwrap();
    assert_eq!(row.outcome, SyncOutcome::Failed);
    assert_eq!(row.error_category.as_deref(), Some("validation"));
    assert!(
        row.error_message
            .as_deref()
            .unwrap()
            .contains("userflow_user_plan_level")
    );
    env.close().await;
}

#[tokio::test]
async fn disconnected_integration_is_a_no_op() {
    let env = Env::start(Backend::Sqlite).await;
    let m = env.contacts_by_email().await;
    env.to_userflow(m, "jobtitle", "job_title").await;
    let c1 = env.contact_id(EMAIL1).await;
    env.set_status(IntegrationStatus::Disconnected).await;
    let r = run(&env, from_hubspot(&env, "contacts", &c1))
        .await
        .unwrap();
    assert_eq!(r.note.as_deref(), Some("disconnected"));
    assert_eq!(env.uf_requests(UPSERT_USER).await, 0);
    assert_eq!(
        env.hs_calls("GET /crm/v3/objects/{objectType}/{objectId}")
            .await,
        1
    );
    let row = env.log().await.pop().unwrap();
    assert_eq!(
        (row.outcome, row.reason.as_deref()),
        (SyncOutcome::Skipped, Some("disconnected"))
    );

    env.set_status(IntegrationStatus::AuthorizationExpired)
        .await;
    let err = run(&env, from_hubspot(&env, "contacts", &c1))
        .await
        .unwrap_err();
    match err.into_job_error() {
        JobError::RetryAt { at, .. } => {
            assert!(at > std::time::SystemTime::now() + std::time::Duration::from_secs(3000))
        }
        other => panic!("expected retry_at, got {other:?}"),
    }
    env.close().await;
}

#[tokio::test]
async fn a_disconnect_after_the_gate_still_stops_the_write() {
    let env = Env::start(Backend::Sqlite).await;
    let m = env.contacts_by_email().await;
    env.to_userflow(m, "jobtitle", "job_title").await;
    let c1 = env.contact_id(EMAIL1).await;
    // The job passed its gate while connected …
    let tenant = env.ctx.tenant(env.integration_id).await.unwrap();
    let eng = engine::Engine::new(tenant, engine::Mode::Apply, Some("test-job".into()))
        .await
        .unwrap();
    // … and the operator disconnects before it writes.
    env.set_status(IntegrationStatus::Disconnected).await;
    let synced = engine::from_hubspot::sync(&eng, "contacts", &c1, None)
        .await
        .unwrap();
    assert_eq!(synced.len(), 1);
    assert_eq!(synced[0].outcome, skipped("disconnected"));
    assert_eq!(env.uf_requests(UPSERT_USER).await, 0);
    env.close().await;
}

#[tokio::test]
async fn deletion_unlinks_and_merge_moves_the_link() {
    let env = Env::start(Backend::Sqlite).await;
    let m = env.contacts_by_email().await;
    env.to_userflow(m, "jobtitle", "job_title").await;
    let c1 = env.contact_id(EMAIL1).await;
    let c5 = env.contact_id("niklaus.backus5@hooli.example").await;
    let removed = |id: &str, into: Option<&str>| {
        Job::HubspotRemoved(HubspotRemoved {
            integration_id: env.integration_id,
            object_type: "contacts".into(),
            object_id: id.into(),
            merged_into: into.map(Into::into),
        })
    };

    run(&env, from_hubspot(&env, "contacts", &c1))
        .await
        .unwrap();
    assert_eq!(env.links().await.len(), 1);
    let r = run(&env, removed(&c1, None)).await.unwrap();
    assert_eq!(outcome(&r), &skipped("deleted_unlinked"));
    assert!(env.links().await.is_empty());
    // Nothing is deleted in Userflow.
    assert_eq!(env.uf_user("u_0001").await["id"], json!("u_0001"));

    run(&env, from_hubspot(&env, "contacts", &c1))
        .await
        .unwrap();
    let r = run(&env, removed(&c1, Some(&c5))).await.unwrap();
    assert_eq!(outcome(&r), &skipped("merged_link_moved"));
    let links = env.links().await;
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].hubspot_object_id, c5);
    assert_eq!(links[0].userflow_object_id, "u_0001");
    env.close().await;
}

#[tokio::test]
async fn dry_run_plans_both_directions_and_writes_nothing() {
    let env = Env::start(Backend::Sqlite).await;
    let m = env.contacts_by_email().await;
    env.to_userflow(m, "jobtitle", "job_title").await;
    env.to_hubspot(m, "plan", "userflow_user_plan").await;
    let c1 = env.contact_id(EMAIL1).await;
    let tenant = env.ctx.tenant(env.integration_id).await.unwrap();

    let p = preview::dry_run(tenant.clone(), m, 50, &[c1.clone(), "999999".into()])
        .await
        .unwrap();
    assert_eq!(p.objects.len(), 2);
    let o = &p.objects[0];
    assert_eq!(o.userflow_object_id.as_deref(), Some("u_0001"));
    assert!(o.in_both_systems);
    let jobtitle = env.hs_property("contacts", &c1, "jobtitle").await;
    assert_eq!(o.to_userflow[0].field, "job_title");
    assert_eq!(o.to_userflow[0].new.as_str(), jobtitle.as_deref());
    assert_eq!(o.to_userflow[0].old, Value::Null);
    let plan = env.uf_user("u_0001").await["attributes"]["plan"].clone();
    assert_eq!(o.to_hubspot[0].field, "userflow_user_plan");
    assert_eq!(o.to_hubspot[0].new, plan);
    assert!(!p.objects[1].in_both_systems);

    let sample = preview::dry_run(tenant, m, 3, &[]).await.unwrap();
    assert_eq!(sample.objects.len(), 3);

    assert_eq!(env.uf_requests(UPSERT_USER).await, 0);
    assert_eq!(env.hs_calls(PATCH).await, 0);
    assert!(env.links().await.is_empty());
    assert!(env.log().await.is_empty());
    let unknown = preview::dry_run(
        env.ctx.tenant(env.integration_id).await.unwrap(),
        Uuid::new_v4(),
        5,
        &[],
    )
    .await;
    assert!(matches!(
        unknown,
        Err(preview::PreviewError::MappingNotFound(_))
    ));
    env.close().await;
}

#[tokio::test]
async fn event_first_seen_after_setup_gets_its_template_on_first_post() {
    let env = Env::start(Backend::Sqlite).await;
    let m = env.contacts_by_email().await;
    env.event_stream(m, &[]).await;
    let c1 = env.contact_id(EMAIL1).await;
    let r = run(&env, event(&env, "evt-9", "2026-01-02T03:04:05Z"))
        .await
        .unwrap();
    assert_eq!(
        outcome(&r),
        &Outcome::Synced {
            fields: vec!["timeline:flow_started".into()]
        }
    );
    let events = timeline_events_on(&env, &c1).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["tokens"]["flow_name"], json!("Onboarding"));
    env.close().await;
}

#[tokio::test]
async fn refused_access_token_is_refreshed_and_the_call_made_again() {
    let env = Env::start(Backend::Sqlite).await;
    let m = env.contacts_by_email().await;
    env.to_userflow(m, "jobtitle", "job_title").await;
    let c1 = env.contact_id(EMAIL1).await;
    // HubSpot expires the token early; the stored expiry still says it is good.
    env.hs_api(Method::POST, "/_sim/hubspot/oauth/expire", Some(json!({})))
        .await;
    let r = run(&env, from_hubspot(&env, "contacts", &c1))
        .await
        .unwrap();
    assert_eq!(
        outcome(&r),
        &Outcome::Synced {
            fields: vec!["job_title".into()]
        }
    );
    let tokens = env
        .hs_api(Method::GET, "/_sim/hubspot/oauth/tokens", None)
        .await;
    let live = tokens["access"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["expired"] == json!(false))
        .count();
    assert!(live >= 1, "{tokens}");
    env.close().await;
}
