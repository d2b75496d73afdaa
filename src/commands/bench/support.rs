//! Shared pieces of the benchmarks: worker child processes, the stub HTTP server, Redis key
//! cleanup, statistics and polling helpers.

use std::{
    collections::VecDeque,
    process::Stdio,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use tokio::{
    io::{AsyncBufReadExt, AsyncRead, BufReader},
    process::{Child, Command},
    sync::watch,
};

/// Lines of a child's output kept for error messages.
const KEPT_LINES: usize = 40;

/// A worker child process (`hubsync queue-probe` or `hubsync bench apalis-probe`) whose
/// output is read continuously (so it never blocks on a full pipe).
pub struct Worker {
    child: Child,
    pid: u32,
    lines: Arc<Mutex<VecDeque<String>>>,
    /// The `worker_id=` of its `probe ready` line.
    pub worker_id: String,
}

impl Worker {
    /// Starts `hubsync <args>` and waits (at most `within`) for its `probe ready` line.
    pub async fn spawn(args: &[String], within: Duration) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("path of the running hubsync binary")?;
        let mut child = Command::new(exe)
            .args(args)
            // Keep the children's own logs quiet unless asked for.
            .env(
                "RUST_LOG",
                std::env::var("HUBSYNC_BENCH_CHILD_LOG").unwrap_or_else(|_| "warn".to_owned()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting hubsync {}", args.join(" ")))?;
        let pid = child.id().context("child pid")?;
        let lines = Arc::new(Mutex::new(VecDeque::new()));
        let (ready_tx, mut ready_rx) = watch::channel(None::<String>);
        let ready_tx = Arc::new(ready_tx);
        if let Some(out) = child.stdout.take() {
            tokio::spawn(read_lines(out, lines.clone(), ready_tx.clone()));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(read_lines(err, lines.clone(), ready_tx));
        }
        let mut worker = Self {
            child,
            pid,
            lines,
            worker_id: String::new(),
        };
        let deadline = Instant::now() + within;
        loop {
            if let Some(line) = ready_rx.borrow().clone() {
                worker.worker_id = field(&line, "worker_id").unwrap_or_default();
                return Ok(worker);
            }
            if let Some(status) = worker.child.try_wait()? {
                bail!(
                    "hubsync {} exited ({status}) before it was ready: {}",
                    args.first().map(String::as_str).unwrap_or_default(),
                    worker.output_tail()
                );
            }
            if Instant::now() >= deadline {
                bail!(
                    "hubsync {} not ready within {within:?}: {}",
                    args.first().map(String::as_str).unwrap_or_default(),
                    worker.output_tail()
                );
            }
            let _ = tokio::time::timeout(Duration::from_millis(50), ready_rx.changed()).await;
        }
    }

    /// Whether the process has exited (and how).
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(e.to_string()),
        }
    }

    /// Peak resident set size so far (`VmHWM`), in bytes.
    pub fn peak_rss_bytes(&self) -> Option<u64> {
        peak_rss_bytes(self.pid)
    }

    /// CPU seconds (user + system) the process has used so far.
    pub fn cpu_seconds(&self) -> Option<f64> {
        process_cpu_seconds(self.pid)
    }

    /// The last lines the process printed, joined.
    pub fn output_tail(&self) -> String {
        self.lines
            .lock()
            .map(|l| l.iter().cloned().collect::<Vec<_>>().join(" | "))
            .unwrap_or_default()
    }

    /// The first line it printed that contains `needle`.
    pub fn find_line(&self, needle: &str) -> Option<String> {
        self.lines
            .lock()
            .ok()?
            .iter()
            .find(|l| l.contains(needle))
            .cloned()
    }

    /// SIGKILL (no cleanup at all), then reap the process.
    pub async fn kill9(mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
    }
}

async fn read_lines(
    stream: impl AsyncRead + Unpin,
    lines: Arc<Mutex<VecDeque<String>>>,
    ready: Arc<watch::Sender<Option<String>>>,
) {
    let mut reader = BufReader::new(stream).lines();
    while let Ok(Some(line)) = reader.next_line().await {
        if line.starts_with("probe ready") {
            ready.send_replace(Some(line.clone()));
        }
        if let Ok(mut l) = lines.lock() {
            if l.len() >= KEPT_LINES {
                l.pop_front();
            }
            l.push_back(line);
        }
    }
}

/// The value of `name=<value>` in a `key=value` line.
fn field(line: &str, name: &str) -> Option<String> {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
        .map(str::to_owned)
}

/// CPU seconds (user + system) of a process, from `/proc/<pid>/stat` (Linux only; clock
/// ticks of 1/100 s).
pub fn process_cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 here (0-based 11, 12).
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

/// `VmHWM` of a process, in bytes (Linux only).
pub fn peak_rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<u64>().ok())
        .map(|kb| kb * 1024)
}

/// A local HTTP stub: `POST /hook` answers 200 and counts the call.
pub struct Stub {
    pub url: String,
    pub hits: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Stub {
    pub async fn start() -> anyhow::Result<Self> {
        use axum::{Router, extract::State, http::StatusCode, routing::post};

        async fn hook(State(hits): State<Arc<AtomicU64>>, _body: axum::body::Bytes) -> StatusCode {
            hits.fetch_add(1, Ordering::Relaxed);
            StatusCode::OK
        }

        let hits = Arc::new(AtomicU64::new(0));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the stub server")?;
        let addr = listener.local_addr()?;
        let app = Router::new()
            .route("/hook", post(hook))
            .with_state(hits.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "stub server failed");
            }
        });
        Ok(Self {
            url: format!("http://{addr}/hook"),
            hits,
            task,
        })
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Deletes every key matching `pattern` (SCAN + UNLINK); returns how many were deleted.
pub async fn delete_keys(
    conn: &mut redis::aio::MultiplexedConnection,
    pattern: &str,
) -> anyhow::Result<u64> {
    let mut cursor: u64 = 0;
    let mut deleted = 0;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(5000)
            .query_async(conn)
            .await?;
        for chunk in batch.chunks(1000) {
            let n: u64 = redis::cmd("UNLINK").arg(chunk).query_async(conn).await?;
            deleted += n;
        }
        cursor = next;
        if cursor == 0 {
            return Ok(deleted);
        }
    }
}

/// Polls `count` every `every` until it reaches `from + n`, measuring the rate between the
/// moment it first reached `from` and the moment it reached `from + n`.
///
/// `alive` is checked on each poll: an `Err` ends the wait with that error (a worker that
/// died). Gives up when the count has not moved for `stall`.
pub async fn measure_drain<C, CF, A>(
    mut count: C,
    mut alive: A,
    from: u64,
    n: u64,
    stall: Duration,
) -> anyhow::Result<f64>
where
    C: FnMut() -> CF,
    CF: std::future::Future<Output = anyhow::Result<u64>>,
    A: FnMut() -> anyhow::Result<()>,
{
    let every = Duration::from_millis(2);
    let mut start: Option<(Instant, u64)> = None;
    let mut last = (Instant::now(), 0u64);
    loop {
        let c = count().await?;
        let now = Instant::now();
        if c != last.1 {
            last = (now, c);
        }
        if start.is_none() && c >= from {
            start = Some((now, c));
        }
        if c >= from + n {
            let (t0, c0) = start.unwrap_or((now, c));
            let secs = now.duration_since(t0).as_secs_f64();
            if secs <= 0.0 || c <= c0 {
                bail!("the drain finished between two polls; use more jobs");
            }
            return Ok((c - c0) as f64 / secs);
        }
        alive()?;
        if now.duration_since(last.0) > stall {
            bail!(
                "stalled: {c} of {} jobs done, no progress for {stall:?}",
                from + n
            );
        }
        tokio::time::sleep(every).await;
    }
}

/// CPU seconds (user + system) the Redis server has used so far (`INFO cpu`).
pub async fn redis_cpu_s(conn: &mut redis::aio::MultiplexedConnection) -> anyhow::Result<f64> {
    let info: String = redis::cmd("INFO").arg("cpu").query_async(conn).await?;
    let get = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    match (get("used_cpu_user"), get("used_cpu_sys")) {
        (Some(u), Some(s)) => Ok(u + s),
        _ => bail!("INFO cpu without used_cpu_user/used_cpu_sys"),
    }
}

/// Median of `xs` (mean of the middle two for an even count); `None` when empty.
pub fn median(xs: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len().is_multiple_of(2) {
        (v[m - 1] + v[m]) / 2.0
    } else {
        v[m]
    })
}

/// Nearest-rank percentile `p` (0..=100) of `xs`; `None` when empty.
pub fn percentile(xs: &[f64], p: f64) -> Option<f64> {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    Some(v[rank.clamp(1, v.len()) - 1])
}

/// Today's date (UTC) as `YYYY-MM-DD`.
pub fn today_utc() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0) as i64;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        let xs: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&xs, 50.0), Some(50.0));
        assert_eq!(percentile(&xs, 99.0), Some(99.0));
        assert_eq!(percentile(&[7.0], 99.0), Some(7.0));
    }

    #[test]
    fn parses_ready_lines() {
        let l = "probe ready worker_id=probe-abc pid=12 queues=q workers=1";
        assert_eq!(field(l, "worker_id").as_deref(), Some("probe-abc"));
        assert_eq!(field(l, "pid").as_deref(), Some("12"));
        assert_eq!(field(l, "nope"), None);
    }

    #[test]
    fn date_is_iso() {
        let d = today_utc();
        assert_eq!(d.len(), 10);
        assert!(d.starts_with("20"));
    }
}
