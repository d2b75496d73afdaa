//! Connecting the benchmark's integration through the operator API, as an operator would:
//! create it, connect Userflow (`ak_sim_demo` in `env_demo`), connect HubSpot through OAuth
//! (authorize → the simulator's immediate 302 → our callback), and map HubSpot contacts to
//! Userflow users by email with one field each way:
//!
//! - HubSpot `jobtitle` → Userflow attribute `job_title`;
//! - Userflow attribute `plan` → HubSpot property `userflow_user_plan`.
//!
//! Every failed step ends the run with the status and body the api answered.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::{Value, json};

use super::cluster::{self, Cluster};
use super::progress;

/// The HubSpot property written by the HubSpot → Userflow direction's source, and the
/// Userflow attribute it lands in.
pub const HS_SOURCE_PROPERTY: &str = "jobtitle";
pub const UF_TARGET_ATTRIBUTE: &str = "job_title";
/// The Userflow attribute written by the Userflow → HubSpot direction's source, and the
/// HubSpot property it lands in.
pub const UF_SOURCE_ATTRIBUTE: &str = "plan";
pub const HS_TARGET_PROPERTY: &str = "userflow_user_plan";
/// The Userflow webhook secret given to the integration (a subscription the integration
/// creates itself wins; see [`userflow_secret`]).
pub const UF_WEBHOOK_SECRET: &str = "bench-userflow-webhook-secret";

/// The connected integration.
#[derive(Debug, Clone)]
pub struct Integration {
    pub id: String,
}

pub async fn connect(c: &Cluster, notes: &mut Vec<String>) -> anyhow::Result<Integration> {
    let (s, created) = c
        .op(
            Method::POST,
            "/integrations",
            Some(json!({ "name": "bench e2e" })),
        )
        .await?;
    expect(s, 201, "POST /api/v1/integrations", &created)?;
    let id = created["id"]
        .as_str()
        .context("the created integration has no id")?
        .to_owned();

    let (s, body) = c
        .op(
            Method::PUT,
            &format!("/integrations/{id}/userflow"),
            Some(json!({
                "api_key": cluster::UF_KEY,
                "environment": cluster::UF_ENV,
                "webhook_secret": UF_WEBHOOK_SECRET,
            })),
        )
        .await?;
    expect(s, 200, "PUT /api/v1/integrations/{id}/userflow", &body)?;

    let (s, auth) = c
        .op(
            Method::POST,
            &format!("/integrations/{id}/hubspot/authorize"),
            Some(json!({})),
        )
        .await?;
    expect(
        s,
        200,
        "POST /api/v1/integrations/{id}/hubspot/authorize",
        &auth,
    )?;
    let url = auth["authorize_url"]
        .as_str()
        .with_context(|| format!("the authorize answer has no authorize_url: {auth}"))?;
    // The simulator approves at once and redirects to our callback; reqwest follows.
    let (s, body) = cluster::send(c.http.get(url))
        .await
        .context("following the HubSpot authorize URL to the callback")?;
    if !(200..400).contains(&s) {
        bail!("GET /oauth/hubspot/callback (via the simulator's redirect) answered {s}: {body}");
    }
    wait_connected(c, &id).await?;

    let mapping = mapping_body();
    let (s, body) = c
        .op(
            Method::POST,
            &format!("/integrations/{id}/mappings"),
            Some(mapping.clone()),
        )
        .await?;
    if !(200..300).contains(&s) {
        bail!("POST /api/v1/integrations/{id}/mappings answered {s}: {body}\nrequest: {mapping}");
    }
    wait_property(c, notes).await?;
    Ok(Integration { id })
}

/// The mapping: contacts ↔ users by email, one field each way.
pub fn mapping_body() -> Value {
    json!({
        "hubspot_object_type": "contacts",
        "userflow_object_type": "user",
        "match": { "hubspot_property": "email", "userflow_attribute": "email" },
        "fields_to_userflow": [
            { "hubspot": HS_SOURCE_PROPERTY, "userflow": UF_TARGET_ATTRIBUTE },
        ],
        "fields_to_hubspot": [
            { "userflow": UF_SOURCE_ATTRIBUTE, "type": "string" },
        ],
    })
}

fn expect(status: u16, want: u16, what: &str, body: &Value) -> anyhow::Result<()> {
    if status != want {
        bail!("{what} answered {status} (expected {want}): {body}");
    }
    Ok(())
}

async fn wait_connected(c: &Cluster, id: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (s, st) = c
            .op(Method::GET, &format!("/integrations/{id}/status"), None)
            .await?;
        if s == 200 && st["status"] == "connected" {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("the integration is not connected 20 s after the OAuth callback: {s} {st}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until HubSpot has the property the Userflow → HubSpot direction writes (the
/// integration's schema setup creates it). When it never appears, the benchmark creates it
/// and says so in its notes, so the latency of the sync itself can still be measured.
async fn wait_property(c: &Cluster, notes: &mut Vec<String>) -> anyhow::Result<()> {
    let url = format!(
        "{}/crm/v3/properties/contacts/{HS_TARGET_PROPERTY}",
        c.hubspot
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (s, _) = cluster::send(c.http.get(&url).bearer_auth(cluster::PORTAL_TOKEN)).await?;
        if s == 200 {
            return Ok(());
        }
        if Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let note = format!(
        "the schema setup did not create the HubSpot property {HS_TARGET_PROPERTY} within 30 s; the benchmark created it"
    );
    progress(&format!("note: {note}"));
    notes.push(note);
    let (s, body) = cluster::send(
        c.http
            .post(format!("{}/crm/v3/properties/contacts", c.hubspot))
            .bearer_auth(cluster::PORTAL_TOKEN)
            .json(&json!({
                "name": HS_TARGET_PROPERTY,
                "label": "Userflow user plan",
                "type": "string",
                "fieldType": "text",
                "groupName": "contactinformation",
            })),
    )
    .await?;
    if !(200..300).contains(&s) && s != 409 {
        bail!("creating the HubSpot property {HS_TARGET_PROPERTY} answered {s}: {body}");
    }
    Ok(())
}

/// The secret that signs Userflow notifications for `integration`: the one of the Userflow
/// subscription pointing at our webhook route (the integration registers it when Userflow is
/// connected; the simulator runs with `secret_on_get` so a read shows it), else the secret
/// the benchmark gave the integration.
pub async fn userflow_secret(c: &Cluster, integration: &str) -> anyhow::Result<String> {
    let (s, list) = cluster::send(
        c.http
            .get(format!("{}/webhook_subscriptions?limit=100", c.userflow))
            .bearer_auth(cluster::UF_KEY)
            .header("userflow-version", "2020-01-03"),
    )
    .await?;
    if s != 200 {
        bail!("GET /webhook_subscriptions of the Userflow simulator answered {s}: {list}");
    }
    let route = format!("/webhooks/userflow/{integration}");
    let found = list["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|sub| sub["disabled"] != true)
        .find(|sub| sub["url"].as_str().is_some_and(|u| u.ends_with(&route)))
        .and_then(|sub| sub["secret"].as_str())
        .map(str::to_owned);
    Ok(found.unwrap_or_else(|| UF_WEBHOOK_SECRET.to_owned()))
}
