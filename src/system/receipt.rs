//! The install receipt: everything setup installed, edited and created, so `uninstall` undoes
//! exactly that. JSON at `/var/lib/duo-openvpn/manifest.json`; backups beside it.

use std::path::PathBuf;

use ovpn_config::Change;
use serde::{Deserialize, Serialize};

use super::host::Host;
use super::install;

pub const STATE_DIR: &str = "/var/lib/duo-openvpn";
pub const MANIFEST_PATH: &str = "/var/lib/duo-openvpn/manifest.json";
pub const BACKUP_DIR: &str = "/var/lib/duo-openvpn/backup";

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub version: u32,
    /// The unit setup restarted (uninstall restarts it too).
    pub unit: Option<String>,
    /// A directory put first on PATH for `systemctl` (the demo's stand-ins), so uninstall
    /// restarts through the same programs setup used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bin_dir: Option<String>,
    /// Directories setup created (system paths), outermost first.
    pub created_dirs: Vec<String>,
    pub installed: Vec<Installed>,
    pub edited: Vec<Edited>,
    /// Access Server: our post-auth script and what was there before (may hold another
    /// script verbatim: this file is root-only, 0600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_server: Option<access_server::InstallRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Installed {
    pub path: String,
    pub what: String,
    /// SHA-256 of what setup wrote.
    pub sha256: String,
    /// A file was there before: its backup (restored on uninstall).
    pub backup: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Edited {
    pub path: String,
    /// The file as it was before setup first touched it.
    pub backup: String,
    /// SHA-256 of the file as setup last left it: equal now means untouched since.
    pub sha256_after: String,
    /// Every change, oldest first.
    pub changes: Vec<Change>,
}

impl Manifest {
    pub fn load(host: &Host) -> Result<Option<Manifest>, String> {
        let p = host.path(MANIFEST_PATH);
        match std::fs::read(&p) {
            Ok(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| format!("{}: {e}", p.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: cannot read: {e}", p.display())),
        }
    }

    pub fn save(&self, host: &Host) -> Result<(), String> {
        let p = host.path(MANIFEST_PATH);
        let mut text = serde_json::to_vec_pretty(self).map_err(|e| e.to_string())?;
        text.push(b'\n');
        install::write_atomic(
            &p,
            &text,
            Some(install::Perms {
                mode: 0o600,
                owner: Some((0, 0)),
            }),
        )
        .map_err(|e| format!("{e:#}"))
    }

    /// Where the backup of the system path `path` goes (a system path).
    pub fn backup_path(path: &str) -> String {
        format!("{BACKUP_DIR}{path}")
    }

    pub fn note_dirs(&mut self, host: &Host, created: Vec<PathBuf>) {
        for d in created {
            let sys = system_path(host, &d);
            if !self.created_dirs.contains(&sys) {
                self.created_dirs.push(sys);
            }
        }
    }

    pub fn installed_mut(&mut self, path: &str) -> Option<&mut Installed> {
        self.installed.iter_mut().find(|i| i.path == path)
    }

    pub fn edited_mut(&mut self, path: &str) -> Option<&mut Edited> {
        self.edited.iter_mut().find(|e| e.path == path)
    }
}

/// The system path of a real path under the host's root.
pub fn system_path(host: &Host, real: &std::path::Path) -> String {
    match real.strip_prefix(host.root.dir()) {
        Ok(rel) => format!("/{}", rel.display()),
        Err(_) => real.display().to_string(),
    }
}
