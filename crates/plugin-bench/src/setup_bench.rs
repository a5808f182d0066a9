//! `duo-openvpn setup --yes` and `uninstall --yes` in a sandbox root holding a server config and
//! many client profiles: wall time and peak memory of each (wait4's `ru_maxrss` of the child),
//! and whether uninstall gave every file back byte for byte.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::mock::{Mock, MockBin};

#[derive(clap::Args, Debug, Clone)]
pub struct SetupArgs {
    /// The duo-openvpn binary.
    #[arg(long, value_name = "PATH")]
    pub duo_openvpn: PathBuf,
    /// The plugin library setup installs.
    #[arg(long, value_name = "PATH")]
    pub so: PathBuf,
    /// Client profiles in the sandbox.
    #[arg(long, default_value_t = 10_000)]
    pub profiles: usize,
    /// The Duo stand-in (a path, or `self`) [default: duo-mock next to this binary].
    #[arg(long)]
    pub mock: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Step {
    pub exit_code: Option<i32>,
    pub wall_ms: f64,
    pub max_rss_kb: u64,
    pub cpu_ms: f64,
    /// The last lines of its output, when it failed.
    pub output_tail: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetupReport {
    pub profiles: usize,
    pub setup: Step,
    pub uninstall: Step,
    /// Client profiles setup changed.
    pub profiles_changed: usize,
    pub server_config_changed: bool,
    /// After uninstall: files of the original tree whose bytes or mode differ, and files
    /// missing; files left behind that were not there before.
    pub differing_after_uninstall: usize,
    pub missing_after_uninstall: usize,
    pub left_behind: Vec<String>,
}

const SERVER_CONF: &str = "\
# OpenVPN server (benchmark sandbox)
port 1194
proto udp
dev tun
ca ca.crt
cert server.crt
key server.key
dh none
topology subnet
server 10.8.0.0 255.255.255.0
keepalive 10 120
user nobody
group nogroup
persist-key
persist-tun
verb 3
";

/// A client profile with an inline CA, certificate and key of realistic size.
fn profile(i: usize) -> String {
    let b64 = |seed: usize, lines: usize| {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut s = String::new();
        let mut x = seed.wrapping_mul(2654435761) | 1;
        for _ in 0..lines {
            for _ in 0..64 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                s.push(alphabet[x % 64] as char);
            }
            s.push('\n');
        }
        s
    };
    format!(
        "client\ndev tun\nproto udp\nremote vpn.example.com 1194\nresolv-retry infinite\nnobind\n\
         persist-key\npersist-tun\nremote-cert-tls server\nverb 3\n\
         <ca>\n-----BEGIN CERTIFICATE-----\n{}-----END CERTIFICATE-----\n</ca>\n\
         <cert>\n-----BEGIN CERTIFICATE-----\n{}-----END CERTIFICATE-----\n</cert>\n\
         <key>\n-----BEGIN PRIVATE KEY-----\n{}-----END PRIVATE KEY-----\n</key>\n",
        b64(1, 9),
        b64(i + 2, 9),
        b64(i + 100_003, 3)
    )
}

const FAKE_SYSTEMCTL: &str = "#!/bin/sh\ncase \"$1\" in is-active) echo active ;; esac\nexit 0\n";
const FAKE_OPENVPN: &str = "#!/bin/sh\necho \"OpenVPN 2.6.14 x86_64-pc-linux-gnu [SSL (OpenSSL)] [benchmark stand-in]\"\nexit 0\n";

fn write(path: &Path, text: &[u8], mode: u32) -> anyhow::Result<()> {
    std::fs::create_dir_all(path.parent().unwrap())?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

/// Every regular file under `root`: relative path → (mode, bytes hash).
fn tree(root: &Path) -> BTreeMap<String, (u32, u64)> {
    use std::os::unix::fs::MetadataExt;
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(m) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if m.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap_or_default();
                let h = bytes.iter().fold(0xcbf29ce484222325u64, |h, b| {
                    (h ^ *b as u64).wrapping_mul(0x100000001b3)
                });
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, (m.mode() & 0o7777, h));
            }
        }
    }
    out
}

/// Run a child to its end; wall time and wait4's rusage.
fn step(mut cmd: Command, log: &Path) -> anyhow::Result<Step> {
    let out = std::fs::File::create(log)?;
    cmd.stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out);
    let t = Instant::now();
    let child = cmd.spawn().context("starting duo-openvpn")?;
    let mut status = 0;
    // SAFETY: wait4 on our own child into a local rusage.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut ru) };
    let wall_ms = t.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(pid > 0, "wait4: {}", std::io::Error::last_os_error());
    let exit_code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let tv = |t: libc::timeval| t.tv_sec as f64 * 1000.0 + t.tv_usec as f64 / 1000.0;
    let output_tail = if exit_code == Some(0) {
        String::new()
    } else {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    };
    Ok(Step {
        exit_code,
        wall_ms,
        max_rss_kb: ru.ru_maxrss as u64,
        cpu_ms: tv(ru.ru_utime) + tv(ru.ru_stime),
        output_tail,
    })
}

pub fn run(a: &SetupArgs) -> anyhow::Result<SetupReport> {
    let work = tempfile::Builder::new()
        .prefix("plugin-bench-setup-")
        .tempdir()?;
    let root = work.path().join("root");
    let inputs = work.path().join("inputs");
    let bin = work.path().join("bin");
    std::fs::create_dir_all(&root)?;
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755))?;
    write(
        &root.join("etc/openvpn/server/server.conf"),
        SERVER_CONF.as_bytes(),
        0o644,
    )?;
    let clients = "/etc/openvpn/clients";
    for i in 1..=a.profiles {
        write(
            &root.join(format!("etc/openvpn/clients/client{i}.ovpn")),
            profile(i).as_bytes(),
            0o600,
        )?;
    }
    write(&bin.join("systemctl"), FAKE_SYSTEMCTL.as_bytes(), 0o755)?;
    write(&bin.join("openvpn"), FAKE_OPENVPN.as_bytes(), 0o755)?;
    write(
        &inputs.join("skey"),
        format!("{}\n", duo_mock::MOCK_SKEY).as_bytes(),
        0o600,
    )?;
    let before = tree(&root);

    let mock = Mock::spawn(&MockBin::find(a.mock.as_deref()), 0.0, &inputs)?;
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let base = |args: &[&str]| {
        let mut c = Command::new(&a.duo_openvpn);
        c.args(args)
            .env("PATH", &path)
            .env_remove("DUO_SKEY")
            .env_remove("DUO_OPENVPN_PLUGIN_SO");
        c
    };
    let root_s = root.display().to_string();
    let skey = inputs.join("skey").display().to_string();
    let ca = mock.ca.display().to_string();
    let so = a.so.display().to_string();
    let setup = step(
        base(&[
            "setup",
            "--yes",
            "--root",
            &root_s,
            "--ikey",
            duo_mock::MOCK_IKEY,
            "--skey-file",
            &skey,
            "--host",
            &mock.host,
            "--ca-file",
            &ca,
            "--server-config",
            "/etc/openvpn/server/server.conf",
            "--client-config",
            clients,
            "--no-restart",
            "--plugin-so",
            &so,
        ]),
        &work.path().join("setup.log"),
    )?;
    let after_setup = tree(&root);
    let changed = |rel: &str| after_setup.get(rel) != before.get(rel);
    let profiles_changed = before
        .keys()
        .filter(|k| k.starts_with("etc/openvpn/clients/") && changed(k))
        .count();
    let server_config_changed = changed("etc/openvpn/server/server.conf");

    let uninstall = step(
        base(&["uninstall", "--yes", "--root", &root_s, "--no-restart"]),
        &work.path().join("uninstall.log"),
    )?;
    drop(mock);
    let after = tree(&root);
    let differing = before
        .iter()
        .filter(|(k, v)| after.get(*k).is_some_and(|a| a != *v))
        .count();
    let missing = before.keys().filter(|k| !after.contains_key(*k)).count();
    let left_behind = after
        .keys()
        .filter(|k| !before.contains_key(*k))
        .cloned()
        .collect();
    Ok(SetupReport {
        profiles: a.profiles,
        setup,
        uninstall,
        profiles_changed,
        server_config_changed,
        differing_after_uninstall: differing,
        missing_after_uninstall: missing,
        left_behind,
    })
}
