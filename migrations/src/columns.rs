//! Column builders shared by the migrations.
//!
//! Released migrations depend on these helpers, so their output must never
//! change: add new helpers instead of editing existing ones.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// Server-side "now" default for a `timestamp with time zone` column.
///
/// PostgreSQL uses `CURRENT_TIMESTAMP`. SQLite stores these columns as text,
/// and its `CURRENT_TIMESTAMP` (`YYYY-MM-DD HH:MM:SS`) would not sort together
/// with the RFC 3339 text the application writes, so SQLite gets an RFC 3339
/// UTC timestamp with millisecond precision instead.
fn now_default(backend: DbBackend) -> Expr {
    match backend {
        DbBackend::Sqlite => Expr::cust("(strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))"),
        _ => Expr::current_timestamp(),
    }
}

/// `NOT NULL` timestamp with time zone defaulting to the current time.
pub(crate) fn timestamp_now<T: IntoIden>(backend: DbBackend, col: T) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .default(now_default(backend))
        .take()
}

/// `created_at`, set by the database when the application does not.
pub(crate) fn created_at(backend: DbBackend) -> ColumnDef {
    timestamp_now(backend, Timestamps::CreatedAt)
}

/// `updated_at`, set by the database on insert when the application does not.
pub(crate) fn updated_at(backend: DbBackend) -> ColumnDef {
    timestamp_now(backend, Timestamps::UpdatedAt)
}

/// `NOT NULL` JSON column (`jsonb` on PostgreSQL, text on SQLite) with a
/// constant JSON default such as `"[]"`.
pub(crate) fn json_with_default<T: IntoIden>(col: T, default_json: &str) -> ColumnDef {
    ColumnDef::new(col)
        .json_binary()
        .not_null()
        .default(default_json)
        .take()
}

/// Foreign key `from_table.from_col -> to_table.to_col` named
/// `fk_<from_table>_<from_col>`.
pub(crate) fn foreign_key<FT, FC, TT, TC>(
    from_table: FT,
    from_col: FC,
    to_table: TT,
    to_col: TC,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement
where
    FT: IntoIden,
    FC: IntoIden,
    TT: IntoIden,
    TC: IntoIden,
{
    let from_table = from_table.into_iden();
    let from_col = from_col.into_iden();
    ForeignKey::create()
        .name(format!("fk_{from_table}_{from_col}"))
        .from(from_table, from_col)
        .to(to_table, to_col)
        .on_delete(on_delete)
        .on_update(ForeignKeyAction::Cascade)
        .take()
}

#[derive(DeriveIden)]
enum Timestamps {
    CreatedAt,
    UpdatedAt,
}
