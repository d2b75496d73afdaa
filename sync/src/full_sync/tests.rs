//! Full sync against both in-process simulators, a real database and the real Redis.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use hubsync_core::jobs::{FullSyncShard, Job};
use hubsync_entities::full_sync_runs::{self, Entity as Runs};
use hubsync_entities::full_sync_shards::{self, Entity as Shards};
use hubsync_entities::{
    FullSyncStatus, FullSyncTrigger, IntegrationStatus, UserflowMatchAttribute, UserflowObjectType,
    integrations, object_mappings,
};
use hubsync_migrations::test_support::{Backend, TestDb};
use hubsync_queue::{JobFilter, JobState};
use hubsync_sim::{hubspot, serve, userflow};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use super::*;
use crate::{JobQueues, SyncContext, test_support};

const PORTAL: i64 = test_support::PORTAL;
const USERS: usize = 30;
const CONTACTS: usize = 25;

fn redis_url() -> String {
    std::env::var("HUBSYNC_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

struct Env {
    db: TestDb,
    ctx: SyncContext,
    jobs: JobQueues,
    _hs: serve::Running,
    _uf: serve::Running,
    hs_base: String,
    uf_base: String,
    http: reqwest::Client,
    integration: Uuid,
    redis: redis::Client,
}

impl Env {
    /// Simulators with 25 HubSpot contacts and 30 Userflow users (plus one without email),
    /// a connected integration and a contacts ↔ users mapping by email.
    async fn start(backend: Backend) -> Env {
        let hs_cfg: hubspot::Config = serde_json::from_value(json!({
            "seed": {"contacts": CONTACTS, "companies": 3, "deals": 0},
            "crm": {"search_index_lag_ms": 0},
        }))
        .unwrap();
        let uf_cfg: userflow::Config =
            serde_json::from_value(json!({"seed": {"users": USERS, "groups": 5}})).unwrap();
        let hs = serve::spawn("127.0.0.1:0", hubspot::Simulator::new(hs_cfg).router())
            .await
            .unwrap();
        let uf = serve::spawn("127.0.0.1:0", userflow::Simulator::new(uf_cfg).router())
            .await
            .unwrap();
        let (hs_base, uf_base) = (hs.base_url(), uf.base_url());
        let http = reqwest::Client::new();
        // A Userflow user without an email: seen, never matched.
        let r = http
            .post(format!("{uf_base}/_sim/userflow/envs/env_demo/identify"))
            .json(&json!({"user_id": "u_anonymous", "attributes": {"plan": "free"}}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());

        let db = TestDb::migrated(backend).await.unwrap();
        let redis = redis::Client::open(redis_url()).unwrap();
        let conn = redis::aio::ConnectionManager::new(redis.clone())
            .await
            .unwrap();
        let prefix = format!("test-fs-{}", Uuid::new_v4().simple());
        let settings = test_support::sim_settings(&hs_base, &uf_base);
        let secrets = hubsync_core::secrets::SecretBox::new([7; 32]);
        let ctx = SyncContext::new(db.conn().clone(), conn, prefix.clone(), secrets, settings);
        let jobs = JobQueues::new(redis.clone(), &prefix).unwrap();

        let tokens = test_support::mint_tokens(&hs_base, &json!({"portal_id": PORTAL})).await;
        let integration =
            test_support::connected_integration(db.conn(), &ctx.secrets, "Demo", &tokens)
                .await
                .id;
        object_mappings::ActiveModel {
            integration_id: Set(integration),
            hubspot_object_type: Set("contacts".into()),
            userflow_object_type: Set(UserflowObjectType::User),
            match_hubspot_property: Set("email".into()),
            match_userflow_attribute: Set(UserflowMatchAttribute::Email),
            enabled: Set(true),
            ..Default::default()
        }
        .insert(db.conn())
        .await
        .unwrap();
        Env {
            db,
            ctx,
            jobs,
            _hs: hs,
            _uf: uf,
            hs_base,
            uf_base,
            http,
            integration,
            redis,
        }
    }

    async fn start_run(&self) -> full_sync_runs::Model {
        start_run(
            &self.ctx,
            &self.jobs,
            self.integration,
            FullSyncTrigger::Manual,
        )
        .await
        .unwrap()
    }

    fn job(&self, run: Uuid, shard: u32) -> FullSyncShard {
        FullSyncShard {
            integration_id: self.integration,
            run_id: run,
            shard,
        }
    }

    /// One shard job as the worker runs it: the integration loaded afresh.
    async fn shard(&self, job: &FullSyncShard, opts: &ShardOptions) -> ShardOutcome {
        let tenant = self.ctx.tenant(job.integration_id).await.unwrap();
        run_shard_with(&tenant, &self.jobs, job, opts)
            .await
            .unwrap()
    }

    /// Runs every shard of `run` to its end, job after job.
    async fn drive(&self, run: &full_sync_runs::Model, opts: &ShardOptions) -> u32 {
        let mut calls = 0;
        for shard in 0..u32::try_from(run.shard_count).unwrap() {
            let job = self.job(run.id, shard);
            loop {
                calls += 1;
                assert!(calls < 1000, "shard never ends");
                if self.shard(&job, opts).await.is_finished() {
                    break;
                }
            }
        }
        calls
    }

    async fn progress(&self, run: Uuid) -> RunProgress {
        run_progress(self.db.conn(), self.integration, run)
            .await
            .unwrap()
            .unwrap()
    }

    /// Every job on the bulk queue, waiting or delayed.
    async fn queued(&self) -> Vec<Job> {
        let admin = self.jobs.bulk.admin();
        let mut out = Vec::new();
        for state in [JobState::Waiting, JobState::Delayed] {
            let mut cursor: Option<String> = None;
            loop {
                let page = admin
                    .list(state, &JobFilter::all(), 500, cursor.as_deref())
                    .await
                    .unwrap();
                for rec in page.jobs {
                    out.push(serde_json::from_str(&rec.payload.unwrap()).unwrap());
                }
                match page.next_cursor {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
        }
        out
    }

    /// The (Userflow user id, HubSpot contact id) pairs that share an email, read from the
    /// simulators themselves.
    async fn overlap(&self) -> BTreeSet<(String, String)> {
        let dump: Value = self
            .http
            .get(format!("{}/_sim/userflow/envs/env_demo/dump", self.uf_base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut contacts: HashMap<String, String> = HashMap::new();
        let mut after: Option<String> = None;
        loop {
            let mut req = self
                .http
                .get(format!("{}/crm/v3/objects/contacts", self.hs_base))
                .bearer_auth("pat-sim-62515")
                .query(&[("limit", "100"), ("properties", "email")]);
            if let Some(a) = &after {
                req = req.query(&[("after", a)]);
            }
            let page: Value = req.send().await.unwrap().json().await.unwrap();
            for c in page["results"].as_array().unwrap() {
                if let Some(email) = c["properties"]["email"].as_str() {
                    contacts.insert(email.to_lowercase(), c["id"].as_str().unwrap().to_owned());
                }
            }
            match page["paging"]["next"]["after"].as_str() {
                Some(a) => after = Some(a.to_owned()),
                None => break,
            }
        }
        dump["users"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|u| {
                let email = u["attributes"]["email"].as_str()?.to_lowercase();
                let hs = contacts.get(&email)?;
                Some((u["id"].as_str()?.to_owned(), hs.clone()))
            })
            .collect()
    }

    /// `GET /users` calls the Userflow simulator saw: (total, without `starting_after`).
    async fn user_list_calls(&self) -> (usize, usize) {
        let log: Value = self
            .http
            .get(format!("{}/_sim/userflow/requests", self.uf_base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let lists: Vec<&Value> = log["recent"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["method"] == "GET" && r["path"] == "/users")
            .collect();
        let from_start = lists
            .iter()
            .filter(|r| !r["query"].to_string().contains("starting_after"))
            .count();
        (lists.len(), from_start)
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let Ok(mut conn) = self.redis.get_connection() else {
            return;
        };
        let pattern = format!("*{}*", self.ctx.redis_prefix);
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(&pattern)
            .query(&mut conn)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<()> = redis::cmd("DEL").arg(&keys).query(&mut conn);
        }
    }
}

fn small_pages(page_size: u32, pages_per_job: u32) -> ShardOptions {
    ShardOptions {
        page_size,
        pages_per_job,
        ..ShardOptions::default()
    }
}

hubsync_migrations::backend_tests!(run_queues_syncs_only_for_pairs_in_both_systems);

async fn run_queues_syncs_only_for_pairs_in_both_systems(backend: Backend) {
    let env = Env::start(backend).await;
    let overlap = env.overlap().await;
    assert_eq!(overlap.len(), CONTACTS, "demo overlap is contacts 1..=25");

    let run = env.start_run().await;
    assert_eq!(run.status, FullSyncStatus::Pending);
    assert_eq!(run.shard_count, 1);
    let queued = env.queued().await;
    assert_eq!(
        queued,
        vec![Job::FullSyncShard(env.job(run.id, 0))],
        "one shard job per mapping"
    );

    env.drive(&run, &small_pages(10, 100)).await;

    let jobs = env.queued().await;
    let from_userflow: BTreeSet<String> = jobs
        .iter()
        .filter_map(|j| match j {
            Job::SyncFromUserflow(j) => Some(j.id.clone()),
            _ => None,
        })
        .collect();
    let from_hubspot: BTreeSet<String> = jobs
        .iter()
        .filter_map(|j| match j {
            Job::SyncFromHubspot(j) => {
                assert_eq!(j.object_type, "contacts");
                Some(j.object_id.clone())
            }
            _ => None,
        })
        .collect();
    let want_uf: BTreeSet<String> = overlap.iter().map(|(u, _)| u.clone()).collect();
    let want_hs: BTreeSet<String> = overlap.iter().map(|(_, h)| h.clone()).collect();
    assert_eq!(from_userflow, want_uf);
    assert_eq!(from_hubspot, want_hs);
    assert!(!from_userflow.contains("u_anonymous"));
    assert!(
        !from_userflow.contains("u_0026"),
        "users past 25 are only in Userflow"
    );

    let p = env.progress(run.id).await;
    assert_eq!(p.status, FullSyncStatus::Completed);
    assert_eq!(p.seen, USERS as u64 + 1);
    assert_eq!(p.matched, CONTACTS as u64);
    assert_eq!(p.queued, 2 * CONTACTS as u64);
    assert_eq!(p.failed, 0);
    assert_eq!(p.percent, Some(100.0));
    assert_eq!(p.shards.len(), 1);
    assert_eq!(p.shards[0].pages, 4, "31 users in pages of 10");
    assert!(p.started_at.is_some() && p.finished_at.is_some());
    let row = Runs::find_by_id(run.id)
        .one(env.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.processed, USERS as i64 + 1);
    assert_eq!(row.status, FullSyncStatus::Completed);

    // A finished run lets the next one start.
    let again = env.start_run().await;
    assert_ne!(again.id, run.id);
}

#[tokio::test]
async fn a_stopped_shard_resumes_at_its_checkpoint() {
    let env = Env::start(Backend::Sqlite).await;
    let run = env.start_run().await;
    let job = env.job(run.id, 0);
    let opts = small_pages(7, 2);

    // The first job stops after its page budget, as a killed worker would after a checkpoint.
    let first = env.shard(&job, &opts).await;
    assert_eq!(first.pages, 2);
    assert_eq!(first.seen, 14);
    assert_eq!(
        first.end,
        ShardEnd::Continues {
            after: Duration::ZERO
        }
    );
    let p = env.progress(run.id).await;
    assert_eq!(p.status, FullSyncStatus::Running);
    assert_eq!((p.seen, p.shards[0].pages), (14, 2));
    assert_eq!(p.percent, Some(0.0));
    let stored = Shards::find()
        .filter(full_sync_shards::Column::RunId.eq(run.id))
        .one(env.db.conn())
        .await
        .unwrap()
        .unwrap();
    let state = ShardState::parse(stored.cursor.as_deref()).unwrap();
    assert_eq!(state.after.as_deref(), Some("u_0014"));
    assert_eq!(stored.processed, 14);
    // Its continuation is queued once, however often it is asked for.
    let continuations = env
        .queued()
        .await
        .into_iter()
        .filter(|j| matches!(j, Job::FullSyncShard(_)))
        .count();
    assert_eq!(continuations, 2, "the first shard job and one continuation");

    // The next job starts at the checkpoint: nothing is read twice.
    let second = env.shard(&job, &opts).await;
    assert_eq!(second.seen, 14);
    env.drive(&run, &opts).await;
    let p = env.progress(run.id).await;
    assert_eq!(p.status, FullSyncStatus::Completed);
    assert_eq!(p.seen, USERS as u64 + 1, "every user read exactly once");
    assert_eq!(p.matched, CONTACTS as u64);
    assert_eq!(p.shards[0].pages, 5, "31 users in pages of 7");
    let (lists, from_start) = env.user_list_calls().await;
    assert_eq!(lists, 5, "one Userflow call per page");
    assert_eq!(
        from_start, 1,
        "only the first page starts from the beginning"
    );
}

#[tokio::test]
async fn concurrent_copies_of_a_shard_job_count_each_page_once() {
    let env = Env::start(Backend::Sqlite).await;
    let run = env.start_run().await;
    let job = env.job(run.id, 0);
    let opts = small_pages(4, 1);
    let mut rounds = 0;
    loop {
        rounds += 1;
        assert!(rounds < 100, "shard never ends");
        let (a, b) = tokio::join!(env.shard(&job, &opts), env.shard(&job, &opts));
        if a.is_finished() || b.is_finished() {
            break;
        }
    }
    let p = env.progress(run.id).await;
    assert_eq!(p.status, FullSyncStatus::Completed);
    assert_eq!(p.seen, USERS as u64 + 1);
    assert_eq!(p.matched, CONTACTS as u64);
    assert_eq!(p.queued, 2 * CONTACTS as u64);
    assert_eq!(p.shards[0].pages, 8, "31 users in pages of 4");
}

#[tokio::test]
async fn cancelling_stops_the_shard_and_disconnecting_cancels_the_run() {
    let env = Env::start(Backend::Sqlite).await;
    let run = env.start_run().await;
    let job = env.job(run.id, 0);
    let opts = small_pages(5, 1);
    env.shard(&job, &opts).await;
    let cancelled = cancel_run(
        env.db.conn(),
        env.integration,
        run.id,
        "cancelled by operator",
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(cancelled.status, FullSyncStatus::Cancelled);
    assert!(cancelled.finished_at.is_some());
    let after = env.shard(&job, &opts).await;
    assert_eq!(after.end, ShardEnd::Finished(FullSyncStatus::Cancelled));
    assert_eq!(after.seen, 0);
    let p = env.progress(run.id).await;
    assert_eq!(p.seen, 5, "nothing read after the cancel");
    assert_eq!(p.shards[0].status, FullSyncStatus::Cancelled);
    // Another integration's id does not reach the run.
    assert!(
        cancel_run(env.db.conn(), Uuid::new_v4(), run.id, "x")
            .await
            .unwrap()
            .is_none()
    );

    let run = env.start_run().await;
    let mut row: integrations::ActiveModel = integrations::Entity::find_by_id(env.integration)
        .one(env.db.conn())
        .await
        .unwrap()
        .unwrap()
        .into();
    row.status = Set(IntegrationStatus::Disconnected);
    row.update(env.db.conn()).await.unwrap();
    let out = env.shard(&env.job(run.id, 0), &opts).await;
    assert_eq!(out.end, ShardEnd::Finished(FullSyncStatus::Cancelled));
    let p = env.progress(run.id).await;
    assert_eq!(p.status, FullSyncStatus::Cancelled);
    assert_eq!(p.seen, 0);
    assert!(p.error.unwrap().contains("disconnected"));
    let refused = start_run(
        &env.ctx,
        &env.jobs,
        env.integration,
        FullSyncTrigger::Manual,
    )
    .await;
    assert!(
        matches!(refused, Err(StartError::NotConnected { .. })),
        "{refused:?}"
    );
}

#[tokio::test]
async fn one_run_at_a_time_unless_the_running_one_stalled() {
    let env = Env::start(Backend::Sqlite).await;
    let run = env.start_run().await;
    let second = start_run(
        &env.ctx,
        &env.jobs,
        env.integration,
        FullSyncTrigger::Scheduled,
    )
    .await;
    match second {
        Err(StartError::AlreadyRunning { run_id, .. }) => assert_eq!(run_id, run.id),
        other => panic!("expected AlreadyRunning, got {other:?}"),
    }

    // No progress for longer than STALE_AFTER: the run no longer blocks.
    let old = hubsync_entities::now() - chrono::Duration::hours(4);
    Runs::update_many()
        .col_expr(
            full_sync_runs::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(old),
        )
        .filter(full_sync_runs::Column::Id.eq(run.id))
        .exec(env.db.conn())
        .await
        .unwrap();
    Shards::update_many()
        .col_expr(
            full_sync_shards::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(old),
        )
        .filter(full_sync_shards::Column::RunId.eq(run.id))
        .exec(env.db.conn())
        .await
        .unwrap();
    let fresh = env.start_run().await;
    assert_ne!(fresh.id, run.id);
    let stalled = env.progress(run.id).await;
    assert_eq!(stalled.status, FullSyncStatus::Failed);
    assert!(stalled.error.unwrap().contains("no progress"));
    assert_eq!(stalled.shards[0].status, FullSyncStatus::Failed);
    // The stalled run's late job does nothing.
    let late = env.shard(&env.job(run.id, 0), &small_pages(10, 10)).await;
    assert_eq!(late.end, ShardEnd::Finished(FullSyncStatus::Failed));
    assert_eq!(late.seen, 0);

    let listed = list_runs(env.db.conn(), env.integration, 10, None)
        .await
        .unwrap();
    assert_eq!(
        listed.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![fresh.id, run.id],
        "newest first"
    );

    // Without an enabled mapping there is nothing to run.
    cancel_run(env.db.conn(), env.integration, fresh.id, "test")
        .await
        .unwrap();
    object_mappings::Entity::update_many()
        .col_expr(
            object_mappings::Column::Enabled,
            sea_orm::sea_query::Expr::value(false),
        )
        .filter(object_mappings::Column::IntegrationId.eq(env.integration))
        .exec(env.db.conn())
        .await
        .unwrap();
    let none = start_run(
        &env.ctx,
        &env.jobs,
        env.integration,
        FullSyncTrigger::Manual,
    )
    .await;
    assert!(matches!(none, Err(StartError::NoMappings(_))), "{none:?}");
}

#[tokio::test]
async fn a_rate_limit_wait_hands_over_to_a_delayed_continuation() {
    let env = Env::start(Backend::Sqlite).await;
    let run = env.start_run().await;
    // Spend the portal's 10-second budget, as other jobs of the cluster would.
    let limits = crate::ratelimit::PortalLimits::OAUTH_APP;
    for _ in 0..limits.burst_per_10s {
        env.ctx
            .limiter
            .acquire(
                PORTAL as u64,
                Some(54321),
                crate::ratelimit::CallKind::Standard,
                &limits,
            )
            .await
            .unwrap();
    }
    let opts = ShardOptions {
        max_inline_wait: Duration::ZERO,
        ..small_pages(10, 10)
    };
    let job = env.job(run.id, 0);
    for _ in 0..2 {
        let out = env.shard(&job, &opts).await;
        match out.end {
            ShardEnd::Continues { after } => {
                assert!(after > Duration::ZERO && after <= Duration::from_secs(10))
            }
            other => panic!("expected a delayed continuation, got {other:?}"),
        }
        assert_eq!(out.seen, 0);
    }
    let p = env.progress(run.id).await;
    assert_eq!(
        (p.seen, p.shards[0].pages),
        (0, 0),
        "nothing counted while waiting"
    );
    let admin = env.jobs.bulk.admin();
    let delayed = admin
        .list(JobState::Delayed, &JobFilter::all(), 100, None)
        .await
        .unwrap();
    assert_eq!(
        delayed.jobs.len(),
        2,
        "each waiting job queues its own successor"
    );
}

#[tokio::test]
async fn a_deleted_checkpoint_object_restarts_the_listing() {
    let env = Env::start(Backend::Sqlite).await;
    let run = env.start_run().await;
    let job = env.job(run.id, 0);
    let opts = small_pages(5, 1);
    env.shard(&job, &opts).await;
    let r = env
        .http
        .delete(format!("{}/users/u_0005", env.uf_base))
        .bearer_auth("ak_sim_demo")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    env.drive(&run, &opts).await;
    let p = env.progress(run.id).await;
    assert_eq!(p.status, FullSyncStatus::Completed);
    assert_eq!(
        p.seen,
        5 + USERS as u64,
        "first page, then the 30 users left"
    );
    let (_, from_start) = env.user_list_calls().await;
    assert_eq!(from_start, 2);
}

#[tokio::test]
async fn groups_match_by_id_and_each_mapping_is_a_shard() {
    let env = Env::start(Backend::Sqlite).await;
    // Companies carry the Userflow group id in a unique property; two of them are linked.
    let token = "pat-sim-62515";
    let r = env
        .http
        .post(format!("{}/crm/v3/properties/companies", env.hs_base))
        .bearer_auth(token)
        .json(&json!({
            "name": "userflow_group_id", "label": "Userflow group id", "type": "string",
            "fieldType": "text", "groupName": "companyinformation", "hasUniqueValue": true,
        }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let companies: Value = env
        .http
        .get(format!("{}/crm/v3/objects/companies?limit=2", env.hs_base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut linked = BTreeSet::new();
    for (company, group) in companies["results"]
        .as_array()
        .unwrap()
        .iter()
        .zip(["g_001", "g_003"])
    {
        let id = company["id"].as_str().unwrap();
        let r = env
            .http
            .patch(format!("{}/crm/v3/objects/companies/{id}", env.hs_base))
            .bearer_auth(token)
            .json(&json!({"properties": {"userflow_group_id": group}}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        linked.insert((group.to_owned(), id.to_owned()));
    }
    object_mappings::ActiveModel {
        integration_id: Set(env.integration),
        hubspot_object_type: Set("companies".into()),
        userflow_object_type: Set(UserflowObjectType::Group),
        match_hubspot_property: Set("userflow_group_id".into()),
        match_userflow_attribute: Set(UserflowMatchAttribute::Id),
        enabled: Set(true),
        ..Default::default()
    }
    .insert(env.db.conn())
    .await
    .unwrap();

    let run = env.start_run().await;
    assert_eq!(run.shard_count, 2);
    env.drive(&run, &small_pages(2, 100)).await;

    let p = env.progress(run.id).await;
    assert_eq!(p.status, FullSyncStatus::Completed);
    assert_eq!(p.shards.len(), 2);
    let groups = &p.shards[1];
    assert_eq!((groups.seen, groups.matched, groups.pages), (5, 2, 3));
    assert_eq!(p.seen, USERS as u64 + 1 + 5, "the sum of both shards");
    assert_eq!(p.matched, CONTACTS as u64 + 2);
    let queued: BTreeSet<(String, String)> = env
        .queued()
        .await
        .into_iter()
        .filter_map(|j| match j {
            Job::SyncFromUserflow(j) if j.kind == hubsync_core::jobs::UserflowKind::Group => {
                Some(("uf".to_owned(), j.id))
            }
            Job::SyncFromHubspot(j) if j.object_type == "companies" => {
                Some(("hs".to_owned(), j.object_id))
            }
            _ => None,
        })
        .collect();
    let want: BTreeSet<(String, String)> = linked
        .iter()
        .flat_map(|(g, c)| [("uf".to_owned(), g.clone()), ("hs".to_owned(), c.clone())])
        .collect();
    assert_eq!(queued, want);
}
