//! Reading and writing the managed system's files under a root prefix.
//!
//! - Paths are system paths (`/etc/openvpn/server.conf`); `root.join(path without "/")` is where
//!   they live on this host. Symlinks are followed inside the root, so an absolute link target
//!   means the same file in a sandbox as on a real system, and a link is edited at its target and
//!   stays a link.
//! - Writes are atomic: a temp file in the same directory, written, given the old file's mode and
//!   owner, fsynced, renamed over, and the directory fsynced.
//! - Every error names the file (and the line, for a config OpenVPN would reject).

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, anyhow, bail};
use ovpn_config::Document;

/// Where the system path `path` lives under `root`.
pub fn host_path(root: &Path, path: &Path) -> PathBuf {
    root.join(path.strip_prefix("/").unwrap_or(path))
}

/// `path` with `.` and `..` resolved by name, never above `/`.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// The system path `path` ends up at after following symlinks (in its last component, as many
/// times as it takes) inside `root`. A link's absolute target is a system path too.
pub fn resolve(root: &Path, path: &Path) -> Result<PathBuf> {
    let mut sys = normalize(path);
    for _ in 0..40 {
        let real = host_path(root, &sys);
        match fs::symlink_metadata(&real) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = fs::read_link(&real)
                    .with_context(|| format!("{}: cannot read the symlink", sys.display()))?;
                let parent = sys.parent().unwrap_or(Path::new("/")).to_path_buf();
                sys = normalize(&parent.join(target));
            }
            _ => return Ok(sys),
        }
    }
    bail!("{}: too many levels of symbolic links", path.display())
}

/// A file's mode and owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

impl Meta {
    pub fn of(path: &Path) -> io::Result<Meta> {
        let m = fs::metadata(path)?;
        Ok(Meta {
            mode: m.permissions().mode() & 0o7777,
            uid: m.uid(),
            gid: m.gid(),
        })
    }
}

/// The bytes of a regular file; a directory, a device or a missing file is an error naming it.
pub fn read_regular(real: &Path, shown: &Path) -> Result<Vec<u8>> {
    let meta = fs::metadata(real).with_context(|| format!("{}: cannot read", shown.display()))?;
    if meta.is_dir() {
        bail!("{}: is a directory, not a file", shown.display());
    }
    if !meta.is_file() {
        bail!("{}: is not a regular file", shown.display());
    }
    fs::read(real).with_context(|| format!("{}: cannot read", shown.display()))
}

/// A config file read and parsed, with everything needed to write it back in place.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    /// The system path as given (a symlink, maybe).
    pub path: PathBuf,
    /// The system path of the file itself, symlinks followed.
    pub target: PathBuf,
    /// Where `target` lives on this host.
    pub real: PathBuf,
    pub bytes: Vec<u8>,
    pub doc: Document,
    pub meta: Meta,
}

/// Reads and parses the config at system path `path`; errors name the file, and the line when
/// OpenVPN would reject it.
pub fn load_config(root: &Path, path: &Path) -> Result<ConfigFile> {
    let target = resolve(root, path)?;
    let real = host_path(root, &target);
    let bytes = read_regular(&real, path)?;
    let meta = Meta::of(&real).with_context(|| format!("{}: cannot read", path.display()))?;
    let doc = Document::from_bytes(&bytes)
        .map_err(|e| anyhow!("{}: {e}", path.display()))
        .context("not an OpenVPN config this tool can edit")?;
    Ok(ConfigFile {
        path: path.to_path_buf(),
        target,
        real,
        bytes,
        doc,
        meta,
    })
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn temp_name(real: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut name = OsString::from(".");
    name.push(real.file_name().unwrap_or_default());
    name.push(format!(
        ".duo-openvpn.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    real.with_file_name(name)
}

/// Can a file be created in `dir`? Checked by creating and removing one, since as root the mode
/// bits say nothing (a read-only mount, an immutable directory).
pub fn probe_writable(dir: &Path) -> Result<()> {
    let probe = temp_name(&dir.join("probe"));
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&probe)
        .with_context(|| format!("{}: cannot create files in this directory", dir.display()))?;
    fs::remove_file(&probe).ok();
    Ok(())
}

/// Replaces the file at `real` (a host path, symlinks already followed) with `bytes`, atomically.
/// The new file gets `meta`, else the replaced file's mode and owner, else 0644.
pub fn write_atomic(real: &Path, bytes: &[u8], meta: Option<Meta>) -> Result<()> {
    let shown = real.display();
    let dir = real
        .parent()
        .ok_or_else(|| anyhow!("{shown}: has no parent directory"))?;
    if real.is_dir() {
        bail!("{shown}: is a directory, not a file");
    }
    let meta = meta.or_else(|| Meta::of(real).ok());
    let tmp = temp_name(real);
    let result = (|| -> io::Result<()> {
        // 0600 until the final mode is set: a secret never shows to others in between.
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        match meta {
            Some(m) => {
                let now = f.metadata()?;
                if (now.uid(), now.gid()) != (m.uid, m.gid) {
                    std::os::unix::fs::fchown(&f, Some(m.uid), Some(m.gid))?;
                }
                f.set_permissions(fs::Permissions::from_mode(m.mode))?;
            }
            None => f.set_permissions(fs::Permissions::from_mode(0o644))?,
        }
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, real)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        fs::remove_file(&tmp).ok();
    }
    result.with_context(|| format!("{shown}: cannot write"))
}

/// Writes a backup of a file: `bytes` with the original's mode and owner, its directories
/// created 0700 (they hold copies of configs that may carry secrets).
pub fn write_backup(real_backup: &Path, bytes: &[u8], meta: Meta) -> Result<()> {
    if let Some(dir) = real_backup.parent() {
        create_private_dirs(dir)
            .with_context(|| format!("{}: cannot create the backup directory", dir.display()))?;
    }
    write_atomic(real_backup, bytes, Some(meta))
}

fn create_private_dirs(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_private_dirs(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => fs::set_permissions(dir, fs::Permissions::from_mode(0o700)),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;
    use std::os::unix::fs::symlink;

    use super::*;

    /// Every entry under `dir`: kind, mode, and content or link target; for "nothing changed".
    pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (String, u32, Vec<u8>)> {
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                let m = fs::symlink_metadata(&p).unwrap();
                let rel = p.strip_prefix(dir).unwrap().to_path_buf();
                let mode = m.permissions().mode();
                let entry = if m.file_type().is_symlink() {
                    (
                        "link".into(),
                        mode,
                        fs::read_link(&p)
                            .unwrap()
                            .into_os_string()
                            .into_encoded_bytes(),
                    )
                } else if m.is_dir() {
                    stack.push(p.clone());
                    ("dir".into(), mode, Vec::new())
                } else {
                    ("file".into(), mode, fs::read(&p).unwrap())
                };
                out.insert(rel, entry);
            }
        }
        out
    }

    fn write(root: &Path, sys: &str, text: &str, mode: u32) {
        let p = host_path(root, Path::new(sys));
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, text).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn host_paths_and_normalising() {
        assert_eq!(
            host_path(Path::new("/r"), Path::new("/etc/x")),
            PathBuf::from("/r/etc/x")
        );
        assert_eq!(
            host_path(Path::new("/"), Path::new("/etc/x")),
            PathBuf::from("/etc/x")
        );
        assert_eq!(
            normalize(Path::new("/etc/../../a/./b")),
            PathBuf::from("/a/b")
        );
    }

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        write(root, "/etc/openvpn/server/real.conf", "dev tun\n", 0o640);
        fs::create_dir_all(root.join("srv")).unwrap();
        // Absolute target: a system path, so inside the root.
        symlink(
            "/etc/openvpn/server/real.conf",
            root.join("etc/openvpn/abs.conf"),
        )
        .unwrap();
        symlink("server/real.conf", root.join("etc/openvpn/rel.conf")).unwrap();
        symlink("../openvpn/abs.conf", root.join("srv/chain.conf")).unwrap();
        for link in ["/etc/openvpn/abs.conf", "/etc/openvpn/rel.conf"] {
            assert_eq!(
                resolve(root, Path::new(link)).unwrap(),
                PathBuf::from("/etc/openvpn/server/real.conf")
            );
        }
        symlink("loop-b", root.join("etc/loop-a")).unwrap();
        symlink("loop-a", root.join("etc/loop-b")).unwrap();
        let e = resolve(root, Path::new("/etc/loop-a")).unwrap_err();
        assert!(
            format!("{e:#}").contains("/etc/loop-a: too many levels"),
            "{e:#}"
        );
    }

    #[test]
    fn atomic_write_keeps_mode_owner_and_links() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        write(root, "/etc/openvpn/server/real.conf", "dev tun\n", 0o640);
        symlink(
            "/etc/openvpn/server/real.conf",
            root.join("etc/openvpn/server.conf"),
        )
        .unwrap();
        let f = load_config(root, Path::new("/etc/openvpn/server.conf")).unwrap();
        assert_eq!(f.target, PathBuf::from("/etc/openvpn/server/real.conf"));
        write_atomic(&f.real, b"dev tap\n", None).unwrap();
        let link = root.join("etc/openvpn/server.conf");
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&f.real).unwrap(), b"dev tap\n");
        let m = Meta::of(&f.real).unwrap();
        assert_eq!(m, f.meta);
        assert_eq!(m.mode, 0o640);
        // No temp file left behind.
        assert_eq!(
            fs::read_dir(root.join("etc/openvpn/server"))
                .unwrap()
                .count(),
            1
        );
    }

    #[test]
    fn backups_keep_permissions_in_private_directories() {
        let d = tempfile::tempdir().unwrap();
        let backup = d
            .path()
            .join("var/lib/duo-openvpn/backup/etc/openvpn/server.conf");
        let meta = Meta {
            mode: 0o600,
            ..Meta::of(d.path()).unwrap()
        };
        write_backup(&backup, b"x\n", meta).unwrap();
        assert_eq!(Meta::of(&backup).unwrap(), meta);
        let dir_mode = Meta::of(backup.parent().unwrap()).unwrap().mode;
        assert_eq!(dir_mode, 0o700);
    }

    #[test]
    fn unreadable_inputs_are_named() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        fs::create_dir_all(root.join("etc/openvpn/dir.conf")).unwrap();
        write(root, "/etc/openvpn/plain", "x", 0o644);
        let cases = [
            ("/etc/openvpn/dir.conf", "is a directory"),
            ("/etc/openvpn/missing.conf", "cannot read"),
            // A path through a file: what an unreadable file looks like to root.
            ("/etc/openvpn/plain/inner.conf", "cannot read"),
        ];
        for (path, why) in cases {
            let e = load_config(root, Path::new(path)).unwrap_err();
            let msg = format!("{e:#}");
            assert!(msg.contains(path) && msg.contains(why), "{msg}");
        }
        let e = write_atomic(&root.join("etc/openvpn/dir.conf"), b"x", None).unwrap_err();
        assert!(format!("{e:#}").contains("is a directory"), "{e:#}");
    }

    #[test]
    fn parse_errors_name_file_and_line() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        write(
            root,
            "/etc/openvpn/server.conf",
            "dev tun\n<ca>\nMIIB\n",
            0o644,
        );
        let e = load_config(root, Path::new("/etc/openvpn/server.conf")).unwrap_err();
        let msg = format!("{e:#}");
        assert!(msg.contains("/etc/openvpn/server.conf: line 2"), "{msg}");
        assert!(msg.contains("</ca>"), "{msg}");
    }
}
