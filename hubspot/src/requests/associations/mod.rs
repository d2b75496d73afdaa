//! Associations v4 (§6).

mod labels;
mod list;

pub use labels::ListAssociationLabels;
pub use list::ListAssociations;
