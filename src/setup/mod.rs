//! The setup engine, with no terminal in it: answers (flags, the wizard and Access Server build
//! the same [`plan::Answers`]), the plan (pure over what detection read), effects as values and
//! the one runner that executes them through `src/system`, and the exit code each report
//! means. `commands::setup` (flags and `--yes`) and the wizard both drive it.
pub mod access;
pub mod answers;
pub mod demo;
pub mod effect;
pub mod plan;
pub mod undo;
