//! `hubsync dev`: every role and both simulators in one process, on embedded defaults
//! (SQLite in the data directory; the local Redis, or a private `redis-server` when none
//! answers).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;

use crate::cli::DevArgs;
use crate::commands::{api, background, background::Role, sim};
use crate::roles;

pub async fn run(args: DevArgs) -> anyhow::Result<()> {
    let secrets = api::secret_box(&args.encryption_key)?;
    if args.encryption_key == crate::cli::DEV_ENCRYPTION_KEY {
        tracing::warn!(
            "using the public development encryption key; set --encryption-key for real secrets"
        );
    }
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create {}", args.data_dir.display()))?;
    let (redis_url, _private_redis) = redis_or_private(&args.redis_url, &args.data_dir).await?;
    let database_url = args.database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            args.data_dir.join("hubsync.sqlite").display()
        )
    });
    let db = roles::connect_db(&database_url, true).await?;
    let redis = roles::connect_redis(&redis_url).await?;

    let sims = sim::start(&args.binds, &args.seed, None, None).await?;
    let shutdown = roles::shutdown_signal();
    let listener = roles::bind("api", &args.bind).await?;
    let api_addr = listener.local_addr()?;

    let conns = roles::Connections {
        db,
        redis: redis.clone(),
        redis_url: redis_url.clone(),
    };
    let settings = sims.settings(format!("http://{api_addr}"));
    let mut tasks = Vec::new();
    for role in [Role::Worker, Role::Scheduler] {
        let (ctx, jobs) = background::sync_context(
            &conns,
            &args.redis_prefix,
            secrets.clone(),
            settings.clone(),
        )?;
        let (redis, prefix, stop) = (redis.clone(), args.redis_prefix.clone(), shutdown.clone());
        tasks.push(tokio::spawn(async move {
            let presence = tokio::spawn(roles::presence(redis, prefix, role.name(), stop.clone()));
            if let Err(e) = role
                .run_until(ctx, jobs, background::RoleOptions::default(), stop)
                .await
            {
                tracing::error!(role = role.name(), error = %e, "role stopped with an error");
            }
            let _ = presence.await;
        }));
    }
    let operator_token = args
        .operator_tokens
        .first()
        .map(String::as_str)
        .unwrap_or("<none>");
    print_banner(
        &api_addr.to_string(),
        operator_token,
        &sims,
        &database_url,
        &redis_url,
    );
    let queues = api::queues(&redis_url, &args.redis_prefix)?;
    api::serve(
        listener,
        conns,
        queues,
        &args.redis_prefix,
        api::Access {
            operator_tokens: args.operator_tokens.clone(),
            metrics_require_token: false,
            secrets,
            settings,
        },
        shutdown,
    )
    .await?;
    for t in tasks {
        let _ = t.await;
    }
    Ok(())
}

fn print_banner(
    api: &str,
    operator_token: &str,
    sims: &sim::Simulators,
    database_url: &str,
    redis_url: &str,
) {
    let hs = sims.hubspot.base_url();
    let uf = sims.userflow.base_url();
    println!(
        "\nhubsync dev is running (Ctrl-C stops everything)\n\
         \n  API                  http://{api}  (health: http://{api}/healthz, readiness: http://{api}/readyz)\
         \n    live replicas      curl -H 'Authorization: Bearer {operator_token}' http://{api}/api/v1/cluster\
         \n    queues             curl -H 'Authorization: Bearer {operator_token}' http://{api}/api/v1/queues\
         \n    metrics            http://{api}/metrics\
         \n  HubSpot simulator    {hs}\
         \n    contacts           curl -H 'Authorization: Bearer pat-sim-62515' {hs}/crm/v3/objects/contacts\
         \n    OAuth authorize    {hs}/oauth/authorize?client_id=sim-client-id&redirect_uri=http://{api}/oauth/hubspot/callback&scope=crm.objects.contacts.read\
         \n    webhook deliveries {hs}/_sim/hubspot/webhooks/deliveries\
         \n  Userflow simulator   {uf}\
         \n    users              curl -H 'Authorization: Bearer ak_sim_demo' {uf}/users\
         \n  database             {}\
         \n  redis                {}\n",
        roles::redact(database_url),
        roles::redact(redis_url),
    );
}

/// A `redis-server` this process started; stopped when dropped.
struct PrivateRedis(tokio::process::Child);

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.0.start_kill();
    }
}

async fn redis_or_private(
    url: &str,
    data_dir: &Path,
) -> anyhow::Result<(String, Option<PrivateRedis>)> {
    if roles::connect_redis(url).await.is_ok() {
        return Ok((url.to_string(), None));
    }
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").context("no free local port")?;
        l.local_addr()?.port()
    };
    tracing::info!(
        url,
        port,
        "no Redis answers; starting a private redis-server"
    );
    let child = tokio::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(data_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| {
            format!("no Redis answers at {url} and redis-server could not be started: install Redis or pass --redis-url")
        })?;
    let private = PrivateRedis(child);
    let private_url = format!("redis://127.0.0.1:{port}");
    for _ in 0..50 {
        if roles::connect_redis(&private_url).await.is_ok() {
            return Ok((private_url, Some(private)));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the private redis-server on port {port} did not start")
}
