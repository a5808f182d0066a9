//! One module per subcommand.

pub mod test;
