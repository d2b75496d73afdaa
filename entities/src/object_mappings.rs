//! `object_mappings`: which HubSpot object type syncs with which Userflow
//! object type, and which HubSpot property/Userflow attribute pair records.

use sea_orm::entity::prelude::*;

use crate::{UserflowMatchAttribute, UserflowObjectType};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "object_mappings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(indexed)]
    pub integration_id: Uuid,
    /// `contacts`, `companies`, `deals`, or a custom object type id such as
    /// `2-123`.
    pub hubspot_object_type: String,
    pub userflow_object_type: UserflowObjectType,
    /// HubSpot property holding the match key (e.g. `email`).
    pub match_hubspot_property: String,
    pub match_userflow_attribute: UserflowMatchAttribute,
    /// Defaults to `true` in the database.
    pub enabled: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "integration_id", to = "id", on_delete = "Cascade")]
    pub integration: BelongsTo<super::integrations::Entity>,
    #[sea_orm(has_many)]
    pub field_mappings: HasMany<super::field_mappings::Entity>,
    #[sea_orm(has_one)]
    pub event_stream: HasOne<super::event_streams::Entity>,
    #[sea_orm(has_many)]
    pub object_links: HasMany<super::object_links::Entity>,
    #[sea_orm(has_many)]
    pub sync_log: HasMany<super::sync_log::Entity>,
}

crate::active_model_behavior!(uuid_id, created_at, updated_at);
