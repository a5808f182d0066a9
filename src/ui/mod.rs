//! Small pieces of terminal output shared by the commands, and the line mode's prompts.

pub mod line;
pub mod report;
pub mod spinner;
