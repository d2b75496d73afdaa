//! `sync_state`: the last value written per linked object, direction and
//! field, for change detection and echo suppression.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{created_at, foreign_key, timestamp_now, updated_at};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(SyncState::Table)
                    .col(pk_uuid(SyncState::Id))
                    .col(uuid(SyncState::ObjectLinkId))
                    .col(string(SyncState::Direction))
                    .col(string(SyncState::Field))
                    .col(text_null(SyncState::LastValue))
                    .col(timestamp_now(backend, SyncState::LastWrittenAt))
                    .col(created_at(backend))
                    .col(updated_at(backend))
                    .foreign_key(&mut foreign_key(
                        SyncState::Table,
                        SyncState::ObjectLinkId,
                        ObjectLinks::Table,
                        ObjectLinks::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sync_state_link_direction_field")
                    .table(SyncState::Table)
                    .col(SyncState::ObjectLinkId)
                    .col(SyncState::Direction)
                    .col(SyncState::Field)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SyncState::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum SyncState {
    Table,
    Id,
    ObjectLinkId,
    Direction,
    Field,
    LastValue,
    LastWrittenAt,
}

#[derive(DeriveIden)]
enum ObjectLinks {
    Table,
    Id,
}
