//! The setup wizard (TUI): model, update, view.

use crate::cli::SetupArgs;
use crate::commands::setup::demo::Demo;
use crate::system::detect::Detection;
use crate::system::host::Host;

pub fn run(
    _args: &SetupArgs,
    _host: Host,
    _detection: Detection,
    _skey_env: Option<String>,
    _demo: Option<&Demo>,
) -> u8 {
    eprintln!("the interactive wizard is not available yet: use --yes with flags");
    crate::cli::exit::USAGE
}
