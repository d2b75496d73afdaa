//! The scheduler against a real database and the real Redis, two replicas at once.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use hubsync_core::jobs::Job;
use hubsync_entities::full_sync_runs::{self, Entity as Runs};
use hubsync_entities::{
    FullSyncStatus, FullSyncTrigger, IntegrationStatus, UserflowMatchAttribute, UserflowObjectType,
    integrations, object_mappings,
};
use hubsync_migrations::test_support::{Backend, TestDb};
use hubsync_queue::{JobFilter, JobState};
use hubsync_sync::{JobQueues, Settings, SyncContext};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::*;

fn redis_url() -> String {
    std::env::var("HUBSYNC_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

struct Env {
    db: TestDb,
    prefix: String,
    redis: redis::Client,
}

impl Env {
    async fn new(db: TestDb) -> Env {
        Env {
            db,
            prefix: format!("test-sched-{}", Uuid::new_v4().simple()),
            redis: redis::Client::open(redis_url()).unwrap(),
        }
    }

    /// One replica's context: its own Redis connection, the shared database and prefix.
    async fn replica(&self) -> (SyncContext, JobQueues) {
        let conn = redis::aio::ConnectionManager::new(self.redis.clone())
            .await
            .unwrap();
        let ctx = SyncContext::new(
            self.db.conn().clone(),
            conn,
            self.prefix.clone(),
            hubsync_core::secrets::SecretBox::new([9; 32]),
            Settings::default(),
        );
        let jobs = JobQueues::new(self.redis.clone(), &self.prefix).unwrap();
        (ctx, jobs)
    }

    async fn integration(&self, status: IntegrationStatus, mapped: bool) -> Uuid {
        let id = integrations::ActiveModel {
            name: Set("Scheduled".into()),
            status: Set(status),
            ..Default::default()
        }
        .insert(self.db.conn())
        .await
        .unwrap()
        .id;
        if mapped {
            object_mappings::ActiveModel {
                integration_id: Set(id),
                hubspot_object_type: Set("contacts".into()),
                userflow_object_type: Set(UserflowObjectType::User),
                match_hubspot_property: Set("email".into()),
                match_userflow_attribute: Set(UserflowMatchAttribute::Email),
                enabled: Set(true),
                ..Default::default()
            }
            .insert(self.db.conn())
            .await
            .unwrap();
        }
        id
    }

    async fn runs_of(&self, integration: Uuid) -> Vec<full_sync_runs::Model> {
        Runs::find()
            .filter(full_sync_runs::Column::IntegrationId.eq(integration))
            .all(self.db.conn())
            .await
            .unwrap()
    }

    async fn spawn(
        &self,
        interval: Duration,
        every: Duration,
        stop: &watch::Sender<bool>,
    ) -> JoinHandle<()> {
        let (ctx, jobs) = self.replica().await;
        let opts = SchedulerOptions {
            full_sync_interval: interval,
        };
        tokio::spawn(run_every(ctx, jobs, opts, every, stop.subscribe()))
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let Ok(mut conn) = self.redis.get_connection() else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("*{}*", self.prefix))
            .query(&mut conn)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<()> = redis::cmd("DEL").arg(&keys).query(&mut conn);
        }
    }
}

async fn stop_all(stop: watch::Sender<bool>, tasks: Vec<JoinHandle<()>>) {
    stop.send(true).unwrap();
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(5), t)
            .await
            .expect("scheduler stops on shutdown")
            .unwrap();
    }
}

hubsync_migrations::backend_tests!(two_replicas_start_one_run_per_integration);

async fn two_replicas_start_one_run_per_integration(backend: Backend) {
    let env = Env::new(TestDb::migrated(backend).await.unwrap()).await;
    let mut connected = Vec::new();
    for _ in 0..3 {
        connected.push(env.integration(IntegrationStatus::Connected, true).await);
    }
    let disconnected = env.integration(IntegrationStatus::Disconnected, true).await;
    let unmapped = env.integration(IntegrationStatus::Connected, false).await;

    let (stop, _) = watch::channel(false);
    let hour = Duration::from_secs(3600);
    let tick = Duration::from_millis(20);
    let tasks = vec![
        env.spawn(hour, tick, &stop).await,
        env.spawn(hour, tick, &stop).await,
    ];
    // Wait for the runs, then let both replicas tick a while longer: no second run may come.
    let mut waited = Duration::ZERO;
    loop {
        let mut started = 0;
        for id in &connected {
            started += usize::from(!env.runs_of(*id).await.is_empty());
        }
        if started == connected.len() {
            break;
        }
        assert!(waited < Duration::from_secs(20), "runs not started");
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += Duration::from_millis(20);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop_all(stop, tasks).await;

    for id in &connected {
        let runs = env.runs_of(*id).await;
        assert_eq!(runs.len(), 1, "exactly one run for {id}");
        assert_eq!(runs[0].trigger, FullSyncTrigger::Scheduled);
        assert_eq!(runs[0].status, FullSyncStatus::Pending);
    }
    assert!(env.runs_of(disconnected).await.is_empty());
    assert!(env.runs_of(unmapped).await.is_empty());

    // One shard job per started run, and the period claims in Redis.
    let (ctx, jobs) = env.replica().await;
    let page = jobs
        .bulk
        .admin()
        .list(JobState::Waiting, &JobFilter::all(), 100, None)
        .await
        .unwrap();
    let shard_jobs: Vec<Uuid> = page
        .jobs
        .iter()
        .filter_map(
            |r| match serde_json::from_str(r.payload.as_deref()?).ok()? {
                Job::FullSyncShard(j) => Some(j.integration_id),
                _ => None,
            },
        )
        .collect();
    assert_eq!(shard_jobs.len(), 3, "{shard_jobs:?}");
    let mut conn = ctx.redis.clone();
    for id in &connected {
        let key = claim_key(
            &ctx.redis_prefix,
            *id,
            slots::period_index(*id, hour, chrono::Utc::now()),
        );
        let exists: bool = redis::cmd("EXISTS")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(exists, "claim {key}");
        assert!(
            !claim(&ctx, &key, hour).await.unwrap(),
            "a claim is taken once"
        );
    }
}

#[tokio::test]
async fn each_period_gets_one_run() {
    let env = Env::new(TestDb::migrated(Backend::Sqlite).await.unwrap()).await;
    let id = env.integration(IntegrationStatus::Connected, true).await;
    let interval = Duration::from_millis(500);
    let (stop, _) = watch::channel(false);
    let tick = Duration::from_millis(10);
    let tasks = vec![
        env.spawn(interval, tick, &stop).await,
        env.spawn(interval, tick, &stop).await,
    ];
    // Runs finish at once here, so only the schedule holds the next one back.
    let until = tokio::time::Instant::now() + Duration::from_millis(2600);
    while tokio::time::Instant::now() < until {
        Runs::update_many()
            .col_expr(
                full_sync_runs::Column::Status,
                Expr::value(FullSyncStatus::Completed.as_str()),
            )
            .filter(full_sync_runs::Column::IntegrationId.eq(id))
            .exec(env.db.conn())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop_all(stop, tasks).await;

    let runs = env.runs_of(id).await;
    let mut periods: Vec<i64> = runs
        .iter()
        .map(|r| slots::period_index(id, interval, r.created_at))
        .collect();
    periods.sort_unstable();
    let before = periods.len();
    periods.dedup();
    assert_eq!(periods.len(), before, "two runs in one period: {runs:?}");
    assert!(
        (2..=7).contains(&runs.len()),
        "about one run per 500 ms over 2.6 s, got {}",
        runs.len()
    );
}

#[tokio::test]
async fn database_errors_do_not_stop_the_scheduler() {
    // Not migrated: every tick fails until the tables exist.
    let env = Env::new(TestDb::new(Backend::Sqlite).await.unwrap()).await;
    let (stop, _) = watch::channel(false);
    let task = env
        .spawn(Duration::from_secs(3600), Duration::from_millis(20), &stop)
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!task.is_finished(), "the scheduler survives failing ticks");

    hubsync_migrations::migrate(env.db.conn()).await.unwrap();
    let id = env.integration(IntegrationStatus::Connected, true).await;
    let mut waited = Duration::ZERO;
    while env.runs_of(id).await.is_empty() {
        assert!(waited < Duration::from_secs(10), "no run after recovery");
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += Duration::from_millis(20);
    }
    stop_all(stop, vec![task]).await;
    assert_eq!(env.runs_of(id).await.len(), 1);
}

#[tokio::test]
async fn a_tick_cancels_runs_of_disconnected_integrations() {
    let env = Env::new(TestDb::migrated(Backend::Sqlite).await.unwrap()).await;
    let (ctx, jobs) = env.replica().await;
    let kept = env.integration(IntegrationStatus::Connected, true).await;
    let dropped = env.integration(IntegrationStatus::Connected, true).await;
    let day = Duration::from_secs(86_400);
    let first = tick(&ctx, &jobs, day).await.unwrap();
    assert_eq!(first.checked, 2);
    assert_eq!(first.started.len(), 2);

    let mut row: integrations::ActiveModel = integrations::Entity::find_by_id(dropped)
        .one(env.db.conn())
        .await
        .unwrap()
        .unwrap()
        .into();
    row.status = Set(IntegrationStatus::Disconnected);
    row.update(env.db.conn()).await.unwrap();

    let second = tick(&ctx, &jobs, day).await.unwrap();
    assert_eq!(second.checked, 1);
    assert!(second.started.is_empty(), "a run per period");
    assert_eq!(second.cancelled.len(), 1);
    let runs = env.runs_of(dropped).await;
    assert_eq!(runs[0].status, FullSyncStatus::Cancelled);
    assert_eq!(
        runs[0].error.as_deref(),
        Some("integration is disconnected")
    );
    assert_eq!(env.runs_of(kept).await[0].status, FullSyncStatus::Pending);
}
