//! One latency run: changes in one direction at a fixed rate for a fixed time (open loop),
//! then their landing times; latency = landing time − the moment the webhook was sent.

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};

use super::changes::{Direction, Drivers, Sent};
use super::support::percentile;
use super::{driver, landing};

/// The numbers of one (direction, rate) run.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub direction: Direction,
    /// Offered changes per second.
    pub rate: u32,
    pub seconds: f64,
    /// Changes started.
    pub sent: u64,
    /// Changes whose webhook the api answered with 2xx.
    pub accepted: u64,
    pub landed: u64,
    /// Accepted changes overwritten by a later change to the same person (not counted).
    pub superseded: u64,
    /// Changes that never landed: sent − landed − superseded.
    pub lost: u64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
    /// The api's answer time to the webhooks.
    pub webhook_p50_ms: Option<f64>,
    pub webhook_p99_ms: Option<f64>,
    /// Changes per second actually started.
    pub achieved_rate: f64,
    /// p99 of how late changes started against their schedule (the generator's own lag).
    pub start_lag_p99_ms: Option<f64>,
    /// From the end of sending to the moment the realtime queue was empty, in seconds.
    pub drain_s: f64,
    /// Whether the queue emptied within the drain timeout (otherwise the rest was purged).
    pub drained: bool,
    /// HubSpot API calls the cluster made during the run (the simulator's count).
    pub hubspot_calls: Option<u64>,
    /// Changes of the realtime queue's lifetime counters during the run (`enqueued`,
    /// `coalesced`, `deferred`, `failed`, `dead`, …; zeros left out).
    pub queue: BTreeMap<String, u64>,
    /// Failed changes, by error message (the first ones).
    pub errors: BTreeMap<String, u64>,
}

/// Runs one direction at `rate` for `seconds`; `run` numbers the rate (unique values per run).
pub async fn run(
    drivers: &Arc<Drivers>,
    direction: Direction,
    rate: u32,
    seconds: f64,
    drain_timeout: Duration,
    run: usize,
) -> anyhow::Result<RunResult> {
    let tag = format!(
        "{}{run}",
        match direction {
            Direction::HubspotToUserflow => "h",
            Direction::UserflowToHubspot => "u",
        }
    );
    let before = Snapshot::take(drivers).await;
    let d = drivers.clone();
    let out = driver::open_loop(f64::from(rate), seconds, move |i, at: Instant| {
        let d = d.clone();
        let tag = tag.clone();
        async move { d.change(direction, &tag, i, at).await }
    })
    .await;
    let landings = landing::collect(
        drivers,
        direction,
        &out.results,
        out.send_end,
        drain_timeout,
    )
    .await?;
    let after = Snapshot::take(drivers).await;
    let mut r = summarise(
        direction,
        rate,
        seconds,
        &out.results,
        &landings,
        out.achieved_rate,
    );
    r.hubspot_calls = after
        .hubspot_calls
        .zip(before.hubspot_calls)
        .map(|(a, b)| a.saturating_sub(b));
    r.queue = after
        .counters
        .iter()
        .filter_map(|(k, a)| {
            let delta = a.saturating_sub(before.counters.get(k).copied().unwrap_or(0));
            (delta > 0).then(|| (k.clone(), delta))
        })
        .collect();
    if !landings.drained {
        // The purged backlog used HubSpot's 10-second budget: let it refill before the next
        // run.
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    Ok(r)
}

/// Counters read before and after a run.
struct Snapshot {
    hubspot_calls: Option<u64>,
    counters: BTreeMap<String, u64>,
}

impl Snapshot {
    async fn take(d: &Drivers) -> Self {
        let hubspot_calls = async {
            let v: serde_json::Value = d
                .http
                .get(format!("{}/_sim/hubspot/calls", d.hubspot))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            v["total"].as_u64()
        }
        .await;
        let counters = landing::realtime_queue(d)
            .await
            .ok()
            .and_then(|v| {
                v["counters"].as_object().map(|o| {
                    o.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_u64()?)))
                        .collect()
                })
            })
            .unwrap_or_default();
        Self {
            hubspot_calls,
            counters,
        }
    }
}

fn summarise(
    direction: Direction,
    rate: u32,
    seconds: f64,
    sent: &[Sent],
    landings: &landing::Landings,
    achieved_rate: f64,
) -> RunResult {
    let latencies: Vec<f64> = sent
        .iter()
        .filter_map(|s| Some(*landings.at_ms.get(&s.index)? as f64 - s.t0_ms))
        .collect();
    let webhook: Vec<f64> = sent
        .iter()
        .filter(|s| s.webhook_status != 0)
        .map(|s| s.webhook_ms)
        .collect();
    let mut errors = BTreeMap::new();
    for s in sent {
        let msg = match (&s.error, s.accepted()) {
            (Some(e), _) => e.clone(),
            (None, false) => format!("the api answered {}", s.webhook_status),
            _ => continue,
        };
        if errors.len() < 5 || errors.contains_key(&msg) {
            *errors.entry(msg).or_insert(0) += 1;
        }
    }
    let landed = latencies.len() as u64;
    let superseded = landings.superseded.len() as u64;
    let total = sent.len() as u64;
    RunResult {
        direction,
        rate,
        seconds,
        sent: total,
        accepted: sent.iter().filter(|s| s.accepted()).count() as u64,
        landed,
        superseded,
        lost: total.saturating_sub(landed + superseded),
        p50_ms: percentile(&latencies, 50.0),
        p95_ms: percentile(&latencies, 95.0),
        p99_ms: percentile(&latencies, 99.0),
        max_ms: percentile(&latencies, 100.0),
        webhook_p50_ms: percentile(&webhook, 50.0),
        webhook_p99_ms: percentile(&webhook, 99.0),
        achieved_rate,
        start_lag_p99_ms: percentile(&sent.iter().map(|s| s.lag_ms).collect::<Vec<_>>(), 99.0),
        drain_s: landings.drain.as_secs_f64(),
        drained: landings.drained,
        hubspot_calls: None,
        queue: BTreeMap::new(),
        errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(index: u64, t0_ms: f64, status: u16) -> Sent {
        Sent {
            index,
            person: index as usize + 1,
            value: format!("v{index}"),
            t0_ms,
            lag_ms: 0.0,
            webhook_status: status,
            webhook_ms: 2.0,
            error: None,
        }
    }

    #[test]
    fn latency_is_landing_minus_send_and_the_rest_is_lost() {
        let all: Vec<Sent> = (0..10)
            .map(|i| sent(i, 1000.0 + i as f64, if i == 9 { 401 } else { 200 }))
            .collect();
        let mut l = landing::Landings::default();
        // Changes 0..8 land 10 ms + i ms after they were sent; 8 never lands; 9 was refused.
        for i in 0..8u64 {
            l.at_ms.insert(i, 1010 + 2 * i as i64);
        }
        let r = summarise(Direction::HubspotToUserflow, 100, 0.1, &all, &l, 100.0);
        assert_eq!((r.sent, r.accepted, r.landed, r.lost), (10, 9, 8, 2));
        assert_eq!(r.p50_ms, Some(13.0));
        assert_eq!(r.max_ms, Some(17.0));
        assert_eq!(r.errors.get("the api answered 401"), Some(&1));
    }
}
