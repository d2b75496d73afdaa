//! `object_links`: a HubSpot record and the Userflow object it syncs with,
//! per object mapping. Each side appears at most once per mapping.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "object_links")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(
        unique_key = "mapping_hubspot_object",
        unique_key = "mapping_userflow_object"
    )]
    pub object_mapping_id: Uuid,
    #[sea_orm(unique_key = "mapping_hubspot_object")]
    pub hubspot_object_id: String,
    #[sea_orm(unique_key = "mapping_userflow_object")]
    pub userflow_object_id: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    #[sea_orm(
        belongs_to,
        from = "object_mapping_id",
        to = "id",
        on_delete = "Cascade"
    )]
    pub object_mapping: BelongsTo<super::object_mappings::Entity>,
    #[sea_orm(has_many)]
    pub sync_state: HasMany<super::sync_state::Entity>,
}

crate::active_model_behavior!(uuid_id, created_at, updated_at);
