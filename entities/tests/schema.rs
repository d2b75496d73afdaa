//! The entities describe exactly the tables the migrations create: same
//! tables, same columns, same nullability and matching column types.

use std::collections::BTreeMap;

use hubsync_entities::sea_orm::{
    ColumnTrait, ColumnType, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    IdenStatic, Iterable, Statement,
};
use hubsync_entities::{
    event_streams, field_mappings, full_sync_runs, full_sync_shards, integrations, object_links,
    object_mappings, sync_log, sync_state,
};
use hubsync_migrations::backend_tests;
use hubsync_migrations::test_support::{Backend, TestDb};

backend_tests!(entity_columns_match_tables, no_unexpected_tables);

/// A column as the database describes it: (type name, nullable).
type DbColumn = (String, bool);

/// The columns of `E` as the database should describe them.
fn entity_columns<E: EntityTrait>(backend: DbBackend) -> BTreeMap<String, DbColumn> {
    E::Column::iter()
        .map(|column| {
            let def = column.def();
            let type_name = db_type_name(backend, def.get_column_type())
                .unwrap_or_else(|| {
                    panic!(
                        "{}.{}: no expected type for {:?}",
                        E::default().table_name(),
                        column.as_str(),
                        def.get_column_type()
                    )
                })
                .to_owned();
            (column.as_str().to_owned(), (type_name, def.is_null()))
        })
        .collect()
}

/// The type name PostgreSQL's `information_schema.columns.data_type` or
/// SQLite's `pragma_table_info.type` reports for a sea-orm column type.
fn db_type_name(backend: DbBackend, column_type: &ColumnType) -> Option<&'static str> {
    let postgres = backend == DbBackend::Postgres;
    Some(match column_type {
        ColumnType::Uuid if postgres => "uuid",
        ColumnType::Uuid => "uuid_text",
        ColumnType::String(_) if postgres => "character varying",
        ColumnType::String(_) => "varchar",
        ColumnType::Text => "text",
        ColumnType::Integer => "integer",
        ColumnType::BigInteger if postgres => "bigint",
        ColumnType::BigInteger => "integer",
        ColumnType::Boolean => "boolean",
        ColumnType::TimestampWithTimeZone if postgres => "timestamp with time zone",
        ColumnType::TimestampWithTimeZone => "timestamp_with_timezone_text",
        ColumnType::JsonBinary if postgres => "jsonb",
        ColumnType::JsonBinary => "jsonb_text",
        _ => return None,
    })
}

/// The columns of `table` as the database describes them.
async fn table_columns(conn: &DatabaseConnection, table: &str) -> BTreeMap<String, DbColumn> {
    let backend = conn.get_database_backend();
    let statement = match backend {
        DbBackend::Postgres => Statement::from_sql_and_values(
            backend,
            "SELECT column_name AS name, data_type AS type_name, \
                    is_nullable = 'YES' AS nullable \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1",
            [table.into()],
        ),
        _ => Statement::from_sql_and_values(
            backend,
            "SELECT name, lower(type) AS type_name, \"notnull\" = 0 AS nullable \
             FROM pragma_table_info(?)",
            [table.into()],
        ),
    };
    conn.query_all_raw(statement)
        .await
        .expect("list columns")
        .into_iter()
        .map(|row| {
            let name: String = row.try_get("", "name").expect("name");
            let type_name: String = row.try_get("", "type_name").expect("type_name");
            let nullable: bool = row.try_get("", "nullable").expect("nullable");
            (name, (type_name, nullable))
        })
        .collect()
}

/// Every entity, as (table name, expected columns).
fn entities(backend: DbBackend) -> Vec<(&'static str, BTreeMap<String, DbColumn>)> {
    fn entry<E: EntityTrait>(backend: DbBackend) -> (&'static str, BTreeMap<String, DbColumn>) {
        (E::default().table_name(), entity_columns::<E>(backend))
    }
    vec![
        entry::<integrations::Entity>(backend),
        entry::<object_mappings::Entity>(backend),
        entry::<field_mappings::Entity>(backend),
        entry::<event_streams::Entity>(backend),
        entry::<object_links::Entity>(backend),
        entry::<sync_state::Entity>(backend),
        entry::<sync_log::Entity>(backend),
        entry::<full_sync_runs::Entity>(backend),
        entry::<full_sync_shards::Entity>(backend),
    ]
}

async fn entity_columns_match_tables(backend: Backend) {
    let db = TestDb::migrated(backend).await.expect("test database");
    let conn = db.conn();

    let entities = entities(backend.db_backend());
    let entity_tables: Vec<&str> = entities.iter().map(|(table, _)| *table).collect();
    assert_eq!(
        entity_tables,
        hubsync_migrations::TABLES,
        "one entity per migrated table"
    );

    for (table, expected) in entities {
        let actual = table_columns(conn, table).await;
        assert!(!actual.is_empty(), "table {table} missing");
        assert_eq!(
            actual.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "columns of {table}"
        );
        assert_eq!(actual, expected, "column types/nullability of {table}");
    }

    db.close().await.expect("drop test database");
}

/// The migrations create the entity tables and nothing else (besides the
/// migration bookkeeping).
async fn no_unexpected_tables(backend: Backend) {
    let db = TestDb::migrated(backend).await.expect("test database");
    let conn = db.conn();
    let db_backend = conn.get_database_backend();
    let sql = match db_backend {
        DbBackend::Postgres => {
            "SELECT table_name AS name FROM information_schema.tables \
             WHERE table_schema = current_schema() ORDER BY 1"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1",
    };
    let mut tables: Vec<String> = conn
        .query_all_raw(Statement::from_string(db_backend, sql))
        .await
        .expect("list tables")
        .into_iter()
        .map(|row| row.try_get("", "name").expect("name"))
        .filter(|name: &String| name != "seaql_migrations" && name != "sqlite_sequence")
        .collect();
    tables.sort();
    let mut expected: Vec<String> = hubsync_migrations::TABLES
        .iter()
        .map(|t| (*t).to_owned())
        .collect();
    expected.sort();
    assert_eq!(tables, expected);

    db.close().await.expect("drop test database");
}
