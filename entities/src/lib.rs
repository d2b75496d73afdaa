//! sea-orm entities of the hubsync database.
//!
//! One module per table, named after the table, each holding the usual
//! sea-orm `Entity`, `Model`, `ActiveModel`, `Column` and `Relation` (written
//! in sea-orm 2's `#[sea_orm::model]` format, so the relations are fields of
//! `ModelEx`). The schema itself is created by the `hubsync-migrations`
//! crate; the tests of this crate check that both agree.
//!
//! | module | table |
//! | --- | --- |
//! | [`integrations`] | HubSpot portal ↔ Userflow environment pairings, status, encrypted credentials |
//! | [`object_mappings`] | HubSpot object type ↔ Userflow object type per integration |
//! | [`field_mappings`] | mapped fields of an object mapping, per direction |
//! | [`event_streams`] | Userflow events sent to HubSpot timelines, per object mapping |
//! | [`object_links`] | HubSpot record id ↔ Userflow object id per object mapping |
//! | [`sync_state`] | last value written per link, direction and field |
//! | [`sync_log`] | one row per record sync attempt |
//! | [`full_sync_runs`] | full syncs of an integration |
//! | [`full_sync_shards`] | shards of a full sync, with cursors and progress |
//!
//! Also here: enums for the string-valued columns ([`IntegrationStatus`],
//! [`SyncDirection`], …), typed JSON values ([`StringList`],
//! [`TimelineTemplates`]), and [`connect`] to open a database by URL.
//!
//! Inserting through `ActiveModel::insert`/`save` fills in what the caller
//! left `NotSet`: a new v4 `id` (UUID keys), `created_at`, and `updated_at`;
//! updating through `ActiveModel::update`/`save` refreshes `updated_at`
//! unless it was `Set` explicitly. Bulk statements (`Entity::insert_many`,
//! `update_many`) bypass this: the columns then take their database
//! defaults (current time) on insert, and `updated_at` must be set by hand
//! on update. Timestamps are UTC with microsecond precision (see [`now`]).

mod connect;
mod enums;
mod json;

pub mod event_streams;
pub mod field_mappings;
pub mod full_sync_runs;
pub mod full_sync_shards;
pub mod integrations;
pub mod object_links;
pub mod object_mappings;
pub mod setup_status;
pub mod sync_log;
pub mod sync_state;

pub use connect::{connect, connect_options};
pub use enums::{
    EventStreamMode, FieldDataType, FullSyncStatus, FullSyncTrigger, IntegrationStatus,
    SyncDirection, SyncOutcome, UnknownEnumValue, UserflowMatchAttribute, UserflowObjectType,
};
pub use json::{StringList, TimelineTemplates};
pub use sea_orm;

/// The entities, aliased `IntegrationsEntity`, `ObjectMappingsEntity`, ….
pub mod prelude {
    pub use crate::event_streams::Entity as EventStreamsEntity;
    pub use crate::field_mappings::Entity as FieldMappingsEntity;
    pub use crate::full_sync_runs::Entity as FullSyncRunsEntity;
    pub use crate::full_sync_shards::Entity as FullSyncShardsEntity;
    pub use crate::integrations::Entity as IntegrationsEntity;
    pub use crate::object_links::Entity as ObjectLinksEntity;
    pub use crate::object_mappings::Entity as ObjectMappingsEntity;
    pub use crate::sync_log::Entity as SyncLogEntity;
    pub use crate::sync_state::Entity as SyncStateEntity;
}

/// Well-known values of `sync_log.reason` for skipped records. The column is
/// free text, so other reasons may appear.
pub mod skip_reason {
    /// The record exists on one side only and the mapping does not create
    /// records.
    pub const NOT_IN_BOTH_SYSTEMS: &str = "not_in_both_systems";
    /// No mapped field differs from what was last written.
    pub const UNCHANGED: &str = "unchanged";
    /// The change is the echo of a write hubsync made itself.
    pub const ECHO: &str = "echo";
}

/// The current time as stored in timestamp columns: UTC, truncated to
/// microseconds (PostgreSQL's precision), so a value read back compares
/// equal to the one written on every backend.
pub fn now() -> sea_orm::prelude::DateTimeUtc {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

/// Implements `ActiveModelBehavior` for the `ActiveModel` in scope, filling
/// in the listed columns (see the crate docs). Keys, in this order:
/// `uuid_id`, `created_at`, `updated_at`.
macro_rules! active_model_behavior {
    ($($column:ident),+ $(,)?) => {
        #[async_trait::async_trait]
        impl ActiveModelBehavior for ActiveModel {
            async fn before_save<C>(self, _db: &C, insert: bool) -> Result<Self, DbErr>
            where
                C: ConnectionTrait,
            {
                let mut am = self;
                let now = $crate::now();
                $( $crate::active_model_behavior!(@fill am, insert, now, $column); )+
                Ok(am)
            }
        }
    };
    (@fill $am:ident, $insert:ident, $now:ident, uuid_id) => {
        if $insert && $am.id.is_not_set() {
            $am.id = sea_orm::ActiveValue::Set(Uuid::new_v4());
        }
    };
    (@fill $am:ident, $insert:ident, $now:ident, created_at) => {
        if $insert && $am.created_at.is_not_set() {
            $am.created_at = sea_orm::ActiveValue::Set($now);
        }
    };
    (@fill $am:ident, $insert:ident, $now:ident, updated_at) => {
        if $insert {
            if $am.updated_at.is_not_set() {
                let created = $am.created_at.try_as_ref().copied().unwrap_or($now);
                $am.updated_at = sea_orm::ActiveValue::Set(created);
            }
        } else if !$am.updated_at.is_set() {
            $am.updated_at = sea_orm::ActiveValue::Set($now);
        }
    };
}
pub(crate) use active_model_behavior;
