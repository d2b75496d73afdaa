//! Loading an integration and building its clients.

use std::sync::Arc;

use hubsync_core::secrets::SecretBox;
use hubsync_entities::IntegrationStatus;
use hubsync_entities::integrations::{Entity as Integrations, Model as Integration};
use redis::aio::ConnectionManager;
use sea_orm::{DatabaseConnection, EntityTrait};
use uuid::Uuid;

use crate::error::{Result, SyncError};
use crate::ratelimit::HubspotLimiter;
use crate::settings::Settings;

/// What every api handler and job needs to act for any integration. Cheap to clone.
#[derive(Clone)]
pub struct SyncContext {
    pub db: DatabaseConnection,
    pub redis: ConnectionManager,
    /// Prefix of every Redis key of the cluster.
    pub redis_prefix: String,
    pub secrets: SecretBox,
    pub settings: Arc<Settings>,
    /// HubSpot budget shared by every replica.
    pub limiter: HubspotLimiter,
    /// Webhook routing of this process (api), kept until an operator change.
    pub routing: Arc<crate::routing::RoutingCache>,
}

impl std::fmt::Debug for SyncContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncContext")
            .field("redis_prefix", &self.redis_prefix)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl SyncContext {
    pub fn new(
        db: DatabaseConnection,
        redis: ConnectionManager,
        redis_prefix: impl Into<String>,
        secrets: SecretBox,
        settings: Settings,
    ) -> Self {
        let redis_prefix = redis_prefix.into();
        Self {
            limiter: HubspotLimiter::new(redis.clone(), redis_prefix.clone()),
            routing: Arc::default(),
            db,
            redis,
            redis_prefix,
            secrets,
            settings: Arc::new(settings),
        }
    }

    /// The integration `id` as stored now.
    pub async fn tenant(&self, id: Uuid) -> Result<Tenant> {
        let integration = Integrations::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(SyncError::IntegrationNotFound(id))?;
        Ok(self.tenant_of(integration))
    }

    /// The integration already read by the caller, ready to act for.
    pub fn tenant_of(&self, integration: Integration) -> Tenant {
        Tenant {
            ctx: self.clone(),
            integration,
        }
    }
}

/// One integration, loaded, with what it takes to act for it.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub ctx: SyncContext,
    pub integration: Integration,
}

impl Tenant {
    pub fn id(&self) -> Uuid {
        self.integration.id
    }

    /// Whether sync and streaming run: only a connected integration acts.
    pub fn is_active(&self) -> bool {
        self.integration.status == IntegrationStatus::Connected
    }

    fn not_ready(&self, reason: impl Into<String>) -> SyncError {
        SyncError::NotReady {
            integration: self.integration.id,
            reason: reason.into(),
        }
    }

    /// Opens a stored secret column.
    pub fn open(&self, sealed: Option<&str>, what: &str) -> Result<String> {
        let sealed = sealed.ok_or_else(|| self.not_ready(format!("no {what} stored")))?;
        Ok(self.ctx.secrets.open(sealed)?)
    }

    /// The HubSpot portal id, or why there is none.
    pub fn portal_id(&self) -> Result<u64> {
        self.integration
            .hubspot_portal_id
            .and_then(|p| u64::try_from(p).ok())
            .ok_or_else(|| self.not_ready("HubSpot is not connected"))
    }

    /// A HubSpot client with a fresh access token (refreshed first when it expires within
    /// five minutes, once across replicas: [`crate::tokens::access_token`]).
    pub async fn hubspot(&self) -> Result<hubsync_hubspot::Client> {
        let token = self.hubspot_token().await?;
        self.hubspot_with_token(token)
    }

    /// The access token [`Tenant::hubspot`] uses; keep it to pass to
    /// [`Tenant::refresh_hubspot`] after a 401.
    pub async fn hubspot_token(&self) -> Result<String> {
        crate::tokens::access_token(self).await
    }

    /// After HubSpot answered 401 to `rejected`: a new token, refreshed once across replicas
    /// unless another one already replaced it ([`crate::tokens::refresh_after_unauthorized`]).
    pub async fn refresh_hubspot(&self, rejected: &str) -> Result<String> {
        crate::tokens::refresh_after_unauthorized(self, rejected).await
    }

    /// A HubSpot client for `token` against the cluster's API base.
    pub fn hubspot_with_token(&self, token: String) -> Result<hubsync_hubspot::Client> {
        Ok(hubsync_hubspot::Client::builder()
            .base_url(self.ctx.settings.hubspot.api_base.clone())
            .access_token(token)
            .build()?)
    }

    /// A Userflow client with the integration's API key.
    pub fn userflow(&self) -> Result<hubsync_userflow::Client> {
        let key = self.open(
            self.integration.userflow_api_key_enc.as_deref(),
            "Userflow API key",
        )?;
        Ok(hubsync_userflow::Client::builder(key)
            .base_url(self.ctx.settings.userflow_api_base.clone())
            .build()?)
    }
}
