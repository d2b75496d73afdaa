//! `event_streams`: which Userflow events of an object mapping are sent to
//! HubSpot (at most one row per object mapping).

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{created_at, foreign_key, json_with_default, updated_at};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(EventStreams::Table)
                    .col(pk_uuid(EventStreams::Id))
                    .col(uuid(EventStreams::ObjectMappingId))
                    .col(string(EventStreams::Mode))
                    .col(json_with_default(EventStreams::EventNames, "[]"))
                    .col(json_binary_null(EventStreams::TimelineTemplates))
                    .col(created_at(backend))
                    .col(updated_at(backend))
                    .foreign_key(&mut foreign_key(
                        EventStreams::Table,
                        EventStreams::ObjectMappingId,
                        ObjectMappings::Table,
                        ObjectMappings::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_event_streams_object_mapping_id")
                    .table(EventStreams::Table)
                    .col(EventStreams::ObjectMappingId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(EventStreams::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum EventStreams {
    Table,
    Id,
    ObjectMappingId,
    Mode,
    EventNames,
    TimelineTemplates,
}

#[derive(DeriveIden)]
enum ObjectMappings {
    Table,
    Id,
}
