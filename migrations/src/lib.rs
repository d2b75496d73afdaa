//! Database schema of hubsync, as [sea-orm-migration] migrations.
//!
//! The same migrations run on PostgreSQL (production) and SQLite (single-node
//! and development setups); only portable column types are used. There is one
//! migration per table, ordered so that every foreign key points at a table
//! created earlier:
//!
//! | migration | table |
//! | --- | --- |
//! | `m20261128_000001_create_integrations` | `integrations` |
//! | `m20261128_000002_create_object_mappings` | `object_mappings` |
//! | `m20261128_000003_create_field_mappings` | `field_mappings` |
//! | `m20261128_000004_create_event_streams` | `event_streams` |
//! | `m20261128_000005_create_object_links` | `object_links` |
//! | `m20261128_000006_create_sync_state` | `sync_state` |
//! | `m20261128_000007_create_sync_log` | `sync_log` |
//! | `m20261128_000008_create_full_sync_runs` | `full_sync_runs` |
//! | `m20261128_000009_create_full_sync_shards` | `full_sync_shards` |
//! | `m20261128_000010_add_integrations_setup_status` | `integrations.setup_status` |
//!
//! Apply them with [`Migrator`] (through [`MigratorTrait`]) or the [`migrate`]
//! shortcut. The matching sea-orm entities live in the `hubsync-entities`
//! crate. A migration that has been released is never edited: schema changes
//! go into a new migration appended to [`Migrator::migrations`].
//!
//! With the `test-support` feature, the `test_support` module creates throw-away
//! databases for tests.
//!
//! [sea-orm-migration]: https://docs.rs/sea-orm-migration

pub use sea_orm_migration::prelude::*;
pub use sea_orm_migration::{MigrationStatus, sea_orm};

mod columns;
mod m20261128_000001_create_integrations;
mod m20261128_000002_create_object_mappings;
mod m20261128_000003_create_field_mappings;
mod m20261128_000004_create_event_streams;
mod m20261128_000005_create_object_links;
mod m20261128_000006_create_sync_state;
mod m20261128_000007_create_sync_log;
mod m20261128_000008_create_full_sync_runs;
mod m20261128_000009_create_full_sync_shards;
mod m20261128_000010_add_integrations_setup_status;

#[cfg(feature = "test-support")]
pub mod test_support;

/// All hubsync migrations, in the order they are applied.
#[derive(Debug, Clone, Copy, Default)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_create_integrations::Migration),
            Box::new(m20261128_000002_create_object_mappings::Migration),
            Box::new(m20261128_000003_create_field_mappings::Migration),
            Box::new(m20261128_000004_create_event_streams::Migration),
            Box::new(m20261128_000005_create_object_links::Migration),
            Box::new(m20261128_000006_create_sync_state::Migration),
            Box::new(m20261128_000007_create_sync_log::Migration),
            Box::new(m20261128_000008_create_full_sync_runs::Migration),
            Box::new(m20261128_000009_create_full_sync_shards::Migration),
            Box::new(m20261128_000010_add_integrations_setup_status::Migration),
        ]
    }
}

/// Names of the tables the migrations create, in creation order.
pub const TABLES: [&str; 9] = [
    "integrations",
    "object_mappings",
    "field_mappings",
    "event_streams",
    "object_links",
    "sync_state",
    "sync_log",
    "full_sync_runs",
    "full_sync_shards",
];

/// Key of the PostgreSQL advisory lock that serialises [`migrate`] across processes.
pub const MIGRATION_LOCK_KEY: i64 = 0x0068_7562_7379_6e63; // "hubsync" in ASCII

/// Applies every pending migration (`Migrator::up(db, None)`).
///
/// Safe to call from many processes at once (every replica started with `--migrate`): the
/// whole run happens in one transaction that first takes a lock (a PostgreSQL advisory lock;
/// on SQLite a write to a one-row lock table, which takes the database's write lock), so a
/// second process waits and then finds nothing pending instead of racing on `CREATE TABLE`.
pub async fn migrate(db: &sea_orm::DatabaseConnection) -> Result<(), DbErr> {
    use sea_orm::{ConnectionTrait, DbBackend, TransactionTrait};
    let txn = db.begin().await?;
    match db.get_database_backend() {
        DbBackend::Postgres => {
            txn.execute_unprepared(&format!(
                "SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
            ))
            .await?;
        }
        _ => {
            txn.execute_unprepared(
                "CREATE TABLE IF NOT EXISTS hubsync_migration_lock (id INTEGER PRIMARY KEY)",
            )
            .await?;
            txn.execute_unprepared("DELETE FROM hubsync_migration_lock")
                .await?;
        }
    }
    Migrator::up(&txn, None).await?;
    txn.commit().await
}
