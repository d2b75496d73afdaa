//! `sync_log`: one row per record sync attempt (synced, skipped or failed),
//! append-only.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{created_at, foreign_key, json_with_default};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(SyncLog::Table)
                    .col(big_pk_auto(SyncLog::Id))
                    .col(uuid(SyncLog::IntegrationId))
                    .col(uuid_null(SyncLog::ObjectMappingId))
                    .col(string_null(SyncLog::JobId))
                    .col(string(SyncLog::Direction))
                    .col(string_null(SyncLog::HubspotObjectType))
                    .col(string_null(SyncLog::HubspotObjectId))
                    .col(string_null(SyncLog::UserflowObjectId))
                    .col(string(SyncLog::Outcome))
                    .col(text_null(SyncLog::Reason))
                    .col(json_with_default(SyncLog::FieldsChanged, "[]"))
                    .col(string_null(SyncLog::ErrorCategory))
                    .col(text_null(SyncLog::ErrorMessage))
                    .col(created_at(backend))
                    .foreign_key(&mut foreign_key(
                        SyncLog::Table,
                        SyncLog::IntegrationId,
                        Integrations::Table,
                        Integrations::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        SyncLog::Table,
                        SyncLog::ObjectMappingId,
                        ObjectMappings::Table,
                        ObjectMappings::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;

        let indexes: [(&str, &[SyncLog]); 4] = [
            (
                "idx_sync_log_integration_created_at",
                &[SyncLog::IntegrationId, SyncLog::CreatedAt],
            ),
            (
                "idx_sync_log_integration_outcome_created_at",
                &[SyncLog::IntegrationId, SyncLog::Outcome, SyncLog::CreatedAt],
            ),
            (
                "idx_sync_log_integration_hubspot_object_id",
                &[SyncLog::IntegrationId, SyncLog::HubspotObjectId],
            ),
            // Keeps `ON DELETE SET NULL` from scanning the whole log when an
            // object mapping is deleted.
            (
                "idx_sync_log_object_mapping_id",
                &[SyncLog::ObjectMappingId],
            ),
        ];
        for (name, columns) in indexes {
            let mut index = Index::create();
            index.name(name).table(SyncLog::Table);
            for column in columns {
                index.col(*column);
            }
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SyncLog::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum SyncLog {
    Table,
    Id,
    IntegrationId,
    ObjectMappingId,
    JobId,
    Direction,
    HubspotObjectType,
    HubspotObjectId,
    UserflowObjectId,
    Outcome,
    Reason,
    FieldsChanged,
    ErrorCategory,
    ErrorMessage,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Integrations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ObjectMappings {
    Table,
    Id,
}
