//! `hubsync api`.

use anyhow::Context;

use crate::cli::ApiArgs;
use crate::roles;

pub async fn run(args: ApiArgs) -> anyhow::Result<()> {
    let secrets = match args.encryption_key.as_deref() {
        Some(key) => secret_box(key)?,
        None => anyhow::bail!(
            "--encryption-key (HUBSYNC_ENCRYPTION_KEY) is required: base64 of 32 random bytes, \
             e.g. `openssl rand -base64 32`; every api and worker of the cluster needs the same key"
        ),
    };
    let conns = roles::connect(&args.state).await?;
    let shutdown = roles::shutdown_signal();
    let listener = roles::bind("api", &args.bind).await?;
    let queues = queues(&args.state.redis_url, &args.state.redis_prefix)?;
    let access = Access {
        operator_tokens: args.operator_tokens,
        metrics_require_token: args.metrics_require_token,
        secrets,
        settings: args.upstream.settings(),
    };
    serve(
        listener,
        conns,
        queues,
        &args.state.redis_prefix,
        access,
        shutdown,
    )
    .await
}

/// Who may call what.
pub struct Access {
    /// Bearer tokens for `/api/v1` (empty strings are ignored).
    pub operator_tokens: Vec<String>,
    /// Whether `/metrics` also needs an operator token.
    pub metrics_require_token: bool,
    /// Encrypts and decrypts stored secrets.
    pub secrets: hubsync_core::secrets::SecretBox,
    /// How to reach HubSpot and Userflow, and as which app.
    pub settings: hubsync_sync::Settings,
}

/// Parses `--encryption-key` (base64 of 32 bytes) with an error that names the flag.
pub fn secret_box(key: &str) -> anyhow::Result<hubsync_core::secrets::SecretBox> {
    hubsync_core::secrets::SecretBox::from_base64(key)
        .context("invalid --encryption-key (HUBSYNC_ENCRYPTION_KEY)")
}

/// The cluster's queues (`hubsync_queue::QUEUE_NAMES` under `redis_prefix`) for the operator
/// API and `/metrics`; connects lazily.
pub fn queues(redis_url: &str, redis_prefix: &str) -> anyhow::Result<hubsync_api::Queues> {
    let client = redis::Client::open(redis_url)
        .with_context(|| format!("bad Redis URL {}", roles::redact(redis_url)))?;
    hubsync_api::Queues::new(client, redis_prefix).context("configuring the queues")
}

/// Serves the API on `listener` until `shutdown`; shared with `hubsync dev`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    conns: roles::Connections,
    queues: hubsync_api::Queues,
    redis_prefix: &str,
    access: Access,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let presence = tokio::spawn(roles::presence(
        conns.redis.clone(),
        redis_prefix.to_string(),
        "api",
        shutdown.clone(),
    ));
    let operator_tokens: Vec<String> = access
        .operator_tokens
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect();
    if operator_tokens.is_empty() {
        tracing::warn!("no operator token configured: the operator API answers 401 to every call");
    }
    let redis_client = redis::Client::open(conns.redis_url.as_str())
        .with_context(|| format!("bad Redis URL {}", roles::redact(&conns.redis_url)))?;
    let jobs = hubsync_sync::JobQueues::new(redis_client, redis_prefix)
        .context("configuring the job queues")?;
    let sync = hubsync_sync::SyncContext::new(
        conns.db.clone(),
        conns.redis.clone(),
        redis_prefix,
        access.secrets.clone(),
        access.settings,
    );
    let app = hubsync_api::app(hubsync_api::AppState {
        sync,
        jobs,
        db: conns.db,
        redis: conns.redis,
        redis_prefix: redis_prefix.to_string(),
        operator_tokens: operator_tokens.into(),
        queues,
        metrics_require_token: access.metrics_require_token,
        secrets: access.secrets,
    });
    let mut stop = shutdown;
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await?;
    let _ = presence.await;
    Ok(())
}
