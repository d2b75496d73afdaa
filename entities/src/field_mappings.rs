//! `field_mappings`: one mapped field of an object mapping, in one direction.
//! Unique per (object mapping, direction, target).

use sea_orm::entity::prelude::*;

use crate::{FieldDataType, SyncDirection};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "field_mappings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique_key = "mapping_direction_target")]
    pub object_mapping_id: Uuid,
    #[sea_orm(unique_key = "mapping_direction_target")]
    pub direction: SyncDirection,
    /// Field of the source record (`firstname`), or of an associated object
    /// (`companies.name`).
    pub source_path: String,
    /// Userflow attribute or HubSpot property written.
    #[sea_orm(unique_key = "mapping_direction_target")]
    pub target: String,
    pub data_type: FieldDataType,
    pub created_at: DateTimeUtc,
    #[sea_orm(
        belongs_to,
        from = "object_mapping_id",
        to = "id",
        on_delete = "Cascade"
    )]
    pub object_mapping: BelongsTo<super::object_mappings::Entity>,
}

crate::active_model_behavior!(uuid_id, created_at);
