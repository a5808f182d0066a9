use std::process::ExitCode;

use clap::Parser;

mod cli;
mod commands;
mod system;
mod ui;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let code = match cli.command {
        cli::Command::Test(args) => commands::test::run(args),
    };
    ExitCode::from(code)
}
