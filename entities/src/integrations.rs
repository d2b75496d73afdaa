//! `integrations`: one Userflow environment paired with one HubSpot portal.
//!
//! Secrets are stored encrypted (`*_enc` columns); this crate never sees the
//! plaintext. A portal may appear in more than one row: refusing to pair it
//! twice (unless forced) is up to the application.

use sea_orm::entity::prelude::*;

use crate::setup_status::SetupStatus;
use crate::{IntegrationStatus, StringList};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "integrations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// HubSpot portal (hub) id, once HubSpot is authorized.
    #[sea_orm(indexed)]
    pub hubspot_portal_id: Option<i64>,
    /// Userflow environment id/key name.
    #[sea_orm(indexed)]
    pub userflow_environment: Option<String>,
    pub status: IntegrationStatus,
    /// Human-readable detail for `status` (e.g. why authorization expired).
    #[sea_orm(column_type = "Text", nullable)]
    pub status_reason: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub hubspot_access_token_enc: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub hubspot_refresh_token_enc: Option<String>,
    pub hubspot_token_expires_at: Option<DateTimeUtc>,
    /// OAuth scopes granted by HubSpot.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub hubspot_scopes: Option<StringList>,
    #[sea_orm(column_type = "Text", nullable)]
    pub userflow_api_key_enc: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub userflow_webhook_secret_enc: Option<String>,
    pub userflow_webhook_subscription_id: Option<String>,
    /// What the last schema setup and webhook reconciliation did (null before the first).
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub setup_status: Option<SetupStatus>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    #[sea_orm(has_many)]
    pub object_mappings: HasMany<super::object_mappings::Entity>,
    #[sea_orm(has_many)]
    pub sync_log: HasMany<super::sync_log::Entity>,
    #[sea_orm(has_many)]
    pub full_sync_runs: HasMany<super::full_sync_runs::Entity>,
}

crate::active_model_behavior!(uuid_id, created_at, updated_at);
