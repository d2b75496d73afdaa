//! `sync_state`: the last value written per linked object, direction and
//! field, for change detection and echo suppression.

use sea_orm::entity::prelude::*;

use crate::SyncDirection;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_state")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique_key = "link_direction_field")]
    pub object_link_id: Uuid,
    #[sea_orm(unique_key = "link_direction_field")]
    pub direction: SyncDirection,
    /// Target field (Userflow attribute or HubSpot property).
    #[sea_orm(unique_key = "link_direction_field")]
    pub field: String,
    /// Last value written, in its normalized text form; `None` for null.
    #[sea_orm(column_type = "Text", nullable)]
    pub last_value: Option<String>,
    pub last_written_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "object_link_id", to = "id", on_delete = "Cascade")]
    pub object_link: BelongsTo<super::object_links::Entity>,
}

crate::active_model_behavior!(uuid_id, created_at, updated_at);
