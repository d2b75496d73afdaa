//! One module per subcommand.

pub mod api;
pub mod background;
pub mod dev;
pub mod migrate;
pub mod sim;
