//! `object_links`: a HubSpot record and the Userflow object it is synced
//! with, per object mapping (one-to-one in both directions).

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
                    .table(ObjectLinks::Table)
                    .col(pk_uuid(ObjectLinks::Id))
                    .col(uuid(ObjectLinks::ObjectMappingId))
                    .col(string(ObjectLinks::HubspotObjectId))
                    .col(string(ObjectLinks::UserflowObjectId))
                    .col(created_at(backend))
                    .col(updated_at(backend))
                    .foreign_key(&mut foreign_key(
                        ObjectLinks::Table,
                        ObjectLinks::ObjectMappingId,
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
                    .name("idx_object_links_mapping_hubspot_object_id")
                    .table(ObjectLinks::Table)
                    .col(ObjectLinks::ObjectMappingId)
                    .col(ObjectLinks::HubspotObjectId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_object_links_mapping_userflow_object_id")
                    .table(ObjectLinks::Table)
                    .col(ObjectLinks::ObjectMappingId)
                    .col(ObjectLinks::UserflowObjectId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ObjectLinks::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ObjectLinks {
    Table,
    Id,
    ObjectMappingId,
    HubspotObjectId,
    UserflowObjectId,
}

#[derive(DeriveIden)]
enum ObjectMappings {
    Table,
    Id,
}
