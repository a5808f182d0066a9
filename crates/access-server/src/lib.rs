//! Duo for OpenVPN Access Server: our post-auth script and its installation with `sacli`.
//!
//! Access Server cannot load OpenVPN plugins; it runs one Python post-auth script, kept in its
//! configuration database. This crate
//! - renders that script ([`render_script`]) from `assets/access-server/duo_post_auth.py`
//!   with the credentials and options, every value as an escaped Python literal;
//! - finds Access Server under a root prefix ([`sacli::detect`]) and reads what matters before
//!   installing ([`inspect`]: TOTP MFA, SAML, another post-auth script);
//! - installs ([`install`]) and removes ([`uninstall`]) the script through a [`Sacli`] runner,
//!   returning records for the manifest.
//!
//! Nothing here knows about terminals; all host access goes through the [`Sacli`] given.
//!
//! # How setup and uninstall use it
//!
//! ```no_run
//! # fn demo(root: &std::path::Path, settings: &duo::DuoSettings, consent: bool,
//! #         earlier: Option<&access_server::InstallRecord>) -> Result<(), access_server::Error> {
//! use access_server::*;
//! let sacli = SacliCommand::detect(root).expect("Access Server is installed under root");
//! let mut opts = RenderOptions::from_settings(settings)?; // reads ca_file, parses proxy
//! opts.autopush = false;
//! opts.skip_duo_for_vpn = false;
//! opts.validate()?;
//! let script = render_script(&opts);
//! let found = inspect(&sacli)?; // sacli Version, sacli ConfigQuery
//! for w in found.warnings() { println!("warning: {w}"); } // TOTP MFA, SAML, another script
//! for l in install::describe_install(&found, &script, consent) { println!("{l}"); } // the plan
//! let record = install(&sacli, &found, &script,
//!     &InstallOptions { replace_foreign_script: consent, temp_dir: None }, earlier)?;
//! // … store `record` (serde) in the manifest, root-only: `previous` may hold another script.
//! let report = uninstall(&sacli, &record, None)?; // ConfigQuery; ConfigDel or put back; start
//! # let _ = report; Ok(()) }
//! ```

pub mod install;
pub mod render;
pub mod sacli;
pub mod summary;

use std::path::PathBuf;

pub use install::{
    Inspection, InstallOptions, InstallRecord, UninstallOutcome, UninstallReport, inspect, install,
    install_recorded, uninstall,
};
pub use render::{Proxy, RenderOptions, render_script};
pub use sacli::{Sacli, SacliCommand, detect};
pub use summary::ScriptSummary;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting cannot go into the script (bad CA file, proxy URL, key shape).
    #[error("{0}")]
    Settings(String),
    #[error("{}: cannot run sacli: {source}", path.display())]
    Spawn {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`sacli {args}` failed ({status}): {output}")]
    Sacli {
        args: String,
        status: String,
        output: String,
    },
    #[error("`sacli ConfigQuery` did not print Access Server's configuration: {0}")]
    Query(String),
    /// Another post-auth script is installed and replacing it was not agreed to. `summary` is
    /// [`ScriptSummary`]'s text: never the script itself, which may hold secrets.
    #[error(
        "Access Server already has a post-auth script ({lines} lines), and it runs only one; \
         replacing it needs explicit consent (it would be kept and put back by uninstall). \
         It is {summary}"
    )]
    ForeignScript { lines: usize, summary: String },
    #[error("{0}")]
    Io(String),
}
