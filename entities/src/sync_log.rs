//! `sync_log`: one row per record sync attempt, append-only.

use sea_orm::entity::prelude::*;

use crate::{StringList, SyncDirection, SyncOutcome};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_log")]
pub struct Model {
    /// Auto-increment.
    #[sea_orm(primary_key)]
    pub id: i64,
    pub integration_id: Uuid,
    /// Set to null when the object mapping is deleted.
    #[sea_orm(indexed)]
    pub object_mapping_id: Option<Uuid>,
    pub job_id: Option<String>,
    pub direction: SyncDirection,
    pub hubspot_object_type: Option<String>,
    pub hubspot_object_id: Option<String>,
    pub userflow_object_id: Option<String>,
    pub outcome: SyncOutcome,
    /// Why a record was skipped; see [`crate::skip_reason`].
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    /// Names of the fields written. Defaults to `[]`.
    #[sea_orm(column_type = "JsonBinary")]
    pub fields_changed: StringList,
    pub error_category: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub error_message: Option<String>,
    pub created_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "integration_id", to = "id", on_delete = "Cascade")]
    pub integration: BelongsTo<super::integrations::Entity>,
    #[sea_orm(
        belongs_to,
        from = "object_mapping_id",
        to = "id",
        on_delete = "SetNull"
    )]
    pub object_mapping: BelongsTo<Option<super::object_mappings::Entity>>,
}

crate::active_model_behavior!(created_at);
