//! Runs the real `hubsync` binary as a child process: spawns it with `kill_on_drop`, reads the
//! `listening role=… addr=…` lines it prints, keeps its output for failure messages and stops
//! it with SIGTERM.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const REDIS_URL_DEFAULT: &str = "redis://127.0.0.1:6379";

pub fn redis_url() -> String {
    std::env::var("HUBSYNC_TEST_REDIS_URL").unwrap_or_else(|_| REDIS_URL_DEFAULT.into())
}

/// A unique name for this test's Redis prefix, database, data directory.
pub fn unique(tag: &str) -> String {
    format!("test-{tag}-{}", uuid::Uuid::new_v4().simple())
}

pub mod cluster;

/// Parses `listening role=<role> addr=<addr>`.
fn parse_listening(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix("listening ")?;
    let mut role = None;
    let mut addr = None;
    for kv in rest.split_whitespace() {
        match kv.split_once('=') {
            Some(("role", r)) => role = Some(r.to_string()),
            Some(("addr", a)) => addr = Some(a.to_string()),
            _ => {}
        }
    }
    Some((role?, addr?))
}

/// A running `hubsync` process.
pub struct Proc {
    child: Child,
    output: Arc<Mutex<Vec<String>>>,
    addrs: Arc<Mutex<HashMap<String, String>>>,
}

impl Proc {
    /// Starts `hubsync <args>` with the given extra environment.
    pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hubsync"));
        cmd.args(args)
            .env("RUST_LOG", "info,sqlx=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn hubsync");
        let output = Arc::new(Mutex::new(Vec::new()));
        let addrs = Arc::new(Mutex::new(HashMap::new()));
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        for (stream, is_stdout) in [
            (
                Box::new(stdout) as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
                true,
            ),
            (Box::new(stderr), false),
        ] {
            let output = output.clone();
            let addrs = addrs.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if is_stdout && let Some((role, addr)) = parse_listening(&line) {
                        addrs.lock().unwrap().insert(role, addr);
                    }
                    output.lock().unwrap().push(line);
                }
            });
        }
        Self {
            child,
            output,
            addrs,
        }
    }

    /// Everything the process printed so far.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().join("\n")
    }

    /// Waits for the `listening role=<role>` line and returns `http://addr`; fails early if the
    /// process exits.
    pub async fn url_of(&mut self, role: &str) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(a) = self.addrs.lock().unwrap().get(role) {
                return format!("http://{a}");
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                tokio::time::sleep(Duration::from_millis(100)).await;
                panic!(
                    "hubsync exited with {status} before listening as {role}:\n{}",
                    self.output()
                );
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "hubsync did not listen as {role} within 60 s:\n{}",
                    self.output()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Polls `url` until it answers 200.
    pub async fn wait_ok(&mut self, url: &str) {
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if let Ok(r) = client.get(url).send().await
                && r.status().is_success()
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("hubsync exited with {status}:\n{}", self.output());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{url} never answered 200:\n{}", self.output());
    }

    /// Sends SIGTERM and waits (at most 10 s) for the exit status.
    pub async fn stop(&mut self) -> std::process::ExitStatus {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        match tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await {
            Ok(status) => status.expect("wait"),
            Err(_) => {
                let _ = self.child.kill().await;
                panic!(
                    "hubsync did not stop within 10 s of SIGTERM:\n{}",
                    self.output()
                );
            }
        }
    }

    /// The process id (`None` once it has been reaped).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Whether the process is still running (has not exited).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL: no cleanup at all (as if the machine lost the process); waits for the exit.
    pub async fn kill9(&mut self) -> std::process::ExitStatus {
        let _ = self.child.start_kill();
        match tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await {
            Ok(status) => status.expect("wait"),
            Err(_) => panic!("hubsync survived SIGKILL for 10 s"),
        }
    }

    /// Waits for a printed line starting with `prefix` and returns it; fails early if the
    /// process exits.
    pub async fn wait_line(&mut self, prefix: &str, timeout: Duration) -> String {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(l) = self
                .output
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.starts_with(prefix))
            {
                return l.clone();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                tokio::time::sleep(Duration::from_millis(100)).await;
                panic!(
                    "hubsync exited with {status} before printing {prefix:?}:\n{}",
                    self.output()
                );
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "hubsync did not print {prefix:?} within {timeout:?}:\n{}",
                    self.output()
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits for the process to exit by itself (at most `timeout`).
    pub async fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(status) => status.expect("wait"),
            Err(_) => panic!(
                "hubsync still running after {timeout:?}:\n{}",
                self.output()
            ),
        }
    }
}

/// Redis keys under a prefix (for presence checks).
pub async fn redis_keys(pattern: &str) -> Vec<String> {
    let client = redis::Client::open(redis_url()).expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    redis::cmd("KEYS")
        .arg(pattern)
        .query_async(&mut conn)
        .await
        .expect("KEYS")
}
