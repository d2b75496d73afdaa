//! End-to-end tests of the `hubsync` binary: every subcommand runs as a real process against
//! real Redis and databases, each test with its own Redis prefix, database and ports.

mod harness;

use std::time::Duration;

use harness::{Proc, redis_keys, redis_url, unique};
use hubsync_migrations::test_support::{Backend, TestDb};

/// Every `HUBSYNC_*` variable the CLI reads, taken from its source so a new flag cannot be
/// forgotten here.
fn env_vars_in_cli_source() -> Vec<String> {
    let src = include_str!("../src/cli.rs");
    let mut vars: Vec<String> = src
        .match_indices("env = \"")
        .map(|(i, m)| {
            let rest = &src[i + m.len()..];
            rest[..rest.find('"').expect("closing quote")].to_string()
        })
        .collect();
    vars.sort();
    vars.dedup();
    vars
}

#[tokio::test]
async fn every_flag_is_documented_in_help_and_readme() {
    let vars = env_vars_in_cli_source();
    assert!(
        vars.len() >= 15,
        "expected the full flag set, found {vars:?}"
    );
    let mut help = String::new();
    for cmd in ["api", "worker", "scheduler", "migrate", "sim", "dev"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_hubsync"))
            .args([cmd, "--help"])
            .output()
            .expect("run --help");
        assert!(out.status.success(), "{cmd} --help failed");
        help.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    let readme = include_str!("../README.md");
    for var in &vars {
        assert!(
            help.contains(var.as_str()),
            "{var} missing from --help output"
        );
        assert!(
            readme.contains(var.as_str()),
            "{var} missing from the README"
        );
    }
}

async fn migrate(url: &str, args: &[&str]) -> String {
    let mut full = vec!["migrate", "--database-url", url];
    full.extend_from_slice(args);
    let mut p = Proc::spawn(&full, &[]);
    let status = p.wait_exit(Duration::from_secs(60)).await;
    assert!(status.success(), "migrate {args:?} failed:\n{}", p.output());
    p.output()
}

async fn migrate_up_status_down(backend: Backend) {
    let db = TestDb::new(backend).await.expect("test database");
    let url = db.url().to_string();
    migrate(&url, &["up"]).await;
    let status = migrate(&url, &["status"]).await;
    let applied = status.lines().filter(|l| l.starts_with("applied")).count();
    assert_eq!(
        applied,
        <hubsync_migrations::Migrator as sea_orm_migration::MigratorTrait>::migrations().len(),
        "status after up:\n{status}"
    );
    assert!(applied >= hubsync_migrations::TABLES.len());
    migrate(&url, &["down", "2"]).await;
    let status = migrate(&url, &["status"]).await;
    let pending = status.lines().filter(|l| l.starts_with("pending")).count();
    assert_eq!(pending, 2, "status after down 2:\n{status}");
    migrate(&url, &[]).await;
    let status = migrate(&url, &["status"]).await;
    assert!(
        !status.contains("pending"),
        "status after up again:\n{status}"
    );
    db.close().await.expect("drop test database");
}

#[tokio::test]
async fn migrate_on_postgres() {
    migrate_up_status_down(Backend::Postgres).await;
}

#[tokio::test]
async fn migrate_on_sqlite() {
    migrate_up_status_down(Backend::Sqlite).await;
}

#[tokio::test]
async fn api_serves_probes_and_keeps_presence_until_stopped() {
    let db = TestDb::new(Backend::Postgres).await.expect("test database");
    let prefix = unique("api");
    let redis = redis_url();
    let mut api = Proc::spawn(
        &[
            "api",
            "--bind",
            "127.0.0.1:0",
            "--migrate",
            "--database-url",
            db.url(),
            "--redis-url",
            &redis,
            "--redis-prefix",
            &prefix,
        ],
        &[("HUBSYNC_ENCRYPTION_KEY", TEST_ENCRYPTION_KEY)],
    );
    let base = api.url_of("api").await;
    api.wait_ok(&format!("{base}/healthz")).await;
    let ready = reqwest::get(format!("{base}/readyz"))
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(
        body,
        serde_json::json!({"status": "ready", "database": "ok", "redis": "ok"})
    );
    let pattern = format!("{{{prefix}}}:presence:api:*");
    assert_eq!(
        redis_keys(&pattern).await.len(),
        1,
        "presence key while running"
    );
    let status = api.stop().await;
    assert!(
        status.success(),
        "api exit status {status}:\n{}",
        api.output()
    );
    assert!(
        redis_keys(&pattern).await.is_empty(),
        "presence key left after shutdown"
    );
    db.close().await.expect("drop test database");
}

/// base64 of 32 bytes, for the api processes of these tests.
const TEST_ENCRYPTION_KEY: &str = "dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktMzJieXQ=";

#[tokio::test]
async fn worker_refuses_to_start_without_the_encryption_key() {
    let mut worker = Proc::spawn(&["worker", "--database-url", "sqlite::memory:"], &[]);
    let status = worker.wait_exit(Duration::from_secs(20)).await;
    assert!(!status.success());
    assert!(
        worker
            .output()
            .contains("--encryption-key (HUBSYNC_ENCRYPTION_KEY) is required"),
        "unclear error:\n{}",
        worker.output()
    );
}

#[tokio::test]
async fn api_refuses_to_start_without_a_valid_encryption_key() {
    for (env, expected) in [
        (
            None,
            "--encryption-key (HUBSYNC_ENCRYPTION_KEY) is required",
        ),
        (
            Some("c2hvcnQ="),
            "invalid --encryption-key (HUBSYNC_ENCRYPTION_KEY)",
        ),
    ] {
        let env: Vec<(&str, &str)> = env
            .map(|k| vec![("HUBSYNC_ENCRYPTION_KEY", k)])
            .unwrap_or_default();
        let mut api = Proc::spawn(
            &[
                "api",
                "--bind",
                "127.0.0.1:0",
                "--database-url",
                "sqlite::memory:",
            ],
            &env,
        );
        let status = api.wait_exit(Duration::from_secs(20)).await;
        assert!(!status.success());
        assert!(
            api.output().contains(expected),
            "unclear error:\n{}",
            api.output()
        );
    }
}

#[tokio::test]
async fn api_refuses_to_start_when_redis_does_not_answer() {
    let db = TestDb::new(Backend::Sqlite).await.expect("test database");
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        l.local_addr().expect("addr").port()
    };
    let url = format!("redis://127.0.0.1:{dead}");
    let mut api = Proc::spawn(
        &[
            "api",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            db.url(),
            "--redis-url",
            &url,
        ],
        &[("HUBSYNC_ENCRYPTION_KEY", TEST_ENCRYPTION_KEY)],
    );
    let status = api.wait_exit(Duration::from_secs(20)).await;
    assert!(!status.success());
    assert!(
        api.output().contains(&format!("Redis at {url}")),
        "unclear error:\n{}",
        api.output()
    );
    db.close().await.expect("drop test database");
}

#[tokio::test]
async fn worker_and_scheduler_announce_themselves() {
    let db = TestDb::new(Backend::Postgres).await.expect("test database");
    let prefix = unique("roles");
    let redis = redis_url();
    let args = |role: &'static str| {
        vec![
            role.to_string(),
            "--migrate".into(),
            "--database-url".into(),
            db.url().to_string(),
            "--redis-url".into(),
            redis.clone(),
            "--redis-prefix".into(),
            prefix.clone(),
            "--encryption-key".into(),
            TEST_ENCRYPTION_KEY.into(),
        ]
    };
    let w = args("worker");
    let s = args("scheduler");
    let mut worker = Proc::spawn(&w.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    let mut scheduler = Proc::spawn(&s.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    for role in ["worker", "scheduler"] {
        let pattern = format!("{{{prefix}}}:presence:{role}:*");
        let mut found = false;
        for _ in 0..200 {
            if !redis_keys(&pattern).await.is_empty() {
                found = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            found,
            "{role} never announced itself:\n{}\n{}",
            worker.output(),
            scheduler.output()
        );
    }
    assert!(
        worker.stop().await.success(),
        "worker:\n{}",
        worker.output()
    );
    assert!(
        scheduler.stop().await.success(),
        "scheduler:\n{}",
        scheduler.output()
    );
    assert!(
        redis_keys(&format!("{{{prefix}}}:presence:*"))
            .await
            .is_empty()
    );
    db.close().await.expect("drop test database");
}

fn dev_args<'a>(data_dir: &'a str, redis: &'a str, prefix: &'a str) -> Vec<&'a str> {
    vec![
        "dev",
        "--bind",
        "127.0.0.1:0",
        "--hubspot-bind",
        "127.0.0.1:0",
        "--userflow-bind",
        "127.0.0.1:0",
        "--data-dir",
        data_dir,
        "--redis-url",
        redis,
        "--redis-prefix",
        prefix,
    ]
}

#[tokio::test]
async fn dev_runs_every_role_and_both_simulators_with_demo_data() {
    let dir = std::env::temp_dir().join(unique("dev"));
    let data_dir = dir.to_string_lossy().to_string();
    let redis = redis_url();
    let prefix = unique("dev");
    let mut dev = Proc::spawn(&dev_args(&data_dir, &redis, &prefix), &[]);
    let api = dev.url_of("api").await;
    let hubspot = dev.url_of("sim-hubspot").await;
    let userflow = dev.url_of("sim-userflow").await;
    dev.wait_ok(&format!("{api}/readyz")).await;
    assert!(
        dir.join("hubsync.sqlite").exists(),
        "dev did not create its SQLite database"
    );

    let client = reqwest::Client::new();
    let contacts: serde_json::Value = client
        .get(format!("{hubspot}/crm/v3/objects/contacts?limit=5"))
        .bearer_auth("pat-sim-62515")
        .send()
        .await
        .expect("contacts")
        .json()
        .await
        .expect("json");
    assert_eq!(
        contacts["results"].as_array().map(Vec::len),
        Some(5),
        "{contacts}"
    );
    let users: serde_json::Value = client
        .get(format!("{userflow}/users"))
        .bearer_auth("ak_sim_demo")
        .send()
        .await
        .expect("users")
        .json()
        .await
        .expect("json");
    assert!(
        users["data"].as_array().is_some_and(|d| !d.is_empty()),
        "{users}"
    );
    for role in ["worker", "scheduler", "api"] {
        let keys = redis_keys(&format!("{{{prefix}}}:presence:{role}:*")).await;
        assert_eq!(keys.len(), 1, "{role} presence in dev");
    }
    let cluster: serde_json::Value = client
        .get(format!("{api}/api/v1/cluster"))
        .bearer_auth("dev-operator-token")
        .send()
        .await
        .expect("cluster")
        .json()
        .await
        .expect("json");
    for role in ["api", "worker", "scheduler"] {
        assert_eq!(
            cluster["roles"][role].as_array().map(Vec::len),
            Some(1),
            "{cluster}"
        );
    }
    assert!(
        dev.output().contains("hubsync dev is running"),
        "no banner:\n{}",
        dev.output()
    );
    assert!(dev.stop().await.success(), "dev:\n{}", dev.output());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn dev_starts_a_private_redis_when_none_answers() {
    let dir = std::env::temp_dir().join(unique("dev-redis"));
    let data_dir = dir.to_string_lossy().to_string();
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        l.local_addr().expect("addr").port()
    };
    let url = format!("redis://127.0.0.1:{dead}");
    let prefix = unique("dev");
    let mut dev = Proc::spawn(&dev_args(&data_dir, &url, &prefix), &[]);
    let api = dev.url_of("api").await;
    dev.wait_ok(&format!("{api}/readyz")).await;
    assert!(
        dev.output().contains("starting a private redis-server"),
        "{}",
        dev.output()
    );
    assert!(dev.stop().await.success(), "dev:\n{}", dev.output());
    let _ = std::fs::remove_dir_all(&dir);
}

async fn first_contact_emails(seed: &str) -> Vec<String> {
    let mut sim = Proc::spawn(
        &[
            "sim",
            "--hubspot-bind",
            "127.0.0.1:0",
            "--userflow-bind",
            "127.0.0.1:0",
            "--seed",
            seed,
            "--contacts",
            "30",
        ],
        &[],
    );
    let hubspot = sim.url_of("sim-hubspot").await;
    let page: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "{hubspot}/crm/v3/objects/contacts?limit=30&properties=email"
        ))
        .bearer_auth("pat-sim-62515")
        .send()
        .await
        .expect("contacts")
        .json()
        .await
        .expect("json");
    sim.stop().await;
    page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|c| {
            c["properties"]["email"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn sim_seeding_is_deterministic() {
    let a = first_contact_emails("7").await;
    let b = first_contact_emails("7").await;
    let c = first_contact_emails("8").await;
    assert_eq!(a.len(), 30);
    assert_eq!(a, b, "same seed, different data");
    assert_ne!(a, c, "different seeds, same data");
}
