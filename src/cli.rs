//! Command-line flags. Every flag can also be set by the environment variable named in its
//! help, so the same binary is configured the same way by hand, by systemd or by Compose.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Bidirectional, horizontally scalable sync between HubSpot and Userflow.
#[derive(Debug, Parser)]
#[command(name = "hubsync", version, about)]
pub struct Cli {
    /// Log output format.
    #[arg(long, global = true, env = "HUBSYNC_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

/// Log output format.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the webhook ingest and operator API.
    Api(ApiArgs),
    /// Run sync jobs from the queue (run as many replicas as you like).
    Worker(RoleArgs),
    /// Enqueue periodic full syncs (safe to run several replicas).
    Scheduler(RoleArgs),
    /// Apply, roll back or inspect database migrations.
    Migrate(MigrateArgs),
    /// Serve the HubSpot and Userflow simulators.
    Sim(SimArgs),
    /// Run every role and both simulators in one process, on embedded defaults.
    Dev(DevArgs),
    /// Run a benchmark and print its numbers (`--json` for one JSON object).
    Bench(crate::commands::bench::BenchArgs),
    /// A worker process on a test queue, used by the queue's durability tests and benchmarks.
    #[command(hide = true)]
    QueueProbe(crate::commands::queue_probe::ProbeArgs),
}

impl Command {
    /// Log filter used when `RUST_LOG` is not set.
    pub fn default_filter(&self) -> &'static str {
        match self {
            Command::Dev(_) => "info,sqlx=warn,sea_orm_migration=warn,tower_http=warn",
            _ => "info,sqlx=warn",
        }
    }
}

/// Connections every cluster role needs.
#[derive(Debug, Clone, Args)]
pub struct StateArgs {
    /// Database URL: `postgres://user@host/db`, or `sqlite://path?mode=rwc` for one node.
    #[arg(
        long,
        env = "HUBSYNC_DATABASE_URL",
        default_value = "sqlite://hubsync.sqlite?mode=rwc"
    )]
    pub database_url: String,

    /// Redis URL (queues, shared rate limits, locks).
    #[arg(
        long,
        env = "HUBSYNC_REDIS_URL",
        default_value = "redis://127.0.0.1:6379"
    )]
    pub redis_url: String,

    /// Prefix of every Redis key this cluster uses; clusters sharing a Redis need distinct ones.
    #[arg(long, env = "HUBSYNC_REDIS_PREFIX", default_value = "hubsync")]
    pub redis_prefix: String,

    /// Apply pending migrations at start (handy for one node; clusters run `hubsync migrate`).
    #[arg(long, env = "HUBSYNC_MIGRATE", default_value_t = false)]
    pub migrate: bool,
}

/// Where the remote services are.
#[derive(Debug, Clone, Args)]
pub struct UpstreamArgs {
    /// HubSpot API base URL.
    #[arg(
        long,
        env = "HUBSYNC_HUBSPOT_API_BASE",
        default_value = "https://api.hubapi.com"
    )]
    pub hubspot_api_base: String,

    /// Userflow API base URL (`https://api.eu.userflow.com` for EU environments).
    #[arg(
        long,
        env = "HUBSYNC_USERFLOW_API_BASE",
        default_value = "https://api.userflow.com"
    )]
    pub userflow_api_base: String,

    /// The api's public base URL (`https://hubsync.example.com`): the OAuth redirect and the
    /// webhook targets are built from it, and HubSpot's v3 signatures cover it.
    #[arg(long, env = "HUBSYNC_PUBLIC_URL")]
    pub public_url: Option<String>,

    #[command(flatten)]
    pub hubspot_app: HubspotAppArgs,
}

/// The HubSpot public app hubsync runs as (from the app's "Auth" page in HubSpot).
#[derive(Debug, Clone, Args)]
pub struct HubspotAppArgs {
    /// The app's numeric id (webhook subscriptions; recognising our own changes).
    #[arg(long, env = "HUBSYNC_HUBSPOT_APP_ID")]
    pub hubspot_app_id: Option<u64>,

    /// The app's OAuth client id.
    #[arg(long, env = "HUBSYNC_HUBSPOT_CLIENT_ID")]
    pub hubspot_client_id: Option<String>,

    /// The app's OAuth client secret; HubSpot also signs webhooks with it.
    #[arg(long, env = "HUBSYNC_HUBSPOT_CLIENT_SECRET", hide_env_values = true)]
    pub hubspot_client_secret: Option<String>,

    /// The developer account's API key, for the app's webhook subscriptions and timeline
    /// event templates.
    #[arg(
        long,
        env = "HUBSYNC_HUBSPOT_DEVELOPER_API_KEY",
        hide_env_values = true
    )]
    pub hubspot_developer_api_key: Option<String>,

    /// HubSpot calls per 10 seconds per portal that the whole cluster keeps to (HubSpot's
    /// limit for public OAuth apps is 100–110; raise it only for an account with a higher
    /// limit, or against the simulator).
    #[arg(long, env = "HUBSYNC_HUBSPOT_CALLS_PER_10S", default_value_t = 100)]
    pub hubspot_calls_per_10s: u32,

    /// Where operators approve the app.
    #[arg(
        long,
        env = "HUBSYNC_HUBSPOT_AUTHORIZE_URL",
        default_value = "https://app.hubspot.com/oauth/authorize"
    )]
    pub hubspot_authorize_url: String,
}

impl UpstreamArgs {
    /// The settings every role passes to `hubsync_sync`.
    pub fn settings(&self) -> hubsync_sync::Settings {
        let app = &self.hubspot_app;
        hubsync_sync::Settings {
            hubspot: hubsync_sync::HubspotApp {
                app_id: app.hubspot_app_id,
                client_id: app.hubspot_client_id.clone(),
                client_secret: app.hubspot_client_secret.clone(),
                developer_api_key: app.hubspot_developer_api_key.clone(),
                api_base: self.hubspot_api_base.clone(),
                authorize_url: app.hubspot_authorize_url.clone(),
                scopes: hubsync_sync::DEFAULT_SCOPES
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            },
            userflow_api_base: self.userflow_api_base.clone(),
            hubspot_limits: hubsync_sync::ratelimit::PortalLimits {
                burst_per_10s: app.hubspot_calls_per_10s.max(1),
                ..hubsync_sync::ratelimit::PortalLimits::OAUTH_APP
            },
            public_url: self.public_url.clone(),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ApiArgs {
    /// Address to listen on; port 0 picks a free port (the chosen one is logged as
    /// `listening addr=…`).
    #[arg(long, env = "HUBSYNC_API_BIND", default_value = "0.0.0.0:8080")]
    pub bind: String,

    /// Bearer tokens accepted by the operator API (comma-separated; several allow rotation).
    /// Without one the operator API answers 401 to every call.
    #[arg(
        long = "operator-token",
        env = "HUBSYNC_OPERATOR_TOKENS",
        value_delimiter = ','
    )]
    pub operator_tokens: Vec<String>,

    /// Require an operator token on `/metrics` too. By default it is open, as Prometheus
    /// scrapers expect; keep the API port private to the cluster then.
    #[arg(long, env = "HUBSYNC_METRICS_REQUIRE_TOKEN", default_value_t = false)]
    pub metrics_require_token: bool,

    /// Key that encrypts stored secrets (HubSpot tokens, Userflow keys): base64 of 32 random
    /// bytes (`openssl rand -base64 32`). Required; every api and worker of a cluster needs
    /// the same key.
    #[arg(long, env = "HUBSYNC_ENCRYPTION_KEY", hide_env_values = true)]
    pub encryption_key: Option<String>,

    #[command(flatten)]
    pub state: StateArgs,

    #[command(flatten)]
    pub upstream: UpstreamArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RoleArgs {
    /// Key that opens stored secrets; the worker needs it (the same key as the api's).
    #[arg(long, env = "HUBSYNC_ENCRYPTION_KEY", hide_env_values = true)]
    pub encryption_key: Option<String>,

    /// Jobs one worker runs at once from the realtime queue (webhooks).
    #[arg(long, env = "HUBSYNC_REALTIME_CONCURRENCY", default_value_t = 32)]
    pub realtime_concurrency: usize,

    /// Jobs one worker runs at once from the bulk queue (full syncs).
    #[arg(long, env = "HUBSYNC_BULK_CONCURRENCY", default_value_t = 8)]
    pub bulk_concurrency: usize,

    /// Seconds between the scheduler's full syncs of each integration.
    #[arg(
        long,
        env = "HUBSYNC_FULL_SYNC_INTERVAL_SECS",
        default_value_t = 86_400
    )]
    pub full_sync_interval_secs: u64,

    #[command(flatten)]
    pub state: StateArgs,

    #[command(flatten)]
    pub upstream: UpstreamArgs,
}

#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    /// Database URL.
    #[arg(
        long,
        env = "HUBSYNC_DATABASE_URL",
        default_value = "sqlite://hubsync.sqlite?mode=rwc"
    )]
    pub database_url: String,

    #[command(subcommand)]
    pub action: Option<MigrateAction>,
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration (the default).
    Up,
    /// Roll back the last `n` migrations.
    Down {
        /// How many to roll back.
        #[arg(default_value_t = 1)]
        n: u32,
    },
    /// List migrations and whether each is applied.
    Status,
    /// Drop every table and apply all migrations again (destroys data).
    Fresh,
}

/// The simulators' start configuration.
#[derive(Debug, Clone, Args)]
pub struct SimArgs {
    #[command(flatten)]
    pub binds: SimBinds,

    #[command(flatten)]
    pub seed: SeedArgs,

    /// JSON file with the full HubSpot simulator configuration (portals, apps, knobs); flags
    /// given here override its seed.
    #[arg(long, env = "HUBSYNC_SIM_HUBSPOT_CONFIG")]
    pub hubspot_config: Option<PathBuf>,

    /// JSON file with the full Userflow simulator configuration (environments, keys, knobs).
    #[arg(long, env = "HUBSYNC_SIM_USERFLOW_CONFIG")]
    pub userflow_config: Option<PathBuf>,
}

/// Where the simulators listen.
#[derive(Debug, Clone, Args)]
pub struct SimBinds {
    /// Address of the HubSpot simulator.
    #[arg(
        long,
        env = "HUBSYNC_SIM_HUBSPOT_BIND",
        default_value = "127.0.0.1:8081"
    )]
    pub hubspot_bind: String,

    /// Address of the Userflow simulator.
    #[arg(
        long,
        env = "HUBSYNC_SIM_USERFLOW_BIND",
        default_value = "127.0.0.1:8082"
    )]
    pub userflow_bind: String,
}

/// Deterministic demo data.
#[derive(Debug, Clone, Args)]
pub struct SeedArgs {
    /// Seed of the generated data: the same seed gives the same data. Default 42 (or the
    /// configuration file's seed).
    #[arg(long, env = "HUBSYNC_SIM_SEED")]
    pub seed: Option<u64>,

    /// HubSpot contacts per portal.
    #[arg(long, env = "HUBSYNC_SIM_CONTACTS")]
    pub contacts: Option<usize>,

    /// HubSpot companies per portal.
    #[arg(long, env = "HUBSYNC_SIM_COMPANIES")]
    pub companies: Option<usize>,

    /// HubSpot deals per portal.
    #[arg(long, env = "HUBSYNC_SIM_DEALS")]
    pub deals: Option<usize>,

    /// Userflow users in the first environment.
    #[arg(long, env = "HUBSYNC_SIM_USERS")]
    pub users: Option<usize>,

    /// Userflow groups (companies) in the first environment.
    #[arg(long, env = "HUBSYNC_SIM_GROUPS")]
    pub groups: Option<usize>,
}

/// The development encryption key of `hubsync dev` (base64 of
/// `hubsync-DEV-ONLY-insecure-key-32`). Public: never use it in production.
pub const DEV_ENCRYPTION_KEY: &str = "aHVic3luYy1ERVYtT05MWS1pbnNlY3VyZS1rZXktMzI=";

#[derive(Debug, Clone, Args)]
pub struct DevArgs {
    /// Address of the API.
    #[arg(long, env = "HUBSYNC_API_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,

    /// Bearer tokens accepted by the operator API (comma-separated).
    #[arg(
        long = "operator-token",
        env = "HUBSYNC_OPERATOR_TOKENS",
        value_delimiter = ',',
        default_value = "dev-operator-token"
    )]
    pub operator_tokens: Vec<String>,

    /// Database URL (SQLite by default, in the data directory).
    #[arg(long, env = "HUBSYNC_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Redis URL. When none answers there and `redis-server` is installed, a private one is
    /// started on a free port.
    #[arg(
        long,
        env = "HUBSYNC_REDIS_URL",
        default_value = "redis://127.0.0.1:6379"
    )]
    pub redis_url: String,

    /// Prefix of every Redis key.
    #[arg(long, env = "HUBSYNC_REDIS_PREFIX", default_value = "hubsync-dev")]
    pub redis_prefix: String,

    /// Directory for the SQLite database and a private Redis, if one is started.
    #[arg(long, env = "HUBSYNC_DATA_DIR", default_value = ".hubsync")]
    pub data_dir: PathBuf,

    /// Key that encrypts stored secrets: base64 of 32 bytes. Defaults to a fixed,
    /// publicly known development key: never use `dev`'s database with real accounts.
    #[arg(
        long,
        env = "HUBSYNC_ENCRYPTION_KEY",
        hide_env_values = true,
        default_value = DEV_ENCRYPTION_KEY
    )]
    pub encryption_key: String,

    #[command(flatten)]
    pub binds: SimBinds,

    #[command(flatten)]
    pub seed: SeedArgs,
}
