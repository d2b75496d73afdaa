//! Connecting an integration to both systems and disconnecting it again.
//!
//! HubSpot: [`start_authorize`] builds the app's authorize URL with a random, single-use
//! `state` kept in Redis for ten minutes; the callback takes it back ([`take_state`]),
//! [`exchange_code`] trades the code for tokens and learns the portal, [`store_grant`] seals
//! them. [`disconnect_hubspot`] revokes the refresh token and clears what was stored.
//!
//! Userflow: [`register_userflow_webhook`] creates (or updates, never duplicates) hubsync's
//! webhook subscription in the environment and hands back the signing secret to store.
//!
//! The status rule lives here too ([`ready_status`]): an integration is `connected` once both
//! sides hold credentials, `pending` before; `authorization_expired` and `disconnected` are
//! left only by connecting HubSpot again.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hubsync_entities::IntegrationStatus;
use hubsync_entities::integrations::{ActiveModel, Model};
use hubsync_hubspot::requests::oauth::{ExchangeCode, IntrospectAccessToken, RevokeRefreshToken};
use hubsync_userflow::Request as _;
use hubsync_userflow::requests::webhook_subscriptions as subs;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use uuid::Uuid;

use crate::context::SyncContext;
use crate::error::SyncError;
use crate::tokens::{app_credentials, expiry_of, oauth_client};

/// Where HubSpot sends the operator back after approving the app (under the public URL).
pub const CALLBACK_PATH: &str = "/oauth/hubspot/callback";
/// How long an authorize link (its `state`) stays usable.
pub const STATE_TTL: Duration = Duration::from_secs(10 * 60);
/// Userflow topics hubsync subscribes to: users, groups and every tracked event.
pub const USERFLOW_TOPICS: &[&str] = &["user", "group", "event"];

/// Why connecting failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The other system refused what the operator brought (an authorization code, an API
    /// key): the operator must start again or fix the input.
    #[error("{0}")]
    Refused(String),
    /// Anything else (settings, transport, storage).
    #[error(transparent)]
    Sync(#[from] SyncError),
}

impl From<sea_orm::DbErr> for ConnectError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Sync(e.into())
    }
}

/// The cluster settings the OAuth flow needs, each named as its flag when missing.
pub fn missing_oauth_settings(ctx: &SyncContext) -> Vec<&'static str> {
    let s = &ctx.settings;
    let mut missing = Vec::new();
    if s.hubspot.client_id.is_none() {
        missing.push("--hubspot-client-id (HUBSYNC_HUBSPOT_CLIENT_ID)");
    }
    if s.hubspot.client_secret.is_none() {
        missing.push("--hubspot-client-secret (HUBSYNC_HUBSPOT_CLIENT_SECRET)");
    }
    if s.public_url.is_none() {
        missing.push("--public-url (HUBSYNC_PUBLIC_URL)");
    }
    missing
}

/// An authorize link for an operator.
#[derive(Debug, Clone)]
pub struct AuthorizeStart {
    pub authorize_url: String,
    pub state: String,
    pub expires_at: DateTime<Utc>,
}

/// What a `state` stands for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingAuthorization {
    pub integration: Uuid,
    /// Pair the portal even if another integration pairs it with another environment.
    pub force: bool,
}

/// A fresh `state` for `integration` (stored for [`STATE_TTL`]) and the URL to send the
/// operator to.
pub async fn start_authorize(
    ctx: &SyncContext,
    integration: Uuid,
    force: bool,
) -> Result<AuthorizeStart, SyncError> {
    let missing = missing_oauth_settings(ctx);
    if !missing.is_empty() {
        return Err(SyncError::Settings(format!(
            "HubSpot OAuth needs {}",
            missing.join(", ")
        )));
    }
    let (client_id, _) = app_credentials(ctx)?;
    let redirect_uri = ctx.settings.public(CALLBACK_PATH)?;
    // Two v4 UUIDs: 244 random bits from the OS generator.
    let state = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    let pending = serde_json::to_string(&PendingAuthorization { integration, force })
        .map_err(|e| SyncError::Settings(format!("could not encode the OAuth state: {e}")))?;
    let mut conn = ctx.redis.clone();
    let ttl_ms = u64::try_from(STATE_TTL.as_millis()).unwrap_or(u64::MAX);
    let _: () = redis::cmd("SET")
        .arg(state_key(&ctx.redis_prefix, &state))
        .arg(pending)
        .arg("PX")
        .arg(ttl_ms)
        .query_async(&mut conn)
        .await?;
    let scopes = if ctx.settings.hubspot.scopes.is_empty() {
        crate::DEFAULT_SCOPES.join(" ")
    } else {
        ctx.settings.hubspot.scopes.join(" ")
    };
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", &client_id)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("scope", &scopes)
        .append_pair("state", &state)
        .finish();
    let base = &ctx.settings.hubspot.authorize_url;
    let sep = if base.contains('?') { '&' } else { '?' };
    Ok(AuthorizeStart {
        authorize_url: format!("{base}{sep}{query}"),
        state,
        expires_at: Utc::now() + chrono::Duration::from_std(STATE_TTL).unwrap_or_default(),
    })
}

/// Takes `state` back once: `None` if it is unknown, expired or already used.
pub async fn take_state(
    ctx: &SyncContext,
    state: &str,
) -> Result<Option<PendingAuthorization>, SyncError> {
    if state.is_empty() || state.len() > 128 {
        return Ok(None);
    }
    let mut conn = ctx.redis.clone();
    let raw: Option<String> = redis::cmd("GETDEL")
        .arg(state_key(&ctx.redis_prefix, state))
        .query_async(&mut conn)
        .await?;
    Ok(raw.and_then(|r| serde_json::from_str(&r).ok()))
}

/// `{<prefix>:oauth}:state:<state>`.
fn state_key(prefix: &str, state: &str) -> String {
    format!("{{{prefix}:oauth}}:state:{state}")
}

/// Tokens HubSpot granted, and for which portal.
#[derive(Clone)]
pub struct Grant {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_at: DateTime<Utc>,
    pub scopes: Vec<String>,
    pub portal_id: i64,
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grant")
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .field("portal_id", &self.portal_id)
            .finish_non_exhaustive()
    }
}

/// Trades an authorization code for tokens and learns the portal (`hub_id` of the answer,
/// else token introspection).
pub async fn exchange_code(ctx: &SyncContext, code: &str) -> Result<Grant, ConnectError> {
    let (client_id, client_secret) = app_credentials(ctx)?;
    let redirect_uri = ctx.settings.public(CALLBACK_PATH)?;
    let client = oauth_client(ctx)?;
    let tokens = ExchangeCode {
        client_id,
        client_secret,
        redirect_uri,
        code: code.to_owned(),
    }
    .send(&client)
    .await
    .map_err(refused_by_hubspot)?;
    let expires_at = expiry_of(&tokens);
    let (portal, scopes) = match (tokens.hub_id, tokens.scopes.clone()) {
        (Some(hub), Some(scopes)) => (hub, scopes),
        (hub, scopes) => {
            let info = IntrospectAccessToken {
                token: tokens.access_token.clone(),
            }
            .send(&client)
            .await
            .map_err(|e| ConnectError::Sync(e.into()))?;
            (hub.unwrap_or(info.hub_id), scopes.unwrap_or(info.scopes))
        }
    };
    let portal_id = i64::try_from(portal)
        .map_err(|_| ConnectError::Refused(format!("HubSpot answered portal id {portal}")))?;
    Ok(Grant {
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        expires_at,
        scopes,
        portal_id,
    })
}

fn refused_by_hubspot(e: hubsync_hubspot::Error) -> ConnectError {
    match e {
        hubsync_hubspot::Error::InvalidGrant { description } => ConnectError::Refused(format!(
            "HubSpot refused the authorization code ({description}); codes are single-use and \
             short-lived: start again with POST /api/v1/integrations/{{id}}/hubspot/authorize"
        )),
        hubsync_hubspot::Error::OAuth {
            error, description, ..
        } => ConnectError::Refused(format!(
            "HubSpot refused the code exchange: {error}: {description} (check \
             --hubspot-client-id and --hubspot-client-secret)"
        )),
        other => ConnectError::Sync(other.into()),
    }
}

/// Revokes a refresh token we will not keep (best effort).
pub async fn revoke_unused(ctx: &SyncContext, grant: &Grant) {
    if let Err(e) = revoke(ctx, &grant.refresh_token).await {
        tracing::warn!(error = %e, "could not revoke an unused HubSpot refresh token");
    }
}

async fn revoke(ctx: &SyncContext, refresh_token: &str) -> Result<(), SyncError> {
    let client = oauth_client(ctx)?;
    RevokeRefreshToken {
        token: refresh_token.to_owned(),
    }
    .send(&client)
    .await?;
    Ok(())
}

/// `connected` once both sides hold credentials, else `pending`.
pub fn ready_status(m: &Model) -> IntegrationStatus {
    let hubspot = m.hubspot_portal_id.is_some() && m.hubspot_refresh_token_enc.is_some();
    let userflow = m.userflow_environment.is_some() && m.userflow_api_key_enc.is_some();
    if hubspot && userflow {
        IntegrationStatus::Connected
    } else {
        IntegrationStatus::Pending
    }
}

/// Stores `grant` sealed on `model` (portal, tokens, expiry, scopes); the status follows
/// [`ready_status`] and any earlier reason is cleared.
pub async fn store_grant(
    ctx: &SyncContext,
    model: Model,
    grant: Grant,
) -> Result<Model, SyncError> {
    let mut am: ActiveModel = model.into();
    am.hubspot_portal_id = Set(Some(grant.portal_id));
    am.hubspot_access_token_enc = Set(Some(ctx.secrets.seal(&grant.access_token)?));
    am.hubspot_refresh_token_enc = Set(Some(ctx.secrets.seal(&grant.refresh_token)?));
    am.hubspot_token_expires_at = Set(Some(grant.expires_at));
    am.hubspot_scopes = Set(Some(grant.scopes.into()));
    am.status_reason = Set(None);
    let model = am.update(&ctx.db).await?;
    let status = ready_status(&model);
    if model.status == status {
        return Ok(model);
    }
    let mut am: ActiveModel = model.into();
    am.status = Set(status);
    Ok(am.update(&ctx.db).await?)
}

/// What [`disconnect_hubspot`] did.
#[derive(Debug, Clone)]
pub struct Disconnected {
    pub integration: Model,
    /// Whether HubSpot revoked the refresh token.
    pub revoked: bool,
    /// Why revoking failed (the tokens are cleared anyway).
    pub revoke_error: Option<String>,
}

/// Revokes the stored refresh token at HubSpot (a failure is reported, not fatal), clears the
/// stored tokens and marks the integration `disconnected`. The portal id stays: reconnecting
/// must bring the same portal back.
pub async fn disconnect_hubspot(
    ctx: &SyncContext,
    model: Model,
) -> Result<Disconnected, SyncError> {
    let (revoked, revoke_error) = match model.hubspot_refresh_token_enc.as_deref() {
        None => (false, Some("no refresh token was stored".to_owned())),
        Some(sealed) => match ctx.secrets.open(sealed) {
            Err(e) => (
                false,
                Some(format!("the stored token could not be opened: {e}")),
            ),
            Ok(token) => match revoke(ctx, &token).await {
                Ok(()) => (true, None),
                // Already gone at HubSpot (revoked, app uninstalled): nothing left to revoke.
                Err(SyncError::Hubspot(e)) if e.is_not_found() => (true, None),
                Err(e) => (false, Some(e.to_string())),
            },
        },
    };
    if let Some(e) = &revoke_error {
        tracing::warn!(integration_id = %model.id, error = %e, "HubSpot refresh token not revoked");
    }
    let mut am: ActiveModel = model.into();
    am.hubspot_access_token_enc = Set(None);
    am.hubspot_refresh_token_enc = Set(None);
    am.hubspot_token_expires_at = Set(None);
    am.hubspot_scopes = Set(None);
    am.status = Set(IntegrationStatus::Disconnected);
    am.status_reason = Set(Some(format!(
        "HubSpot was disconnected by an operator at {}; sync is stopped. Reconnect with \
         POST /api/v1/integrations/{{id}}/hubspot/authorize",
        Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
    )));
    let integration = am.update(&ctx.db).await?;
    // Streaming and sync stop at once: queued jobs already finish as no-ops, and a running
    // full sync stops at its next page instead of at the scheduler's next tick.
    crate::full_sync::cancel_active_runs(&ctx.db, integration.id, "HubSpot was disconnected")
        .await?;
    Ok(Disconnected {
        integration,
        revoked,
        revoke_error,
    })
}

/// hubsync's webhook subscription in a Userflow environment.
#[derive(Debug, Clone)]
pub struct Registration {
    pub subscription_id: String,
    /// The signing secret when Userflow handed out a new one (store it; it is not shown
    /// again). `None` when an existing subscription whose secret is stored was updated.
    pub secret: Option<String>,
    /// Whether a new subscription was created.
    pub created: bool,
    pub url: String,
}

/// The URL Userflow delivers an integration's notifications to.
pub fn userflow_webhook_url(ctx: &SyncContext, integration: Uuid) -> Result<String, SyncError> {
    ctx.settings
        .public(&format!("/webhooks/userflow/{integration}"))
}

/// Creates hubsync's subscription in the environment of `api_key`, or updates the one it
/// has (`existing`, or one already pointing at our URL) instead of adding a duplicate. The
/// first call validates the key: a refusal is [`ConnectError::Refused`].
pub async fn register_userflow_webhook(
    ctx: &SyncContext,
    integration: Uuid,
    api_key: &str,
    existing: Option<&str>,
    secret_stored: bool,
) -> Result<Registration, ConnectError> {
    let url = userflow_webhook_url(ctx, integration)?;
    let client = hubsync_userflow::Client::builder(api_key.to_owned())
        .base_url(ctx.settings.userflow_api_base.clone())
        .build()
        .map_err(|e| ConnectError::Sync(e.into()))?;
    let refused = |e: hubsync_userflow::Error| match e {
        hubsync_userflow::Error::Unauthorized { message } => {
            ConnectError::Refused(format!("Userflow refused the API key: {message}"))
        }
        other => ConnectError::Sync(other.into()),
    };

    if let Some(id) = existing {
        match update(id, &url).send(&client).await {
            Ok(sub) if secret_stored || sub.secret.is_some() => {
                return Ok(Registration {
                    subscription_id: sub.id.as_str().to_owned(),
                    secret: sub.secret,
                    created: false,
                    url,
                });
            }
            // Without its secret the subscription is useless to us: replace it.
            Ok(sub) => delete_quietly(&client, sub.id.as_str()).await,
            Err(hubsync_userflow::Error::NotFound { .. }) => {}
            Err(e) => return Err(refused(e)),
        }
    }

    // One pointing at our URL may be left from an attempt whose answer was lost.
    let list = subs::List::new()
        .limit(100)
        .send(&client)
        .await
        .map_err(refused)?;
    for sub in list.data.into_iter().filter(|s| s.url == url) {
        match sub.secret {
            Some(secret) => {
                let sub = update(sub.id.as_str(), &url)
                    .send(&client)
                    .await
                    .map_err(refused)?;
                return Ok(Registration {
                    subscription_id: sub.id.as_str().to_owned(),
                    secret: Some(secret),
                    created: false,
                    url,
                });
            }
            None => delete_quietly(&client, sub.id.as_str()).await,
        }
    }

    let sub = subs::Create::new(url.clone(), USERFLOW_TOPICS.iter().copied())
        .send(&client)
        .await
        .map_err(refused)?;
    let secret = sub.secret.ok_or_else(|| {
        ConnectError::Refused(
            "Userflow created the webhook subscription without a signing secret".into(),
        )
    })?;
    Ok(Registration {
        subscription_id: sub.id.as_str().to_owned(),
        secret: Some(secret),
        created: true,
        url,
    })
}

fn update(id: &str, url: &str) -> subs::Update {
    subs::Update::new(id.to_owned())
        .url(url)
        .topics(USERFLOW_TOPICS.iter().copied())
        .disabled(false)
}

async fn delete_quietly(client: &hubsync_userflow::Client, id: &str) {
    if let Err(e) = subs::Delete::new(id.to_owned()).send(client).await {
        tracing::warn!(subscription = id, error = %e, "could not delete a Userflow webhook subscription");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_key_is_under_the_cluster_prefix() {
        assert_eq!(state_key("hubsync", "abc"), "{hubsync:oauth}:state:abc");
    }
}
