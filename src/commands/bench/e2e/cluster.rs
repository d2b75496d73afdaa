//! The cluster under test as child processes of the benchmark: `hubsync sim` (both simulators
//! on free ports, their own webhook deliveries off), `hubsync api --migrate` on a pre-chosen
//! free port (its public URL must be known before it starts: OAuth redirects and HubSpot's v3
//! signatures use it) and `--workers` × `hubsync worker`, all on one database and one fresh
//! Redis prefix.

use std::{
    collections::{HashMap, VecDeque},
    path::PathBuf,
    process::Stdio,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use hubsync_sim::{hubspot, userflow};
use tokio::{
    io::{AsyncBufReadExt, AsyncRead, BufReader},
    process::{Child, Command},
};

use super::{E2eBenchArgs, Plan, progress};

/// Encryption key of the benchmark's cluster (base64 of 32 bytes; the data is thrown away).
const KEY: &str = "aHVic3luYy1iZW5jaC1lMmUta2V5LTMyLWJ5dGVzISE=";
/// Operator token of the benchmark's cluster.
pub const TOKEN: &str = "bench-operator-token";
/// The simulated HubSpot app (docs/simulators.md §2.1).
pub const APP_ID: u64 = 54321;
pub const CLIENT_ID: &str = "sim-client-id";
pub const CLIENT_SECRET: &str = "sim-client-secret";
pub const DEV_KEY: &str = "sim-dev-key";
/// The portal the OAuth flow installs on (the simulator's first) and its private-app token,
/// which the benchmark uses for its own reads.
pub const PORTAL_ID: u64 = 62515;
pub const PORTAL_TOKEN: &str = "pat-sim-62515";
/// The Userflow environment and its key.
pub const UF_ENV: &str = "env_demo";
pub const UF_KEY: &str = "ak_sim_demo";
/// Seed of both simulators' demo data.
pub const SEED: u64 = 42;
/// Lines of a child's output kept for error messages.
const KEPT_LINES: usize = 30;

/// A `hubsync` child process whose output is read continuously.
pub struct Proc {
    name: String,
    child: Child,
    lines: Arc<Mutex<VecDeque<String>>>,
    addrs: Arc<Mutex<HashMap<String, String>>>,
}

impl Proc {
    pub fn spawn(name: &str, args: &[String], env: &[(String, String)]) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("path of the running hubsync binary")?;
        let mut cmd = Command::new(exe);
        cmd.args(args)
            .env(
                "RUST_LOG",
                std::env::var("HUBSYNC_BENCH_CHILD_LOG")
                    .unwrap_or_else(|_| "warn,sqlx=error".to_owned()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting hubsync {}", args.join(" ")))?;
        let lines = Arc::new(Mutex::new(VecDeque::new()));
        let addrs = Arc::new(Mutex::new(HashMap::new()));
        if let Some(out) = child.stdout.take() {
            tokio::spawn(read_lines(out, lines.clone(), addrs.clone()));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(read_lines(err, lines.clone(), addrs.clone()));
        }
        Ok(Self {
            name: name.to_owned(),
            child,
            lines,
            addrs,
        })
    }

    /// `http://<addr>` of the `listening role=<role>` line, waiting at most `within`.
    pub async fn url_of(&mut self, role: &str, within: Duration) -> anyhow::Result<String> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(addr) = self.addrs.lock().ok().and_then(|a| a.get(role).cloned()) {
                return Ok(format!("http://{addr}"));
            }
            self.check_alive()?;
            if Instant::now() >= deadline {
                bail!(
                    "{} printed no `listening role={role}` line within {within:?}: {}",
                    self.name,
                    self.output_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => bail!("{} exited ({status}): {}", self.name, self.output_tail()),
            Err(e) => bail!("{}: {e}", self.name),
        }
    }

    pub fn output_tail(&self) -> String {
        self.lines
            .lock()
            .map(|l| l.iter().cloned().collect::<Vec<_>>().join("\n  "))
            .unwrap_or_default()
    }

    /// SIGKILL, then reap.
    pub async fn kill(mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
    }
}

async fn read_lines(
    stream: impl AsyncRead + Unpin,
    lines: Arc<Mutex<VecDeque<String>>>,
    addrs: Arc<Mutex<HashMap<String, String>>>,
) {
    let mut reader = BufReader::new(stream).lines();
    while let Ok(Some(line)) = reader.next_line().await {
        if let Some((role, addr)) = parse_listening(&line)
            && let Ok(mut a) = addrs.lock()
        {
            a.insert(role, addr);
        }
        if let Ok(mut l) = lines.lock() {
            if l.len() >= KEPT_LINES {
                l.pop_front();
            }
            l.push_back(line);
        }
    }
}

/// Parses `listening role=<role> addr=<addr>`.
fn parse_listening(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix("listening ")?;
    let mut role = None;
    let mut addr = None;
    for kv in rest.split_whitespace() {
        match kv.split_once('=') {
            Some(("role", r)) => role = Some(r.to_owned()),
            Some(("addr", a)) => addr = Some(a.to_owned()),
            _ => {}
        }
    }
    Some((role?, addr?))
}

/// The running cluster.
pub struct Cluster {
    pub sim: Option<Proc>,
    pub api: Option<Proc>,
    pub workers: Vec<Proc>,
    /// `http://…` of the HubSpot simulator.
    pub hubspot: String,
    /// `http://…` of the Userflow simulator.
    pub userflow: String,
    /// `http://…` of the api; also its public URL.
    pub api_url: String,
    /// Redis key prefix of the cluster (and of the baseline's key).
    pub prefix: String,
    pub redis_url: String,
    pub database_url: String,
    pub http: reqwest::Client,
    temp_dir: PathBuf,
    env: Vec<(String, String)>,
}

impl Cluster {
    pub async fn start(args: &E2eBenchArgs, plan: &Plan, run_id: &str) -> anyhow::Result<Self> {
        let temp_dir = std::env::temp_dir().join(format!("hubsync-bench-e2e-{run_id}"));
        std::fs::create_dir_all(&temp_dir)
            .with_context(|| format!("creating {}", temp_dir.display()))?;
        let database_url = args.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                temp_dir.join("hubsync.sqlite").display()
            )
        });
        let prefix = prefix(run_id);
        let mut cluster = Self {
            sim: None,
            api: None,
            workers: Vec::new(),
            hubspot: String::new(),
            userflow: String::new(),
            api_url: String::new(),
            prefix,
            redis_url: args.redis_url.clone(),
            database_url,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .context("HTTP client")?,
            temp_dir,
            env: Vec::new(),
        };
        // On failure the processes die with `cluster` (kill_on_drop); the directory is removed.
        match cluster.spawn_all(args, plan).await {
            Ok(()) => Ok(cluster),
            Err(e) => {
                cluster.stop().await;
                cluster.remove_temp_dir();
                Err(e)
            }
        }
    }

    async fn spawn_all(&mut self, args: &E2eBenchArgs, plan: &Plan) -> anyhow::Result<()> {
        // Both directions need their own people, plus a margin for the ingest's contacts.
        let people = plan.people * 2;
        progress(&format!(
            "starting the simulators ({people} contacts and users in both)"
        ));
        let (hs_file, uf_file) = self.write_sim_configs(args)?;
        let sim_args: Vec<String> = [
            "sim",
            "--hubspot-bind",
            "127.0.0.1:0",
            "--userflow-bind",
            "127.0.0.1:0",
            "--seed",
            &SEED.to_string(),
            "--contacts",
            &people.to_string(),
            "--users",
            &people.to_string(),
            "--hubspot-config",
            &hs_file,
            "--userflow-config",
            &uf_file,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut sim = Proc::spawn("hubsync sim", &sim_args, &[])?;
        let within = Duration::from_secs(120);
        self.hubspot = sim.url_of("sim-hubspot", within).await?;
        self.userflow = sim.url_of("sim-userflow", within).await?;
        self.sim = Some(sim);

        let api_addr = format!("127.0.0.1:{}", free_port()?);
        self.api_url = format!("http://{api_addr}");
        self.env = vec![
            ("HUBSYNC_DATABASE_URL".into(), self.database_url.clone()),
            ("HUBSYNC_REDIS_URL".into(), self.redis_url.clone()),
            ("HUBSYNC_REDIS_PREFIX".into(), self.prefix.clone()),
            ("HUBSYNC_ENCRYPTION_KEY".into(), KEY.into()),
            ("HUBSYNC_HUBSPOT_API_BASE".into(), self.hubspot.clone()),
            ("HUBSYNC_USERFLOW_API_BASE".into(), self.userflow.clone()),
            ("HUBSYNC_PUBLIC_URL".into(), self.api_url.clone()),
            ("HUBSYNC_HUBSPOT_APP_ID".into(), APP_ID.to_string()),
            ("HUBSYNC_HUBSPOT_CLIENT_ID".into(), CLIENT_ID.into()),
            ("HUBSYNC_HUBSPOT_CLIENT_SECRET".into(), CLIENT_SECRET.into()),
            ("HUBSYNC_HUBSPOT_DEVELOPER_API_KEY".into(), DEV_KEY.into()),
            (
                "HUBSYNC_HUBSPOT_AUTHORIZE_URL".into(),
                format!("{}/oauth/authorize", self.hubspot),
            ),
            ("HUBSYNC_OPERATOR_TOKENS".into(), TOKEN.into()),
            (
                "HUBSYNC_HUBSPOT_CALLS_PER_10S".into(),
                args.hubspot_calls_per_10s
                    .unwrap_or(if args.sim_rate_limits { 100 } else { 1_000_000 })
                    .to_string(),
            ),
        ];
        progress(&format!("starting the api on {api_addr}"));
        let api_args: Vec<String> = ["api", "--migrate", "--bind", &api_addr]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut api = Proc::spawn("hubsync api", &api_args, &self.env)?;
        api.url_of("api", Duration::from_secs(60)).await?;
        self.api = Some(api);
        self.wait_ready().await?;

        progress(&format!("starting {} worker(s)", args.workers.max(1)));
        for i in 0..args.workers.max(1) {
            let w = Proc::spawn(
                &format!("hubsync worker {i}"),
                &["worker".to_owned()],
                &self.env,
            )?;
            self.workers.push(w);
        }
        self.wait_workers(args.workers.max(1)).await
    }

    /// Simulator configurations: no latency, no HubSpot rate limits (unless asked), writes
    /// searchable at once, and no webhook deliveries of their own (the benchmark sends them).
    fn write_sim_configs(&self, args: &E2eBenchArgs) -> anyhow::Result<(String, String)> {
        let mut hs = hubspot::Config::default();
        hs.rate_limits.enabled = args.sim_rate_limits;
        // The limiter honours the limits HubSpot reports in its headers, so a simulator
        // without limits must not report any.
        hs.rate_limits.emit_rate_limit_headers = args.sim_rate_limits;
        hs.crm.search_index_lag_ms = 0;
        hs.webhooks.webhook_batch_window_ms = 0;
        hs.webhooks.delivery.drop_rate = 1.0;
        hs.seed.companies = 10;
        hs.seed.deals = 0;
        let mut uf = userflow::Config::default();
        uf.delivery.drop_rate = 1.0;
        // The benchmark signs Userflow notifications with the subscription's secret.
        uf.knobs.secret_on_get = true;
        uf.seed.groups = 0;
        let hs_path = self.temp_dir.join("hubspot.json");
        let uf_path = self.temp_dir.join("userflow.json");
        std::fs::write(&hs_path, serde_json::to_vec(&hs)?)
            .with_context(|| format!("writing {}", hs_path.display()))?;
        std::fs::write(&uf_path, serde_json::to_vec(&uf)?)
            .with_context(|| format!("writing {}", uf_path.display()))?;
        Ok((hs_path.display().to_string(), uf_path.display().to_string()))
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let url = format!("{}/readyz", self.api_url);
        loop {
            if let Ok(r) = self.http.get(&url).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            self.check_alive()?;
            if Instant::now() >= deadline {
                bail!("the api was not ready within 60 s: {}", self.output_tail());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for `n` worker presence keys (`{<prefix>}:presence:worker:*`).
    async fn wait_workers(&mut self, n: usize) -> anyhow::Result<()> {
        let client = redis::Client::open(self.redis_url.as_str())?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        let pattern = format!("{{{}}}:presence:worker:*", self.prefix);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(&pattern)
                .query_async(&mut conn)
                .await
                .unwrap_or_default();
            if keys.len() >= n {
                return Ok(());
            }
            self.check_alive()?;
            if Instant::now() >= deadline {
                bail!(
                    "{} of {n} workers joined within 60 s: {}",
                    keys.len(),
                    self.output_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Fails when any process has exited.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(s) = self.sim.as_mut() {
            s.check_alive()?;
        }
        if let Some(a) = self.api.as_mut() {
            a.check_alive()?;
        }
        for w in &mut self.workers {
            w.check_alive()?;
        }
        Ok(())
    }

    /// The last lines of every process, for error messages.
    pub fn output_tail(&self) -> String {
        let mut out = String::new();
        for p in self
            .sim
            .iter()
            .chain(self.api.iter())
            .chain(self.workers.iter())
        {
            out.push_str(&format!("--- {} ---\n  {}\n", p.name, p.output_tail()));
        }
        out
    }

    /// `sqlite` or `postgres`.
    pub fn database_kind(&self) -> &'static str {
        if self.database_url.starts_with("postgres") {
            "postgres"
        } else {
            "sqlite"
        }
    }

    pub async fn stop_workers(&mut self) {
        for w in self.workers.drain(..) {
            w.kill().await;
        }
    }

    pub async fn stop(&mut self) {
        self.stop_workers().await;
        if let Some(a) = self.api.take() {
            a.kill().await;
        }
        if let Some(s) = self.sim.take() {
            s.kill().await;
        }
    }

    pub fn remove_temp_dir(&self) {
        let _ = std::fs::remove_dir_all(&self.temp_dir);
    }

    /// Calls the operator API; answers the status and the body (JSON, or the text as a JSON
    /// string, or null when empty).
    pub async fn op(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<(u16, serde_json::Value)> {
        let mut req = self
            .http
            .request(method.clone(), format!("{}/api/v1{path}", self.api_url))
            .bearer_auth(TOKEN);
        if let Some(b) = body {
            req = req.json(&b);
        }
        send(req)
            .await
            .with_context(|| format!("{method} /api/v1{path}"))
    }
}

/// Sends a request; answers the status and the body as JSON (text as a JSON string).
pub async fn send(req: reqwest::RequestBuilder) -> anyhow::Result<(u16, serde_json::Value)> {
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    let body = if text.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
    };
    Ok((status, body))
}

/// The Redis key prefix of a run.
pub fn prefix(run_id: &str) -> String {
    format!("hubsync-bench-e2e-{run_id}")
}

/// A free TCP port on 127.0.0.1.
fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(l.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_listening_lines() {
        assert_eq!(
            parse_listening("listening role=api addr=127.0.0.1:4000"),
            Some(("api".into(), "127.0.0.1:4000".into()))
        );
        assert_eq!(parse_listening("listening addr=127.0.0.1:4000"), None);
        assert_eq!(parse_listening("something else"), None);
    }
}
