//! `hubsync`: one binary, one subcommand per role.
//!
//! `api`, `worker` and `scheduler` are the cluster roles (run any number of each), `migrate`
//! prepares the database, `sim` serves the HubSpot and Userflow simulators, and `dev` runs all
//! of them in one process on embedded defaults.

mod cli;
mod commands;
mod roles;

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    roles::init_tracing(cli.log_format, cli.command.default_filter());
    match cli.command {
        cli::Command::Api(args) => commands::api::run(args).await,
        cli::Command::Worker(args) => {
            commands::background::run(args, commands::background::Role::Worker).await
        }
        cli::Command::Scheduler(args) => {
            commands::background::run(args, commands::background::Role::Scheduler).await
        }
        cli::Command::Migrate(args) => commands::migrate::run(args).await,
        cli::Command::Sim(args) => commands::sim::run(args).await,
        cli::Command::Dev(args) => commands::dev::run(args).await,
        cli::Command::Bench(args) => commands::bench::run(args).await,
        cli::Command::QueueProbe(args) => commands::queue_probe::run(args).await,
    }
}
