//! [`QueueAdmin`]: operator operations (list, inspect, retry, discard, purge, pause, resume a
//! tenant's delayed jobs, stats).
//! Reads are plain commands in bounded pages; writes go through the scripts, at most 500 ids
//! per call.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use redis::AsyncCommands;
use serde::Serialize;

use crate::{
    JobRecord, JobState, QueueConfig, Result,
    client::Shared,
    ops,
    reaper::{self, ReapReport},
};

/// Ids per scan page and per write script call.
const PAGE: usize = 200;
/// Entries one `list` call examines at most (filters may skip many).
const MAX_SCAN_PER_CALL: usize = 10_000;
/// Delayed entries one `resume_tenant` script call examines at most.
const RESUME_CHUNK: usize = 500;

/// Filters for listing and bulk operations. Empty = everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    /// Only this tenant.
    pub tenant: Option<String>,
    /// Only jobs whose last error contains this text (case-insensitive).
    pub error_contains: Option<String>,
}

impl JobFilter {
    /// Matches everything.
    pub fn all() -> Self {
        Self::default()
    }

    /// Only `tenant`.
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }

    /// Only jobs whose last error contains `text`.
    pub fn error_contains(mut self, text: impl Into<String>) -> Self {
        self.error_contains = Some(text.into());
        self
    }

    fn matches(&self, r: &JobRecord) -> bool {
        if let Some(t) = &self.tenant
            && &r.tenant != t
        {
            return false;
        }
        if let Some(needle) = &self.error_contains {
            let needle = needle.to_lowercase();
            let hay = r.last_error.as_deref().unwrap_or_default().to_lowercase();
            if !hay.contains(&needle) {
                return false;
            }
        }
        true
    }
}

/// One page of [`QueueAdmin::list`].
#[derive(Debug, Clone, Serialize)]
pub struct JobPage {
    /// Matching jobs (dead and completed: newest first; delayed: soonest first; waiting: queue
    /// order, tenant by tenant).
    pub jobs: Vec<JobRecord>,
    /// Pass back to continue; `None` at the end.
    pub next_cursor: Option<String>,
}

/// Jobs per state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StateCounts {
    /// Waiting.
    pub waiting: u64,
    /// Delayed.
    pub delayed: u64,
    /// Active (leased).
    pub active: u64,
    /// Completed within the retention window (not tracked per tenant).
    pub completed: u64,
    /// Dead letters.
    pub dead: u64,
}

impl StateCounts {
    fn add(&mut self, state: &str, n: u64) {
        match state {
            "waiting" => self.waiting += n,
            "delayed" => self.delayed += n,
            "active" => self.active += n,
            "dead" => self.dead += n,
            _ => {}
        }
    }
}

/// A latency histogram over quarter-power-of-two millisecond buckets (≈19 % wide).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LatencyHistogram {
    /// bucket index → count. Bucket `b` holds durations `d` (ms) with
    /// `floor(4 · log2(d + 1)) == b`.
    pub buckets: BTreeMap<u32, u64>,
}

impl LatencyHistogram {
    /// Upper bound (exclusive) of bucket `b`, in ms.
    pub fn bucket_upper_ms(b: u32) -> f64 {
        2f64.powf(f64::from(b + 1) / 4.0) - 1.0
    }

    /// Number of samples.
    pub fn count(&self) -> u64 {
        self.buckets.values().sum()
    }

    /// The `q` quantile (0..=1), as the upper bound of its bucket; `None` without samples.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (b, n) in &self.buckets {
            seen += n;
            if seen >= rank {
                return Some(Duration::from_secs_f64(Self::bucket_upper_ms(*b) / 1000.0));
            }
        }
        None
    }
}

/// Queue statistics for the operator API and the benchmark.
#[derive(Debug, Clone, Serialize)]
pub struct QueueStats {
    /// Queue name.
    pub queue: String,
    /// Whether the queue is paused.
    pub paused: bool,
    /// Jobs per state.
    pub counts: StateCounts,
    /// Jobs per tenant and state (completed not tracked).
    pub tenants: BTreeMap<String, StateCounts>,
    /// Lifetime counters (enqueued, duplicate, coalesced, started, completed, failed,
    /// retried, deferred, dead, reclaimed, released, stale, revived, discarded).
    pub counters: BTreeMap<String, u64>,
    /// Workers that renewed within three lease periods.
    pub live_workers: u64,
    /// Due-to-start latency over the window.
    pub wait: LatencyHistogram,
    /// Run time over the window.
    pub run: LatencyHistogram,
}

/// Operator handle of one queue. Cheap to clone.
#[derive(Clone)]
pub struct QueueAdmin {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for QueueAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueAdmin")
            .field("queue", &self.shared.keys.tag())
            .finish()
    }
}

impl QueueAdmin {
    /// An admin handle for the queue described by `cfg` (connects lazily).
    pub fn new(client: redis::Client, cfg: QueueConfig) -> Result<Self> {
        Ok(Self::from_shared(Shared::new(client, cfg)?))
    }

    pub(crate) fn from_shared(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// The queue's configuration.
    pub fn config(&self) -> &QueueConfig {
        &self.shared.cfg
    }

    pub(crate) fn conn(&self) -> redis::aio::ConnectionManager {
        self.shared.conn.clone()
    }

    pub(crate) fn keys(&self) -> &crate::keys::Keys {
        &self.shared.keys
    }

    /// One job, or `None` if unknown (or removed after retention).
    pub async fn job(&self, id: &str) -> Result<Option<JobRecord>> {
        let mut conn = self.conn();
        let fields: BTreeMap<String, String> = conn.hgetall(self.shared.keys.job(id)).await?;
        Ok(JobRecord::from_fields(id, &fields))
    }

    /// A page of jobs in `state` matching `filter`. `cursor` comes from the previous page.
    pub async fn list(
        &self,
        state: JobState,
        filter: &JobFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<JobPage> {
        let sources = self.sources(state, filter).await?;
        let (mut src, mut offset) = parse_cursor(cursor);
        let mut jobs = Vec::new();
        let mut scanned = 0;
        while src < sources.len() && jobs.len() < limit && scanned < MAX_SCAN_PER_CALL {
            let ids = self.page_ids(&sources[src], offset, PAGE).await?;
            if ids.is_empty() {
                src += 1;
                offset = 0;
                continue;
            }
            let records = self.records(&ids).await?;
            for rec in records {
                offset += 1;
                scanned += 1;
                if let Some(r) = rec
                    && r.state == state
                    && filter.matches(&r)
                {
                    jobs.push(r);
                    if jobs.len() >= limit {
                        break;
                    }
                }
            }
        }
        let next_cursor = (src < sources.len()).then(|| format!("{src}.{offset}"));
        Ok(JobPage { jobs, next_cursor })
    }

    /// Moves one dead job back to waiting with a fresh attempt budget. False if it is not dead.
    pub async fn retry(&self, id: &str) -> Result<bool> {
        let mut conn = self.conn();
        Ok(ops::retry_dead::run(&mut conn, &self.shared.keys, &[id.to_owned()]).await? == 1)
    }

    /// Retries every dead job matching `filter`. Returns how many.
    pub async fn retry_matching(&self, filter: &JobFilter) -> Result<u64> {
        self.apply_matching(JobState::Dead, filter, true).await
    }

    /// Deletes one job that is not running. False if unknown or active.
    pub async fn discard(&self, id: &str) -> Result<bool> {
        let mut conn = self.conn();
        Ok(ops::discard_jobs::run(&mut conn, &self.shared.keys, &[id.to_owned()]).await? == 1)
    }

    /// Deletes every job in `state` matching `filter` (`state` must not be `Active`).
    pub async fn discard_matching(&self, state: JobState, filter: &JobFilter) -> Result<u64> {
        if state == JobState::Active {
            return Err(crate::QueueError::InvalidJob(
                "active jobs cannot be discarded".to_owned(),
            ));
        }
        self.apply_matching(state, filter, false).await
    }

    /// Deletes every job in `state` (not `Active`).
    pub async fn purge(&self, state: JobState) -> Result<u64> {
        self.discard_matching(state, &JobFilter::all()).await
    }

    /// Stops workers from leasing new jobs (running jobs finish; pushes are still accepted).
    pub async fn pause(&self) -> Result<()> {
        let mut conn = self.conn();
        let _: () = conn.set(&self.shared.keys.paused, 1).await?;
        Ok(())
    }

    /// Resumes leasing and wakes idle workers.
    pub async fn resume(&self) -> Result<()> {
        let mut conn = self.conn();
        let _: () = redis::pipe()
            .del(&self.shared.keys.paused)
            .zadd(&self.shared.keys.marker, "r", 0)
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    /// Moves every delayed job of `tenant` to its waiting list now (keeping attempts), e.g.
    /// when an integration whose jobs were parked with a far retry-at is reconnected. Runs in
    /// atomic slices of at most 500 delayed entries; returns how many moved.
    pub async fn resume_tenant(&self, tenant: &str) -> Result<u64> {
        let mut conn = self.conn();
        let mut start = 0;
        let mut moved = 0;
        loop {
            let slice =
                ops::resume_tenant::run(&mut conn, &self.shared.keys, tenant, start, RESUME_CHUNK)
                    .await?;
            moved += slice.moved;
            if slice.scanned < RESUME_CHUNK as u64 {
                return Ok(moved);
            }
            start = slice.next_start;
        }
    }

    /// Whether the queue is paused.
    pub async fn is_paused(&self) -> Result<bool> {
        let mut conn = self.conn();
        Ok(conn.exists(&self.shared.keys.paused).await?)
    }

    /// Counts, counters and latency histograms over the last `window` (minute resolution,
    /// at most two hours).
    pub async fn stats(&self, window: Duration) -> Result<QueueStats> {
        let keys = &self.shared.keys;
        let mut conn = self.conn();
        let now = redis_now_ms(&mut conn).await?;
        let minutes = (window.as_secs().div_ceil(60)).clamp(1, 120);
        let now_min = now / 60_000;
        let mut pipe = redis::pipe();
        pipe.exists(&keys.paused)
            .hgetall(&keys.tenants)
            .hgetall(&keys.stats)
            .zcard(&keys.delayed)
            .zcard(&keys.active)
            .zcard(&keys.done)
            .zcard(&keys.dead)
            .zcount(
                &keys.workers,
                now.saturating_sub(3 * ops::ms(self.shared.cfg.lease)),
                "+inf",
            );
        for m in (now_min + 1 - minutes)..=now_min {
            pipe.hgetall(keys.latency(m));
        }
        #[allow(clippy::type_complexity)]
        let (head, lat): (
            (
                bool,
                BTreeMap<String, i64>,
                BTreeMap<String, i64>,
                u64,
                u64,
                u64,
                u64,
                u64,
            ),
            Vec<BTreeMap<String, u64>>,
        ) = {
            let v: Vec<redis::Value> = pipe.query_async(&mut conn).await?;
            let (head, rest) = v.split_at(8.min(v.len()));
            let head: (
                bool,
                BTreeMap<String, i64>,
                BTreeMap<String, i64>,
                u64,
                u64,
                u64,
                u64,
                u64,
            ) = redis::from_redis_value(redis::Value::Array(head.to_vec()))
                .map_err(|e| ops::protocol("stats", e.to_string()))?;
            let lat = rest
                .iter()
                .map(|x| {
                    redis::from_redis_value_ref(x)
                        .map_err(|e| ops::protocol("stats", e.to_string()))
                })
                .collect::<Result<Vec<_>>>()?;
            (head, lat)
        };
        let (paused, tenant_fields, counters, delayed, active, done, dead, live_workers) = head;
        let mut counts = StateCounts {
            delayed,
            active,
            completed: done,
            dead,
            waiting: 0,
        };
        let mut tenants: BTreeMap<String, StateCounts> = BTreeMap::new();
        for (field, n) in tenant_fields {
            let Some((state, tenant)) = field.split_once(':') else {
                continue;
            };
            let n = n.max(0).unsigned_abs();
            tenants.entry(tenant.to_owned()).or_default().add(state, n);
            if state == "waiting" {
                counts.waiting += n;
            }
        }
        let mut wait = LatencyHistogram::default();
        let mut run = LatencyHistogram::default();
        for h in lat {
            for (field, n) in h {
                let Some((kind, b)) = field.split_once(':') else {
                    continue;
                };
                let Ok(b) = b.parse::<u32>() else { continue };
                let target = if kind == "w" { &mut wait } else { &mut run };
                *target.buckets.entry(b).or_default() += n;
            }
        }
        Ok(QueueStats {
            queue: self.shared.cfg.name.clone(),
            paused,
            counts,
            tenants,
            counters: counters
                .into_iter()
                .map(|(k, v)| (k, v.max(0).unsigned_abs()))
                .collect(),
            live_workers,
            wait,
            run,
        })
    }

    /// Runs one reaper pass now (promote, reclaim, trim), as worker processes do every
    /// `reaper_period`. For processes without workers and for tests.
    pub async fn reap_once(&self) -> Result<ReapReport> {
        reaper::reap_once(&self.shared).await
    }

    // ---- internals ----

    async fn sources(&self, state: JobState, filter: &JobFilter) -> Result<Vec<Source>> {
        let keys = &self.shared.keys;
        Ok(match state {
            JobState::Waiting => {
                if let Some(t) = &filter.tenant {
                    vec![Source::List(keys.waiting(t))]
                } else {
                    let mut conn = self.conn();
                    let fields: Vec<String> = conn.hkeys(&keys.tenants).await?;
                    let mut tenants: Vec<String> = fields
                        .into_iter()
                        .filter_map(|f| f.strip_prefix("waiting:").map(str::to_owned))
                        .collect();
                    tenants.sort();
                    tenants
                        .into_iter()
                        .map(|t| Source::List(keys.waiting(&t)))
                        .collect()
                }
            }
            JobState::Delayed => vec![Source::Zset(keys.delayed.clone(), false)],
            JobState::Active => vec![Source::Zset(keys.active.clone(), false)],
            JobState::Completed => vec![Source::Zset(keys.done.clone(), true)],
            JobState::Dead => vec![Source::Zset(keys.dead.clone(), true)],
        })
    }

    async fn page_ids(&self, src: &Source, offset: usize, n: usize) -> Result<Vec<String>> {
        let mut conn = self.conn();
        let stop = (offset + n).saturating_sub(1) as isize;
        Ok(match src {
            Source::List(k) => conn.lrange(k, offset as isize, stop).await?,
            Source::Zset(k, true) => conn.zrevrange(k, offset as isize, stop).await?,
            Source::Zset(k, false) => conn.zrange(k, offset as isize, stop).await?,
        })
    }

    async fn records(&self, ids: &[String]) -> Result<Vec<Option<JobRecord>>> {
        let mut conn = self.conn();
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.hgetall(self.shared.keys.job(id));
        }
        let maps: Vec<BTreeMap<String, String>> = pipe.query_async(&mut conn).await?;
        Ok(ids
            .iter()
            .zip(maps)
            .map(|(id, m)| JobRecord::from_fields(id, &m))
            .collect())
    }

    /// Streams over `state`'s jobs in pages and retries (dead) or discards the matching ones.
    /// Removed entries shift later ranks down, so the offset advances by the kept ones only.
    async fn apply_matching(
        &self,
        state: JobState,
        filter: &JobFilter,
        retry: bool,
    ) -> Result<u64> {
        let sources = self.sources(state, filter).await?;
        let mut total = 0;
        let mut conn = self.conn();
        for src in &sources {
            let mut offset = 0;
            loop {
                let ids = self.page_ids(src, offset, PAGE).await?;
                if ids.is_empty() {
                    break;
                }
                let records = self.records(&ids).await?;
                let matching: Vec<String> = records
                    .into_iter()
                    .flatten()
                    .filter(|r| r.state == state && filter.matches(r))
                    .map(|r| r.id.0)
                    .collect();
                let n = if matching.is_empty() {
                    0
                } else if retry {
                    ops::retry_dead::run(&mut conn, &self.shared.keys, &matching).await?
                } else {
                    ops::discard_jobs::run(&mut conn, &self.shared.keys, &matching).await?
                };
                total += n;
                offset += ids.len() - (n as usize).min(ids.len());
            }
        }
        Ok(total)
    }
}

enum Source {
    List(String),
    /// key, newest first
    Zset(String, bool),
}

fn parse_cursor(c: Option<&str>) -> (usize, usize) {
    c.and_then(|c| c.split_once('.'))
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
        .unwrap_or((0, 0))
}

/// Redis's clock in unix ms.
pub(crate) async fn redis_now_ms(conn: &mut redis::aio::ConnectionManager) -> Result<u64> {
    let (s, us): (u64, u64) = redis::cmd("TIME").query_async(conn).await?;
    Ok(s * 1000 + us / 1000)
}
