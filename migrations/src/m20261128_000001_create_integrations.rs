//! `integrations`: one Userflow environment paired with one HubSpot portal,
//! with its connection status and encrypted credentials.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{created_at, updated_at};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(Integrations::Table)
                    .col(pk_uuid(Integrations::Id))
                    .col(string(Integrations::Name))
                    .col(big_integer_null(Integrations::HubspotPortalId))
                    .col(string_null(Integrations::UserflowEnvironment))
                    .col(string(Integrations::Status))
                    .col(text_null(Integrations::StatusReason))
                    .col(text_null(Integrations::HubspotAccessTokenEnc))
                    .col(text_null(Integrations::HubspotRefreshTokenEnc))
                    .col(timestamp_with_time_zone_null(
                        Integrations::HubspotTokenExpiresAt,
                    ))
                    .col(json_binary_null(Integrations::HubspotScopes))
                    .col(text_null(Integrations::UserflowApiKeyEnc))
                    .col(text_null(Integrations::UserflowWebhookSecretEnc))
                    .col(string_null(Integrations::UserflowWebhookSubscriptionId))
                    .col(created_at(backend))
                    .col(updated_at(backend))
                    .to_owned(),
            )
            .await?;

        // Not unique: pairing a portal twice is refused by the application
        // unless forced.
        manager
            .create_index(
                Index::create()
                    .name("idx_integrations_hubspot_portal_id")
                    .table(Integrations::Table)
                    .col(Integrations::HubspotPortalId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_integrations_userflow_environment")
                    .table(Integrations::Table)
                    .col(Integrations::UserflowEnvironment)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Integrations::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Integrations {
    Table,
    Id,
    Name,
    HubspotPortalId,
    UserflowEnvironment,
    Status,
    StatusReason,
    HubspotAccessTokenEnc,
    HubspotRefreshTokenEnc,
    HubspotTokenExpiresAt,
    HubspotScopes,
    UserflowApiKeyEnc,
    UserflowWebhookSecretEnc,
    UserflowWebhookSubscriptionId,
}
