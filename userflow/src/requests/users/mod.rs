//! `/users` endpoints.

mod delete;
mod find_by_email;
mod get;
mod list;
mod upsert;

pub use delete::Delete;
pub use find_by_email::FindByEmail;
pub use get::Get;
pub use list::List;
pub use upsert::{GroupInput, MembershipInput, Upsert};
