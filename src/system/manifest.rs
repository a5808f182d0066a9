//! Config edits as one transaction recorded in the manifest, and their undo.
//!
//! The manifest's schema is [`super::receipt::Manifest`] (`/var/lib/duo-openvpn/manifest.json`):
//! per edited file its path, backup, the SHA-256 of what we wrote and every change with what it
//! replaced. Here is the logic around it:
//! - [`edit_configs`]: read and parse every target, compute every edit, check every directory
//!   can be written, and only then back up and write; a failure on the way puts back what was
//!   written, so a file that cannot be read, parsed or written is reported by name and nothing
//!   else is changed.
//! - [`uninstall`]: a file untouched since setup gets its backup back byte for byte (checked
//!   against the recorded changes first); a file edited since has our changes undone by content,
//!   everything else kept; a missing file is reported. Same all-or-nothing rule.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use ovpn_config::{Change, Document, UndoOutcome, undo_all};

use super::files::{self, Meta, host_path, read_regular, resolve, sha256_hex};
use super::receipt::{Edited, MANIFEST_PATH, Manifest};

/// The manifest under `root`, or an empty one when there is none yet. (The commands load it
/// through `receipt::Manifest::load(&Host)`; this is the root-only form.)
#[cfg_attr(not(test), allow(dead_code))]
pub fn load(root: &Path) -> Result<Manifest> {
    let real = host_path(root, Path::new(MANIFEST_PATH));
    match std::fs::read(&real) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("{MANIFEST_PATH}: not a manifest this version can read")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Manifest::default()),
        Err(e) => Err(e).with_context(|| format!("{MANIFEST_PATH}: cannot read")),
    }
}

/// Writes the manifest atomically, 0600: it holds the replaced lines, which may carry Duo's
/// secret key (an upstream plugin line).
pub fn save(root: &Path, manifest: &Manifest) -> Result<()> {
    let real = host_path(root, Path::new(MANIFEST_PATH));
    let mut json = serde_json::to_vec_pretty(manifest).context("manifest")?;
    json.push(b'\n');
    let dir = real.parent().expect("the manifest path has a directory");
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let me = Meta::of(dir).with_context(|| format!("{}: cannot read", dir.display()))?;
    files::write_atomic(&real, &json, Some(Meta { mode: 0o600, ..me }))
}

/// What [`edit_configs`] did to one file: no changes means it already was as wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEdit {
    pub path: PathBuf,
    pub changes: Vec<Change>,
}

struct Planned {
    file: files::ConfigFile,
    after: Vec<u8>,
    changes: Vec<Change>,
}

/// Applies `edit` to every config in `paths` (system paths under `root`) as one transaction and
/// records it in `manifest` (saved). `edit` gets the path and a document to change, and returns
/// the changes it made (e.g. `ovpn_config::ensure_server`).
pub fn edit_configs<F>(
    root: &Path,
    manifest: &mut Manifest,
    paths: &[PathBuf],
    mut edit: F,
) -> Result<Vec<FileEdit>>
where
    F: FnMut(&Path, &mut Document) -> Result<Vec<Change>>,
{
    let mut planned: Vec<Planned> = Vec::new();
    let mut targets = std::collections::HashSet::new();
    for path in paths {
        let file = files::load_config(root, path)?;
        if !targets.insert(file.target.clone()) {
            bail!(
                "{}: the same file as another config given ({})",
                path.display(),
                file.target.display()
            );
        }
        let mut doc = file.doc.clone();
        let changes = edit(path, &mut doc).with_context(|| format!("{}", path.display()))?;
        planned.push(Planned {
            after: doc.render(),
            file,
            changes,
        });
    }
    let writes: Vec<&Planned> = planned.iter().filter(|p| !p.changes.is_empty()).collect();
    for p in &writes {
        files::probe_writable(p.file.real.parent().expect("absolute"))
            .with_context(|| format!("{}: cannot be written", p.file.path.display()))?;
    }
    let before = manifest.clone();
    let manifest_existed = host_path(root, Path::new(MANIFEST_PATH)).exists();
    let mut written: Vec<(&Planned, Vec<u8>)> = Vec::new();
    let mut new_backups: Vec<PathBuf> = Vec::new();
    let result = (|| -> Result<()> {
        for p in &writes {
            record(root, manifest, p, &mut new_backups)?;
        }
        // Saved once, before any write (not once per file: that is quadratic in the number of
        // profiles): a crash in between leaves an undo that finds nothing to undo.
        save(root, manifest)?;
        for p in &writes {
            files::write_atomic(&p.file.real, &p.after, Some(p.file.meta))?;
            written.push((p, p.file.bytes.clone()));
        }
        Ok(())
    })();
    if let Err(e) = result {
        let mut problems = Vec::new();
        for (p, old) in written.iter().rev() {
            if let Err(r) = files::write_atomic(&p.file.real, old, Some(p.file.meta)) {
                problems.push(format!("{r:#}"));
            }
        }
        for b in &new_backups {
            std::fs::remove_file(b).ok();
        }
        *manifest = before;
        let restored = if manifest_existed {
            save(root, manifest)
        } else {
            std::fs::remove_file(host_path(root, Path::new(MANIFEST_PATH))).ok();
            Ok(())
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

/// Adds `p` to the manifest: a backup of the file as it is without any of our changes, then
/// the changes and the hash of what is about to be written.
fn record(
    root: &Path,
    manifest: &mut Manifest,
    p: &Planned,
    new_backups: &mut Vec<PathBuf>,
) -> Result<()> {
    let key = p.file.path.display().to_string();
    let existing = manifest.edited_mut(&key).map(|e| e.clone());
    let baseline = match &existing {
        None => Some(p.file.bytes.clone()),
        // Edited by the admin since our last write: the backup becomes their file minus our
        // changes, so that restoring it later keeps their edits.
        Some(e) if sha256_hex(&p.file.bytes) != e.sha256_after => {
            let mut doc = p.file.doc.clone();
            undo_all(&mut doc, &e.changes);
            Some(doc.render())
        }
        Some(_) => None,
    };
    let backup_sys = existing
        .as_ref()
        .map(|e| e.backup.clone())
        .unwrap_or_else(|| Manifest::backup_path(&key));
    if let Some(bytes) = baseline {
        let real = host_path(root, Path::new(&backup_sys));
        files::write_backup(&real, &bytes, p.file.meta)
            .with_context(|| format!("{}: cannot back up", p.file.path.display()))?;
        if existing.is_none() {
            new_backups.push(real);
        }
    }
    if existing.is_none() {
        manifest.edited.push(Edited {
            path: key.clone(),
            backup: backup_sys,
            sha256_after: String::new(),
            changes: Vec::new(),
        });
    }
    let rec = manifest.edited_mut(&key).expect("recorded above");
    rec.sha256_after = sha256_hex(&p.after);
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
        real: PathBuf,
        bytes: Vec<u8>,
        meta: Option<Meta>,
    },
    Remove {
        real: PathBuf,
    },
}

/// Undoes every edit and installed file in `manifest` (all or nothing, see the module doc),
/// then deletes the backups. The manifest file, directories and services are left to the caller.
pub fn uninstall(root: &Path, manifest: &Manifest) -> Result<Vec<FileReport>> {
    let mut reports = Vec::new();
    let mut actions = Vec::new();
    let mut backups = Vec::new();
    for e in manifest.edited.iter().rev() {
        let (report, action) = plan_edited(root, e)?;
        if !matches!(report, FileReport::Missing { .. }) {
            backups.push(host_path(root, Path::new(&e.backup)));
        }
        reports.push(report);
        actions.extend(action);
    }
    for i in manifest.installed.iter().rev() {
        let real = host_path(root, &resolve(root, Path::new(&i.path))?);
        let path = i.path.clone();
        if !real.exists() {
            reports.push(FileReport::Missing {
                path,
                backup: i.backup.clone(),
            });
            continue;
        }
        let current = read_regular(&real, Path::new(&i.path))?;
        if sha256_hex(&current) != i.sha256 {
            reports.push(FileReport::KeptModified { path });
            continue;
        }
        match &i.backup {
            Some(b) => {
                let bk = host_path(root, Path::new(b));
                let bytes = read_regular(&bk, Path::new(b))?;
                let meta = Meta::of(&bk).with_context(|| format!("{b}: cannot read"))?;
                actions.push(Action::Write {
                    real,
                    bytes,
                    meta: Some(meta),
                });
                backups.push(bk);
                reports.push(FileReport::PutBack { path });
            }
            None => {
                actions.push(Action::Remove { real });
                reports.push(FileReport::Removed { path });
            }
        }
    }
    for a in &actions {
        let real = match a {
            Action::Write { real, .. } | Action::Remove { real } => real,
        };
        files::probe_writable(real.parent().expect("absolute"))?;
    }
    let mut done: Vec<(PathBuf, Vec<u8>, Meta)> = Vec::new();
    for a in &actions {
        let real = match a {
            Action::Write { real, .. } | Action::Remove { real } => real.clone(),
        };
        let old = std::fs::read(&real).ok().zip(Meta::of(&real).ok());
        let r = match a {
            Action::Write { real, bytes, meta } => files::write_atomic(real, bytes, *meta),
            Action::Remove { real } => std::fs::remove_file(real)
                .with_context(|| format!("{}: cannot remove", real.display())),
        };
        if let Err(e) = r {
            for (real, bytes, meta) in done.iter().rev() {
                files::write_atomic(real, bytes, Some(*meta)).ok();
            }
            return Err(e.context("nothing was changed"));
        }
        if let Some((bytes, meta)) = old {
            done.push((real, bytes, meta));
        }
    }
    for b in backups {
        std::fs::remove_file(b).ok();
    }
    Ok(reports)
}

fn plan_edited(root: &Path, e: &Edited) -> Result<(FileReport, Option<Action>)> {
    let path = e.path.clone();
    let real = host_path(root, &resolve(root, Path::new(&e.path))?);
    if !real.exists() {
        let backup = Some(e.backup.clone());
        return Ok((FileReport::Missing { path, backup }, None));
    }
    let current = read_regular(&real, Path::new(&e.path))?;
    let mut doc = Document::from_bytes(&current)
        .map_err(|err| anyhow!("{}: {err}", e.path))
        .context("cannot undo setup's changes in a file OpenVPN would not read")?;
    let outcomes = undo_all(&mut doc, &e.changes);
    let undone = doc.render();
    if sha256_hex(&current) == e.sha256_after {
        let bk = host_path(root, Path::new(&e.backup));
        let backup = read_regular(&bk, Path::new(&e.backup))
            .with_context(|| format!("{}: its backup is needed to restore it", e.path))?;
        // Undoing the recorded changes must give the backup back: both then are the original.
        if backup != undone {
            bail!(
                "{}: the backup {} does not match the changes recorded for it; nothing restored",
                e.path,
                e.backup
            );
        }
        let action = Action::Write {
            real,
            bytes: backup,
            meta: None,
        };
        return Ok((FileReport::Restored { path }, Some(action)));
    }
    let not_undone: Vec<String> = outcomes
        .iter()
        .filter(|(_, o)| *o != UndoOutcome::Reverted)
        .map(|(c, _)| c.to_string())
        .collect();
    if undone == current {
        return Ok((FileReport::NothingToUndo { path, not_undone }, None));
    }
    let action = Action::Write {
        real,
        bytes: undone,
        meta: None,
    };
    Ok((FileReport::Reverted { path, not_undone }, Some(action)))
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    use ovpn_config::{PluginLineStyle, ServerSetup, ensure_client, ensure_server};

    use super::super::files::tests::snapshot;
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
        d
    }

    fn paths() -> Vec<PathBuf> {
        vec![
            "/etc/openvpn/server/server.conf".into(),
            "/etc/openvpn/client/alice.ovpn".into(),
        ]
    }

    fn setup(root: &Path, paths: &[PathBuf]) -> Result<Vec<FileEdit>> {
        let server = ServerSetup {
            plugin_path: "/usr/lib/duo-openvpn/libduo_openvpn_plugin.so".into(),
            config_path: "/etc/duo-openvpn/duo.toml".into(),
            style: PluginLineStyle::Quoted,
            migrate_upstream: false,
            allow_unknown_role: false,
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
        assert_eq!(Meta::of(&bk).unwrap().mode, 0o600);
        let manifest = host_path(root, Path::new(MANIFEST_PATH));
        assert_eq!(Meta::of(&manifest).unwrap().mode, 0o600);
        assert_eq!(
            Meta::of(&host_path(
                root,
                Path::new("/etc/openvpn/server/server.conf")
            ))
            .unwrap()
            .mode,
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
        // Only the (now empty) state directories remain.
        after.retain(|p, _| !p.starts_with("var"));
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
        assert_eq!(after, expected);
        assert!(!host_path(root, Path::new(MANIFEST_PATH)).exists());
        assert_eq!(m, Manifest::default());
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
