//! The managed system as the commands see it: a root prefix and the PATH external programs
//! (`openvpn`, `systemctl`, `journalctl`) are found on. Injected rather than read from the process
//! environment, so a test or the demo puts recording fakes first without touching the host.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::process::Process;
use super::root::Root;

#[derive(Debug, Clone)]
pub struct Host {
    pub root: Root,
    /// The environment this run was given (variables, terminals, its own path).
    pub process: Process,
    /// PATH for external programs.
    pub path_env: OsString,
    /// A directory put first on PATH (the demo's stand-ins), recorded for uninstall.
    pub bin_dir: Option<PathBuf>,
}

/// What an external program printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ran {
    pub success: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Host {
    pub fn new(root: impl Into<PathBuf>, process: &Process) -> Host {
        Host {
            root: Root::new(root),
            path_env: process
                .var_os("PATH")
                .map(OsString::from)
                .unwrap_or_else(|| "/usr/sbin:/usr/bin:/sbin:/bin".into()),
            process: process.clone(),
            bin_dir: None,
        }
    }

    /// Put `dir` first on PATH (the demo's fake `systemctl`).
    pub fn with_path_first(mut self, dir: &Path) -> Host {
        let mut p = OsString::from(dir.as_os_str());
        if !self.path_env.is_empty() {
            p.push(":");
            p.push(&self.path_env);
        }
        self.path_env = p;
        self.bin_dir = Some(dir.to_path_buf());
        self
    }

    /// Where the absolute system path `p` lives.
    pub fn path(&self, p: impl AsRef<Path>) -> PathBuf {
        self.root.path(p)
    }

    /// The path as OpenVPN and the plugin on this system should see it (inside the root).
    pub fn display_path(&self, p: impl AsRef<Path>) -> String {
        self.path(p).display().to_string()
    }

    /// Where `program` is on our PATH (the injected one, not this process's), when it is there.
    /// A relative PATH entry is taken from `/`: setup runs as root, and the current directory of
    /// whoever started it must not decide which `systemctl` runs.
    pub fn which(&self, program: &str) -> Option<PathBuf> {
        which::which_in(program, Some(&self.path_env), "/").ok()
    }

    /// Access Server's `sacli`: where Access Server installs it under the root, else (on the
    /// real system only: a sandbox never reaches the host's) `sacli` on PATH, as newer Access
    /// Server releases install it.
    pub fn sacli(&self) -> Option<PathBuf> {
        let under_root = self.path(super::root::SACLI);
        if which::which_in(&under_root, None::<&str>, "/").is_ok() {
            return Some(under_root);
        }
        (self.root.dir() == Path::new("/"))
            .then(|| self.which("sacli"))
            .flatten()
    }

    /// Run `program args…` found on our PATH; `None` when it is not there or cannot start.
    /// The secret-carrying variables (`DUO_SKEY`, `DUO_PASSCODE`) are not passed on.
    pub fn run(&self, program: &str, args: &[&str]) -> Option<Ran> {
        let exe = self.which(program)?;
        let mut cmd = Command::new(exe);
        duo::config::scrub_secret_env(&mut cmd);
        let out = cmd
            .args(args)
            .env("PATH", &self.path_env)
            .env("SYSTEMD_PAGER", "")
            .env("SYSTEMD_COLORS", "0")
            .stdin(Stdio::null())
            .output()
            .ok()?;
        Some(Ran {
            success: out.status.success(),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}
