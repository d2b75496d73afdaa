//! One change on each side, the way a person and the source system's webhook would make it:
//! the new value is written into the source simulator, then the signed webhook is sent to the
//! api by the benchmark itself (the simulators' own deliveries are off). The change's clock
//! starts just before the webhook is sent.
//!
//! - HubSpot → Userflow: `PATCH` the contact's `jobtitle` through the simulator's UI route,
//!   then `POST /webhooks/hubspot` with one `contact.propertyChange` event (v3 signature with
//!   the app secret over the public URL, plus v1, as the simulator signs).
//! - Userflow → HubSpot: `POST /users` upsert of the user's `plan`, then
//!   `POST /webhooks/userflow/{integration}` with the `user.updated` notification
//!   (`Userflow-Signature` with the subscription's secret).
//!
//! People: person `n` is HubSpot contact `n` and Userflow user `u_{n:04}` (same email, same
//! seed). The HubSpot → Userflow direction uses people `1..=P`, the other `P+1..=2P`, so a
//! landing on one side is never disturbed by the other direction's changes.

use std::{
    collections::HashMap,
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use axum::body::Bytes;
use hubsync_core::signature::{hubspot as hs_sig, userflow as uf_sig};
use serde_json::{Value, json};

use super::cluster::{self, Cluster};
use super::setup::{self, Integration};
use super::time;

/// A sync direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    HubspotToUserflow,
    UserflowToHubspot,
}

impl Direction {
    pub fn label(self) -> &'static str {
        match self {
            Direction::HubspotToUserflow => "HubSpot → Userflow",
            Direction::UserflowToHubspot => "Userflow → HubSpot",
        }
    }

    /// The key in the JSON output.
    pub fn key(self) -> &'static str {
        match self {
            Direction::HubspotToUserflow => "hubspot_to_userflow",
            Direction::UserflowToHubspot => "userflow_to_hubspot",
        }
    }
}

/// What happened to one change on the sending side.
#[derive(Debug, Clone)]
pub struct Sent {
    /// Index of the change in its run.
    pub index: u64,
    /// The person (1-based).
    pub person: usize,
    /// The unique value written.
    pub value: String,
    /// Just before the webhook was sent, ms since the epoch.
    pub t0_ms: f64,
    /// How late the change started against its schedule, in ms.
    pub lag_ms: f64,
    /// The api's answer to the webhook (0 when it never answered).
    pub webhook_status: u16,
    /// How long the api took to answer the webhook, in ms.
    pub webhook_ms: f64,
    /// Why the change failed before or during the webhook.
    pub error: Option<String>,
}

impl Sent {
    /// The api accepted the webhook.
    pub fn accepted(&self) -> bool {
        self.error.is_none() && (200..300).contains(&self.webhook_status)
    }
}

/// Everything a change needs, shared by every task of a run.
pub struct Drivers {
    pub http: reqwest::Client,
    pub hubspot: String,
    pub userflow: String,
    pub api: String,
    pub integration: String,
    /// People per direction.
    pub people: usize,
    /// HubSpot contact id of person `n` (index `n - 1`), for `2 × people` people.
    contact_ids: Vec<String>,
    userflow_secret: String,
    subscription_id: u64,
    next_event_id: AtomicU64,
    run_id: String,
}

impl Drivers {
    pub async fn new(
        c: &Cluster,
        integration: &Integration,
        people: usize,
        run_id: &str,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(4096)
            .build()
            .context("HTTP client")?;
        let contact_ids = contact_ids(c, people * 2).await?;
        let userflow_secret = setup::userflow_secret(c, &integration.id).await?;
        let subscription_id = hubspot_subscription(c).await;
        Ok(Self {
            http,
            hubspot: c.hubspot.clone(),
            userflow: c.userflow.clone(),
            api: c.api_url.clone(),
            integration: integration.id.clone(),
            people,
            contact_ids,
            userflow_secret,
            subscription_id,
            // Distinct from the simulator's own counter, which starts at 1.
            next_event_id: AtomicU64::new(1_000_000_000),
            run_id: run_id.to_owned(),
        })
    }

    /// The person of change `index` of a run in `direction`.
    pub fn person(&self, direction: Direction, index: u64) -> usize {
        let n = (index % self.people as u64) as usize + 1;
        match direction {
            Direction::HubspotToUserflow => n,
            Direction::UserflowToHubspot => self.people + n,
        }
    }

    pub fn contact_id(&self, person: usize) -> Option<&str> {
        self.contact_ids
            .get(person.checked_sub(1)?)
            .map(String::as_str)
    }

    /// The Userflow user id of person `n`.
    pub fn user_id(person: usize) -> String {
        format!("u_{person:04}")
    }

    /// A value no other change writes.
    pub fn value(&self, tag: &str, index: u64) -> String {
        format!("bench-{}-{tag}-{index}", self.run_id)
    }

    /// Makes change `index` of a run (`tag` names the run) in `direction`.
    pub async fn change(
        &self,
        direction: Direction,
        tag: &str,
        index: u64,
        scheduled: Instant,
    ) -> Sent {
        let lag_ms = scheduled.elapsed().as_secs_f64() * 1000.0;
        let person = self.person(direction, index);
        let value = self.value(tag, index);
        let mut sent = Sent {
            index,
            person,
            value,
            t0_ms: 0.0,
            lag_ms,
            webhook_status: 0,
            webhook_ms: 0.0,
            error: None,
        };
        let result = match direction {
            Direction::HubspotToUserflow => self.hubspot_change(&mut sent).await,
            Direction::UserflowToHubspot => self.userflow_change(&mut sent).await,
        };
        if let Err(e) = result {
            sent.error = Some(super::one_line(&e));
        }
        sent
    }

    async fn hubspot_change(&self, sent: &mut Sent) -> anyhow::Result<()> {
        let id = self
            .contact_id(sent.person)
            .with_context(|| format!("no HubSpot contact for person {}", sent.person))?;
        let resp = self
            .http
            .patch(format!(
                "{}/_sim/hubspot/portals/{}/ui/objects/contacts/{id}",
                self.hubspot,
                cluster::PORTAL_ID
            ))
            .json(&json!({ "properties": { setup::HS_SOURCE_PROPERTY: sent.value } }))
            .send()
            .await
            .context("writing the contact in the HubSpot simulator")?;
        if !resp.status().is_success() {
            let s = resp.status();
            bail!(
                "the HubSpot simulator answered {s} to the contact write: {}",
                resp.text().await.unwrap_or_default()
            );
        }
        let body = self.hubspot_event(id, setup::HS_SOURCE_PROPERTY, &sent.value);
        self.send_hubspot(body, sent).await
    }

    /// One `contact.propertyChange` event as the simulator renders it for a UI edit.
    pub fn hubspot_event(&self, contact_id: &str, property: &str, value: &str) -> Vec<u8> {
        let event_id = self.next_event_id.fetch_add(1, Ordering::Relaxed);
        let body = json!([{
            "eventId": event_id,
            "subscriptionId": self.subscription_id,
            "portalId": cluster::PORTAL_ID,
            "appId": cluster::APP_ID,
            "occurredAt": time::now_ms() as i64,
            "subscriptionType": "contact.propertyChange",
            "attemptNumber": 0,
            "objectId": contact_id.parse::<u64>().unwrap_or_default(),
            "changeSource": "CRM_UI",
            "sourceId": "userId:1",
            "propertyName": property,
            "propertyValue": value,
        }]);
        body.to_string().into_bytes()
    }

    /// The signed `POST /webhooks/hubspot` request for `body`.
    pub fn hubspot_request(&self, body: Bytes) -> reqwest::RequestBuilder {
        let url = format!("{}/webhooks/hubspot", self.api);
        let timestamp = (time::now_ms() as i64).to_string();
        let v3 = hs_sig::sign_v3(cluster::CLIENT_SECRET, "POST", &url, &body, &timestamp);
        let v1 = hs_sig::sign_v1(cluster::CLIENT_SECRET, &body);
        self.http
            .post(url)
            .header("content-type", "application/json")
            .header("x-hubspot-signature-v3", v3)
            .header("x-hubspot-request-timestamp", timestamp)
            .header("x-hubspot-signature", v1)
            .header("x-hubspot-signature-version", "v1")
            .body(body)
    }

    async fn send_hubspot(&self, body: Vec<u8>, sent: &mut Sent) -> anyhow::Result<()> {
        let req = self.hubspot_request(Bytes::from(body));
        self.send_webhook(req, sent).await
    }

    async fn userflow_change(&self, sent: &mut Sent) -> anyhow::Result<()> {
        let user_id = Self::user_id(sent.person);
        let resp = self
            .http
            .post(format!("{}/users", self.userflow))
            .bearer_auth(cluster::UF_KEY)
            .header("userflow-version", "2020-01-03")
            .json(&json!({
                "id": user_id,
                "attributes": { setup::UF_SOURCE_ATTRIBUTE: sent.value },
            }))
            .send()
            .await
            .context("writing the user in the Userflow simulator")?;
        let status = resp.status();
        let user: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("the Userflow simulator answered {status} to the user write: {user}");
        }
        let now = time::now_ms() as i64;
        let notification = json!({
            "id": format!("whn_bench_{}_{}", self.run_id, self.next_event_id.fetch_add(1, Ordering::Relaxed)),
            "object": "webhook_notification",
            "api_version": "2020-01-03",
            "created_at": time::iso_ms(now),
            "topic": "user.updated",
            "data": {
                "object": user,
                "previous_attributes": { setup::UF_SOURCE_ATTRIBUTE: null },
                "updated_attributes": { setup::UF_SOURCE_ATTRIBUTE: sent.value },
            },
        });
        let body = notification.to_string().into_bytes();
        let signature = uf_sig::header(&self.userflow_secret, now / 1000, &body);
        let req = self
            .http
            .post(format!(
                "{}/webhooks/userflow/{}",
                self.api, self.integration
            ))
            .header("content-type", "application/json")
            .header("userflow-signature", signature)
            .body(body);
        self.send_webhook(req, sent).await
    }

    async fn send_webhook(
        &self,
        req: reqwest::RequestBuilder,
        sent: &mut Sent,
    ) -> anyhow::Result<()> {
        sent.t0_ms = time::now_ms();
        let started = Instant::now();
        let resp = req.send().await.context("sending the webhook to the api")?;
        sent.webhook_status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        sent.webhook_ms = started.elapsed().as_secs_f64() * 1000.0;
        if !(200..300).contains(&sent.webhook_status) {
            bail!(
                "the api answered {} to the webhook: {text}",
                sent.webhook_status
            );
        }
        // A 2xx that queued nothing (an ignored event) would never land: say why.
        let summary: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if summary["queued"].as_u64() == Some(0) {
            bail!("the api queued nothing for the webhook: {text}");
        }
        Ok(())
    }
}

/// Ids of HubSpot contacts `1..=n` in the benchmark's portal, by the email scheme the
/// simulators share.
async fn contact_ids(c: &Cluster, n: usize) -> anyhow::Result<Vec<String>> {
    let (s, dump) = cluster::send(c.http.get(format!(
        "{}/_sim/hubspot/portals/{}/objects/contacts",
        c.hubspot,
        cluster::PORTAL_ID
    )))
    .await
    .context("reading the HubSpot simulator's contacts")?;
    if s != 200 {
        bail!("GET /_sim/hubspot/portals/…/objects/contacts answered {s}");
    }
    let by_email: HashMap<String, String> = dump["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| {
            Some((
                o["properties"]["email"].as_str()?.to_lowercase(),
                o["id"].as_str()?.to_owned(),
            ))
        })
        .collect();
    (1..=n)
        .map(|p| {
            let email = hubsync_sim::userflow::demo_email(cluster::SEED, p);
            by_email
                .get(&email)
                .cloned()
                .with_context(|| format!("the HubSpot simulator has no contact {email}"))
        })
        .collect()
}

/// The id of the app's `contact.propertyChange` subscription the integration made, if any
/// (the api may not check it; a made-up one is used otherwise).
async fn hubspot_subscription(c: &Cluster) -> u64 {
    let Ok((200, v)) = cluster::send(c.http.get(format!(
        "{}/_sim/hubspot/apps/{}/webhooks",
        c.hubspot,
        cluster::APP_ID
    )))
    .await
    else {
        return 1;
    };
    let subs = v["subscriptions"].as_array().cloned().unwrap_or_default();
    let pick = |pred: &dyn Fn(&Value) -> bool| {
        subs.iter()
            .find(|s| pred(s))
            .and_then(|s| s["id"].as_u64().or_else(|| s["id"].as_str()?.parse().ok()))
    };
    pick(&|s| {
        s["eventType"] == "contact.propertyChange" && s["propertyName"] == setup::HS_SOURCE_PROPERTY
    })
    .or_else(|| pick(&|s| s["eventType"] == "contact.propertyChange"))
    .unwrap_or(1)
}
