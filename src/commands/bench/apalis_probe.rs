//! `hubsync bench apalis-probe` (hidden): one apalis-redis 1.0.0 worker (default `Config`,
//! only the queue name set) in its own process, the baseline's counterpart of
//! `hubsync queue-probe`. Jobs are [`ProbeJob`]s; each does nothing, sleeps or POSTs itself
//! to a stub server. Prints `probe ready worker_id=<name> pid=<pid>` once connected, and the
//! worker's error (then exits non-zero) if apalis-redis stops it.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use apalis::{
    layers::WorkerBuilderExt,
    prelude::{BoxDynError, Data, WorkerBuilder},
};
use apalis_redis::{Config, RedisStorage};
use clap::{Args, ValueEnum};

use crate::commands::queue_probe::ProbeJob;

/// What a baseline job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    Noop,
    Http,
    Sleep,
}

#[derive(Debug, Clone, Args)]
pub struct ApalisProbeArgs {
    /// Redis URL.
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    pub redis_url: String,
    /// apalis-redis queue name (namespace of its keys).
    #[arg(long)]
    pub queue: String,
    /// Worker name (apalis-redis identifies workers by name).
    #[arg(long)]
    pub name: String,
    /// In-flight jobs (`WorkerBuilder::concurrency`).
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// What each job does.
    #[arg(long, value_enum, default_value_t = Mode::Noop)]
    pub mode: Mode,
    /// Target of `--mode http`.
    #[arg(long)]
    pub stub_url: Option<String>,
    /// Duration of one job in `--mode sleep`.
    #[arg(long, default_value_t = 10)]
    pub sleep_ms: u64,
}

struct Probe {
    mode: Mode,
    sleep: Duration,
    http: Option<(reqwest::Client, String)>,
}

async fn handle(job: ProbeJob, probe: Data<Arc<Probe>>) -> Result<(), BoxDynError> {
    match probe.mode {
        Mode::Noop => Ok(()),
        Mode::Sleep => {
            tokio::time::sleep(probe.sleep).await;
            Ok(())
        }
        Mode::Http => {
            let (client, url) = probe.http.as_ref().ok_or("--mode http needs --stub-url")?;
            let resp = client.post(url).json(&job).send().await?;
            if resp.status().is_success() {
                Ok(())
            } else {
                Err(format!("stub answered {}", resp.status()).into())
            }
        }
    }
}

pub async fn run(args: ApalisProbeArgs) -> anyhow::Result<()> {
    if args.concurrency == 0 {
        anyhow::bail!("--concurrency must be at least 1");
    }
    let http = match (args.mode, &args.stub_url) {
        (Mode::Http, Some(url)) => Some((
            reqwest::Client::builder()
                .pool_max_idle_per_host(args.concurrency)
                .timeout(Duration::from_secs(30))
                .build()
                .context("HTTP client")?,
            url.clone(),
        )),
        (Mode::Http, None) => anyhow::bail!("--mode http needs --stub-url"),
        _ => None,
    };
    let conn = apalis_redis::connect(args.redis_url.as_str())
        .await
        .with_context(|| format!("connecting to {}", crate::roles::redact(&args.redis_url)))?;
    let storage =
        RedisStorage::<ProbeJob>::new(conn).with_config(Config::default().queue(&args.queue));
    let probe = Arc::new(Probe {
        mode: args.mode,
        sleep: Duration::from_millis(args.sleep_ms),
        http,
    });
    let worker = WorkerBuilder::new(args.name.clone())
        .backend(storage)
        .concurrency(args.concurrency)
        .data(probe)
        .build(handle);
    println!(
        "probe ready worker_id={} pid={}",
        args.name,
        std::process::id()
    );
    let mut stop = crate::roles::shutdown_signal();
    match worker
        .run_until(async move {
            let _ = stop.wait_for(|s| *s).await;
            Ok::<(), std::io::Error>(())
        })
        .await
    {
        Ok(()) => Ok(()),
        Err(e) => {
            println!("apalis worker failed: {e}");
            Err(anyhow::anyhow!("apalis worker failed: {e}"))
        }
    }
}
