//! Files setup puts in place (the plugin, duo.toml, the CA), written ahead in the manifest:
//! every folder is recorded before it is made, and every file's intent (its hash, the backup
//! of what was there) before it is written, so a crash at any point leaves nothing uninstall
//! does not know of. The caller holds the lock.

use anyhow::{Context, Result};

use super::files::{self, Meta, SysPath, Tree, sha256_hex};
use super::manifest;
use super::receipt::{Installed, Manifest};
use super::tree::MAX_INSTALLED_BYTES;

pub use super::files::can_chown;

/// A file to install.
#[derive(Debug, Clone, Copy)]
pub struct FileSpec<'a> {
    pub dest: &'a SysPath,
    pub what: &'a str,
    pub content: &'a [u8],
    pub mode: u32,
    /// Owner: root and this group (`None`: root). Without root, the current user.
    pub gid: Option<u32>,
}

/// Installs `spec` and records it in `manifest` (saved). `Ok(false)` when it already was there,
/// recorded, with this content and mode.
pub fn install_file(tree: &Tree, m: &mut Manifest, spec: FileSpec<'_>) -> Result<bool> {
    let key = spec.dest.to_string();
    let existing = tree.read_opt_up_to(spec.dest, MAX_INSTALLED_BYTES)?;
    let new_hash = sha256_hex(spec.content);
    let meta = owner(spec.mode, spec.gid);
    let recorded = m.installed_mut(&key).is_some();
    if recorded
        && let Some((bytes, now)) = &existing
        && sha256_hex(bytes) == new_hash
        && *now == meta
    {
        return Ok(false);
    }
    let parent = spec.dest.parent().expect("an install path has a folder");
    tree.create_dirs(&parent, 0o755, &mut |d| {
        m.note_dir(d);
        manifest::save(tree, m)
    })?;
    let backup = match (&existing, recorded) {
        (Some((bytes, old)), false) => {
            let b = Manifest::backup_path(spec.dest);
            files::write_backup(tree, &b, bytes, *old)
                .with_context(|| format!("{key}: cannot back up"))?;
            Some(b.to_string())
        }
        _ => None,
    };
    match m.installed_mut(&key) {
        Some(rec) => rec.pending = Some(new_hash.clone()),
        None => m.installed.push(Installed {
            path: key.clone(),
            what: spec.what.into(),
            sha256: new_hash.clone(),
            backup,
            pending: None,
        }),
    }
    // The intent is on disk before the file is touched.
    manifest::save(tree, m)?;
    tree.write_atomic(spec.dest, spec.content, meta)?;
    let rec = m.installed_mut(&key).expect("recorded above");
    if rec.pending.take().is_some() {
        rec.sha256 = new_hash;
        manifest::save(tree, m)?;
    }
    Ok(true)
}

/// Root and `gid` (or root's group) as root; the current user otherwise (a sandbox).
pub fn owner(mode: u32, gid: Option<u32>) -> Meta {
    if files::can_chown() {
        Meta {
            mode,
            uid: 0,
            gid: gid.unwrap_or(0),
        }
    } else {
        let (uid, gid) = files::me();
        Meta { mode, uid, gid }
    }
}

/// Remove `dirs` (deepest first) when they are empty; returns the ones removed.
pub fn remove_empty_dirs(tree: &Tree, dirs: &[String]) -> Vec<String> {
    let mut sorted: Vec<SysPath> = dirs.iter().map(SysPath::normalize).collect();
    sorted.sort_by_key(|d| std::cmp::Reverse(d.as_path().components().count()));
    sorted
        .into_iter()
        .filter(|d| tree.remove_empty_dir(d))
        .map(|d| d.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn installs_are_recorded_before_they_are_written_and_keep_backups() {
        let d = tempfile::tempdir().unwrap();
        let tree = Tree::new(d.path());
        tree.create_dirs(
            &SysPath::normalize("/var/lib/duo-openvpn"),
            0o700,
            &mut |_| Ok(()),
        )
        .unwrap();
        fs::create_dir_all(d.path().join("etc/x")).unwrap();
        fs::write(d.path().join("etc/x/a.conf"), "old\n").unwrap();
        fs::set_permissions(
            d.path().join("etc/x/a.conf"),
            fs::Permissions::from_mode(0o640),
        )
        .unwrap();
        let mut m = manifest::load(&tree).unwrap();
        let dest = SysPath::normalize("/etc/x/a.conf");
        let spec = FileSpec {
            dest: &dest,
            what: "test",
            content: b"new\n",
            mode: 0o600,
            gid: None,
        };
        assert!(install_file(&tree, &mut m, spec).unwrap());
        assert!(!install_file(&tree, &mut m, spec).unwrap(), "idempotent");
        assert_eq!(fs::read(d.path().join("etc/x/a.conf")).unwrap(), b"new\n");
        let bk = d.path().join("var/lib/duo-openvpn/backup/etc/x/a.conf");
        assert_eq!(fs::read(&bk).unwrap(), b"old\n");
        assert_eq!(
            fs::metadata(&bk).unwrap().permissions().mode() & 0o777,
            0o640
        );
        let saved = manifest::load(&tree).unwrap();
        assert_eq!(saved, m);
        assert_eq!(
            saved.installed[0].backup.as_deref(),
            Some("/var/lib/duo-openvpn/backup/etc/x/a.conf")
        );
        // A new folder is recorded.
        let dest = SysPath::normalize("/etc/y/z/b.conf");
        install_file(
            &tree,
            &mut m,
            FileSpec {
                dest: &dest,
                ..spec
            },
        )
        .unwrap();
        assert_eq!(m.created_dirs, ["/etc/y", "/etc/y/z"]);
        tree.remove(&dest).unwrap();
        assert_eq!(remove_empty_dirs(&tree, &m.created_dirs).len(), 2);
        assert!(!d.path().join("etc/y").exists());
    }
}
