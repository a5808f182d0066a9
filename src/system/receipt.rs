//! The install receipt: everything setup installed, edited and created, so `uninstall` undoes
//! exactly that. JSON at `/var/lib/duo-openvpn/manifest.json`; backups beside it.

use ovpn_config::Change;
use serde::{Deserialize, Serialize};

use super::files::{self, Meta, SysPath, Tree};
use super::host::Host;

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
    /// Write-ahead: the SHA-256 of what setup is about to write over a file it installed
    /// before. A crash leaves either hash in the file, and both are ours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Edited {
    pub path: String,
    /// The file itself when `path` is a symlink (resolved once, when setup planned the edit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The file as it was before setup first touched it.
    pub backup: String,
    /// SHA-256 of the backup: the file before setup. Equal now means setup's edit never
    /// landed (a crash before the rename) or was undone already.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256_before: Option<String>,
    /// SHA-256 of the file as setup last left it: equal now means untouched since.
    pub sha256_after: String,
    /// Write-ahead: the SHA-256 of what setup is about to write (recorded, and synced, before
    /// the write). A crash leaves this or `sha256_after` or `sha256_before` in the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<String>,
    /// Every change, oldest first.
    pub changes: Vec<Change>,
}

impl Edited {
    /// Where the file really is.
    pub fn target(&self) -> SysPath {
        SysPath::normalize(self.target.as_deref().unwrap_or(&self.path))
    }

    /// Is `hash` a state setup left the file in?
    pub fn is_ours(&self, hash: &str) -> bool {
        self.sha256_after == hash || self.pending.as_deref() == Some(hash)
    }
}

impl Installed {
    pub fn is_ours(&self, hash: &str) -> bool {
        self.sha256 == hash || self.pending.as_deref() == Some(hash)
    }
}

impl Manifest {
    pub const VERSION: u32 = 2;

    pub fn load(host: &Host) -> Result<Option<Manifest>, String> {
        Manifest::load_from(&host.root.tree()).map_err(|e| format!("{e:#}"))
    }

    pub fn load_from(tree: &Tree) -> anyhow::Result<Option<Manifest>> {
        use anyhow::Context;
        let path = manifest_path();
        let Some((bytes, _)) = tree.read_opt(&path)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes).map(Some).with_context(|| {
            format!(
                "{}: not a manifest this version can read",
                tree.host_path(&path).display()
            )
        })
    }

    /// Writes the manifest atomically and synced, root-only 0600: it holds replaced lines,
    /// which may carry Duo's secret key (an upstream plugin line). The state folder exists:
    /// taking the lock made it.
    pub fn save_to(&self, tree: &Tree) -> anyhow::Result<()> {
        let mut text = serde_json::to_vec_pretty(self)?;
        text.push(b'\n');
        let (uid, gid) = if files::can_chown() {
            (0, 0)
        } else {
            files::me()
        };
        tree.write_atomic(
            &manifest_path(),
            &text,
            Meta {
                mode: 0o600,
                uid,
                gid,
            },
        )
    }

    pub fn save(&self, host: &Host) -> Result<(), String> {
        self.save_to(&host.root.tree())
            .map_err(|e| format!("{e:#}"))
    }

    /// Where the backup of the system path `path` goes (a system path).
    pub fn backup_path(path: &SysPath) -> SysPath {
        SysPath::normalize(format!("{BACKUP_DIR}{path}"))
    }

    /// Records a folder setup is about to create (outermost first).
    pub fn note_dir(&mut self, dir: &SysPath) {
        let d = dir.to_string();
        if !self.created_dirs.contains(&d) {
            self.created_dirs.push(d);
        }
    }

    pub fn installed_mut(&mut self, path: &str) -> Option<&mut Installed> {
        self.installed.iter_mut().find(|i| i.path == path)
    }

    pub fn edited_mut(&mut self, path: &str) -> Option<&mut Edited> {
        self.edited.iter_mut().find(|e| e.path == path)
    }
}

pub fn manifest_path() -> SysPath {
    SysPath::normalize(MANIFEST_PATH)
}
