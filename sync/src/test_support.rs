//! For tests that run hubsync against the in-process simulators (`test-support` feature):
//! settings with the simulators' built-in app credentials, tokens minted by the HubSpot
//! simulator, and a connected integration that holds them sealed.

use chrono::Utc;
use hubsync_core::secrets::SecretBox;
use hubsync_entities::{IntegrationStatus, integrations};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};
use serde_json::Value;

use crate::{HubspotApp, Settings};

/// The HubSpot simulator's default portal.
pub const PORTAL: i64 = 62515;
/// The Userflow simulator's demo environment and its API key.
pub const USERFLOW_ENVIRONMENT: &str = "env_demo";
pub const USERFLOW_KEY: &str = "ak_sim_demo";

/// Settings for the simulators at `hubspot_base` and `userflow_base`, with the HubSpot
/// simulator's app id, OAuth client and developer key.
pub fn sim_settings(hubspot_base: &str, userflow_base: &str) -> Settings {
    Settings {
        hubspot: HubspotApp {
            app_id: Some(54321),
            client_id: Some("sim-client-id".into()),
            client_secret: Some("sim-client-secret".into()),
            developer_api_key: Some("sim-dev-key".into()),
            api_base: hubspot_base.to_owned(),
            authorize_url: format!("{hubspot_base}/oauth/authorize"),
            ..Default::default()
        },
        userflow_api_base: userflow_base.to_owned(),
        ..Default::default()
    }
}

/// An OAuth token pair.
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
}

/// A token pair from the HubSpot simulator's token control route; `body` as that route
/// takes it (`{}` for the default portal, or `{"portal_id": …}`).
pub async fn mint_tokens(hubspot_base: &str, body: &Value) -> Tokens {
    let minted: Value = reqwest::Client::new()
        .post(format!("{hubspot_base}/_sim/hubspot/oauth/tokens"))
        .json(body)
        .send()
        .await
        .expect("token control route")
        .json()
        .await
        .expect("minted tokens");
    let token = |name: &str| minted[name].as_str().expect("token").to_owned();
    Tokens {
        access_token: token("access_token"),
        refresh_token: token("refresh_token"),
    }
}

/// Inserts integration `name`, connected: [`PORTAL`] paired with [`USERFLOW_ENVIRONMENT`],
/// `tokens` (valid for 30 minutes) and [`USERFLOW_KEY`] sealed with `secrets`.
pub async fn connected_integration(
    db: &impl ConnectionTrait,
    secrets: &SecretBox,
    name: &str,
    tokens: &Tokens,
) -> integrations::Model {
    let seal = |s: &str| Some(secrets.seal(s).expect("seal"));
    integrations::ActiveModel {
        name: Set(name.into()),
        hubspot_portal_id: Set(Some(PORTAL)),
        userflow_environment: Set(Some(USERFLOW_ENVIRONMENT.into())),
        userflow_api_key_enc: Set(seal(USERFLOW_KEY)),
        status: Set(IntegrationStatus::Connected),
        hubspot_access_token_enc: Set(seal(&tokens.access_token)),
        hubspot_refresh_token_enc: Set(seal(&tokens.refresh_token)),
        hubspot_token_expires_at: Set(Some(Utc::now() + chrono::Duration::minutes(30))),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("integration")
}
