//! CRM v3 objects: contacts, companies, deals, custom objects (§3).

mod batch_read;
mod batch_update;
mod get;
mod list;
mod search;
mod update;

pub use batch_read::BatchReadObjects;
pub use batch_update::{BatchUpdateInput, BatchUpdateObjects};
pub use get::GetObject;
pub use list::ListObjects;
pub use search::SearchObjects;
pub use update::UpdateObject;

/// Most inputs of an object batch call.
pub const BATCH_MAX_INPUTS: usize = 100;
