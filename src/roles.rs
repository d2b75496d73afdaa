//! What every role does the same way: logging, connecting to the database and Redis, the
//! presence heartbeat, and stopping on SIGINT/SIGTERM.

use std::time::Duration;

use anyhow::Context;
use sea_orm::DatabaseConnection;
use tokio::sync::watch;
use tracing_subscriber::EnvFilter;

use crate::cli::{LogFormat, StateArgs};

/// Installs the global subscriber; `RUST_LOG` overrides `default_filter`.
pub fn init_tracing(format: LogFormat, default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    // Logs go to stderr: stdout carries the `listening …` lines and `--json` results that
    // scripts read.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Database and Redis connections of one role.
pub struct Connections {
    pub db: DatabaseConnection,
    pub redis: redis::aio::ConnectionManager,
    /// The Redis URL, for clients that open their own connections (queues).
    pub redis_url: String,
}

/// Connects to the database (applying migrations when asked) and to Redis, failing with a
/// message that names the URL that did not answer.
pub async fn connect(state: &StateArgs) -> anyhow::Result<Connections> {
    let db = connect_db(&state.database_url, state.migrate).await?;
    let redis = connect_redis(&state.redis_url).await?;
    Ok(Connections {
        db,
        redis,
        redis_url: state.redis_url.clone(),
    })
}

pub async fn connect_db(url: &str, migrate: bool) -> anyhow::Result<DatabaseConnection> {
    let db = hubsync_entities::connect(url)
        .await
        .with_context(|| format!("cannot open database {}", redact(url)))?;
    if migrate {
        hubsync_migrations::migrate(&db)
            .await
            .context("applying migrations")?;
    }
    Ok(db)
}

pub async fn connect_redis(url: &str) -> anyhow::Result<redis::aio::ConnectionManager> {
    let client =
        redis::Client::open(url).with_context(|| format!("bad Redis URL {}", redact(url)))?;
    let conn = tokio::time::timeout(
        Duration::from_secs(5),
        redis::aio::ConnectionManager::new(client),
    )
    .await
    .map_err(|_| anyhow::anyhow!("Redis at {} did not answer within 5 s", redact(url)))?
    .with_context(|| format!("cannot connect to Redis at {}", redact(url)))?;
    Ok(conn)
}

/// Hides a password in a URL before it is logged.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// A receiver that turns true on SIGINT or SIGTERM.
pub fn shutdown_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {}
            _ = term => {}
        }
        tracing::info!("shutdown requested");
        let _ = tx.send(true);
    });
    rx
}

/// How often a role refreshes its presence key; the key expires after three missed beats.
const HEARTBEAT: Duration = Duration::from_secs(5);

/// Keeps `{<prefix>}:presence:<role>:<id>` alive in Redis while the role runs, so operators
/// (and the API) can count live replicas of each role. Removes it on shutdown.
pub async fn presence(
    mut redis: redis::aio::ConnectionManager,
    prefix: String,
    role: &str,
    mut shutdown: watch::Receiver<bool>,
) {
    let id = format!(
        "{}-{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into()),
        std::process::id()
    );
    let key = format!("{{{prefix}}}:presence:{role}:{id}");
    loop {
        let beat: redis::RedisResult<()> = redis::cmd("SET")
            .arg(&key)
            .arg(chrono_like_now())
            .arg("PX")
            .arg((HEARTBEAT * 3).as_millis() as u64)
            .query_async(&mut redis)
            .await;
        if let Err(e) = beat {
            tracing::warn!(error = %e, role, "presence heartbeat failed; retrying");
        }
        tokio::select! {
            _ = tokio::time::sleep(HEARTBEAT) => {}
            _ = shutdown.wait_for(|stop| *stop) => break,
        }
    }
    let _: redis::RedisResult<()> = redis::cmd("DEL").arg(&key).query_async(&mut redis).await;
}

fn chrono_like_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Binds a TCP listener and prints the one `listening addr=…` line that scripts and the test
/// harness read to learn the real port.
pub async fn bind(what: &str, addr: &str) -> anyhow::Result<tokio::net::TcpListener> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    println!("listening role={what} addr={local}");
    tracing::info!(role = what, addr = %local, "listening");
    Ok(listener)
}
