//! The command line: the only place that knows flag names.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Exit codes scripts can rely on.
pub mod exit {
    /// Done; for `test`: the login was allowed.
    pub const OK: u8 = 0;
    /// `test`: the login was denied (including not enrolled and locked out).
    pub const DENIED: u8 = 1;
    /// Usage or configuration error (bad flags, unreadable or invalid files, refused credentials).
    pub const USAGE: u8 = 2;
    /// Duo could not be reached or answered with an error.
    pub const UNAVAILABLE: u8 = 3;
}

#[derive(Debug, Parser)]
#[command(
    name = "duo-openvpn",
    version,
    about = "Duo two-factor authentication for OpenVPN",
    long_about = "Duo two-factor authentication for OpenVPN (Community server and Access Server).\n\n\
                  Exit codes: 0 success (test: allowed), 1 denied, 2 usage or configuration error, \
                  3 Duo unreachable or answering with an error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send a live Duo login (push, phone call, SMS or passcode) for USER and show the outcome.
    Test(TestArgs),
}

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// The Duo user name to test.
    pub user: String,
    /// What to send: auto, push, phone, sms (optionally with a device number, like push2), or
    /// `passcode` to type a one-time passcode at a prompt (or pass it in DUO_PASSCODE).
    #[arg(long, default_value = "auto", value_name = "FACTOR")]
    pub factor: String,
    /// The configuration to use, read where it is given [default: /etc/duo-openvpn/duo.toml under --root].
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Treat DIR as the root of the managed system.
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
    /// The client address to report to Duo.
    #[arg(long, value_name = "IP")]
    pub ipaddr: Option<std::net::IpAddr>,
}
