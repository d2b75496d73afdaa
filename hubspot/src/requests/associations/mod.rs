//! Associations v4 (§6).

mod list;

pub use list::ListAssociations;
