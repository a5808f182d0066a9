//! End-to-end harness shared by the plugin's and the wizard's tests: a real OpenVPN server
//! (Debian's `openvpn`) with our plugin, real OpenVPN clients answered through their
//! management interface, certificates, and the `duo.toml` the server reads. Everything runs on
//! loopback; every process is killed when its handle drops.
//!
//! ```no_run
//! # fn main() -> std::io::Result<()> {
//! if !testkit::e2e_enabled() { return Ok(()); }      // root + /dev/net/tun, or skipped
//! let _turn = testkit::exclusive();                    // one OpenVPN-as-nobody test at a time
//! let dir = testkit::workdir()?;
//! let pki = testkit::Pki::generate(dir.path(), &["alice"])?;
//! // write duo.toml with testkit::write_duo_toml, then:
//! let server = testkit::ServerOptions::new(&pki, 11, dir.path().join("duo.toml")).start()?;
//! let mut client = testkit::ClientOptions::new(&pki, &server, "alice", "push").start()?;
//! assert!(client.wait_outcome(std::time::Duration::from_secs(30)).is_connected());
//! # Ok(()) }
//! ```
//!
//! Finding the plugin: see [`plugin_so`]. Cargo builds the cdylib whenever it builds the
//! `duo-openvpn-plugin` library, which it does for that package's own tests; a test in another
//! package needs `duo-openvpn-plugin` as a dev-dependency (or a prior `cargo build -p
//! duo-openvpn-plugin`), or `DUO_OPENVPN_PLUGIN_SO` pointing at the file.
//!
//! Unprivileged user: servers drop to `nobody`/`nogroup` under `prlimit --nproc=10:10` (Debian's
//! `LimitNPROC=10`). That limit counts every task of the user `nobody` on the machine, so two
//! such servers at once would eat each other's budget: hold [`exclusive`] for a server's life.

mod client;
mod files;
mod lock;
mod mgmt_client;
mod pki;
mod ports;
mod process;
mod server;
mod so;

pub use client::{Client, ClientOptions, Outcome};
pub use files::{nogroup_gid, workdir, write_duo_toml};
pub use lock::{Exclusive, exclusive};
pub use mgmt_client::{CrTextClient, Crv1Client};
pub use pki::Pki;
pub use ports::{free_tcp_port, free_udp_port};
pub use process::tail;
pub use server::{Server, ServerOptions};
pub use so::plugin_so;

/// Set to `1` to skip end-to-end tests where they cannot run (not root, no `/dev/net/tun`).
pub const SKIP_ENV: &str = "DUO_OPENVPN_SKIP_E2E";

/// Whether end-to-end tests can run here. Not root or no `/dev/net/tun` is a failure (panic)
/// with the reason, unless `DUO_OPENVPN_SKIP_E2E=1`, which makes this return `false`.
pub fn e2e_enabled() -> bool {
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let tun = std::path::Path::new("/dev/net/tun").exists();
    let openvpn = process::find_program("openvpn").is_some();
    let problem = if !root {
        Some("not running as root (OpenVPN needs it to open a tun device)")
    } else if !tun {
        Some("/dev/net/tun is missing")
    } else if !openvpn {
        Some("`openvpn` is not installed (apt-get install openvpn)")
    } else {
        None
    };
    match problem {
        None => true,
        Some(p) if std::env::var(SKIP_ENV).as_deref() == Ok("1") => {
            eprintln!("end-to-end test skipped: {p} ({SKIP_ENV}=1)");
            false
        }
        Some(p) => panic!(
            "end-to-end tests need root, /dev/net/tun and openvpn: {p}. \
             Set {SKIP_ENV}=1 to skip them."
        ),
    }
}
