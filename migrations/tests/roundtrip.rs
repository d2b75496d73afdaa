//! Applies, reverts and re-applies every migration on a fresh PostgreSQL
//! database and a fresh SQLite file, checking the schema at each step.

use hubsync_migrations::sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, QueryResult, Statement,
};
use hubsync_migrations::test_support::{Backend, TestDb};
use hubsync_migrations::{
    MigrationStatus, Migrator, MigratorTrait, SchemaManager, TABLES, backend_tests,
};

/// Migration names, in order.
const MIGRATIONS: [&str; 10] = [
    "m20261128_000001_create_integrations",
    "m20261128_000002_create_object_mappings",
    "m20261128_000003_create_field_mappings",
    "m20261128_000004_create_event_streams",
    "m20261128_000005_create_object_links",
    "m20261128_000006_create_sync_state",
    "m20261128_000007_create_sync_log",
    "m20261128_000008_create_full_sync_runs",
    "m20261128_000009_create_full_sync_shards",
    "m20261128_000010_add_integrations_setup_status",
];

/// Columns that must exist, per table.
const KEY_COLUMNS: [(&str, &[&str]); 9] = [
    (
        "integrations",
        &[
            "id",
            "name",
            "hubspot_portal_id",
            "userflow_environment",
            "status",
            "hubspot_access_token_enc",
            "hubspot_refresh_token_enc",
            "hubspot_token_expires_at",
            "hubspot_scopes",
            "userflow_api_key_enc",
            "userflow_webhook_secret_enc",
            "setup_status",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "object_mappings",
        &[
            "id",
            "integration_id",
            "hubspot_object_type",
            "userflow_object_type",
            "match_hubspot_property",
            "match_userflow_attribute",
            "enabled",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "field_mappings",
        &[
            "id",
            "object_mapping_id",
            "direction",
            "source_path",
            "target",
            "data_type",
            "created_at",
        ],
    ),
    (
        "event_streams",
        &[
            "id",
            "object_mapping_id",
            "mode",
            "event_names",
            "timeline_templates",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "object_links",
        &[
            "id",
            "object_mapping_id",
            "hubspot_object_id",
            "userflow_object_id",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "sync_state",
        &[
            "id",
            "object_link_id",
            "direction",
            "field",
            "last_value",
            "last_written_at",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "sync_log",
        &[
            "id",
            "integration_id",
            "object_mapping_id",
            "job_id",
            "direction",
            "hubspot_object_id",
            "outcome",
            "reason",
            "fields_changed",
            "error_category",
            "error_message",
            "created_at",
        ],
    ),
    (
        "full_sync_runs",
        &[
            "id",
            "integration_id",
            "trigger",
            "status",
            "shard_count",
            "total_estimated",
            "processed",
            "failed",
            "error",
            "started_at",
            "finished_at",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "full_sync_shards",
        &[
            "id",
            "run_id",
            "shard_index",
            "cursor",
            "status",
            "processed",
            "failed",
            "created_at",
            "updated_at",
        ],
    ),
];

/// (table, index name, unique?). `idx_integrations_hubspot_portal_id` is not
/// unique on purpose: a portal may be paired twice when forced.
const INDEXES: [(&str, &str, bool); 14] = [
    ("integrations", "idx_integrations_hubspot_portal_id", false),
    (
        "integrations",
        "idx_integrations_userflow_environment",
        false,
    ),
    (
        "object_mappings",
        "idx_object_mappings_integration_id",
        false,
    ),
    (
        "field_mappings",
        "idx_field_mappings_mapping_direction_target",
        true,
    ),
    ("event_streams", "idx_event_streams_object_mapping_id", true),
    (
        "object_links",
        "idx_object_links_mapping_hubspot_object_id",
        true,
    ),
    (
        "object_links",
        "idx_object_links_mapping_userflow_object_id",
        true,
    ),
    ("sync_state", "idx_sync_state_link_direction_field", true),
    ("sync_log", "idx_sync_log_integration_created_at", false),
    (
        "sync_log",
        "idx_sync_log_integration_outcome_created_at",
        false,
    ),
    (
        "sync_log",
        "idx_sync_log_integration_hubspot_object_id",
        false,
    ),
    ("sync_log", "idx_sync_log_object_mapping_id", false),
    (
        "full_sync_runs",
        "idx_full_sync_runs_integration_created_at",
        false,
    ),
    (
        "full_sync_shards",
        "idx_full_sync_shards_run_shard_index",
        true,
    ),
];

/// (table, referenced table) of every foreign key.
const FOREIGN_KEYS: [(&str, &str); 9] = [
    ("object_mappings", "integrations"),
    ("field_mappings", "object_mappings"),
    ("event_streams", "object_mappings"),
    ("object_links", "object_mappings"),
    ("sync_state", "object_links"),
    ("sync_log", "integrations"),
    ("sync_log", "object_mappings"),
    ("full_sync_runs", "integrations"),
    ("full_sync_shards", "full_sync_runs"),
];

/// Several replicas started with `--migrate` at once must all succeed and apply each
/// migration exactly once.
async fn concurrent_migrate(backend: Backend) {
    let db = TestDb::new(backend).await.expect("test database");
    let mut conns = Vec::new();
    for _ in 0..4 {
        conns.push(connect(db.url()).await);
    }
    let runs = conns.iter().map(hubsync_migrations::migrate);
    for result in futures::future::join_all(runs).await {
        result.expect("concurrent migrate");
    }
    let applied = Migrator::get_applied_migrations(db.conn())
        .await
        .expect("applied");
    assert_eq!(applied.len(), MIGRATIONS.len());
    for c in conns {
        c.close().await.expect("close");
    }
    db.close().await.expect("drop test database");
}

async fn connect(url: &str) -> DatabaseConnection {
    hubsync_migrations::sea_orm::Database::connect(url)
        .await
        .expect("connect")
}

backend_tests!(up_down_up, step_by_step, concurrent_migrate);

async fn up_down_up(backend: Backend) {
    let db = TestDb::new(backend).await.expect("create test database");
    let conn = db.conn();

    assert_all_pending(conn).await;

    Migrator::up(conn, None).await.expect("migrate up");
    assert_schema_present(conn).await;
    assert_all_applied(conn).await;
    // `status` logs the state of every migration; it must not fail.
    Migrator::status(conn).await.expect("migration status");

    // Applying again is a no-op.
    Migrator::up(conn, None).await.expect("migrate up again");
    assert_all_applied(conn).await;

    Migrator::down(conn, None).await.expect("migrate down");
    assert_schema_absent(conn).await;
    assert_all_pending(conn).await;

    Migrator::up(conn, None)
        .await
        .expect("migrate up after down");
    assert_schema_present(conn).await;
    assert_all_applied(conn).await;

    db.close().await.expect("drop test database");
}

/// Every migration's `up` and `down` also works on its own, in order.
async fn step_by_step(backend: Backend) {
    let db = TestDb::new(backend).await.expect("create test database");
    let conn = db.conn();
    let manager = SchemaManager::new(conn);

    for (done, table) in TABLES.iter().enumerate() {
        assert!(!manager.has_table(table).await.expect("has_table"));
        Migrator::up(conn, Some(1)).await.expect("one step up");
        assert!(
            manager.has_table(table).await.expect("has_table"),
            "{table} missing after migration {}",
            done + 1
        );
        let applied = Migrator::get_applied_migrations(conn)
            .await
            .expect("applied migrations");
        assert_eq!(applied.len(), done + 1);
    }
    // The migrations after the table-creating ones alter existing tables.
    for done in TABLES.len()..MIGRATIONS.len() {
        Migrator::up(conn, Some(1)).await.expect("one step up");
        let applied = Migrator::get_applied_migrations(conn)
            .await
            .expect("applied migrations");
        assert_eq!(applied.len(), done + 1);
    }
    assert!(
        manager
            .has_column("integrations", "setup_status")
            .await
            .expect("has_column")
    );
    for _ in TABLES.len()..MIGRATIONS.len() {
        Migrator::down(conn, Some(1)).await.expect("one step down");
    }
    assert!(
        !manager
            .has_column("integrations", "setup_status")
            .await
            .expect("has_column")
    );
    for table in TABLES.iter().rev() {
        Migrator::down(conn, Some(1)).await.expect("one step down");
        assert!(
            !manager.has_table(table).await.expect("has_table"),
            "{table} still there after its down migration"
        );
    }
    assert_all_pending(conn).await;

    db.close().await.expect("drop test database");
}

#[test]
fn migration_names_follow_the_convention() {
    let names: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    assert_eq!(names, MIGRATIONS);
    for name in &names {
        let parts: Vec<&str> = name.splitn(4, '_').collect();
        assert_eq!(parts.len(), 4, "{name}");
        let date = parts[0].strip_prefix('m').expect("starts with m");
        assert!(date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()));
        assert!(parts[1].len() == 6 && parts[1].bytes().all(|b| b.is_ascii_digit()));
        assert!(matches!(parts[2], "create" | "add" | "drop" | "alter"));
        assert!(!parts[3].is_empty());
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(sorted, names, "migrations must be listed in name order");
}

async fn assert_all_applied(conn: &DatabaseConnection) {
    let migrations = Migrator::get_migration_with_status(conn)
        .await
        .expect("migration status");
    let names: Vec<&str> = migrations.iter().map(|m| m.name()).collect();
    assert_eq!(names, MIGRATIONS);
    for migration in &migrations {
        assert_eq!(
            migration.status(),
            MigrationStatus::Applied,
            "{}",
            migration.name()
        );
    }
    let pending = Migrator::get_pending_migrations(conn)
        .await
        .expect("pending migrations");
    assert!(pending.is_empty());
}

async fn assert_all_pending(conn: &DatabaseConnection) {
    let migrations = Migrator::get_migration_with_status(conn)
        .await
        .expect("migration status");
    assert_eq!(migrations.len(), MIGRATIONS.len());
    for migration in &migrations {
        assert_eq!(
            migration.status(),
            MigrationStatus::Pending,
            "{}",
            migration.name()
        );
    }
}

async fn assert_schema_present(conn: &DatabaseConnection) {
    let manager = SchemaManager::new(conn);
    for table in TABLES {
        assert!(
            manager.has_table(table).await.expect("has_table"),
            "table {table} missing"
        );
    }
    for (table, columns) in KEY_COLUMNS {
        for column in columns {
            assert!(
                manager.has_column(table, column).await.expect("has_column"),
                "column {table}.{column} missing"
            );
        }
    }
    for (table, index, unique) in INDEXES {
        assert!(
            manager.has_index(table, index).await.expect("has_index"),
            "index {index} on {table} missing"
        );
        assert_eq!(
            index_is_unique(conn, table, index).await,
            unique,
            "uniqueness of {index}"
        );
    }
    let foreign_keys = foreign_keys(conn).await;
    for (table, referenced) in FOREIGN_KEYS {
        assert!(
            foreign_keys.contains(&(table.to_owned(), referenced.to_owned())),
            "foreign key {table} -> {referenced} missing; have {foreign_keys:?}"
        );
    }
}

async fn assert_schema_absent(conn: &DatabaseConnection) {
    let manager = SchemaManager::new(conn);
    for table in TABLES {
        assert!(
            !manager.has_table(table).await.expect("has_table"),
            "table {table} still exists"
        );
    }
    for (table, index, _) in INDEXES {
        assert!(
            !manager.has_index(table, index).await.expect("has_index"),
            "index {index} still exists"
        );
    }
}

async fn query(conn: &DatabaseConnection, sql: &str, values: Vec<String>) -> Vec<QueryResult> {
    let backend = conn.get_database_backend();
    let values = values.into_iter().map(Into::into);
    conn.query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn index_is_unique(conn: &DatabaseConnection, table: &str, index: &str) -> bool {
    let rows = match conn.get_database_backend() {
        DbBackend::Postgres => {
            query(
                conn,
                "SELECT i.indisunique AS is_unique FROM pg_index i \
                 JOIN pg_class c ON c.oid = i.indexrelid \
                 JOIN pg_class t ON t.oid = i.indrelid \
                 WHERE c.relname = $1 AND t.relname = $2 \
                 AND c.relnamespace = current_schema()::regnamespace",
                vec![index.to_owned(), table.to_owned()],
            )
            .await
        }
        _ => {
            query(
                conn,
                "SELECT \"unique\" = 1 AS is_unique FROM pragma_index_list(?) WHERE name = ?",
                vec![table.to_owned(), index.to_owned()],
            )
            .await
        }
    };
    assert_eq!(rows.len(), 1, "index {index} on {table}");
    rows[0].try_get("", "is_unique").expect("is_unique")
}

/// (table, referenced table) of every foreign key of the hubsync tables.
async fn foreign_keys(conn: &DatabaseConnection) -> Vec<(String, String)> {
    let mut keys = Vec::new();
    match conn.get_database_backend() {
        DbBackend::Postgres => {
            let rows = query(
                conn,
                "SELECT c.conrelid::regclass::text AS from_table, \
                        c.confrelid::regclass::text AS to_table \
                 FROM pg_constraint c WHERE c.contype = 'f' \
                 AND c.connamespace = current_schema()::regnamespace",
                vec![],
            )
            .await;
            for row in rows {
                keys.push((
                    row.try_get("", "from_table").expect("from_table"),
                    row.try_get("", "to_table").expect("to_table"),
                ));
            }
        }
        _ => {
            for table in TABLES {
                let rows = query(
                    conn,
                    "SELECT \"table\" AS to_table FROM pragma_foreign_key_list(?)",
                    vec![table.to_owned()],
                )
                .await;
                for row in rows {
                    keys.push((
                        table.to_owned(),
                        row.try_get("", "to_table").expect("to_table"),
                    ));
                }
            }
        }
    }
    keys
}
