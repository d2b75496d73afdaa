//! `full_sync_runs`: a full (re)sync of an integration, split into shards.

use sea_orm::entity::prelude::*;

use crate::{FullSyncStatus, FullSyncTrigger};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "full_sync_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub integration_id: Uuid,
    pub trigger: FullSyncTrigger,
    pub status: FullSyncStatus,
    pub shard_count: i32,
    pub total_estimated: Option<i64>,
    /// Defaults to 0.
    pub processed: i64,
    /// Defaults to 0.
    pub failed: i64,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "integration_id", to = "id", on_delete = "Cascade")]
    pub integration: BelongsTo<super::integrations::Entity>,
    #[sea_orm(has_many)]
    pub shards: HasMany<super::full_sync_shards::Entity>,
}

crate::active_model_behavior!(uuid_id, created_at, updated_at);
