//! The worker pools on the real Redis queues: jobs pushed by producers run, and their values
//! land in the simulators; shutdown is graceful.
#![allow(clippy::unwrap_used)]

#[path = "../../sync/tests/engine_support/mod.rs"]
mod engine_support;

use std::time::Duration;

use engine_support::{EMAIL1, Env};
use hubsync_core::jobs::{Job, SyncFromHubspot, SyncFromUserflow, UserflowKind};
use hubsync_migrations::test_support::Backend;
use hubsync_worker::WorkerOptions;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_jobs_run_and_land_in_both_systems() {
    let env = Env::start(Backend::Sqlite).await;
    env.create_property("contacts", "userflow_user_plan", "string")
        .await;
    let m = env.contacts_by_email().await;
    env.to_userflow(m, "jobtitle", "job_title").await;
    env.to_hubspot(m, "plan", "userflow_user_plan").await;
    let c1 = env.contact_id(EMAIL1).await;
    let c2 = env.contact_id("hedy.allen2@globex.example").await;

    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(hubsync_worker::run(
        env.ctx.clone(),
        env.jobs.clone(),
        WorkerOptions {
            realtime_concurrency: 4,
            bulk_concurrency: 2,
        },
        shutdown,
    ));

    env.jobs
        .realtime(Job::SyncFromHubspot(SyncFromHubspot {
            integration_id: env.integration_id,
            object_type: "contacts".into(),
            object_id: c1.clone(),
        }))
        .await
        .unwrap();
    env.jobs
        .bulk_many(vec![Job::SyncFromUserflow(SyncFromUserflow {
            integration_id: env.integration_id,
            kind: UserflowKind::User,
            id: "u_0002".into(),
            changed: vec![],
        })])
        .await
        .unwrap();

    let jobtitle = env.hs_property("contacts", &c1, "jobtitle").await;
    let plan = env.uf_user("u_0002").await["attributes"]["plan"].clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let title = env.uf_user("u_0001").await["attributes"]["job_title"].clone();
        let written = env.hs_property("contacts", &c2, "userflow_user_plan").await;
        if title == json!(jobtitle) && written.as_deref() == plan.as_str() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "jobs did not run: job_title={title}, userflow_user_plan={written:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = env.log().await;
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(log.iter().all(|l| l.job_id.is_some()));

    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(40), worker)
        .await
        .expect("worker stops on shutdown")
        .unwrap()
        .unwrap();
    env.close().await;
}

/// Polls the queue until job `id` satisfies `done`.
async fn wait_for_job(
    admin: &hubsync_queue::QueueAdmin,
    id: &str,
    what: &str,
    done: impl Fn(&hubsync_queue::JobRecord) -> bool,
) -> hubsync_queue::JobRecord {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(rec) = admin.job(id).await.unwrap()
            && done(&rec)
        {
            return rec;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: {:?}",
            admin.job(id).await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_dead_letters_and_rate_limits_use_no_attempt() {
    let env = Env::start(Backend::Sqlite).await;
    env.create_property("contacts", "userflow_user_plan_level", "number")
        .await;
    let m = env.contacts_by_email().await;
    env.to_userflow(m, "jobtitle", "job_title").await;
    // A text attribute onto a number property: HubSpot refuses every try.
    env.to_hubspot(m, "plan", "userflow_user_plan_level").await;
    let c1 = env.contact_id(EMAIL1).await;
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(hubsync_worker::run(
        env.ctx.clone(),
        env.jobs.clone(),
        WorkerOptions::default(),
        shutdown,
    ));
    let admin = env.jobs.realtime.admin();

    let refused = env
        .jobs
        .realtime(Job::SyncFromUserflow(SyncFromUserflow {
            integration_id: env.integration_id,
            kind: UserflowKind::User,
            id: "u_0001".into(),
            changed: vec![],
        }))
        .await
        .unwrap();
    let rec = wait_for_job(&admin, refused.id().as_str(), "dead letter", |r| {
        r.state == hubsync_queue::JobState::Dead
    })
    .await;
    assert_eq!(rec.attempts, 1, "{rec:?}");
    assert!(
        rec.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("userflow_user_plan_level"),
        "{rec:?}"
    );

    env.hs_api(
        reqwest::Method::PUT,
        "/_sim/faults",
        Some(json!({"error_rate": 1.0, "error_status": 429})),
    )
    .await;
    let limited = env
        .jobs
        .realtime(Job::SyncFromHubspot(SyncFromHubspot {
            integration_id: env.integration_id,
            object_type: "contacts".into(),
            object_id: c1,
        }))
        .await
        .unwrap();
    let rec = wait_for_job(&admin, limited.id().as_str(), "deferral", |r| {
        r.deferrals >= 1
    })
    .await;
    assert_eq!(rec.attempts, 0, "a rate limit uses no attempt: {rec:?}");
    env.hs_api(reqwest::Method::PUT, "/_sim/faults", Some(json!({})))
        .await;
    wait_for_job(&admin, limited.id().as_str(), "completion", |r| {
        r.state == hubsync_queue::JobState::Completed
    })
    .await;

    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(40), worker)
        .await
        .expect("worker stops on shutdown")
        .unwrap()
        .unwrap();
    env.close().await;
}
