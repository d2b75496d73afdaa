//! `hubsync worker` and `hubsync scheduler`: the roles that serve no HTTP.

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
    pub async fn run_until(self, shutdown: tokio::sync::watch::Receiver<bool>) {
        match self {
            Role::Worker => hubsync_worker::run(shutdown).await,
            Role::Scheduler => hubsync_scheduler::run(shutdown).await,
        }
    }
}

pub async fn run(args: RoleArgs, role: Role) -> anyhow::Result<()> {
    let conns = roles::connect(&args.state).await?;
    let shutdown = roles::shutdown_signal();
    let presence = tokio::spawn(roles::presence(
        conns.redis,
        args.state.redis_prefix,
        role.name(),
        shutdown.clone(),
    ));
    role.run_until(shutdown).await;
    let _ = presence.await;
    Ok(())
}
