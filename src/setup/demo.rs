//! `setup --demo`: a sandbox root in a temp dir (kept), a sample server config and client
//! profiles, stand-ins for `systemctl`/`openvpn`/`journalctl`, and the Duo stand-in in-process.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use duo_mock::{MockConfig, MockDuo};

use crate::cli::exit;
use crate::system::host::Host;

const SERVER_CONF: &str = include_str!("../../../assets/demo/server.conf");
const ALICE: &str = include_str!("../../../assets/demo/alice.ovpn");
const BOB: &str = include_str!("../../../assets/demo/bob.ovpn");
const LAPTOP: &str = include_str!("../../../assets/demo/laptop.conf");
const SYSTEMCTL: &str = include_str!("../../../assets/demo/bin/systemctl");
const OPENVPN: &str = include_str!("../../../assets/demo/bin/openvpn");
const JOURNALCTL: &str = include_str!("../../../assets/demo/bin/journalctl");

/// The user the demo's test push goes to (approves).
pub const DEMO_USER: &str = duo_mock::users::APPROVES;

pub struct Demo {
    pub dir: PathBuf,
    pub mock: MockDuo,
    pub skey_file: PathBuf,
    pub ca_file: PathBuf,
    pub bin: PathBuf,
}

impl Demo {
    /// Create the sandbox (kept after the run) and start the stand-in.
    pub fn start() -> Result<Demo, String> {
        let dir = tempfile::Builder::new()
            .prefix("duo-openvpn-demo-")
            .tempdir()
            .map_err(|e| format!("cannot create the sandbox: {e}"))?
            .keep();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| e.to_string())?;
        let host = Host::new(&dir);
        let write = |sys: &str, text: &str, mode: u32| -> Result<(), String> {
            let p = host.path(sys);
            std::fs::create_dir_all(p.parent().expect("absolute"))
                .map_err(|e| format!("{}: {e}", p.display()))?;
            std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))?;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode))
                .map_err(|e| e.to_string())
        };
        write("/etc/openvpn/server/server.conf", SERVER_CONF, 0o644)?;
        write("/home/alice/alice.ovpn", ALICE, 0o600)?;
        write("/root/bob.ovpn", BOB, 0o600)?;
        write("/etc/openvpn/client/laptop.conf", LAPTOP, 0o640)?;
        write("/.demo/bin/systemctl", SYSTEMCTL, 0o755)?;
        write("/.demo/bin/openvpn", OPENVPN, 0o755)?;
        write("/.demo/bin/journalctl", JOURNALCTL, 0o755)?;
        let mock = MockDuo::start(MockConfig::default())
            .map_err(|e| format!("cannot start the Duo stand-in: {e:#}"))?;
        let ca_file = host.path("/.demo/duo-stand-in-ca.pem");
        mock.write_ca(&ca_file)
            .map_err(|e| format!("{}: {e}", ca_file.display()))?;
        // The stand-in's fixed test key, in a file like a real secret would be.
        let skey_file = host.path("/.demo/skey");
        std::fs::write(&skey_file, duo_mock::MOCK_SKEY).map_err(|e| e.to_string())?;
        std::fs::set_permissions(&skey_file, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| e.to_string())?;
        Ok(Demo {
            bin: host.path("/.demo/bin"),
            dir,
            mock,
            skey_file,
            ca_file,
        })
    }

    pub fn host(&self) -> Host {
        Host::new(&self.dir).with_path_first(&self.bin)
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
            let edited = self.dir.join("var/lib/duo-openvpn/manifest.json").exists();
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
