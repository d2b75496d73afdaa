//! Errors of acting for an integration.

use uuid::Uuid;

/// Why hubsync could not act for an integration.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("integration {0} not found")]
    IntegrationNotFound(Uuid),
    /// The integration lacks something it needs (a token, an API key, a setting).
    #[error("integration {integration} is not ready: {reason}")]
    NotReady { integration: Uuid, reason: String },
    /// HubSpot refused the integration's authorization (`invalid_grant`, app uninstalled):
    /// an operator must reconnect.
    #[error("HubSpot authorization of integration {integration} expired: {reason}")]
    AuthorizationExpired { integration: Uuid, reason: String },
    #[error("cluster setting missing: {0}")]
    Settings(String),
    #[error("stored secret could not be opened: {0}")]
    Secret(#[from] hubsync_core::secrets::SecretError),
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Redis(#[from] redis::RedisError),
    #[error(transparent)]
    Hubspot(#[from] hubsync_hubspot::Error),
    #[error(transparent)]
    Userflow(#[from] hubsync_userflow::Error),
}

pub type Result<T, E = SyncError> = std::result::Result<T, E>;
