//! `full_sync_runs`: a full (re)sync of an integration, split into shards.

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
                    .table(FullSyncRuns::Table)
                    .col(pk_uuid(FullSyncRuns::Id))
                    .col(uuid(FullSyncRuns::IntegrationId))
                    .col(string(FullSyncRuns::Trigger))
                    .col(string(FullSyncRuns::Status))
                    .col(integer(FullSyncRuns::ShardCount))
                    .col(big_integer_null(FullSyncRuns::TotalEstimated))
                    .col(big_integer(FullSyncRuns::Processed).default(0))
                    .col(big_integer(FullSyncRuns::Failed).default(0))
                    .col(text_null(FullSyncRuns::Error))
                    .col(timestamp_with_time_zone_null(FullSyncRuns::StartedAt))
                    .col(timestamp_with_time_zone_null(FullSyncRuns::FinishedAt))
                    .col(created_at(backend))
                    .col(updated_at(backend))
                    .foreign_key(&mut foreign_key(
                        FullSyncRuns::Table,
                        FullSyncRuns::IntegrationId,
                        Integrations::Table,
                        Integrations::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_full_sync_runs_integration_created_at")
                    .table(FullSyncRuns::Table)
                    .col(FullSyncRuns::IntegrationId)
                    .col(FullSyncRuns::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FullSyncRuns::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum FullSyncRuns {
    Table,
    Id,
    IntegrationId,
    Trigger,
    Status,
    ShardCount,
    TotalEstimated,
    Processed,
    Failed,
    Error,
    StartedAt,
    FinishedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Integrations {
    Table,
    Id,
}
