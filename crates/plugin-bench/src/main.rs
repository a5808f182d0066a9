//! `plugin-bench`: what a login costs the VPN server, measured by driving a plugin `.so`
//! exactly as OpenVPN does, against the Duo stand-in in a separate process.
//!
//! ```text
//! plugin-bench [suite] [--so PATH] [--logins 1,100,1000,10000] [--push-delay SECS] ...
//! plugin-bench login --so PATH --arg duo.toml --logins N       one run; prints JSON
//! plugin-bench setup-bench --duo-openvpn PATH --so PATH ...    setup/uninstall over profiles
//! plugin-bench mock --port 0 --ca-out PATH --push-delay SECS   the stand-in (fallback)
//! ```
//! Figures are printed, never asserted.

mod abi;
mod host;
mod login;
mod mock;
mod procfs;
mod setup_bench;
mod stats;
mod suite;
mod watch;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "plugin-bench",
    about = "Measure what a login costs an OpenVPN server, per plugin"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Every run (the default): logins at each count, throughput, a fork-per-login plugin for
    /// comparison, setup/uninstall; prints tables.
    Suite(suite::SuiteArgs),
    /// One run in this process, which plays OpenVPN; prints its report as JSON.
    Login(login::LoginArgs),
    /// setup --yes and uninstall --yes over many client profiles; prints JSON.
    SetupBench(setup_bench::SetupArgs),
    /// The Duo stand-in (the duo-mock binary's interface), for when it is not built.
    Mock(mock::ServeArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        None => suite::run(&suite::SuiteArgs::parse_from(["suite"])),
        Some(Cmd::Suite(a)) => suite::run(&a),
        Some(Cmd::Login(a)) => {
            let r = login::run(&a)?;
            println!("{}", serde_json::to_string(&r)?);
            if !r.problems.is_empty() {
                for p in &r.problems {
                    eprintln!("plugin-bench: {p}");
                }
                std::process::exit(1);
            }
            Ok(())
        }
        Some(Cmd::SetupBench(a)) => {
            let r = setup_bench::run(&a)?;
            println!("{}", serde_json::to_string(&r)?);
            Ok(())
        }
        Some(Cmd::Mock(a)) => mock::serve(&a),
    }
}
