//! Config edits as one transaction recorded in the manifest, and their undo.
//!
//! The manifest's schema is [`super::receipt::Manifest`] (`/var/lib/duo-openvpn/manifest.json`):
//! per edited file its path, backup, the SHA-256 of the file before and after and every change
//! with what it replaced. It is a write-ahead log:
//! - [`edit_configs`]: read and parse every target, compute every edit, check every directory
//!   can be written; then back up, record the intent (before-hash, backup, the hash about to be
//!   written) and sync it, and only then write; the completion is recorded last. A failure on
//!   the way puts back what was written, so a file that cannot be read, parsed or written is
//!   reported by name and nothing else is changed.
//! - [`uninstall`]: each file's state is read from its content, so an edit interrupted at any
//!   point is resolved: the before-hash means nothing (or everything) was undone already; one of
//!   our hashes means untouched since setup, and the backup comes back byte for byte (checked
//!   against its recorded hash first); anything else was edited since, and our changes are
//!   undone by content, everything else kept. Same all-or-nothing rule.

use std::collections::HashSet;

use anyhow::{Context, Result, anyhow, bail};
use ovpn_config::{Change, Document, UndoOutcome, undo_all};

use super::files::{self, ConfigFile, Meta, SysPath, Tree, sha256_hex};
use super::receipt::{Edited, Manifest, manifest_path};
use super::tree::MAX_INSTALLED_BYTES;

/// The manifest under the tree, or an empty one when there is none yet.
pub fn load(tree: &Tree) -> Result<Manifest> {
    Ok(Manifest::load_from(tree)?.unwrap_or(Manifest {
        version: Manifest::VERSION,
        ..Manifest::default()
    }))
}

pub fn save(tree: &Tree, manifest: &Manifest) -> Result<()> {
    manifest.save_to(tree)
}

/// What [`edit_configs`] did to one file: no changes means it already was as wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEdit {
    pub path: SysPath,
    pub changes: Vec<Change>,
}

struct Planned {
    file: ConfigFile,
    after: Vec<u8>,
    changes: Vec<Change>,
}

/// Applies `edit` to every config in `paths` as one transaction and records it in `manifest`
/// (saved). `edit` gets the path and a document to change, and returns the changes it made
/// (e.g. `ovpn_config::ensure_server`). The caller holds the lock.
pub fn edit_configs<F>(
    tree: &Tree,
    manifest: &mut Manifest,
    paths: &[SysPath],
    mut edit: F,
) -> Result<Vec<FileEdit>>
where
    F: FnMut(&SysPath, &mut Document) -> Result<Vec<Change>>,
{
    let mut planned: Vec<Planned> = Vec::new();
    let mut targets = HashSet::new();
    for path in paths {
        let file = files::load_config(tree, path)?;
        if !targets.insert(file.target.clone()) {
            bail!(
                "{path}: the same file as another config given ({})",
                file.target
            );
        }
        let mut doc = file.doc.clone();
        let changes = edit(path, &mut doc).with_context(|| path.to_string())?;
        planned.push(Planned {
            after: doc.render(),
            file,
            changes,
        });
    }
    let writes: Vec<&Planned> = planned.iter().filter(|p| !p.changes.is_empty()).collect();
    for p in &writes {
        let (dir, _) = tree.open_parent(&p.file.target)?;
        dir.probe_writable()
            .with_context(|| format!("{}: cannot be written", p.file.path))?;
    }
    let before = manifest.clone();
    let manifest_existed = tree.entry(&manifest_path())?.is_some();
    let mut written: Vec<&Planned> = Vec::new();
    let mut new_backups: Vec<SysPath> = Vec::new();
    let result = (|| -> Result<()> {
        for p in &writes {
            record_intent(tree, manifest, p, &mut new_backups)?;
        }
        // The intent, synced before any file is touched; once for all the files (once per
        // file is quadratic in the number of profiles).
        save(tree, manifest)?;
        for p in &writes {
            tree.write_atomic(&p.file.target, &p.after, p.file.meta)?;
            written.push(p);
        }
        for p in &writes {
            let rec = manifest
                .edited_mut(&p.file.path.to_string())
                .expect("recorded above");
            if let Some(h) = rec.pending.take() {
                rec.sha256_after = h;
            }
        }
        save(tree, manifest)
    })();
    if let Err(e) = result {
        let mut problems = Vec::new();
        for p in written.iter().rev() {
            if let Err(r) = tree.write_atomic(&p.file.target, &p.file.bytes, p.file.meta) {
                problems.push(format!("{r:#}"));
            }
        }
        for b in &new_backups {
            tree.remove(b).ok();
        }
        *manifest = before;
        let restored = if manifest_existed {
            save(tree, manifest)
        } else {
            tree.remove(&manifest_path()).map(|_| ())
        };
        if let Err(r) = restored {
            problems.push(format!("{r:#}"));
        }
        if problems.is_empty() {
            return Err(e.context("nothing was changed"));
        }
        return Err(e.context(format!(
            "and putting things back failed too: {}",
            problems.join("; ")
        )));
    }
    Ok(planned
        .into_iter()
        .map(|p| FileEdit {
            path: p.file.path,
            changes: p.changes,
        })
        .collect())
}

/// Adds `p`'s intent to the manifest: a backup of the file as it is without any of our
/// changes (written and synced first), its hash, the changes and the hash about to be written.
fn record_intent(
    tree: &Tree,
    manifest: &mut Manifest,
    p: &Planned,
    new_backups: &mut Vec<SysPath>,
) -> Result<()> {
    let key = p.file.path.to_string();
    let existing = manifest.edited_mut(&key).map(|e| e.clone());
    let current = sha256_hex(&p.file.bytes);
    let baseline = match &existing {
        None => Some(p.file.bytes.clone()),
        // Edited by the admin since our last write: the backup becomes their file minus our
        // changes, so that restoring it later keeps their edits.
        Some(e) if !e.is_ours(&current) => {
            let mut doc = p.file.doc.clone();
            undo_all(&mut doc, &e.changes);
            Some(doc.render())
        }
        Some(_) => None,
    };
    let backup = existing
        .as_ref()
        .map(|e| SysPath::normalize(&e.backup))
        .unwrap_or_else(|| Manifest::backup_path(&p.file.target));
    let mut before_hash = existing.as_ref().and_then(|e| e.sha256_before.clone());
    if let Some(bytes) = baseline {
        files::write_backup(tree, &backup, &bytes, p.file.meta)
            .with_context(|| format!("{}: cannot back up", p.file.path))?;
        if existing.is_none() {
            new_backups.push(backup.clone());
        }
        before_hash = Some(sha256_hex(&bytes));
    }
    if existing.is_none() {
        manifest.edited.push(Edited {
            path: key.clone(),
            target: None,
            backup: backup.to_string(),
            sha256_before: None,
            sha256_after: String::new(),
            pending: None,
            changes: Vec::new(),
        });
    }
    let rec = manifest.edited_mut(&key).expect("recorded above");
    rec.target = (p.file.target != p.file.path).then(|| p.file.target.to_string());
    // A file still as it was before setup (an earlier run's write never landed, or was
    // undone): its recorded changes are not in it; these replace them.
    if rec.sha256_before.as_deref() == Some(current.as_str()) {
        rec.changes.clear();
    }
    rec.sha256_before = before_hash;
    rec.pending = Some(sha256_hex(&p.after));
    rec.changes.extend(p.changes.iter().cloned());
    Ok(())
}

/// What [`uninstall`] did with one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileReport {
    /// Untouched since setup: the backup is back, byte for byte.
    Restored { path: String },
    /// Edited since setup: our changes were undone by content and everything else kept;
    /// `not_undone` lists the changes whose lines were no longer there.
    Reverted {
        path: String,
        not_undone: Vec<String>,
    },
    /// None of our changes is in the file any more; left as it is.
    NothingToUndo {
        path: String,
        not_undone: Vec<String>,
    },
    /// The file is gone. Its backup, if it had one, is kept (the only copy of the original).
    Missing {
        path: String,
        backup: Option<String>,
    },
    /// The way to the file now leads through a symlink (a folder swapped since setup): not
    /// followed, so not restored; its backup is kept.
    Unreachable {
        path: String,
        backup: String,
        reason: String,
    },
    /// A file setup installed: removed.
    Removed { path: String },
    /// A file setup installed over another: the other is back.
    PutBack { path: String },
    /// A file setup installed and someone changed since: left in place.
    KeptModified { path: String },
}

impl std::fmt::Display for FileReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileReport::Restored { path } => write!(f, "{path}: restored byte for byte"),
            FileReport::Reverted { path, not_undone } if not_undone.is_empty() => {
                write!(f, "{path}: our changes undone, later edits kept")
            }
            FileReport::Reverted { path, not_undone } => write!(
                f,
                "{path}: our changes undone, later edits kept; already gone: {}",
                not_undone.join("; ")
            ),
            FileReport::NothingToUndo { path, .. } => {
                write!(
                    f,
                    "{path}: none of our changes is left in it; left as it is"
                )
            }
            FileReport::Missing { path, backup: None } => {
                write!(f, "{path}: missing; nothing to undo")
            }
            FileReport::Missing {
                path,
                backup: Some(b),
            } => {
                write!(
                    f,
                    "{path}: missing; nothing to undo (the original is kept in {b})"
                )
            }
            FileReport::Unreachable {
                path,
                backup,
                reason,
            } => write!(
                f,
                "{path}: not restored: {reason}; the original is kept in {backup}"
            ),
            FileReport::Removed { path } => write!(f, "{path}: removed"),
            FileReport::PutBack { path } => write!(f, "{path}: the previous file is back"),
            FileReport::KeptModified { path } => {
                write!(f, "{path}: changed since setup installed it; left in place")
            }
        }
    }
}

enum Action {
    Write {
        path: SysPath,
        bytes: Vec<u8>,
        meta: Meta,
    },
    Remove {
        path: SysPath,
    },
}

impl Action {
    fn path(&self) -> &SysPath {
        match self {
            Action::Write { path, .. } | Action::Remove { path } => path,
        }
    }
}

/// Undoes every edit and installed file in `manifest` (all or nothing, see the module doc),
/// and removes the temp files a crash may have left beside them. The manifest, the backups,
/// directories and services are left to the caller. The caller holds the lock.
pub fn uninstall(tree: &Tree, manifest: &Manifest) -> Result<Vec<FileReport>> {
    let mut reports = Vec::new();
    let mut actions = Vec::new();
    let mut touched: Vec<SysPath> = Vec::new();
    for e in manifest.edited.iter().rev() {
        let (report, action) = match plan_edited(tree, e) {
            Ok(x) => x,
            // A folder on the way was swapped for a symlink since setup: whoever owns it gets
            // nothing written through it; everything else is still undone.
            Err(err) => match super::tree::symlink_refused(&err) {
                Some(link) => (
                    FileReport::Unreachable {
                        path: e.path.clone(),
                        backup: e.backup.clone(),
                        reason: link.to_string(),
                    },
                    None,
                ),
                None => return Err(err),
            },
        };
        touched.push(e.target());
        reports.push(report);
        actions.extend(action);
    }
    for i in manifest.installed.iter().rev() {
        let path = SysPath::normalize(&i.path);
        touched.push(path.clone());
        let shown = i.path.clone();
        let Some((current, _)) = tree.read_opt_up_to(&path, MAX_INSTALLED_BYTES)? else {
            if i.backup.is_some() {
                reports.push(FileReport::Missing {
                    path: shown,
                    backup: i.backup.clone(),
                });
            }
            // Never written (a crash before the write), or removed already.
            continue;
        };
        let backup = match &i.backup {
            Some(b) => {
                let b = SysPath::normalize(b);
                Some(
                    tree.read_opt_up_to(&b, MAX_INSTALLED_BYTES)?
                        .ok_or_else(|| anyhow!("{b}: missing"))
                        .with_context(|| {
                            format!(
                                "{shown}: its backup {b} is needed to put the previous file back"
                            )
                        })?,
                )
            }
            None => None,
        };
        let hash = sha256_hex(&current);
        if !i.is_ours(&hash) {
            if backup.as_ref().is_some_and(|(b, _)| sha256_hex(b) == hash) {
                // The previous file is there: setup never wrote over it, or it is back already.
                reports.push(FileReport::PutBack { path: shown });
            } else {
                reports.push(FileReport::KeptModified { path: shown });
            }
            continue;
        }
        match backup {
            Some((bytes, meta)) => {
                actions.push(Action::Write { path, bytes, meta });
                reports.push(FileReport::PutBack { path: shown });
            }
            None => {
                actions.push(Action::Remove { path });
                reports.push(FileReport::Removed { path: shown });
            }
        }
    }
    for a in &actions {
        let (dir, _) = tree.open_parent(a.path())?;
        dir.probe_writable()?;
    }
    // What each written path held before, to put back if a later action fails.
    type Before = (SysPath, Option<(Vec<u8>, Meta)>);
    let mut done: Vec<Before> = Vec::new();
    for a in &actions {
        let old = tree.read_opt_up_to(a.path(), MAX_INSTALLED_BYTES)?;
        let r = match a {
            Action::Write { path, bytes, meta } => tree.write_atomic(path, bytes, *meta),
            Action::Remove { path } => tree.remove(path).map(|_| ()),
        };
        if let Err(e) = r {
            for (path, old) in done.iter().rev() {
                if let Some((bytes, meta)) = old {
                    tree.write_atomic(path, bytes, *meta).ok();
                }
            }
            return Err(e.context("nothing was changed"));
        }
        done.push((a.path().clone(), old));
    }
    for path in &touched {
        if let Ok((dir, name)) = tree.open_parent(path) {
            dir.remove_temp_of(name).ok();
        }
    }
    Ok(reports)
}

fn plan_edited(tree: &Tree, e: &Edited) -> Result<(FileReport, Option<Action>)> {
    let path = e.path.clone();
    let target = e.target();
    let Some((current, meta)) = tree.read_opt(&target)? else {
        let backup = Some(e.backup.clone());
        return Ok((FileReport::Missing { path, backup }, None));
    };
    let hash = sha256_hex(&current);
    if e.sha256_before.as_deref() == Some(hash.as_str()) {
        // Setup's write never landed, or an earlier uninstall already put the file back.
        return Ok((FileReport::Restored { path }, None));
    }
    let mut doc = Document::from_bytes(&current)
        .map_err(|err| anyhow!("{}: {err}", e.path))
        .context("cannot undo setup's changes in a file OpenVPN would not read")?;
    if e.is_ours(&hash) {
        let bk = SysPath::normalize(&e.backup);
        let (backup, backup_meta) = tree
            .read(&bk)
            .with_context(|| format!("{}: its backup is needed to restore it", e.path))?;
        let intact = match &e.sha256_before {
            Some(h) => *h == sha256_hex(&backup),
            // A manifest from before the hashes: undoing the recorded changes must give the
            // backup back, both then are the original.
            None => {
                undo_all(&mut doc, &e.changes);
                doc.render() == backup
            }
        };
        if !intact {
            bail!(
                "{}: the backup {} does not match the changes recorded for it; nothing restored",
                e.path,
                e.backup
            );
        }
        let action = Action::Write {
            path: target,
            bytes: backup,
            meta: backup_meta,
        };
        return Ok((FileReport::Restored { path }, Some(action)));
    }
    let outcomes = undo_all(&mut doc, &e.changes);
    let undone = doc.render();
    let not_undone: Vec<String> = outcomes
        .iter()
        .filter(|(_, o)| *o != UndoOutcome::Reverted)
        .map(|(c, _)| c.to_string())
        .collect();
    if undone == current {
        return Ok((FileReport::NothingToUndo { path, not_undone }, None));
    }
    let action = Action::Write {
        path: target,
        bytes: undone,
        meta,
    };
    Ok((FileReport::Reverted { path, not_undone }, Some(action)))
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    use ovpn_config::{PluginLineStyle, ServerSetup, ensure_client, ensure_server};

    use std::path::{Path, PathBuf};

    use super::super::files::host_path;
    use super::super::files::tests::snapshot;
    use super::super::receipt::MANIFEST_PATH;
    use super::*;

    const SERVER: &str =
        "port 1194\r\nserver 10.8.0.0 255.255.255.0\r\nreneg-sec 3600\r\n<ca>\r\nX\r\n</ca>\r\n";
    const CLIENT: &str = "client\nremote vpn.example.com 1194\nauth-retry nointeract";

    fn put(root: &Path, sys: &str, bytes: &[u8], mode: u32) {
        let p = host_path(root, Path::new(sys));
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, bytes).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
    }

    fn mode_of(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    fn read(root: &Path, sys: &str) -> Vec<u8> {
        fs::read(host_path(root, Path::new(sys))).unwrap()
    }

    fn sandbox() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        put(
            d.path(),
            "/etc/openvpn/server/server.conf",
            SERVER.as_bytes(),
            0o640,
        );
        put(
            d.path(),
            "/etc/openvpn/client/alice.ovpn",
            CLIENT.as_bytes(),
            0o600,
        );
        // Taking the lock makes the state folder before any edit.
        fs::create_dir_all(d.path().join("var/lib/duo-openvpn")).unwrap();
        d
    }

    fn paths() -> Vec<PathBuf> {
        vec![
            "/etc/openvpn/server/server.conf".into(),
            "/etc/openvpn/client/alice.ovpn".into(),
        ]
    }

    fn sys(paths: &[PathBuf]) -> Vec<SysPath> {
        paths.iter().map(SysPath::normalize).collect()
    }

    fn load(root: &Path) -> Result<Manifest> {
        super::load(&Tree::new(root))
    }

    fn uninstall(root: &Path, m: &Manifest) -> Result<Vec<FileReport>> {
        super::uninstall(&Tree::new(root), m)
    }

    fn edit_configs<F>(
        root: &Path,
        m: &mut Manifest,
        paths: &[PathBuf],
        mut edit: F,
    ) -> Result<Vec<FileEdit>>
    where
        F: FnMut(&Path, &mut Document) -> Result<Vec<Change>>,
    {
        let tree = Tree::new(root);
        super::edit_configs(&tree, m, &sys(paths), |p, d| edit(p.as_path(), d))
    }

    fn setup(root: &Path, paths: &[PathBuf]) -> Result<Vec<FileEdit>> {
        let server = ServerSetup {
            plugin_path: "/usr/lib/duo-openvpn/libduo_openvpn_plugin.so".into(),
            config_path: "/etc/duo-openvpn/duo.toml".into(),
            style: PluginLineStyle::Quoted,
            migrate_upstream: false,
            allow_unknown_role: false,
            session_tokens: None,
        };
        let mut m = load(root)?;
        edit_configs(root, &mut m, paths, |path, doc| {
            Ok(if path.extension().is_some_and(|e| e == "ovpn") {
                ensure_client(doc, false)?
            } else {
                ensure_server(doc, &server)?
            })
        })
    }

    #[test]
    fn setup_then_uninstall_gives_back_every_byte() {
        let d = sandbox();
        let root = d.path();
        let before = snapshot(root);
        let edits = setup(root, &paths()).unwrap();
        assert_eq!(
            edits.iter().map(|e| e.changes.len()).collect::<Vec<_>>(),
            [2, 3]
        );
        let server = String::from_utf8(read(root, "/etc/openvpn/server/server.conf")).unwrap();
        assert!(server.contains("reneg-sec 0\r\nplugin "), "{server}");
        // Backups keep the originals' bytes and permissions; the manifest is private.
        let bk = host_path(
            root,
            Path::new("/var/lib/duo-openvpn/backup/etc/openvpn/client/alice.ovpn"),
        );
        assert_eq!(fs::read(&bk).unwrap(), CLIENT.as_bytes());
        assert_eq!(mode_of(&bk), 0o600);
        let manifest = host_path(root, Path::new(MANIFEST_PATH));
        assert_eq!(mode_of(&manifest), 0o600);
        assert_eq!(
            mode_of(&host_path(
                root,
                Path::new("/etc/openvpn/server/server.conf")
            )),
            0o640
        );

        // Idempotent: a second run changes nothing and writes nothing.
        let after_first = snapshot(root);
        let again = setup(root, &paths()).unwrap();
        assert!(again.iter().all(|e| e.changes.is_empty()));
        assert_eq!(snapshot(root), after_first);

        let m = load(root).unwrap();
        let reports = uninstall(root, &m).unwrap();
        assert_eq!(
            reports,
            [
                FileReport::Restored {
                    path: "/etc/openvpn/client/alice.ovpn".into()
                },
                FileReport::Restored {
                    path: "/etc/openvpn/server/server.conf".into()
                },
            ]
        );
        fs::remove_file(&manifest).unwrap();
        let mut after = snapshot(root);
        // Only the state folder (the caller empties it) differs.
        after.retain(|p, _| !p.starts_with("var"));
        let mut before = before;
        before.retain(|p, _| !p.starts_with("var"));
        assert_eq!(after, before);
    }

    #[test]
    fn uninstall_after_admin_edits_keeps_them() {
        let d = sandbox();
        let root = d.path();
        setup(root, &paths()).unwrap();
        let server = String::from_utf8(read(root, "/etc/openvpn/server/server.conf")).unwrap();
        let edited = format!(
            "# tuned by the admin\r\n{}",
            server.replace("port 1194", "port 443")
        );
        put(
            root,
            "/etc/openvpn/server/server.conf",
            edited.as_bytes(),
            0o640,
        );
        // The admin removed our auth-retry line from the client profile.
        let client = String::from_utf8(read(root, "/etc/openvpn/client/alice.ovpn")).unwrap();
        let client = client.replace("auth-retry interact\n", "");
        put(
            root,
            "/etc/openvpn/client/alice.ovpn",
            client.as_bytes(),
            0o600,
        );

        let reports = uninstall(root, &load(root).unwrap()).unwrap();
        assert_eq!(
            read(root, "/etc/openvpn/server/server.conf"),
            format!(
                "# tuned by the admin\r\n{}",
                SERVER.replace("port 1194", "port 443")
            )
            .as_bytes()
        );
        let FileReport::Reverted { not_undone, .. } = &reports[0] else {
            panic!("{reports:?}")
        };
        assert_eq!(not_undone.len(), 1, "{not_undone:?}");
        assert!(not_undone[0].contains("auth-retry"), "{not_undone:?}");
        assert_eq!(
            reports[1],
            FileReport::Reverted {
                path: "/etc/openvpn/server/server.conf".into(),
                not_undone: vec![]
            }
        );
        // The client's replaced auth-retry line went with the admin's edit; the rest is back,
        // down to the missing final newline.
        assert_eq!(
            read(root, "/etc/openvpn/client/alice.ovpn"),
            b"client\nremote vpn.example.com 1194"
        );
    }

    #[test]
    fn a_missing_file_is_reported() {
        let d = sandbox();
        let root = d.path();
        setup(root, &paths()).unwrap();
        fs::remove_file(host_path(root, Path::new("/etc/openvpn/client/alice.ovpn"))).unwrap();
        let reports = uninstall(root, &load(root).unwrap()).unwrap();
        let backup = "/var/lib/duo-openvpn/backup/etc/openvpn/client/alice.ovpn";
        assert_eq!(
            reports[0],
            FileReport::Missing {
                path: "/etc/openvpn/client/alice.ovpn".into(),
                backup: Some(backup.into())
            }
        );
        assert_eq!(
            read(root, backup),
            CLIENT.as_bytes(),
            "the only copy is kept"
        );
        assert_eq!(
            read(root, "/etc/openvpn/server/server.conf"),
            SERVER.as_bytes()
        );
    }

    #[test]
    fn symlinked_configs_are_edited_at_their_target() {
        let d = sandbox();
        let root = d.path();
        std::os::unix::fs::symlink(
            "/etc/openvpn/server/server.conf",
            host_path(root, Path::new("/etc/openvpn/server.conf")),
        )
        .unwrap();
        setup(root, &["/etc/openvpn/server.conf".into()]).unwrap();
        let link = host_path(root, Path::new("/etc/openvpn/server.conf"));
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_ne!(
            read(root, "/etc/openvpn/server/server.conf"),
            SERVER.as_bytes()
        );
        uninstall(root, &load(root).unwrap()).unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            read(root, "/etc/openvpn/server/server.conf"),
            SERVER.as_bytes()
        );
        // The same file given twice (once through the link) is refused.
        let e = setup(
            root,
            &[
                "/etc/openvpn/server.conf".into(),
                "/etc/openvpn/server/server.conf".into(),
            ],
        )
        .unwrap_err();
        assert!(format!("{e:#}").contains("the same file"), "{e:#}");
    }

    /// Every bad input: an error naming the file (and line), and not one byte changed anywhere.
    #[test]
    fn bad_inputs_change_nothing() {
        type Spoil = Box<dyn Fn(&Path)>;
        let cases: Vec<(&str, Spoil, &str)> = vec![
            (
                "binary",
                Box::new(|r: &Path| {
                    put(
                        r,
                        "/etc/openvpn/client/alice.ovpn",
                        b"\x7fELF\x02\x01\x01\0\0\0",
                        0o600,
                    )
                }),
                "/etc/openvpn/client/alice.ovpn: line 1: NUL byte",
            ),
            (
                "not UTF-8",
                Box::new(|r: &Path| {
                    put(
                        r,
                        "/etc/openvpn/client/alice.ovpn",
                        b"client\n# caf\xe9\n",
                        0o600,
                    )
                }),
                "/etc/openvpn/client/alice.ovpn: line 2: not valid UTF-8",
            ),
            (
                "unterminated inline block",
                Box::new(|r: &Path| {
                    put(
                        r,
                        "/etc/openvpn/client/alice.ovpn",
                        b"client\n<ca>\nMIIB\n",
                        0o600,
                    )
                }),
                "/etc/openvpn/client/alice.ovpn: line 2: inline block `<ca>`",
            ),
            (
                "a line OpenVPN rejects",
                Box::new(|r: &Path| {
                    put(
                        r,
                        "/etc/openvpn/client/alice.ovpn",
                        b"client\nca C:\\ca.crt\n",
                        0o600,
                    )
                }),
                "/etc/openvpn/client/alice.ovpn: line 2: OpenVPN would reject",
            ),
            (
                "a directory",
                Box::new(|r: &Path| {
                    fs::remove_file(host_path(r, Path::new("/etc/openvpn/client/alice.ovpn")))
                        .unwrap();
                    fs::create_dir(host_path(r, Path::new("/etc/openvpn/client/alice.ovpn")))
                        .unwrap();
                }),
                "/etc/openvpn/client/alice.ovpn: is a directory",
            ),
            (
                "unreadable (a path through a file: root reads any mode bits)",
                Box::new(|r: &Path| {
                    fs::remove_dir_all(host_path(r, Path::new("/etc/openvpn/client"))).unwrap();
                    put(r, "/etc/openvpn/client", b"not a directory", 0o644);
                }),
                "/etc/openvpn/client/alice.ovpn: cannot read",
            ),
            (
                "a dangling symlink",
                Box::new(|r: &Path| {
                    let p = host_path(r, Path::new("/etc/openvpn/client/alice.ovpn"));
                    fs::remove_file(&p).unwrap();
                    std::os::unix::fs::symlink("/nowhere/alice.ovpn", p).unwrap();
                }),
                "/etc/openvpn/client/alice.ovpn: cannot read",
            ),
            (
                "a client profile given as the server config",
                Box::new(|r: &Path| {
                    put(
                        r,
                        "/etc/openvpn/server/server.conf",
                        CLIENT.as_bytes(),
                        0o640,
                    )
                }),
                "/etc/openvpn/server/server.conf: expected a server config, but this is a client profile",
            ),
        ];
        for (what, spoil, expected) in cases {
            let d = sandbox();
            let root = d.path();
            spoil(root);
            let before = snapshot(root);
            let e = setup(root, &paths()).unwrap_err();
            let msg = format!("{e:#}");
            assert!(msg.contains(expected), "{what}: {msg}");
            assert_eq!(snapshot(root), before, "{what}: something changed");
        }
    }

    /// A directory that cannot be written (only testable without root: root writes anyway).
    #[test]
    fn read_only_directory_changes_nothing() {
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } == 0 {
            println!("skipped: as root, mode bits do not stop a write (see probe_writable)");
            return;
        }
        let d = sandbox();
        let root = d.path();
        let dir = host_path(root, Path::new("/etc/openvpn/client"));
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o555)).unwrap();
        let before = snapshot(root);
        let e = setup(root, &paths()).unwrap_err();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        assert!(
            format!("{e:#}").contains("/etc/openvpn/client/alice.ovpn: cannot be written"),
            "{e:#}"
        );
        let mut after = snapshot(root);
        after.get_mut(Path::new("etc/openvpn/client")).unwrap().1 = 0o40555;
        assert_eq!(after, before);
    }

    /// A write failing half way (the second file's directory turned into something unwritable
    /// after the checks) puts the first file back.
    #[test]
    fn a_failed_write_rolls_back_the_earlier_ones() {
        let d = sandbox();
        let root = d.path();
        let before = snapshot(root);
        let mut m = load(root).unwrap();
        let mut calls = 0;
        let e = edit_configs(root, &mut m, &paths(), |path, doc| {
            calls += 1;
            let changes = if calls == 1 {
                ensure_server(
                    doc,
                    &ServerSetup {
                        plugin_path: "/p.so".into(),
                        config_path: "/c.toml".into(),
                        style: PluginLineStyle::Bare,
                        migrate_upstream: false,
                        allow_unknown_role: false,
                        session_tokens: None,
                    },
                )?
            } else {
                // Sabotage the second write after planning: its target becomes a directory.
                let real = host_path(root, path);
                fs::remove_file(&real).unwrap();
                fs::create_dir(&real).unwrap();
                ensure_client(doc, false)?
            };
            Ok(changes)
        })
        .unwrap_err();
        assert!(format!("{e:#}").contains("nothing was changed"), "{e:#}");
        let mut after = snapshot(root);
        // Only the sabotage itself remains.
        let sabotaged = PathBuf::from("etc/openvpn/client/alice.ovpn");
        after.remove(&sabotaged);
        let mut expected = before.clone();
        expected.remove(&sabotaged);
        after.retain(|p, _| !p.starts_with("var"));
        expected.retain(|p, _| !p.starts_with("var"));
        assert_eq!(after, expected);
        assert!(!host_path(root, Path::new(MANIFEST_PATH)).exists());
        assert_eq!(
            m,
            load(root).unwrap(),
            "the manifest in memory is the one before"
        );
    }

    #[test]
    fn a_tampered_backup_is_not_restored() {
        let d = sandbox();
        let root = d.path();
        setup(root, &paths()).unwrap();
        put(
            root,
            "/var/lib/duo-openvpn/backup/etc/openvpn/server/server.conf",
            b"something else\n",
            0o640,
        );
        let before = snapshot(root);
        let e = uninstall(root, &load(root).unwrap()).unwrap_err();
        assert!(format!("{e:#}").contains("does not match"), "{e:#}");
        assert_eq!(snapshot(root), before);
    }
}
