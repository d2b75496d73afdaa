//! `hubsync api`.

use crate::cli::ApiArgs;
use crate::roles;

pub async fn run(args: ApiArgs) -> anyhow::Result<()> {
    let conns = roles::connect(&args.state).await?;
    let shutdown = roles::shutdown_signal();
    let listener = roles::bind("api", &args.bind).await?;
    serve(
        listener,
        conns,
        &args.state.redis_prefix,
        args.operator_tokens,
        shutdown,
    )
    .await
}

/// Serves the API on `listener` until `shutdown`; shared with `hubsync dev`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    conns: roles::Connections,
    redis_prefix: &str,
    operator_tokens: Vec<String>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let presence = tokio::spawn(roles::presence(
        conns.redis.clone(),
        redis_prefix.to_string(),
        "api",
        shutdown.clone(),
    ));
    let operator_tokens: Vec<String> = operator_tokens
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect();
    if operator_tokens.is_empty() {
        tracing::warn!("no operator token configured: the operator API answers 401 to every call");
    }
    let app = hubsync_api::app(hubsync_api::AppState {
        db: conns.db,
        redis: conns.redis,
        redis_prefix: redis_prefix.to_string(),
        operator_tokens: operator_tokens.into(),
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
