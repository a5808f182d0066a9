//! Sandboxes for the binary's end-to-end tests: a root with a server config and client profiles,
//! a recording fake `systemctl`/`openvpn`/`journalctl` first on PATH, the tree's hash.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub mod tmux;

pub const BIN: &str = env!("CARGO_BIN_EXE_duo-openvpn");
pub const ASSETS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo");

pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub bin: tempfile::TempDir,
    /// Inputs given to the tool (skey file, CA), outside the root.
    pub inputs: tempfile::TempDir,
}

pub fn write(path: &Path, text: &[u8], mode: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

impl Sandbox {
    /// The demo's layout: a server config, alice.ovpn, bob.ovpn, a client .conf.
    pub fn new() -> Sandbox {
        let s = Sandbox {
            dir: tempfile::tempdir().unwrap(),
            bin: tempfile::tempdir().unwrap(),
            inputs: tempfile::tempdir().unwrap(),
        };
        std::fs::set_permissions(s.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let asset = |n: &str| std::fs::read(Path::new(ASSETS).join(n)).unwrap();
        write(
            &s.path("/etc/openvpn/server/server.conf"),
            &asset("server.conf"),
            0o644,
        );
        write(
            &s.path("/home/alice/alice.ovpn"),
            &asset("alice.ovpn"),
            0o600,
        );
        write(&s.path("/root/bob.ovpn"), &asset("bob.ovpn"), 0o600);
        write(
            &s.path("/etc/openvpn/client/laptop.conf"),
            &asset("laptop.conf"),
            0o640,
        );
        for prog in ["systemctl", "openvpn", "journalctl"] {
            write(
                &s.bin.path().join(prog),
                &asset(&format!("bin/{prog}")),
                0o755,
            );
        }
        s
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, sys: &str) -> PathBuf {
        self.dir.path().join(sys.trim_start_matches('/'))
    }

    /// A fake plugin library (an input, outside the root).
    pub fn fake_plugin(&self) -> PathBuf {
        let p = self.inputs.path().join("libduo_openvpn_plugin.so");
        write(&p, b"\x7fELF fake plugin for tests\n", 0o644);
        p
    }

    pub fn skey_file(&self, skey: &str) -> PathBuf {
        let p = self.inputs.path().join("skey");
        write(&p, format!("{skey}\n").as_bytes(), 0o600);
        p
    }

    /// The binary with the fake programs first on PATH, no stdin, no terminal.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args);
        let path = format!(
            "{}:{}",
            self.bin.path().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        c.env("PATH", path)
            .env_remove("DUO_SKEY")
            .env_remove("DUO_OPENVPN_PLUGIN_SO")
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// What the fake programs were asked.
    pub fn calls(&self) -> String {
        std::fs::read_to_string(self.bin.path().join("calls.log")).unwrap_or_default()
    }

    /// `setup --yes` in this sandbox against the stand-in `mock`, editing `clients`.
    pub fn setup_args(&self, mock: &duo_mock::MockDuo, clients: &[&str]) -> Vec<String> {
        let ca = self.inputs.path().join("mock-ca.pem");
        mock.write_ca(&ca).unwrap();
        let skey = self.skey_file(duo_mock::MOCK_SKEY);
        let mut a: Vec<String> = vec![
            "setup".into(),
            "--yes".into(),
            "--root".into(),
            self.root().display().to_string(),
            "--ikey".into(),
            duo_mock::MOCK_IKEY.into(),
            "--skey-file".into(),
            skey.display().to_string(),
            "--host".into(),
            mock.host(),
            "--ca-file".into(),
            ca.display().to_string(),
            "--plugin-so".into(),
            self.fake_plugin().display().to_string(),
        ];
        for c in clients {
            a.push("--client-config".into());
            a.push(c.to_string());
        }
        a
    }

    /// Every file and directory under the root with its content hash, mode and owner.
    pub fn tree(&self) -> BTreeMap<String, String> {
        tree(self.root())
    }
}

pub fn tree(root: &Path) -> BTreeMap<String, String> {
    use std::os::unix::fs::MetadataExt;
    let mut out = BTreeMap::new();
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            let m = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            if m.file_type().is_symlink() {
                let target = std::fs::read_link(&p).unwrap();
                out.insert(rel, format!("link -> {}", target.display()));
            } else if m.is_dir() {
                out.insert(
                    rel,
                    format!("dir {:o} {}:{}", m.mode() & 0o7777, m.uid(), m.gid()),
                );
                walk(root, &p, out);
            } else {
                let bytes = std::fs::read(&p).unwrap();
                out.insert(
                    rel,
                    format!(
                        "{:x} {:o} {}:{} {}",
                        fnv(&bytes),
                        m.mode() & 0o7777,
                        m.uid(),
                        m.gid(),
                        bytes.len()
                    ),
                );
            }
        }
    }
    walk(root, root, &mut out);
    out
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x100000001b3)
    })
}

pub fn text(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Is a real `openvpn` on PATH (the test scripts install it)?
pub fn openvpn_available() -> bool {
    Command::new("openvpn")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Access Server's `sacli` under `root`: the stand-in the demo uses (`assets/demo/sacli`), which
/// keeps its configuration database and a log of its calls beside it. Its path is returned.
pub fn install_sacli(root: &Path) -> PathBuf {
    let sacli = root.join("usr/local/openvpn_as/scripts/sacli");
    std::fs::create_dir_all(sacli.parent().unwrap()).unwrap();
    std::fs::copy(Path::new(ASSETS).join("sacli"), &sacli).unwrap();
    std::fs::set_permissions(&sacli, std::fs::Permissions::from_mode(0o755)).unwrap();
    sacli
}
