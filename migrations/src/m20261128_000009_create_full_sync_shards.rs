//! `full_sync_shards`: one shard of a full sync run, with its resume cursor
//! and progress.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{created_at, foreign_key, updated_at};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(FullSyncShards::Table)
                    .col(pk_uuid(FullSyncShards::Id))
                    .col(uuid(FullSyncShards::RunId))
                    .col(integer(FullSyncShards::ShardIndex))
                    .col(text_null(FullSyncShards::Cursor))
                    .col(string(FullSyncShards::Status))
                    .col(big_integer(FullSyncShards::Processed).default(0))
                    .col(big_integer(FullSyncShards::Failed).default(0))
                    .col(created_at(backend))
                    .col(updated_at(backend))
                    .foreign_key(&mut foreign_key(
                        FullSyncShards::Table,
                        FullSyncShards::RunId,
                        FullSyncRuns::Table,
                        FullSyncRuns::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_full_sync_shards_run_shard_index")
                    .table(FullSyncShards::Table)
                    .col(FullSyncShards::RunId)
                    .col(FullSyncShards::ShardIndex)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FullSyncShards::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum FullSyncShards {
    Table,
    Id,
    RunId,
    ShardIndex,
    Cursor,
    Status,
    Processed,
    Failed,
}

#[derive(DeriveIden)]
enum FullSyncRuns {
    Table,
    Id,
}
