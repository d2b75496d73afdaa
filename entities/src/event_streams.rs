//! `event_streams`: which Userflow events of an object mapping are written to
//! HubSpot timelines. At most one per object mapping.

use sea_orm::entity::prelude::*;

use crate::{EventStreamMode, StringList, TimelineTemplates};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "event_streams")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub object_mapping_id: Uuid,
    pub mode: EventStreamMode,
    /// Events sent when `mode` is `selected`. Defaults to `[]`.
    #[sea_orm(column_type = "JsonBinary")]
    pub event_names: StringList,
    /// Event name → HubSpot timeline template id.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub timeline_templates: Option<TimelineTemplates>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    #[sea_orm(
        belongs_to,
        from = "object_mapping_id",
        to = "id",
        on_delete = "Cascade"
    )]
    pub object_mapping: BelongsTo<super::object_mappings::Entity>,
}

crate::active_model_behavior!(uuid_id, created_at, updated_at);
