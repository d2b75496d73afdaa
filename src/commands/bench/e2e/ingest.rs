//! Ingest throughput: the highest offered rate (open loop, stepped up) at which every request
//! is answered 2xx with an answer-time p99 under the limit (20 ms), for
//!
//! - ours: `POST /webhooks/hubspot` of the api, valid v3-signed single-event batches (a
//!   `contact.propertyChange` of a mapped property, so each one is verified, routed to the
//!   integration and queued as a job);
//! - the baseline: a bare axum handler that `RPUSH`es the same bodies to Redis
//!   ([`super::baseline`]).
//!
//! Both are stepped through the same rates in the same run, alternating, so they see the same
//! machine. A failed step is run once more, and a system's ramp ends only after two rates in a
//! row failed (a noisy second on a shared machine should not end it); its throughput is the
//! highest rate that passed. The workers are stopped first: the queue fills, nothing drains
//! it, as nothing drains the baseline's list.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use axum::body::Bytes;
use serde::Serialize;

use super::baseline::Baseline;
use super::changes::Drivers;
use super::cluster::{self, Cluster};
use super::support::percentile;
use super::{Plan, driver, progress, setup};

/// Rates from `from` to `to`, each `factor` times the previous, rounded to two significant
/// digits.
pub fn ramp(from: u32, to: u32, factor: f64) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::new();
    let mut r = f64::from(from.max(1));
    while r <= f64::from(to) {
        let digits = r.log10().floor() as i32 - 1;
        let unit = 10f64.powi(digits.max(0));
        let rounded = ((r / unit).round() * unit) as u32;
        if out.last() != Some(&rounded) {
            out.push(rounded);
        }
        r *= factor.max(1.01);
    }
    out
}

/// One offered rate against one system.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub offered_per_s: u32,
    pub achieved_per_s: f64,
    pub requests: u64,
    pub ok: u64,
    pub failed: u64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub passed: bool,
}

/// The ramp of one system.
#[derive(Debug, Clone, Serialize)]
pub struct Ramp {
    /// Highest offered rate that passed.
    pub max_rate: Option<u32>,
    /// The step at that rate.
    pub at_max: Option<Step>,
    /// Every step run, in order (repeats included).
    pub steps: Vec<Step>,
    /// Why the ramp ended: two rates in a row over the limit, or the top of the ramp.
    pub ended: String,
    #[serde(skip)]
    failed_in_a_row: u32,
}

#[derive(Debug, Clone)]
pub struct IngestResult {
    pub p99_limit_ms: f64,
    pub seconds_per_step: f64,
    pub ours: Ramp,
    pub baseline: Ramp,
}

impl IngestResult {
    /// Ours ÷ baseline, of the highest passing rates.
    pub fn ratio(&self) -> Option<f64> {
        let ours = f64::from(self.ours.max_rate?);
        let base = f64::from(self.baseline.max_rate?);
        (base > 0.0).then(|| ours / base)
    }
}

/// One pre-built request: body and HubSpot signature headers.
#[derive(Clone)]
struct Prepared {
    body: Bytes,
    v3: String,
    timestamp: String,
    v1: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Ours,
    Baseline,
}

struct Runner {
    http: reqwest::Client,
    ours_url: String,
    baseline_url: String,
    drivers: Arc<Drivers>,
    people: usize,
}

pub async fn run(
    c: &Cluster,
    drivers: &Arc<Drivers>,
    plan: &Plan,
    p99_limit_ms: f64,
) -> anyhow::Result<IngestResult> {
    let baseline = Baseline::start(&c.redis_url, format!("{}:baseline-ingest", c.prefix))?;
    let runner = Arc::new(Runner {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(4096)
            .build()
            .context("HTTP client")?,
        ours_url: format!("{}/webhooks/hubspot", c.api_url),
        baseline_url: baseline.url.clone(),
        drivers: drivers.clone(),
        people: plan.people * 2,
    });
    progress("ingest: warming up both endpoints");
    for target in [Target::Ours, Target::Baseline] {
        let warm = runner.step(target, 200, 1.0).await?;
        if warm.failed > 0 {
            let what = match target {
                Target::Ours => "POST /webhooks/hubspot",
                Target::Baseline => "the baseline",
            };
            // Show what the api answered, to make a refused signature or route obvious.
            let probe = runner.probe(target).await;
            anyhow::bail!(
                "{what} failed {} of {} warm-up requests; one answer: {probe}",
                warm.failed,
                warm.requests
            );
        }
    }
    let mut ours = Ramp::new();
    let mut base = Ramp::new();
    for &rate in &plan.ingest_rates {
        for (target, ramp) in [(Target::Ours, &mut ours), (Target::Baseline, &mut base)] {
            if !ramp.ended.is_empty() {
                continue;
            }
            let mut step = runner.step(target, rate, plan.ingest_seconds).await?;
            step.passed = step.failed == 0
                && step.p99_ms.is_some_and(|p| p < p99_limit_ms)
                && step.achieved_per_s >= 0.95 * f64::from(rate);
            if !step.passed {
                ramp.steps.push(step);
                tokio::time::sleep(Duration::from_millis(500)).await;
                step = runner.step(target, rate, plan.ingest_seconds).await?;
                step.passed = step.failed == 0
                    && step.p99_ms.is_some_and(|p| p < p99_limit_ms)
                    && step.achieved_per_s >= 0.95 * f64::from(rate);
            }
            progress(&format!(
                "ingest {}: {rate}/s → p99 {} ms, {} failed{}",
                match target {
                    Target::Ours => "ours",
                    Target::Baseline => "baseline",
                },
                step.p99_ms.map_or("-".into(), |p| format!("{p:.1}")),
                step.failed,
                if step.passed { "" } else { " (over the limit)" }
            ));
            if step.passed {
                ramp.failed_in_a_row = 0;
                ramp.max_rate = Some(rate);
                ramp.at_max = Some(step.clone());
            } else {
                ramp.failed_in_a_row += 1;
                if ramp.failed_in_a_row >= 2 {
                    ramp.ended = "two rates in a row over the limit".into();
                }
            }
            ramp.steps.push(step);
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        if !ours.ended.is_empty() && !base.ended.is_empty() {
            break;
        }
    }
    for ramp in [&mut ours, &mut base] {
        if ramp.ended.is_empty() {
            ramp.ended = "top of the ramp".into();
        }
    }
    drop(baseline);
    Ok(IngestResult {
        p99_limit_ms,
        seconds_per_step: plan.ingest_seconds,
        ours,
        baseline: base,
    })
}

impl Ramp {
    fn new() -> Self {
        Self {
            max_rate: None,
            at_max: None,
            steps: Vec::new(),
            ended: String::new(),
            failed_in_a_row: 0,
        }
    }
}

impl Runner {
    /// Signed single-event batches for `n` requests, cycling through the seeded contacts.
    fn prepare(&self, n: u64) -> Vec<Prepared> {
        let url = &self.ours_url;
        (0..n)
            .map(|i| {
                let person = (i % self.people as u64) as usize + 1;
                let id = self.drivers.contact_id(person).unwrap_or("1");
                let body = Bytes::from(self.drivers.hubspot_event(
                    id,
                    setup::HS_SOURCE_PROPERTY,
                    &format!("ingest-{i}"),
                ));
                let timestamp = (super::time::now_ms() as i64).to_string();
                let v3 = hubsync_core::signature::hubspot::sign_v3(
                    cluster::CLIENT_SECRET,
                    "POST",
                    url,
                    &body,
                    &timestamp,
                );
                let v1 = hubsync_core::signature::hubspot::sign_v1(cluster::CLIENT_SECRET, &body);
                Prepared {
                    body,
                    v3,
                    timestamp,
                    v1,
                }
            })
            .collect()
    }

    fn request(&self, target: Target, p: &Prepared) -> reqwest::RequestBuilder {
        let url = match target {
            Target::Ours => &self.ours_url,
            Target::Baseline => &self.baseline_url,
        };
        self.http
            .post(url)
            .header("content-type", "application/json")
            .header("x-hubspot-signature-v3", &p.v3)
            .header("x-hubspot-request-timestamp", &p.timestamp)
            .header("x-hubspot-signature", &p.v1)
            .header("x-hubspot-signature-version", "v1")
            .body(p.body.clone())
    }

    /// One request, answering `status body` for an error message.
    async fn probe(&self, target: Target) -> String {
        let p = self.prepare(1);
        let Some(p) = p.first() else {
            return String::new();
        };
        match self.request(target, p).send().await {
            Ok(r) => {
                let s = r.status();
                format!("{s} {}", r.text().await.unwrap_or_default())
            }
            Err(e) => e.to_string(),
        }
    }

    async fn step(
        self: &Arc<Self>,
        target: Target,
        rate: u32,
        seconds: f64,
    ) -> anyhow::Result<Step> {
        let n = ((f64::from(rate) * seconds).round() as u64).max(1);
        // Built (and signed) before the clock starts, so the generator only sends.
        let prepared = Arc::new(self.prepare(n));
        let me = self.clone();
        let out = driver::open_loop(f64::from(rate), seconds, move |i, _at: Instant| {
            let me = me.clone();
            let prepared = prepared.clone();
            async move {
                let Some(p) = prepared.get(i as usize) else {
                    return (false, 0.0);
                };
                let req = me.request(target, p);
                let started = Instant::now();
                let ok = match req.send().await {
                    Ok(r) => {
                        let ok = r.status().is_success();
                        let _ = r.bytes().await;
                        ok
                    }
                    Err(_) => false,
                };
                (ok, started.elapsed().as_secs_f64() * 1000.0)
            }
        })
        .await;
        let ms: Vec<f64> = out.results.iter().map(|(_, ms)| *ms).collect();
        let ok = out.results.iter().filter(|(ok, _)| *ok).count() as u64;
        let requests = out.results.len() as u64;
        Ok(Step {
            offered_per_s: rate,
            achieved_per_s: out.achieved_rate,
            requests,
            ok,
            failed: requests - ok,
            p50_ms: percentile(&ms, 50.0),
            p99_ms: percentile(&ms, 99.0),
            max_ms: percentile(&ms, 100.0),
            passed: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramp_grows_geometrically_with_round_numbers() {
        assert_eq!(ramp(250, 1000, 2.0), vec![250, 500, 1000]);
        let r = ramp(250, 40_000, 1.25);
        assert_eq!(r.first(), Some(&250));
        assert!(r.windows(2).all(|w| w[1] > w[0]));
        assert!(r.iter().all(|x| *x <= 40_000));
        assert!(r.contains(&310) || r.contains(&320));
    }
}
