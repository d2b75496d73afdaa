//! `field_mappings`: one mapped field of an object mapping, in one direction.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{created_at, foreign_key};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(FieldMappings::Table)
                    .col(pk_uuid(FieldMappings::Id))
                    .col(uuid(FieldMappings::ObjectMappingId))
                    .col(string(FieldMappings::Direction))
                    .col(string(FieldMappings::SourcePath))
                    .col(string(FieldMappings::Target))
                    .col(string(FieldMappings::DataType))
                    .col(created_at(backend))
                    .foreign_key(&mut foreign_key(
                        FieldMappings::Table,
                        FieldMappings::ObjectMappingId,
                        ObjectMappings::Table,
                        ObjectMappings::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        // A target is written by at most one mapping per direction.
        manager
            .create_index(
                Index::create()
                    .name("idx_field_mappings_mapping_direction_target")
                    .table(FieldMappings::Table)
                    .col(FieldMappings::ObjectMappingId)
                    .col(FieldMappings::Direction)
                    .col(FieldMappings::Target)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FieldMappings::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum FieldMappings {
    Table,
    Id,
    ObjectMappingId,
    Direction,
    SourcePath,
    Target,
    DataType,
}

#[derive(DeriveIden)]
enum ObjectMappings {
    Table,
    Id,
}
