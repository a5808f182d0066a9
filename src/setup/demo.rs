//! `setup --demo`: a sandbox root in a temp dir (kept), a sample server config and client
//! profiles, stand-ins for `systemctl`/`openvpn`/`journalctl`, and the Duo stand-in in-process.
//! `setup --demo --target access-server`: the same with Access Server instead, a stand-in `sacli`
//! keeping its configuration database in the sandbox.

use std::path::PathBuf;

use duo_mock::{MockConfig, MockDuo};

use crate::cli::{Target, exit};
use crate::system::files;
use crate::system::host::Host;
use crate::system::process::Process;
use crate::system::receipt::manifest_path;

const SERVER_CONF: &str = include_str!("../../assets/demo/server.conf");
const ALICE: &str = include_str!("../../assets/demo/alice.ovpn");
const BOB: &str = include_str!("../../assets/demo/bob.ovpn");
const LAPTOP: &str = include_str!("../../assets/demo/laptop.conf");
const SYSTEMCTL: &str = include_str!("../../assets/demo/bin/systemctl");
const OPENVPN: &str = include_str!("../../assets/demo/bin/openvpn");
const JOURNALCTL: &str = include_str!("../../assets/demo/bin/journalctl");
const SACLI: &str = include_str!("../../assets/demo/sacli");
/// The stand-in sacli's configuration database, as a fresh Access Server has it (the keys setup
/// reads; no post-auth script loaded).
const AS_CONFIG: &str = r#"{
  "auth.module.type": "local",
  "host.name": "vpn.example.org",
  "vpn.server.google_auth.enable": "false"
}
"#;
/// Where the stand-in keeps it.
pub const AS_CONFIG_DB: &str = "/usr/local/openvpn_as/etc/fake-config.json";

/// The user the demo's test push goes to (approves).
pub const DEMO_USER: &str = duo_mock::users::APPROVES;

pub struct Demo {
    pub dir: PathBuf,
    process: Process,
    pub mock: MockDuo,
    pub skey_file: PathBuf,
    pub ca_file: PathBuf,
    pub bin: PathBuf,
    pub target: Target,
}

impl Demo {
    /// Create the sandbox (kept after the run) and start the stand-in.
    pub fn start(process: &Process, target: Target) -> Result<Demo, String> {
        let dir = files::new_sandbox("duo-openvpn-demo-")
            .map_err(|e| format!("cannot create the sandbox: {e:#}"))?;
        let host = Host::new(&dir, process);
        let tree = host.root.tree();
        let common: &[(&str, &[u8], u32)] = &[
            ("/.demo/bin/systemctl", SYSTEMCTL.as_bytes(), 0o755),
            ("/.demo/bin/openvpn", OPENVPN.as_bytes(), 0o755),
            ("/.demo/bin/journalctl", JOURNALCTL.as_bytes(), 0o755),
            // The stand-in's fixed test key, in a file like a real secret would be.
            ("/.demo/skey", duo_mock::MOCK_SKEY.as_bytes(), 0o600),
        ];
        let access_server: &[(&str, &[u8], u32)] = &[
            (crate::system::detect::SACLI, SACLI.as_bytes(), 0o755),
            (AS_CONFIG_DB, AS_CONFIG.as_bytes(), 0o600),
        ];
        let community: &[(&str, &[u8], u32)] = &[
            (
                "/etc/openvpn/server/server.conf",
                SERVER_CONF.as_bytes(),
                0o644,
            ),
            ("/home/alice/alice.ovpn", ALICE.as_bytes(), 0o600),
            ("/root/bob.ovpn", BOB.as_bytes(), 0o600),
            ("/etc/openvpn/client/laptop.conf", LAPTOP.as_bytes(), 0o640),
        ];
        let own = match target {
            Target::Community => community,
            Target::AccessServer => access_server,
        };
        files::populate(&tree, &[own, common].concat()).map_err(|e| format!("{e:#}"))?;
        let mock = MockDuo::start(MockConfig::default())
            .map_err(|e| format!("cannot start the Duo stand-in: {e:#}"))?;
        let ca_file = host.path("/.demo/duo-stand-in-ca.pem");
        mock.write_ca(&ca_file)
            .map_err(|e| format!("{}: {e}", ca_file.display()))?;
        let skey_file = host.path("/.demo/skey");
        Ok(Demo {
            bin: host.path("/.demo/bin"),
            process: process.clone(),
            dir,
            mock,
            skey_file,
            ca_file,
            target,
        })
    }

    pub fn host(&self) -> Host {
        Host::new(&self.dir, &self.process).with_path_first(&self.bin)
    }

    /// Where setup reaches the stand-in: its IP address, not `localhost`, because a minimal
    /// system (a container, a debootstrap tree) has no `/etc/hosts` to resolve that name.
    pub fn duo_host(&self) -> String {
        self.mock.addr_host()
    }

    pub fn ikey(&self) -> &'static str {
        duo_mock::MOCK_IKEY
    }

    /// What to look at afterwards, given setup's exit code. After a failure the sandbox may
    /// hold no edit at all (setup stops before its first write): say what failed, and point at
    /// edits only where the manifest shows there are some.
    pub fn epilogue(&self, code: u8) -> String {
        let d = self.dir.display();
        if code != exit::OK {
            let what = match code {
                exit::USAGE => "a usage or configuration error",
                exit::UNAVAILABLE => {
                    "Duo (the stand-in) could not be reached or answered with an error"
                }
                exit::DENIED => "the test push was denied",
                _ => "an error",
            };
            let edited = self
                .host()
                .root
                .tree()
                .entry(&manifest_path())
                .is_ok_and(|e| e.is_some());
            let next = if edited {
                format!(
                    "Some edits were made before it stopped:\n  \
                     diff -ru {d}/var/lib/duo-openvpn/backup/etc {d}/etc   every edit as a diff\n\
                     Undo them:  duo-openvpn uninstall --root {d} --yes"
                )
            } else {
                format!("Nothing in the sandbox was edited; remove it with: rm -rf {d}")
            };
            return format!(
                "The demo FAILED (exit {code}: {what}; the error is above).\n\
                 The demo sandbox is kept at {d}\n{next}"
            );
        }
        if self.target == Target::AccessServer {
            return format!(
                "The demo sandbox is kept at {d}\n\
                 Look at:\n  \
                 {d}{AS_CONFIG_DB}   the stand-in sacli's configuration database\n    \
                 (auth.module.post_auth_script holds the installed script)\n  \
                 {d}/usr/local/openvpn_as/sacli-calls.log   every sacli call setup made\n  \
                 {d}/var/lib/duo-openvpn/manifest.json   what uninstall will undo\n\
                 Undo it all:  duo-openvpn uninstall --root {d} --yes"
            );
        }
        format!(
            "The demo sandbox is kept at {d}\n\
             Look at:\n  \
             {d}/etc/openvpn/server/server.conf   the edited server config\n  \
             {d}/etc/duo-openvpn/duo.toml         the Duo configuration (mode 0640)\n  \
             {d}/var/lib/duo-openvpn/manifest.json  what uninstall will undo (backups beside it)\n  \
             {d}/.demo/bin/calls.log              what setup asked systemctl and openvpn\n  \
             diff -ru {d}/var/lib/duo-openvpn/backup/etc {d}/etc   every edit as a diff\n\
             Undo it all:  duo-openvpn uninstall --root {d} --yes\n\
             (The Duo stand-in stopped with this program; `duo-openvpn test` needs it running.)"
        )
    }
}

/// A run's duration as a person reads it: milliseconds under a second (a fast failure is not
/// "0.0s"), tenths of a second above.
pub fn duration(d: std::time::Duration) -> String {
    if d < std::time::Duration::from_secs(1) {
        format!("{} ms", d.as_millis().max(1))
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::duration;
    use std::time::Duration;

    #[test]
    fn durations_read_as_measured() {
        assert_eq!(duration(Duration::from_micros(44_300)), "44 ms");
        assert_eq!(duration(Duration::from_micros(300)), "1 ms");
        assert_eq!(duration(Duration::from_millis(999)), "999 ms");
        assert_eq!(duration(Duration::from_millis(1_149)), "1.1s");
        assert_eq!(duration(Duration::from_secs(75)), "75.0s");
    }
}
