//! Small pieces of terminal output shared by the commands.

pub mod spinner;
