//! `object_mappings`: which HubSpot object type syncs with which Userflow
//! object type in an integration, and how records are matched.

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
                    .table(ObjectMappings::Table)
                    .col(pk_uuid(ObjectMappings::Id))
                    .col(uuid(ObjectMappings::IntegrationId))
                    .col(string(ObjectMappings::HubspotObjectType))
                    .col(string(ObjectMappings::UserflowObjectType))
                    .col(string(ObjectMappings::MatchHubspotProperty))
                    .col(string(ObjectMappings::MatchUserflowAttribute))
                    .col(boolean(ObjectMappings::Enabled).default(true))
                    .col(created_at(backend))
                    .col(updated_at(backend))
                    .foreign_key(&mut foreign_key(
                        ObjectMappings::Table,
                        ObjectMappings::IntegrationId,
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
                    .name("idx_object_mappings_integration_id")
                    .table(ObjectMappings::Table)
                    .col(ObjectMappings::IntegrationId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ObjectMappings::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ObjectMappings {
    Table,
    Id,
    IntegrationId,
    HubspotObjectType,
    UserflowObjectType,
    MatchHubspotProperty,
    MatchUserflowAttribute,
    Enabled,
}

#[derive(DeriveIden)]
enum Integrations {
    Table,
    Id,
}
