//! One module per subcommand.

pub mod setup;
pub mod status;
pub mod test;
pub mod uninstall;
