//! One module per subcommand.

pub mod api;
pub mod background;
pub mod bench;
pub mod dev;
pub mod migrate;
pub mod queue_probe;
pub mod sim;
