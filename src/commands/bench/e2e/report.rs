//! The results: Markdown tables (default) or one JSON object (`--json`), with the targets of
//! the issue beside the numbers.

use std::{fmt::Write, time::Duration};

use serde_json::{Value, json};

use super::changes::Direction;
use super::ingest::{IngestResult, Ramp};
use super::latency::RunResult;
use super::support::today_utc;
use super::{E2eBenchArgs, Plan, Results};

/// Latency target: p99 under this many ms in both directions…
pub const TARGET_P99_MS: f64 = 250.0;
/// …at this rate.
pub const TARGET_RATE: u32 = 1000;
/// Ingest target: at least this share of the bare baseline's throughput.
pub const TARGET_INGEST_RATIO: f64 = 0.70;

pub struct Report<'a> {
    pub plan: &'a Plan,
    pub args: &'a E2eBenchArgs,
    pub results: Results,
    pub redis_version: String,
    pub database: String,
    pub elapsed: Duration,
}

fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// `12.3`, or `-` when there is no value.
pub fn ms_or_dash(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"))
}

/// Whether a run meets the latency target: `None` when the target does not apply to its rate.
fn latency_met(r: &RunResult) -> Option<bool> {
    (r.rate == TARGET_RATE).then(|| r.lost == 0 && r.p99_ms.is_some_and(|p| p < TARGET_P99_MS))
}

/// Latency target over every run at the target rate (both directions must have run).
fn latency_target(runs: &[RunResult]) -> Option<bool> {
    let at: Vec<&RunResult> = runs.iter().filter(|r| r.rate == TARGET_RATE).collect();
    let both = [Direction::HubspotToUserflow, Direction::UserflowToHubspot]
        .iter()
        .all(|d| at.iter().any(|r| r.direction == *d));
    both.then(|| at.iter().all(|r| latency_met(r) == Some(true)))
}

fn yes_no(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Report<'_> {
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "hubsync bench e2e — {}; {} cores; Redis {}; {}; {} worker(s); simulators at zero latency{}\n",
            today_utc(),
            cores(),
            self.redis_version,
            self.database,
            self.args.workers.max(1),
            if self.args.sim_rate_limits {
                " (HubSpot rate limits on)"
            } else {
                ", HubSpot rate limits off"
            }
        );
        if !self.results.latency.is_empty() {
            let _ = writeln!(
                out,
                "Webhook reaching the api → write landing in the other simulator ({} s per run; lost = not landed {} s after the run stopped sending):\n",
                self.plan.seconds, self.args.drain_timeout_secs
            );
            let _ = writeln!(
                out,
                "| Direction | Rate | Sent | Landed | Lost | p50 | p95 | p99 | Webhook answer p99 | HubSpot calls | Target | Met |"
            );
            let _ = writeln!(
                out,
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
            );
            for r in &self.results.latency {
                let target = if r.rate == TARGET_RATE {
                    format!("p99 < {TARGET_P99_MS:.0} ms")
                } else {
                    "—".to_owned()
                };
                let _ = writeln!(
                    out,
                    "| {} | {}/s | {} | {} | {} | {} ms | {} ms | {} ms | {} ms | {} | {target} | {} |",
                    r.direction.label(),
                    thousands(u64::from(r.rate)),
                    thousands(r.sent),
                    thousands(r.landed),
                    thousands(r.lost),
                    ms_or_dash(r.p50_ms),
                    ms_or_dash(r.p95_ms),
                    ms_or_dash(r.p99_ms),
                    ms_or_dash(r.webhook_p99_ms),
                    r.hubspot_calls.map_or_else(|| "-".to_owned(), thousands),
                    yes_no(latency_met(r)),
                );
            }
            for r in &self.results.latency {
                for (msg, n) in &r.errors {
                    let _ = writeln!(
                        out,
                        "\n- {} at {}/s: {n} × {msg}",
                        r.direction.label(),
                        r.rate
                    );
                }
                if !r.drained {
                    let _ = writeln!(
                        out,
                        "\n- {} at {}/s: jobs were still queued {:.0} s after the last change was sent; they were purged and count as lost (`--drain-timeout-secs`)",
                        r.direction.label(),
                        r.rate,
                        r.drain_s
                    );
                }
                if r.superseded > 0 {
                    let _ = writeln!(
                        out,
                        "\n- {} at {}/s: {} changes overwritten by a later change to the same person before they could be seen (use more --people)",
                        r.direction.label(),
                        r.rate,
                        r.superseded
                    );
                }
            }
            let per_change: Vec<String> = self
                .results
                .latency
                .iter()
                .filter(|r| r.landed > 0)
                .filter_map(|r| {
                    let calls = r.hubspot_calls? as f64 / r.landed as f64;
                    Some(format!(
                        "{} at {}/s: {calls:.2}",
                        r.direction.label(),
                        r.rate
                    ))
                })
                .collect();
            let _ = writeln!(
                out,
                "\nHubSpot calls per landed change (jobs that waited for the budget may repeat calls): {}. The cluster's HubSpot budget was {} calls per 10 s per portal (`--hubspot-calls-per-10s`, shared by every worker through Redis; a real public app gets {}).",
                per_change.join("; "),
                self.args
                    .hubspot_calls_per_10s
                    .unwrap_or(if self.args.sim_rate_limits {
                        hubsync_sync::ratelimit::PortalLimits::OAUTH_APP.burst_per_10s
                    } else {
                        1_000_000
                    }),
                hubsync_sync::ratelimit::PortalLimits::OAUTH_APP.burst_per_10s
            );
            out.push('\n');
        }
        if let Some(i) = &self.results.ingest {
            let _ = writeln!(
                out,
                "Ingest: highest offered rate answered 2xx with p99 < {:.0} ms ({} s per step):\n",
                i.p99_limit_ms, i.seconds_per_step
            );
            let _ = writeln!(out, "| Endpoint | Events/s | p50 | p99 | Ramp ended |");
            let _ = writeln!(out, "|---|---:|---:|---:|---|");
            for (name, ramp) in [
                ("`POST /webhooks/hubspot` (hubsync api)", &i.ours),
                ("bare axum handler → Redis `RPUSH` (baseline)", &i.baseline),
            ] {
                let at = ramp.at_max.as_ref();
                let _ = writeln!(
                    out,
                    "| {name} | {} | {} ms | {} ms | {} |",
                    ramp.max_rate
                        .map_or_else(|| "-".to_owned(), |r| thousands(u64::from(r))),
                    ms_or_dash(at.and_then(|s| s.p50_ms)),
                    ms_or_dash(at.and_then(|s| s.p99_ms)),
                    ramp.ended
                );
            }
            let ratio = i.ratio();
            let _ = writeln!(
                out,
                "\nOurs ÷ baseline: {} (target ≥ {:.0} %): {}",
                ratio.map_or_else(|| "-".to_owned(), |r| format!("{:.0} %", r * 100.0)),
                TARGET_INGEST_RATIO * 100.0,
                if ratio.is_some_and(|r| r >= TARGET_INGEST_RATIO) {
                    "met"
                } else {
                    "not met"
                }
            );
            out.push('\n');
        }
        for n in &self.results.notes {
            let _ = writeln!(out, "Note: {n}");
        }
        let _ = writeln!(
            out,
            "Total time: {:.0} s. {} cores are shared by Redis, the database, both simulators, the api, the worker(s) and the load generator: numbers are noisy; compare runs of one machine.",
            self.elapsed.as_secs_f64(),
            cores()
        );
        out
    }

    pub fn json(&self) -> Value {
        let latency: Vec<Value> = self.results.latency.iter().map(run_json).collect();
        let ingest = self.results.ingest.as_ref().map(ingest_json);
        json!({
            "bench": "e2e",
            "date": today_utc(),
            "machine": { "cores": cores(), "redis_version": self.redis_version },
            "config": {
                "database": self.database,
                "workers": self.args.workers.max(1),
                "rates": self.plan.rates,
                "seconds": self.plan.seconds,
                "people_per_direction": self.plan.people,
                "quick": self.args.quick,
                "sim_rate_limits": self.args.sim_rate_limits,
                "ingest_seconds_per_step": self.plan.ingest_seconds,
            },
            "latency": latency,
            "ingest": ingest,
            "targets": {
                "latency_p99_ms": TARGET_P99_MS,
                "latency_rate_per_s": TARGET_RATE,
                "latency_met": latency_target(&self.results.latency),
                "ingest_ratio": TARGET_INGEST_RATIO,
                "ingest_met": self.results.ingest.as_ref().map(|i| i.ratio().is_some_and(|r| r >= TARGET_INGEST_RATIO)),
            },
            "notes": self.results.notes,
            "elapsed_s": self.elapsed.as_secs_f64(),
        })
    }
}

fn run_json(r: &RunResult) -> Value {
    json!({
        "direction": r.direction.key(),
        "rate_per_s": r.rate,
        "seconds": r.seconds,
        "sent": r.sent,
        "accepted": r.accepted,
        "landed": r.landed,
        "superseded": r.superseded,
        "lost": r.lost,
        "p50_ms": r.p50_ms,
        "p95_ms": r.p95_ms,
        "p99_ms": r.p99_ms,
        "max_ms": r.max_ms,
        "webhook_p50_ms": r.webhook_p50_ms,
        "webhook_p99_ms": r.webhook_p99_ms,
        "achieved_rate_per_s": r.achieved_rate,
        "start_lag_p99_ms": r.start_lag_p99_ms,
        "drain_s": r.drain_s,
        "drained": r.drained,
        "hubspot_calls": r.hubspot_calls,
        "queue": r.queue,
        "errors": r.errors,
        "met": latency_met(r),
    })
}

fn ramp_json(r: &Ramp) -> Value {
    json!({
        "max_rate_per_s": r.max_rate,
        "at_max": r.at_max,
        "ended": r.ended,
        "steps": r.steps,
    })
}

fn ingest_json(i: &IngestResult) -> Value {
    json!({
        "p99_limit_ms": i.p99_limit_ms,
        "seconds_per_step": i.seconds_per_step,
        "ours": ramp_json(&i.ours),
        "baseline": ramp_json(&i.baseline),
        "ratio": i.ratio(),
        "target_ratio": TARGET_INGEST_RATIO,
        "met": i.ratio().is_some_and(|r| r >= TARGET_INGEST_RATIO),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(direction: Direction, rate: u32, p99: f64, lost: u64) -> RunResult {
        RunResult {
            direction,
            rate,
            seconds: 1.0,
            sent: 10,
            accepted: 10,
            landed: 10 - lost,
            superseded: 0,
            lost,
            p50_ms: Some(p99 / 2.0),
            p95_ms: Some(p99),
            p99_ms: Some(p99),
            max_ms: Some(p99),
            webhook_p50_ms: Some(1.0),
            webhook_p99_ms: Some(2.0),
            achieved_rate: f64::from(rate),
            start_lag_p99_ms: Some(0.5),
            drain_s: 1.0,
            drained: true,
            hubspot_calls: Some(10),
            queue: Default::default(),
            errors: Default::default(),
        }
    }

    #[test]
    fn the_latency_target_needs_both_directions_at_the_target_rate() {
        let h = Direction::HubspotToUserflow;
        let u = Direction::UserflowToHubspot;
        assert_eq!(latency_target(&[run(h, 100, 10.0, 0)]), None);
        assert_eq!(latency_target(&[run(h, 1000, 10.0, 0)]), None);
        assert_eq!(
            latency_target(&[run(h, 1000, 10.0, 0), run(u, 1000, 249.0, 0)]),
            Some(true)
        );
        assert_eq!(
            latency_target(&[run(h, 1000, 10.0, 0), run(u, 1000, 251.0, 0)]),
            Some(false)
        );
        // A lost change fails it whatever the percentiles say.
        assert_eq!(
            latency_target(&[run(h, 1000, 10.0, 1), run(u, 1000, 10.0, 0)]),
            Some(false)
        );
    }

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
