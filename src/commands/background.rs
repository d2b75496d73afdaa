//! `hubsync worker` and `hubsync scheduler`: the roles that serve no HTTP.

use anyhow::Context;

use crate::cli::RoleArgs;
use crate::roles;

/// A role without HTTP.
#[derive(Debug, Clone, Copy)]
pub enum Role {
    Worker,
    Scheduler,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Worker => "worker",
            Role::Scheduler => "scheduler",
        }
    }

    /// Runs the role's own loop until `shutdown`; shared with `hubsync dev`.
    pub async fn run_until(
        self,
        ctx: hubsync_sync::SyncContext,
        jobs: hubsync_sync::JobQueues,
        opts: RoleOptions,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> anyhow::Result<()> {
        match self {
            Role::Worker => hubsync_worker::run(ctx, jobs, opts.worker, shutdown).await?,
            Role::Scheduler => hubsync_scheduler::run(ctx, jobs, opts.scheduler, shutdown).await,
        }
        Ok(())
    }
}

/// Tuning of the background roles.
#[derive(Debug, Clone, Default)]
pub struct RoleOptions {
    pub worker: hubsync_worker::WorkerOptions,
    pub scheduler: hubsync_scheduler::SchedulerOptions,
}

impl RoleOptions {
    pub fn from_args(args: &RoleArgs) -> Self {
        Self {
            worker: hubsync_worker::WorkerOptions {
                realtime_concurrency: args.realtime_concurrency.max(1),
                bulk_concurrency: args.bulk_concurrency.max(1),
            },
            scheduler: hubsync_scheduler::SchedulerOptions {
                full_sync_interval: std::time::Duration::from_secs(
                    args.full_sync_interval_secs.max(1),
                ),
            },
        }
    }
}

/// The context and queues a role acts with.
pub fn sync_context(
    conns: &roles::Connections,
    redis_prefix: &str,
    secrets: hubsync_core::secrets::SecretBox,
    settings: hubsync_sync::Settings,
) -> anyhow::Result<(hubsync_sync::SyncContext, hubsync_sync::JobQueues)> {
    let client = redis::Client::open(conns.redis_url.as_str())
        .with_context(|| format!("bad Redis URL {}", roles::redact(&conns.redis_url)))?;
    let jobs =
        hubsync_sync::JobQueues::new(client, redis_prefix).context("configuring the job queues")?;
    let ctx = hubsync_sync::SyncContext::new(
        conns.db.clone(),
        conns.redis.clone(),
        redis_prefix,
        secrets,
        settings,
    );
    Ok((ctx, jobs))
}

pub async fn run(args: RoleArgs, role: Role) -> anyhow::Result<()> {
    let secrets = match (role, args.encryption_key.as_deref()) {
        (_, Some(key)) => crate::commands::api::secret_box(key)?,
        (Role::Worker, None) => anyhow::bail!(
            "--encryption-key (HUBSYNC_ENCRYPTION_KEY) is required: the api's key, which \
             opens the stored HubSpot tokens and Userflow keys"
        ),
        // The scheduler only queues work and never opens a secret.
        (Role::Scheduler, None) => hubsync_core::secrets::SecretBox::new(rand::random()),
    };
    let conns = roles::connect(&args.state).await?;
    let (ctx, jobs) = sync_context(
        &conns,
        &args.state.redis_prefix,
        secrets,
        args.upstream.settings(),
    )?;
    let opts = RoleOptions::from_args(&args);
    let shutdown = roles::shutdown_signal();
    let presence = tokio::spawn(roles::presence(
        conns.redis,
        args.state.redis_prefix,
        role.name(),
        shutdown.clone(),
    ));
    let result = role.run_until(ctx, jobs, opts, shutdown).await;
    let _ = presence.await;
    result
}
