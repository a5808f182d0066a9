use std::process::ExitCode;

use clap::Parser;

mod cli;
mod commands;
mod system;
mod ui;
mod wizard;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let code = match cli.command {
        cli::Command::Setup(args) => commands::setup::run(*args),
        cli::Command::Uninstall(args) => commands::uninstall::run(args),
        cli::Command::Status(args) => commands::status::run(args),
        cli::Command::Test(args) => commands::test::run(args),
    };
    ExitCode::from(code)
}
