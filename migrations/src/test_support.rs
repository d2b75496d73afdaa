//! Throw-away databases for tests (feature `test-support`).
//!
//! Every [`TestDb`] is a database of its own, so tests can run in parallel:
//!
//! * PostgreSQL: a new database `hubsync_t_<unix seconds>_<uuid>` on the
//!   server named by [`POSTGRES_URL_ENV`] (default [`DEFAULT_POSTGRES_URL`];
//!   the role must be allowed to create databases). It is dropped by
//!   [`TestDb::close`], or by `Drop` when a test panics before closing it.
//!   Databases left behind by killed test processes are dropped by a later
//!   run once they are older than [`STALE_AFTER`].
//! * SQLite: a new file in the system temp directory, deleted the same way.
//!
//! ```no_run
//! # async fn example() -> Result<(), hubsync_migrations::test_support::TestDbError> {
//! use hubsync_migrations::test_support::{Backend, TestDb};
//!
//! for backend in Backend::ALL {
//!     let db = TestDb::migrated(backend).await?;
//!     // ... use db.conn() ...
//!     db.close().await?;
//! }
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sea_orm_migration::MigratorTrait;
use sea_orm_migration::sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement,
};

use crate::Migrator;

/// Declares one `#[tokio::test]` per [`Backend`] for each listed async test
/// function taking a [`Backend`]: `backend_tests!(crud)` turns
/// `async fn crud(backend: Backend)` into the tests `crud::postgres` and
/// `crud::sqlite`. The calling crate needs `tokio` (with `macros` and `rt`).
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn postgres() {
                    super::$name($crate::test_support::Backend::Postgres).await
                }

                #[tokio::test]
                async fn sqlite() {
                    super::$name($crate::test_support::Backend::Sqlite).await
                }
            }
        )+
    };
}

/// Environment variable naming the PostgreSQL server used by tests.
pub const POSTGRES_URL_ENV: &str = "HUBSYNC_TEST_POSTGRES_URL";

/// PostgreSQL server used when [`POSTGRES_URL_ENV`] is not set.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Prefix of every database (and SQLite file) created here.
pub const DB_PREFIX: &str = "hubsync_t_";

/// Age after which a leftover PostgreSQL test database is dropped.
pub const STALE_AFTER: Duration = Duration::from_secs(6 * 60 * 60);

/// Largest connection pool a test database gets, so that many tests running
/// at once stay under the server's connection limit.
const MAX_TEST_CONNECTIONS: u32 = 4;

/// Failure to create, migrate or remove a test database.
#[derive(Debug, thiserror::Error)]
pub enum TestDbError {
    /// The database server refused or failed a statement.
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    /// [`POSTGRES_URL_ENV`] is not a usable URL.
    #[error("invalid PostgreSQL URL {url:?}: {reason}")]
    Url {
        /// The URL as given.
        url: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A file could not be removed, or a cleanup thread could not run.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// Database backend of a [`TestDb`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// A fresh database on the test PostgreSQL server.
    Postgres,
    /// A fresh SQLite file.
    Sqlite,
}

impl Backend {
    /// Every backend, for tests that run on all of them.
    pub const ALL: [Backend; 2] = [Backend::Postgres, Backend::Sqlite];

    /// The matching sea-orm backend.
    pub fn db_backend(self) -> DbBackend {
        match self {
            Backend::Postgres => DbBackend::Postgres,
            Backend::Sqlite => DbBackend::Sqlite,
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        })
    }
}

/// A database that exists for one test only.
pub struct TestDb {
    conn: DatabaseConnection,
    backend: Backend,
    name: String,
    url: String,
    cleanup: Option<Cleanup>,
}

/// What has to be removed when a [`TestDb`] goes away.
#[derive(Debug)]
enum Cleanup {
    Postgres { admin_url: String, name: String },
    SqliteFile { path: PathBuf },
}

impl TestDb {
    /// Creates an empty database on `backend` and connects to it.
    pub async fn new(backend: Backend) -> Result<Self, TestDbError> {
        match backend {
            Backend::Postgres => Self::postgres().await,
            Backend::Sqlite => Self::sqlite().await,
        }
    }

    /// Creates a database on `backend` and applies every migration.
    pub async fn migrated(backend: Backend) -> Result<Self, TestDbError> {
        let db = Self::new(backend).await?;
        Migrator::up(db.conn(), None).await?;
        Ok(db)
    }

    /// Creates an empty PostgreSQL database on the test server.
    pub async fn postgres() -> Result<Self, TestDbError> {
        let admin_url = postgres_admin_url();
        let admin = connect_admin(&admin_url).await?;
        drop_stale_databases_once(&admin).await;

        let name = new_db_name();
        create_database(&admin, &name).await?;
        admin.close().await?;

        let cleanup = Cleanup::Postgres {
            admin_url: admin_url.clone(),
            name: name.clone(),
        };
        let url = match with_database(&admin_url, &name) {
            Ok(url) => url,
            Err(e) => {
                let _ = cleanup.run().await;
                return Err(e);
            }
        };
        match connect_test_pool(&url).await {
            Ok(conn) => Ok(Self {
                conn,
                backend: Backend::Postgres,
                name,
                url,
                cleanup: Some(cleanup),
            }),
            Err(e) => {
                let _ = cleanup.run().await;
                Err(e.into())
            }
        }
    }

    /// Creates an empty SQLite database file in the temp directory.
    pub async fn sqlite() -> Result<Self, TestDbError> {
        let name = new_db_name();
        let path = std::env::temp_dir().join(format!("{name}.sqlite"));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let cleanup = Cleanup::SqliteFile { path };
        match connect_test_pool(&url).await {
            Ok(conn) => Ok(Self {
                conn,
                backend: Backend::Sqlite,
                name,
                url,
                cleanup: Some(cleanup),
            }),
            Err(e) => {
                let _ = cleanup.run().await;
                Err(e.into())
            }
        }
    }

    /// The connection pool of this database.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// Which backend this database is on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The database name (PostgreSQL) or file stem (SQLite).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A URL that connects to this database (for a second pool).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Closes the connection pool and removes the database.
    pub async fn close(mut self) -> Result<(), TestDbError> {
        self.conn.close_by_ref().await?;
        match self.cleanup.take() {
            Some(cleanup) => cleanup.run().await,
            None => Ok(()),
        }
    }
}

impl fmt::Debug for TestDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestDb")
            .field("backend", &self.backend)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Drop for TestDb {
    /// Removes the database when [`TestDb::close`] was not reached (usually
    /// because the test panicked). Runs on a thread of its own with its own
    /// runtime, so it works inside and outside an async runtime.
    fn drop(&mut self) {
        let Some(cleanup) = self.cleanup.take() else {
            return;
        };
        let worker = std::thread::Builder::new()
            .name("hubsync-testdb-cleanup".to_owned())
            .spawn(move || -> Result<(), TestDbError> {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(cleanup.run())
            });
        let outcome = match worker {
            Ok(handle) => handle.join(),
            Err(e) => Ok(Err(e.into())),
        };
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("warning: could not remove test database {}: {e}", self.name),
            Err(_) => eprintln!("warning: cleanup of test database {} panicked", self.name),
        }
    }
}

impl Cleanup {
    async fn run(self) -> Result<(), TestDbError> {
        match self {
            Cleanup::Postgres { admin_url, name } => {
                let admin = connect_admin(&admin_url).await?;
                let dropped = drop_database(&admin, &name).await;
                let closed = admin.close().await;
                dropped?;
                closed?;
                Ok(())
            }
            Cleanup::SqliteFile { path } => remove_sqlite_files(&path),
        }
    }
}

/// The PostgreSQL server URL from [`POSTGRES_URL_ENV`] or the default.
pub fn postgres_admin_url() -> String {
    std::env::var(POSTGRES_URL_ENV)
        .ok()
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_POSTGRES_URL.to_owned())
}

/// A fresh database name: `hubsync_t_<unix seconds>_<uuid>` (53 characters,
/// under PostgreSQL's limit of 63). The timestamp lets later runs recognise
/// leftovers.
fn new_db_name() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    format!("{DB_PREFIX}{secs}_{}", uuid::Uuid::new_v4().simple())
}

/// When the database `name` was created, if it is one of ours.
fn created_secs(name: &str) -> Option<u64> {
    let rest = name.strip_prefix(DB_PREFIX)?;
    let (secs, id) = rest.split_once('_')?;
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    secs.parse().ok()
}

/// `admin_url` with its database path replaced by `name`.
fn with_database(admin_url: &str, name: &str) -> Result<String, TestDbError> {
    let mut url = url::Url::parse(admin_url).map_err(|e| TestDbError::Url {
        url: admin_url.to_owned(),
        reason: e.to_string(),
    })?;
    if url.cannot_be_a_base() {
        return Err(TestDbError::Url {
            url: admin_url.to_owned(),
            reason: "not a server URL".to_owned(),
        });
    }
    url.set_path(&format!("/{name}"));
    Ok(url.into())
}

async fn connect_admin(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(1)
        .min_connections(0)
        .connect_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    Database::connect(options).await
}

async fn connect_test_pool(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(MAX_TEST_CONNECTIONS)
        .min_connections(0)
        .connect_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    Database::connect(options).await
}

async fn create_database(admin: &DatabaseConnection, name: &str) -> Result<(), DbErr> {
    let sql = format!("CREATE DATABASE {}", quote_ident(name));
    // Concurrent CREATE DATABASE can fail while another session copies the
    // template database; retry a few times.
    let mut attempt = 0;
    loop {
        match admin
            .execute_raw(Statement::from_string(DbBackend::Postgres, sql.clone()))
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if attempt < 5 && e.to_string().contains("is being accessed by other users") => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

async fn drop_database(admin: &DatabaseConnection, name: &str) -> Result<(), DbErr> {
    let quoted = quote_ident(name);
    // `WITH (FORCE)` (PostgreSQL 13+) also ends sessions still connected, e.g.
    // the pool of a test that panicked.
    let forced = admin
        .execute_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"),
        ))
        .await;
    if forced.is_ok() {
        return Ok(());
    }
    admin
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
            [name.into()],
        ))
        .await?;
    admin
        .execute_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("DROP DATABASE IF EXISTS {quoted}"),
        ))
        .await?;
    Ok(())
}

/// Drops leftover test databases older than [`STALE_AFTER`], once per
/// process. Failures are ignored: another process may be doing the same.
async fn drop_stale_databases_once(admin: &DatabaseConnection) {
    static DONE: AtomicBool = AtomicBool::new(false);
    if DONE.swap(true, Ordering::SeqCst) {
        return;
    }
    let Ok(rows) = admin
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT datname FROM pg_database WHERE datname LIKE '{DB_PREFIX}%'"),
        ))
        .await
    else {
        return;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "datname") else {
            continue;
        };
        let stale = created_secs(&name)
            .is_some_and(|created| now.saturating_sub(created) > STALE_AFTER.as_secs());
        if stale {
            let _ = drop_database(admin, &name).await;
        }
    }
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn remove_sqlite_files(path: &Path) -> Result<(), TestDbError> {
    let mut result = Ok(());
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => result = Err(e.into()),
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn db_names_are_recognised_and_fit_postgres() {
        let name = new_db_name();
        assert!(name.len() <= 63, "{name} is too long");
        assert!(created_secs(&name).is_some());
        assert_eq!(created_secs("hubsync_t_12_notauuid"), None);
        assert_eq!(created_secs("other_db"), None);
    }

    #[test]
    fn database_is_replaced_in_url() {
        let url = with_database("postgres://postgres@127.0.0.1:5432/postgres", "x").expect("url");
        assert_eq!(url, "postgres://postgres@127.0.0.1:5432/x");
        let url = with_database("postgres://u:p@h/db?sslmode=disable", "y").expect("url");
        assert_eq!(url, "postgres://u:p@h/y?sslmode=disable");
    }
}
