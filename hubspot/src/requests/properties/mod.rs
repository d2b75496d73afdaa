//! Properties and property groups (§5).

mod create;
mod create_group;
mod get;
mod get_group;
mod list;

pub use create::CreateProperty;
pub use create_group::CreatePropertyGroup;
pub use get::GetProperty;
pub use get_group::GetPropertyGroup;
pub use list::ListProperties;
