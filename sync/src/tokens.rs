//! HubSpot OAuth access tokens that stay fresh across every replica.
//!
//! A stored access token is used until five minutes before it expires. Then one replica
//! refreshes it under a Redis lock per integration (`SET NX PX`, released with a
//! compare-and-delete) and writes the new sealed tokens; every other caller polls the database
//! for the new token instead of refreshing too, so a burst of jobs costs HubSpot one refresh.
//! A 401 takes the same path ([`refresh_after_unauthorized`]) unless another replica already
//! replaced the rejected token.
//!
//! HubSpot refusing the refresh token (`invalid_grant`: revoked, app uninstalled) marks the
//! integration `authorization_expired` with the reason and answers
//! [`SyncError::AuthorizationExpired`]; jobs then wait for an operator to reconnect.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hubsync_entities::IntegrationStatus;
use hubsync_entities::integrations::{ActiveModel, Column, Entity as Integrations, Model};
use hubsync_hubspot::models::oauth::TokenResponse;
use hubsync_hubspot::requests::oauth::RefreshToken;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::context::{SyncContext, Tenant};
use crate::error::{Result, SyncError};
use crate::lock::RedisLock;

/// A token is refreshed this long before it expires.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
/// How long the refresh lock lives if its holder dies; longer than a refresh can take
/// (token requests time out after [`TOKEN_REQUEST_TIMEOUT`], retried at most twice).
const LOCK_TTL: Duration = Duration::from_secs(40);
/// How long a caller waits for another replica's refresh before giving up.
const WAIT_FOR_REFRESH: Duration = Duration::from_secs(10);
/// How often a waiting caller looks at the database (and retries the lock).
const POLL: Duration = Duration::from_millis(100);
/// Timeout of one token-endpoint request.
pub(crate) const TOKEN_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The access token to call HubSpot with for `tenant`, refreshed first when it expires
/// within [`REFRESH_MARGIN`] (once across replicas).
pub async fn access_token(tenant: &Tenant) -> Result<String> {
    let deadline = Utc::now() + chrono::Duration::from_std(REFRESH_MARGIN).unwrap_or_default();
    fresh_token(tenant, &Need::ValidBeyond(deadline)).await
}

/// After HubSpot answered 401 to `rejected`: a new access token, refreshed once across
/// replicas unless another one already replaced `rejected`.
pub async fn refresh_after_unauthorized(tenant: &Tenant, rejected: &str) -> Result<String> {
    fresh_token(tenant, &Need::Replaces(rejected.to_owned())).await
}

/// What makes the stored token good enough.
enum Need {
    /// It expires after this time.
    ValidBeyond(DateTime<Utc>),
    /// It is not this (rejected) token.
    Replaces(String),
}

/// What the stored row says about its token.
enum Stored {
    /// Good enough: use it.
    Usable(String),
    /// Needs a refresh; the token it would replace, for a caller that gives up waiting.
    Stale {
        current: String,
        expires_at: Option<DateTime<Utc>>,
    },
}

fn inspect(ctx: &SyncContext, m: &Model, need: &Need) -> Result<Stored> {
    match m.status {
        IntegrationStatus::AuthorizationExpired => {
            return Err(SyncError::AuthorizationExpired {
                integration: m.id,
                reason: m
                    .status_reason
                    .clone()
                    .unwrap_or_else(|| "reconnect HubSpot".into()),
            });
        }
        IntegrationStatus::Disconnected => {
            return Err(not_ready(m.id, "HubSpot was disconnected"));
        }
        IntegrationStatus::Pending | IntegrationStatus::Connected => {}
    }
    let (Some(access), Some(_)) = (
        m.hubspot_access_token_enc.as_deref(),
        m.hubspot_refresh_token_enc.as_deref(),
    ) else {
        return Err(not_ready(m.id, "HubSpot is not connected"));
    };
    let current = ctx.secrets.open(access)?;
    let good = match need {
        Need::ValidBeyond(deadline) => m.hubspot_token_expires_at.is_some_and(|e| e > *deadline),
        Need::Replaces(rejected) => current != *rejected,
    };
    Ok(if good {
        Stored::Usable(current)
    } else {
        Stored::Stale {
            current,
            expires_at: m.hubspot_token_expires_at,
        }
    })
}

fn not_ready(integration: Uuid, reason: &str) -> SyncError {
    SyncError::NotReady {
        integration,
        reason: reason.to_owned(),
    }
}

async fn load(ctx: &SyncContext, id: Uuid) -> Result<Model> {
    Integrations::find_by_id(id)
        .one(&ctx.db)
        .await?
        .ok_or(SyncError::IntegrationNotFound(id))
}

/// The stored token if `need` holds, else a refresh by whoever holds the lock.
#[tracing::instrument(skip_all, fields(integration_id = %tenant.id()))]
async fn fresh_token(tenant: &Tenant, need: &Need) -> Result<String> {
    let ctx = &tenant.ctx;
    // The tenant's snapshot answers the common case without a query.
    if let Stored::Usable(token) = inspect(ctx, &tenant.integration, need)? {
        return Ok(token);
    }
    let lock = refresh_lock(ctx, tenant.id());
    let started = tokio::time::Instant::now();
    loop {
        let row = load(ctx, tenant.id()).await?;
        let (current, expires_at) = match inspect(ctx, &row, need)? {
            Stored::Usable(token) => return Ok(token),
            Stored::Stale {
                current,
                expires_at,
            } => (current, expires_at),
        };
        if lock.acquire().await? {
            let outcome = refresh_holding_lock(ctx, tenant.id(), need).await;
            lock.release().await;
            return outcome;
        }
        if started.elapsed() >= WAIT_FOR_REFRESH {
            // Another replica holds the lock for long: a token that has not expired yet
            // still works; otherwise let the job come back shortly.
            if matches!(need, Need::ValidBeyond(_)) && expires_at.is_some_and(|e| e > Utc::now()) {
                tracing::warn!("token refresh by another replica is slow; using the current token");
                return Ok(current);
            }
            return Err(SyncError::Redis(redis::RedisError::from((
                redis::ErrorKind::Client,
                "HubSpot token refresh lock",
                format!(
                    "another replica has held the refresh lock of integration {} for more than \
                     {} s",
                    tenant.id(),
                    WAIT_FOR_REFRESH.as_secs()
                ),
            ))));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Refreshes unless the holder before us already did (checked again under the lock).
async fn refresh_holding_lock(ctx: &SyncContext, id: Uuid, need: &Need) -> Result<String> {
    let row = load(ctx, id).await?;
    if let Stored::Usable(token) = inspect(ctx, &row, need)? {
        return Ok(token);
    }
    let sealed_refresh = row
        .hubspot_refresh_token_enc
        .clone()
        .ok_or_else(|| not_ready(id, "HubSpot is not connected"))?;
    let refresh_token = ctx.secrets.open(&sealed_refresh)?;
    let (client_id, client_secret) = app_credentials(ctx)?;
    let client = oauth_client(ctx)?;
    let answer = RefreshToken {
        client_id,
        client_secret,
        refresh_token,
    }
    .send(&client)
    .await;
    match answer {
        Ok(tokens) => {
            tracing::info!(
                expires_in = tokens.expires_in,
                "HubSpot access token refreshed"
            );
            let access = tokens.access_token.clone();
            let stored = store_refreshed(ctx, id, &sealed_refresh, tokens).await?;
            if !stored {
                // Disconnected or reconnected meanwhile: whatever is stored now wins.
                tracing::info!("integration changed during the refresh; the new token is dropped");
                let row = load(ctx, id).await?;
                return match inspect(ctx, &row, need)? {
                    Stored::Usable(token) => Ok(token),
                    Stored::Stale { current, .. } => Ok(current),
                };
            }
            Ok(access)
        }
        Err(hubsync_hubspot::Error::InvalidGrant { description }) => {
            let reason = format!(
                "HubSpot refused the refresh token: {description}; reconnect HubSpot \
                 (POST /api/v1/integrations/{id}/hubspot/authorize and approve the app again)"
            );
            tracing::warn!(%reason, "HubSpot authorization expired");
            mark_expired(ctx, id, &sealed_refresh, &reason).await?;
            Err(SyncError::AuthorizationExpired {
                integration: id,
                reason,
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// The app's OAuth client id and secret, or which flag is missing.
pub(crate) fn app_credentials(ctx: &SyncContext) -> Result<(String, String)> {
    let app = &ctx.settings.hubspot;
    let id = app.client_id.clone().ok_or_else(|| {
        SyncError::Settings("--hubspot-client-id (HUBSYNC_HUBSPOT_CLIENT_ID) is not set".into())
    })?;
    let secret = app.client_secret.clone().ok_or_else(|| {
        SyncError::Settings(
            "--hubspot-client-secret (HUBSYNC_HUBSPOT_CLIENT_SECRET) is not set".into(),
        )
    })?;
    Ok((id, secret))
}

/// A client for the OAuth endpoints (no bearer token).
pub(crate) fn oauth_client(ctx: &SyncContext) -> Result<hubsync_hubspot::Client> {
    Ok(hubsync_hubspot::Client::builder()
        .base_url(ctx.settings.hubspot.api_base.clone())
        .timeout(TOKEN_REQUEST_TIMEOUT)
        .build()?)
}

/// When a token answered now expires.
pub(crate) fn expiry_of(tokens: &TokenResponse) -> DateTime<Utc> {
    let secs = i64::try_from(tokens.expires_in).unwrap_or(i64::MAX / 2_000);
    hubsync_entities::now() + chrono::Duration::seconds(secs)
}

/// Writes refreshed tokens if the row still holds the refresh token we used (not
/// disconnected or reconnected meanwhile). False if it did not.
async fn store_refreshed(
    ctx: &SyncContext,
    id: Uuid,
    used_refresh_sealed: &str,
    tokens: TokenResponse,
) -> Result<bool> {
    let mut am = ActiveModel {
        hubspot_access_token_enc: Set(Some(ctx.secrets.seal(&tokens.access_token)?)),
        hubspot_token_expires_at: Set(Some(expiry_of(&tokens))),
        updated_at: Set(hubsync_entities::now()),
        ..Default::default()
    };
    // The same refresh token comes back unless HubSpot rotates it.
    if let Ok(old) = ctx.secrets.open(used_refresh_sealed)
        && old != tokens.refresh_token
    {
        am.hubspot_refresh_token_enc = Set(Some(ctx.secrets.seal(&tokens.refresh_token)?));
    }
    if let Some(scopes) = tokens.scopes {
        am.hubspot_scopes = Set(Some(scopes.into()));
    }
    let res = Integrations::update_many()
        .set(am)
        .filter(Column::Id.eq(id))
        .filter(Column::HubspotRefreshTokenEnc.eq(used_refresh_sealed))
        .filter(Column::Status.ne(IntegrationStatus::Disconnected))
        .exec(&ctx.db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Marks the integration `authorization_expired` unless it was reconnected meanwhile.
async fn mark_expired(
    ctx: &SyncContext,
    id: Uuid,
    used_refresh_sealed: &str,
    reason: &str,
) -> Result<()> {
    let am = ActiveModel {
        status: Set(IntegrationStatus::AuthorizationExpired),
        status_reason: Set(Some(reason.to_owned())),
        updated_at: Set(hubsync_entities::now()),
        ..Default::default()
    };
    Integrations::update_many()
        .set(am)
        .filter(Column::Id.eq(id))
        .filter(Column::HubspotRefreshTokenEnc.eq(used_refresh_sealed))
        .filter(Column::Status.ne(IntegrationStatus::Disconnected))
        .exec(&ctx.db)
        .await?;
    Ok(())
}

/// The per-integration refresh lock.
fn refresh_lock(ctx: &SyncContext, id: Uuid) -> RedisLock {
    RedisLock::new(
        ctx.redis.clone(),
        refresh_lock_key(&ctx.redis_prefix, id),
        LOCK_TTL,
    )
}

/// `{<prefix>:oauth}:refresh-lock:<integration>`.
fn refresh_lock_key(prefix: &str, id: Uuid) -> String {
    format!("{{{prefix}:oauth}}:refresh-lock:{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_key_is_under_the_cluster_prefix() {
        let id = Uuid::nil();
        assert_eq!(
            refresh_lock_key("hubsync", id),
            "{hubsync:oauth}:refresh-lock:00000000-0000-0000-0000-000000000000"
        );
    }
}
