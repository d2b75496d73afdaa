//! `full_sync_shards`: one shard of a full sync run, with its resume cursor
//! and progress. Unique per (run, shard index).

use sea_orm::entity::prelude::*;

use crate::FullSyncStatus;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "full_sync_shards")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique_key = "run_shard_index")]
    pub run_id: Uuid,
    #[sea_orm(unique_key = "run_shard_index")]
    pub shard_index: i32,
    /// Opaque resume position in the source listing; `None` before the
    /// first page.
    #[sea_orm(column_type = "Text", nullable)]
    pub cursor: Option<String>,
    pub status: FullSyncStatus,
    /// Defaults to 0.
    pub processed: i64,
    /// Defaults to 0.
    pub failed: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "run_id", to = "id", on_delete = "Cascade")]
    pub run: BelongsTo<super::full_sync_runs::Entity>,
}

crate::active_model_behavior!(uuid_id, created_at, updated_at);
