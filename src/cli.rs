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
    /// Put Duo in front of OpenVPN: detect, check the credentials, edit the configs, install the
    /// plugin, restart, send a test push. A wizard on a terminal; `--yes` with flags otherwise.
    Setup(Box<SetupArgs>),
    /// Undo everything setup did, as recorded in its manifest.
    Uninstall(UninstallArgs),
    /// What is installed where, whether it is valid, whether Duo answers.
    Status(StatusArgs),
    /// Send a live Duo login (push, phone call, SMS or passcode) for USER and show the outcome.
    Test(TestArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    Community,
    AccessServer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailmodeArg {
    Secure,
    Safe,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum UsernameFromArg {
    CommonName,
    Username,
}

#[derive(Debug, Clone, clap::Args)]
#[command(
    after_help = "The secret key is never a flag value (argv is visible to every user): give it \
                        with --skey-file PATH or the DUO_SKEY environment variable.\n\
                        Without a terminal every answer must come from flags; missing ones are listed (exit 2)."
)]
pub struct SetupArgs {
    /// Apply without asking: every answer from flags (needed without a terminal).
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Print the plan and the diffs; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The whole wizard in a throw-away sandbox with a built-in Duo stand-in.
    #[arg(long)]
    pub demo: bool,
    /// Ask in plain lines, one prompt after another, instead of the full-screen wizard (also
    /// chosen by TERM=dumb or a terminal narrower than 80 columns).
    #[arg(long)]
    pub plain: bool,
    /// Which OpenVPN to set up, when both are installed.
    #[arg(long, value_enum)]
    pub target: Option<Target>,
    /// Duo integration key (DI…).
    #[arg(long, value_name = "IKEY")]
    pub ikey: Option<String>,
    /// File holding the Duo secret key (or set DUO_SKEY).
    #[arg(long, value_name = "PATH")]
    pub skey_file: Option<PathBuf>,
    /// Duo API hostname (api-xxxxxxxx.duosecurity.com).
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// A CA bundle replacing Duo's pinned roots; copied to /etc/duo-openvpn/ca.pem.
    #[arg(long, value_name = "PATH")]
    pub ca_file: Option<PathBuf>,
    /// HTTP CONNECT proxy for Duo (http://host:port).
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// When Duo cannot be reached: secure refuses logins, safe lets them in [default: secure].
    #[arg(long, value_enum)]
    pub failmode: Option<FailmodeArg>,
    /// Which OpenVPN identity is the Duo user [default: from the server config].
    #[arg(long, value_enum)]
    pub username_from: Option<UsernameFromArg>,
    /// The server config to edit (a path on the managed system) [default: the only one found].
    #[arg(long, value_name = "PATH")]
    pub server_config: Option<String>,
    /// A client profile to edit; a directory means every .ovpn in it. Repeatable.
    #[arg(long = "client-config", value_name = "PATH")]
    pub client_configs: Vec<String>,
    /// Leave the templates of Nyr's and angristan's openvpn-install and of PiVPN alone (by
    /// default they are edited, so that profiles made from now on carry the client lines).
    #[arg(long)]
    pub no_client_templates: bool,
    /// Do not restart the OpenVPN service.
    #[arg(long)]
    pub no_restart: bool,
    /// Session tokens (OpenVPN 2.5+): after a Duo login the server hands the client a token, and
    /// key renegotiations are allowed on it without asking Duo again, instead of `reneg-sec 0`.
    #[arg(long)]
    pub session_tokens: bool,
    /// How long a session token lasts, in seconds [default: 43200, 12 hours].
    #[arg(long, value_name = "SECS", requires = "session_tokens")]
    pub session_lifetime: Option<u64>,
    /// Access Server: replace another post-auth script (uninstall puts it back).
    #[arg(long)]
    pub replace_post_auth_script: bool,
    /// Push to the user's default device without asking for a factor (Community: `autopush` in
    /// duo.toml, instead of a CR_TEXT prompt; Access Server: AUTOPUSH).
    #[arg(long)]
    pub autopush: bool,
    /// Verified Duo Push: the user types a code shown by the VPN client into Duo Mobile (the
    /// client shows it after a first refusal, as a challenge). Not with --autopush.
    #[arg(long, conflicts_with = "autopush")]
    pub verified_push: bool,
    /// Access Server: ask for Duo on web logins only, not on VPN connections.
    #[arg(long)]
    pub skip_duo_for_vpn: bool,
    /// Send a live test push to USER at the end (a refusal exits 1, after the changes).
    #[arg(long, value_name = "USER")]
    pub test_user: Option<String>,
    /// Treat DIR as the root of the managed system.
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
    /// The plugin library to install [default: next to this binary; or DUO_OPENVPN_PLUGIN_SO].
    #[arg(long, value_name = "PATH")]
    pub plugin_so: Option<PathBuf>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct UninstallArgs {
    /// Undo without asking (needed without a terminal).
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Show what would be undone; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not restart the OpenVPN service.
    #[arg(long)]
    pub no_restart: bool,
    /// Treat DIR as the root of the managed system.
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
}

#[derive(Debug, Clone, clap::Args)]
pub struct StatusArgs {
    /// Treat DIR as the root of the managed system.
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
    /// One JSON object on stdout.
    #[arg(long)]
    pub json: bool,
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
