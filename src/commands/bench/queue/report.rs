//! The results: a Markdown table (default) or one JSON object (`--json`).

use std::{fmt::Write, time::Duration};

use serde_json::{Map, Value, json};

use super::{Ctx, Measures, Val};
use crate::commands::bench::support::today_utc;

/// BullMQ's no-op rate on the same kind of machine (issue 3); the target is 3× that.
pub const BULLMQ_JOBS_PER_S: f64 = 9_200.0;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

pub struct Metric {
    pub key: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    pub better: Better,
    pub decimals: usize,
}

/// Every metric, in table order. Each appears in the JSON's `ours` (and `baseline`) object.
pub const METRICS: [Metric; 10] = [
    Metric {
        key: "enqueue_single_seq_per_s",
        label: "Enqueue, single, 1 pusher",
        unit: "jobs/s",
        better: Better::Higher,
        decimals: 0,
    },
    Metric {
        key: "enqueue_single_concurrent_per_s",
        label: "Enqueue, single, 16 pushers",
        unit: "jobs/s",
        better: Better::Higher,
        decimals: 0,
    },
    Metric {
        key: "enqueue_batch_per_s",
        label: "Enqueue, batches of 500",
        unit: "jobs/s",
        better: Better::Higher,
        decimals: 0,
    },
    Metric {
        key: "noop_jobs_per_s",
        label: "No-op jobs, 1 worker process (prefetch = in flight)",
        unit: "jobs/s",
        better: Better::Higher,
        decimals: 0,
    },
    Metric {
        key: "noop_default_prefetch_jobs_per_s",
        label: "No-op jobs, default prefetch (8)",
        unit: "jobs/s",
        better: Better::Higher,
        decimals: 0,
    },
    Metric {
        key: "http_jobs_per_s",
        label: "HTTP-stub jobs, 16 in flight",
        unit: "jobs/s",
        better: Better::Higher,
        decimals: 0,
    },
    Metric {
        key: "pickup_p50_ms",
        label: "Idle pickup p50",
        unit: "ms",
        better: Better::Lower,
        decimals: 2,
    },
    Metric {
        key: "pickup_p99_ms",
        label: "Idle pickup p99",
        unit: "ms",
        better: Better::Lower,
        decimals: 2,
    },
    Metric {
        key: "kill9_recovery_s",
        label: "kill -9 recovery",
        unit: "s",
        better: Better::Lower,
        decimals: 2,
    },
    Metric {
        key: "worker_peak_rss_mb",
        label: "Worker peak RSS (no-op drain)",
        unit: "MB",
        better: Better::Lower,
        decimals: 1,
    },
];

pub struct Report<'a> {
    pub ctx: &'a Ctx,
    pub ours: Measures,
    pub baseline: Option<Measures>,
    pub redis_version: String,
    pub elapsed: Duration,
}

fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

fn machine_note() -> String {
    format!(
        "{} cores shared by Redis, the worker process and the bench (and whatever else runs on the machine): numbers are noisy; compare with the baseline measured in the same run",
        cores()
    )
}

impl Report<'_> {
    fn val(&self, key: &str, baseline: bool) -> Option<&Val> {
        if baseline {
            // apalis-redis runs with its default config in every no-op drain.
            let key = match key {
                "noop_default_prefetch_jobs_per_s" => "noop_jobs_per_s",
                k => k,
            };
            self.baseline.as_ref()?.get(key)
        } else {
            self.ours.get(key)
        }
    }

    fn num(&self, key: &str, baseline: bool) -> Option<f64> {
        self.val(key, baseline).and_then(Val::num)
    }

    /// (target text, met?) of a metric.
    fn target(&self, key: &str) -> Option<(String, Option<bool>)> {
        let ours = self.num(key, false);
        let base = self.num(key, true);
        match key {
            "noop_jobs_per_s" | "noop_default_prefetch_jobs_per_s" => {
                let mut need = 30_000f64.max(3.0 * BULLMQ_JOBS_PER_S);
                let mut text = format!(
                    "≥ 30,000; ≥ 3× BullMQ ({:.0}); ≥ 3× apalis-redis",
                    3.0 * BULLMQ_JOBS_PER_S
                );
                if let Some(b) = base {
                    need = need.max(3.0 * b);
                    text = format!("{text} ({:.0})", 3.0 * b);
                }
                Some((text, ours.map(|o| o >= need)))
            }
            "pickup_p99_ms" => Some(("< 5 ms".into(), ours.map(|o| o < 5.0))),
            "kill9_recovery_s" => Some(("≤ 3 s".into(), ours.map(|o| o <= 3.0))),
            "worker_peak_rss_mb" => Some(("< 50 MB".into(), ours.map(|o| o < 50.0))),
            _ => None,
        }
    }

    fn ratio(&self, m: &Metric) -> Option<f64> {
        let (o, b) = (self.num(m.key, false)?, self.num(m.key, true)?);
        if o <= 0.0 || b <= 0.0 {
            return None;
        }
        Some(match m.better {
            Better::Higher => o / b,
            Better::Lower => b / o,
        })
    }

    pub fn table(&self) -> String {
        let c = self.ctx;
        let fmt = |v: Option<&Val>, m: &Metric| match v {
            Some(Val::Num(x)) => format!("{} {}", group(*x, m.decimals), m.unit),
            Some(Val::Failed(s)) => s.clone(),
            None => "—".into(),
        };
        let mut s = String::new();
        let _ = writeln!(
            s,
            "hubsync bench queue — {}; {} cores; Redis {}; {:.0} s",
            today_utc(),
            cores(),
            self.redis_version,
            self.elapsed.as_secs_f64()
        );
        let _ = writeln!(s, "note: {}", machine_note());
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "| Measure | hubsync-queue | apalis-redis 1.0.0 | Ours vs apalis | Target | Met |"
        );
        let _ = writeln!(s, "|---|---:|---:|---:|---|---|");
        for m in &METRICS {
            let ratio = self
                .ratio(m)
                .map(|r| format!("{r:.1}×"))
                .unwrap_or_else(|| "—".into());
            let (target, met) = self
                .target(m.key)
                .map(|(t, met)| {
                    (
                        t,
                        match met {
                            Some(true) => "yes",
                            Some(false) => "NO",
                            None => "—",
                        },
                    )
                })
                .unwrap_or_else(|| ("—".into(), ""));
            let base = if self.baseline.is_some() {
                fmt(self.val(m.key, true), m)
            } else {
                "skipped".into()
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                m.label,
                fmt(self.val(m.key, false), m),
                base,
                ratio,
                target,
                met
            );
        }
        let _ = writeln!(s);
        let z = &c.sizes;
        let _ = writeln!(
            s,
            "Settings: no-op backlog {} jobs (+{} warm-up), {} in flight, prefetch {} (and the default 8); HTTP {} jobs, {} in flight, prefetch {}; enqueue runs of {} s; median of {} repetitions; {} pickup samples; kill -9 with {} held jobs, lease {} ms, {} repetitions. Ours vs apalis: > 1 means ours is better (higher rate or lower time).",
            z.jobs,
            z.warmup_jobs,
            c.args.concurrency,
            c.noop_prefetch(),
            z.http_jobs,
            c.args.http_concurrency,
            c.http_prefetch(),
            z.seconds,
            z.reps,
            z.pickup_samples,
            z.held_jobs,
            c.args.lease_ms,
            z.kill_reps
        );
        if let Ok(notes) = c.notes.lock() {
            for n in notes.iter() {
                let _ = writeln!(s, "- {n}");
            }
        }
        s
    }

    pub fn json(&self) -> Value {
        let c = self.ctx;
        let z = &c.sizes;
        let obj = |m: &Measures| -> Value {
            let mut o = Map::new();
            for metric in &METRICS {
                let v = match m.get(metric.key) {
                    Some(Val::Num(x)) => json!(x),
                    Some(Val::Failed(s)) => json!(s),
                    None => Value::Null,
                };
                o.insert(metric.key.to_owned(), v);
            }
            Value::Object(o)
        };
        let mut ratios = Map::new();
        let mut targets = Map::new();
        let mut met = Map::new();
        for m in &METRICS {
            if let Some(r) = self.ratio(m) {
                ratios.insert(m.key.to_owned(), json!(r));
            }
            if let Some((t, ok)) = self.target(m.key) {
                targets.insert(m.key.to_owned(), json!(t));
                met.insert(m.key.to_owned(), json!(ok));
            }
        }
        json!({
            "bench": "queue",
            "date": today_utc(),
            "machine": {
                "cores": cores(),
                "redis_version": self.redis_version,
                "note": machine_note(),
            },
            "params": {
                "jobs": z.jobs,
                "warmup_jobs": z.warmup_jobs,
                "http_jobs": z.http_jobs,
                "seconds": z.seconds,
                "reps": z.reps,
                "concurrency": c.args.concurrency,
                "http_concurrency": c.args.http_concurrency,
                "noop_prefetch": c.noop_prefetch(),
                "http_prefetch": c.http_prefetch(),
                "pickup_samples": z.pickup_samples,
                "held_jobs": z.held_jobs,
                "lease_ms": c.args.lease_ms,
                "kill_reps": z.kill_reps,
                "baseline_max_backlog": c.args.baseline_max_backlog,
                "baseline_pickup_samples": c.args.baseline_pickup_samples,
                "quick": c.args.quick,
            },
            "ours": obj(&self.ours),
            "baseline": self.baseline.as_ref().map(obj),
            "baseline_name": "apalis-redis 1.0.0 (default Config)",
            "bullmq_jobs_per_s": BULLMQ_JOBS_PER_S,
            "ratios": ratios,
            "targets": targets,
            "met": met,
            "notes": c.notes.lock().map(|n| n.clone()).unwrap_or_default(),
            "details": c.details.lock().map(|d| json!(*d)).unwrap_or(Value::Null),
            "elapsed_s": self.elapsed.as_secs_f64(),
        })
    }
}

/// `12345.6` → `12,346` (with `decimals` places).
fn group(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i.to_owned(), Some(f.to_owned())),
        None => (s, None),
    };
    let (sign, digits) = match int.strip_prefix('-') {
        Some(d) => ("-", d.to_owned()),
        None => ("", int),
    };
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

#[cfg(test)]
mod tests {
    use super::group;

    #[test]
    fn groups_thousands() {
        assert_eq!(group(1234567.0, 0), "1,234,567");
        assert_eq!(group(999.0, 0), "999");
        assert_eq!(group(1234.567, 2), "1,234.57");
        assert_eq!(group(0.5, 1), "0.5");
    }
}
