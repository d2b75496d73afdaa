//! `hubsync_entities::connect` on SQLite files, SQLite in memory and
//! PostgreSQL.

mod common;

use common::{insert, is_foreign_key_violation};
use hubsync_entities::sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, IntoActiveModel,
    Statement,
};
use hubsync_entities::{connect, integrations};
use hubsync_migrations::test_support::TestDb;
use uuid::Uuid;

async fn pragma_foreign_keys(conn: &DatabaseConnection) -> i64 {
    conn.query_one_raw(Statement::from_string(
        DbBackend::Sqlite,
        "SELECT foreign_keys FROM pragma_foreign_keys",
    ))
    .await
    .expect("pragma")
    .expect("one row")
    .try_get("", "foreign_keys")
    .expect("foreign_keys")
}

/// Migrates `conn`, then checks that rows round-trip and that foreign keys
/// are enforced.
async fn migrate_and_use(conn: &DatabaseConnection) {
    hubsync_migrations::migrate(conn).await.expect("migrate");
    let integration = insert(conn, common::integration().into_active_model()).await;
    let read = integrations::Entity::find_by_id(integration.id)
        .one(conn)
        .await
        .expect("select");
    assert_eq!(read, Some(integration));
    let err = common::object_mapping(Uuid::new_v4())
        .into_active_model()
        .insert(conn)
        .await
        .expect_err("foreign key must be enforced");
    assert!(is_foreign_key_violation(&err), "{err:?}");
}

/// Removes a SQLite database file and its companions when dropped.
struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut file = self.0.as_os_str().to_owned();
            file.push(suffix);
            let _ = std::fs::remove_file(file);
        }
    }
}

#[tokio::test]
async fn sqlite_file_is_created_with_foreign_keys_on() {
    let dir = std::env::temp_dir().join(format!("hubsync_t_connect_{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    let path = dir.join("hubsync.sqlite");
    let _cleanup = RemoveOnDrop(path.clone());
    assert!(!path.exists());

    let conn = connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("connect creates the database");
    assert!(path.exists(), "database file created");
    assert_eq!(pragma_foreign_keys(&conn).await, 1);
    migrate_and_use(&conn).await;
    conn.close().await.expect("close");

    // Reopening finds the data.
    let conn = connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("reconnect");
    assert_eq!(
        integrations::Entity::find()
            .all(&conn)
            .await
            .expect("select")
            .len(),
        1
    );
    conn.close().await.expect("close");
    drop(_cleanup);
    let _ = std::fs::remove_dir(&dir);
}

#[tokio::test]
async fn sqlite_explicit_mode_is_respected() {
    let path = std::env::temp_dir().join(format!("hubsync_t_{}.sqlite", Uuid::new_v4().simple()));
    let _cleanup = RemoveOnDrop(path.clone());
    // `mode=rw` means "do not create": the file must exist.
    let result = connect(&format!("sqlite://{}?mode=rw", path.display())).await;
    assert!(result.is_err(), "mode=rw must not create {path:?}");
    assert!(!path.exists());
}

#[tokio::test]
async fn sqlite_in_memory() {
    let conn = connect("sqlite::memory:").await.expect("connect");
    assert_eq!(pragma_foreign_keys(&conn).await, 1);
    migrate_and_use(&conn).await;
    conn.close().await.expect("close");
}

#[tokio::test]
async fn postgres_url() {
    let db = TestDb::postgres().await.expect("test database");
    let conn = connect(db.url()).await.expect("connect");
    assert_eq!(conn.get_database_backend(), DbBackend::Postgres);
    migrate_and_use(&conn).await;
    conn.close().await.expect("close");
    db.close().await.expect("drop test database");
}
