//! Opening the database by URL.

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// Connection options for `url`, with hubsync's SQLite defaults applied.
///
/// For `sqlite:` URLs:
/// * the database file is created if missing (like `?mode=rwc`), unless the
///   URL chooses a `mode` itself (`ro`, `rw`, `memory`);
/// * foreign keys are enforced (`PRAGMA foreign_keys = ON`), which the
///   schema's `ON DELETE CASCADE`/`SET NULL` rely on;
/// * for `sqlite::memory:` the single pooled connection is kept open for the
///   life of the pool, since closing it would discard the database.
///
/// Other URLs (`postgres://…`) are passed through unchanged. Callers may
/// adjust the returned options (pool size, timeouts) before connecting.
pub fn connect_options(url: &str) -> ConnectOptions {
    let mut options = ConnectOptions::new(url);
    if let Some(sqlite) = SqliteUrl::parse(url) {
        let create_if_missing = !sqlite.has_mode;
        options.map_sqlx_sqlite_opts(move |opts| {
            let opts = opts.foreign_keys(true);
            if create_if_missing {
                opts.create_if_missing(true)
            } else {
                opts
            }
        });
        if sqlite.in_memory {
            options
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        }
    }
    options
}

/// Connects to `url` (PostgreSQL or SQLite) with [`connect_options`].
///
/// `connect("sqlite://hubsync.sqlite")` creates `hubsync.sqlite` in the
/// working directory on first use.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    Database::connect(connect_options(url)).await
}

/// What [`connect_options`] needs to know about a `sqlite:` URL.
#[derive(Debug, PartialEq, Eq)]
struct SqliteUrl {
    in_memory: bool,
    has_mode: bool,
}

impl SqliteUrl {
    fn parse(url: &str) -> Option<Self> {
        let rest = url.strip_prefix("sqlite:")?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut has_mode = false;
        let mut memory_mode = false;
        for (key, value) in query.split('&').filter_map(|pair| pair.split_once('=')) {
            if key == "mode" {
                has_mode = true;
                memory_mode = value == "memory";
            }
        }
        let path = path.trim_start_matches('/');
        let in_memory = memory_mode || path == ":memory:" || path.is_empty();
        Some(Self {
            in_memory,
            has_mode,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::SqliteUrl;

    fn parse(url: &str) -> Option<SqliteUrl> {
        SqliteUrl::parse(url)
    }

    #[test]
    fn recognises_sqlite_urls() {
        assert_eq!(parse("postgres://u@h/db"), None);
        assert_eq!(
            parse("sqlite://hubsync.sqlite"),
            Some(SqliteUrl {
                in_memory: false,
                has_mode: false
            })
        );
        assert_eq!(
            parse("sqlite:///var/lib/hubsync/db.sqlite?mode=ro"),
            Some(SqliteUrl {
                in_memory: false,
                has_mode: true
            })
        );
        assert_eq!(
            parse("sqlite::memory:"),
            Some(SqliteUrl {
                in_memory: true,
                has_mode: false
            })
        );
        assert_eq!(
            parse("sqlite://shared?mode=memory&cache=shared"),
            Some(SqliteUrl {
                in_memory: true,
                has_mode: true
            })
        );
    }
}
