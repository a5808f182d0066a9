//! duo-openvpn: Duo two-factor authentication for OpenVPN. The binary is a thin `main` over
//! [`run`]; the engine lives in [`setup`], the host in [`system`] (the only code that touches
//! files, programs or the environment), the screens in [`wizard`] and [`ui`].

pub mod cli;
pub mod commands;
pub mod setup;
pub mod system;
pub mod ui;
pub mod wizard;

use clap::Parser;

use system::process::Process;

/// Runs one command line with this process environment; returns the exit code.
pub fn run(process: &Process) -> u8 {
    let cli = match cli::Cli::try_parse_from(&process.args) {
        Ok(c) => c,
        Err(e) => {
            // --help and --version print to stdout and exit 0; usage errors exit 2.
            let _ = e.print();
            return e.exit_code() as u8;
        }
    };
    match cli.command {
        cli::Command::Setup(args) => commands::setup::run(*args, process),
        cli::Command::Uninstall(args) => commands::uninstall::run(args, process),
        cli::Command::Status(args) => commands::status::run(args, process),
        cli::Command::Test(args) => commands::test::run(args, process),
    }
}
