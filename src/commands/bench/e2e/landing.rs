//! When each change landed in the target simulator, read after the run (reading while changes
//! are in flight would load the simulators the workers use):
//!
//! - in Userflow (HubSpot → Userflow): the user's `updated_at` (milliseconds) when its
//!   `job_title` holds the change's value. `updated_at` moves only when an attribute changes,
//!   and nothing else writes these users, so it is the time of the worker's write. Read in one
//!   request from the simulator's environment dump.
//! - in HubSpot (Userflow → HubSpot): the `timestamp` (milliseconds) of the change's value in
//!   the contact's `userflow_user_plan` history (batch reads with `propertiesWithHistory`, 100
//!   contacts per call, with the portal's private-app token).
//!
//! Landings are read once the realtime queue is empty (every job finished: a job's write
//! happens before it completes), or at the drain timeout.
//!
//! A person changed twice in one run (when `--people` is smaller than a run) can only show its
//! last value in Userflow: the earlier changes are counted as superseded, not lost.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::changes::{Direction, Drivers, Sent};
use super::cluster;
use super::setup;
use super::time;

/// Landing times of a run's changes.
#[derive(Debug, Default)]
pub struct Landings {
    /// Change index → landing time (ms since the epoch).
    pub at_ms: HashMap<u64, i64>,
    /// Changes whose value was overwritten by a later change to the same person in the run
    /// before it could be seen.
    pub superseded: HashSet<u64>,
    /// From the end of sending to the moment the realtime queue was empty (or the timeout).
    pub drain: Duration,
    /// Whether the queue emptied before the timeout (otherwise what was left was purged).
    pub drained: bool,
}

/// Waits until the cluster has finished the run's jobs (the realtime queue holds no waiting,
/// delayed or running job) or `timeout` after `send_end`, then reads where each accepted
/// change landed. Jobs still queued at the timeout are purged, so the next run starts clean.
pub async fn collect(
    d: &Drivers,
    direction: Direction,
    sent: &[Sent],
    send_end: Instant,
    timeout: Duration,
) -> anyhow::Result<Landings> {
    let accepted: Vec<&Sent> = sent.iter().filter(|s| s.accepted()).collect();
    let superseded = superseded(&accepted, direction);
    let drained = wait_drained(d, send_end + timeout).await?;
    let drain = send_end.elapsed();
    let pending: Vec<&Sent> = accepted
        .iter()
        .copied()
        .filter(|s| !superseded.contains(&s.index))
        .collect();
    let at_ms = match direction {
        Direction::HubspotToUserflow => read_userflow(d, &pending).await?,
        Direction::UserflowToHubspot => read_hubspot(d, &pending).await?,
    };
    if !drained {
        purge(d).await?;
    }
    Ok(Landings {
        at_ms,
        superseded,
        drain,
        drained,
    })
}

/// In Userflow only the last value per person can be seen.
fn superseded(accepted: &[&Sent], direction: Direction) -> HashSet<u64> {
    if direction != Direction::HubspotToUserflow {
        return HashSet::new();
    }
    let mut last: HashMap<usize, u64> = HashMap::new();
    for s in accepted {
        let e = last.entry(s.person).or_insert(s.index);
        *e = (*e).max(s.index);
    }
    accepted
        .iter()
        .filter(|s| last.get(&s.person) != Some(&s.index))
        .map(|s| s.index)
        .collect()
}

/// The realtime queue's summary from the operator API.
pub async fn realtime_queue(d: &Drivers) -> anyhow::Result<Value> {
    let resp = d
        .http
        .get(format!("{}/api/v1/queues/realtime", d.api))
        .bearer_auth(cluster::TOKEN)
        .send()
        .await
        .context("reading the realtime queue's summary")?;
    let status = resp.status();
    let v: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("GET /api/v1/queues/realtime answered {status}: {v}");
    }
    Ok(v)
}

/// Jobs waiting, delayed or running.
fn unfinished(summary: &Value) -> u64 {
    let c = &summary["counts"];
    ["waiting", "delayed", "active"]
        .iter()
        .map(|k| c[*k].as_u64().unwrap_or(0))
        .sum()
}

/// True once the realtime queue has no unfinished job on two polls in a row; false at
/// `deadline`.
async fn wait_drained(d: &Drivers, deadline: Instant) -> anyhow::Result<bool> {
    let mut idle_polls = 0;
    loop {
        if unfinished(&realtime_queue(d).await?) == 0 {
            idle_polls += 1;
            if idle_polls >= 2 {
                return Ok(true);
            }
        } else {
            idle_polls = 0;
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Deletes the waiting and delayed jobs of the realtime queue and waits (at most 30 s) for
/// the running ones.
async fn purge(d: &Drivers) -> anyhow::Result<()> {
    for state in ["waiting", "delayed"] {
        let resp = d
            .http
            .delete(format!(
                "{}/api/v1/queues/realtime/jobs?state={state}",
                d.api
            ))
            .bearer_auth(cluster::TOKEN)
            .send()
            .await
            .context("purging the realtime queue")?;
        if !resp.status().is_success() {
            let s = resp.status();
            bail!(
                "DELETE /api/v1/queues/realtime/jobs?state={state} answered {s}: {}",
                resp.text().await.unwrap_or_default()
            );
        }
    }
    wait_drained(d, Instant::now() + Duration::from_secs(30)).await?;
    Ok(())
}

/// Reads each pending change's user (`GET /users/{id}`, 32 at a time; the simulator's dump
/// is too slow with tens of thousands of users).
async fn read_userflow(d: &Drivers, pending: &[&Sent]) -> anyhow::Result<HashMap<u64, i64>> {
    let mut jobs = tokio::task::JoinSet::new();
    let mut queue = pending
        .iter()
        .map(|s| (s.index, Drivers::user_id(s.person), s.value.clone()));
    let mut found = HashMap::new();
    loop {
        while jobs.len() < 32 {
            let Some((index, id, value)) = queue.next() else {
                break;
            };
            let req = d
                .http
                .get(format!("{}/users/{id}", d.userflow))
                .bearer_auth(cluster::UF_KEY)
                .header("userflow-version", "2020-01-03");
            jobs.spawn(async move {
                let resp = req.send().await.context("reading a Userflow user")?;
                if !resp.status().is_success() {
                    bail!("GET /users/{id} answered {}", resp.status());
                }
                let u: Value = resp.json().await.context("a Userflow user")?;
                let landed = (u["attributes"][setup::UF_TARGET_ATTRIBUTE].as_str()
                    == Some(value.as_str()))
                .then(|| u["updated_at"].as_str().and_then(time::parse_iso_ms))
                .flatten();
                anyhow::Ok((index, landed))
            });
        }
        let Some(done) = jobs.join_next().await else {
            break;
        };
        if let (index, Some(ms)) = done.context("a Userflow read task")?? {
            found.insert(index, ms);
        }
    }
    Ok(found)
}

async fn read_hubspot(d: &Drivers, pending: &[&Sent]) -> anyhow::Result<HashMap<u64, i64>> {
    let mut by_contact: HashMap<&str, Vec<&Sent>> = HashMap::new();
    for s in pending {
        if let Some(id) = d.contact_id(s.person) {
            by_contact.entry(id).or_default().push(s);
        }
    }
    let ids: Vec<&str> = by_contact.keys().copied().collect();
    let mut found = HashMap::new();
    for chunk in ids.chunks(100) {
        let body = json!({
            "inputs": chunk.iter().map(|id| json!({ "id": id })).collect::<Vec<_>>(),
            "properties": [setup::HS_TARGET_PROPERTY],
            "propertiesWithHistory": [setup::HS_TARGET_PROPERTY],
        });
        let v = batch_read(d, &body).await?;
        for obj in v["results"].as_array().into_iter().flatten() {
            let Some(changes) = obj["id"].as_str().and_then(|id| by_contact.get(id)) else {
                continue;
            };
            let history = obj["propertiesWithHistory"][setup::HS_TARGET_PROPERTY]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for s in changes {
                let at = history
                    .iter()
                    .filter(|h| h["value"].as_str() == Some(s.value.as_str()))
                    .filter_map(|h| h["timestamp"].as_str().and_then(time::parse_iso_ms))
                    .min();
                if let Some(ms) = at {
                    found.insert(s.index, ms);
                }
            }
        }
    }
    Ok(found)
}

async fn batch_read(d: &Drivers, body: &Value) -> anyhow::Result<Value> {
    for _ in 0..50 {
        let resp = d
            .http
            .post(format!("{}/crm/v3/objects/contacts/batch/read", d.hubspot))
            .bearer_auth(cluster::PORTAL_TOKEN)
            .json(body)
            .send()
            .await
            .context("reading contacts from the HubSpot simulator")?;
        let status = resp.status();
        if status.as_u16() == 429 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        }
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() && status.as_u16() != 207 {
            bail!("contacts batch read answered {status}: {v}");
        }
        return Ok(v);
    }
    bail!("contacts batch read: still rate limited after 25 s")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(index: u64, person: usize) -> Sent {
        Sent {
            index,
            person,
            value: format!("v{index}"),
            t0_ms: 0.0,
            lag_ms: 0.0,
            webhook_status: 200,
            webhook_ms: 0.0,
            error: None,
        }
    }

    #[test]
    fn only_the_last_change_per_person_is_visible_in_userflow() {
        let all = [sent(0, 1), sent(1, 2), sent(2, 1), sent(3, 3), sent(4, 1)];
        let refs: Vec<&Sent> = all.iter().collect();
        let s = superseded(&refs, Direction::HubspotToUserflow);
        assert_eq!(s, HashSet::from([0, 2]));
        assert!(superseded(&refs, Direction::UserflowToHubspot).is_empty());
    }
}
