//! Writing files on the managed system: atomically (temp file in the same directory, fsync,
//! rename), keeping mode and owner, after a backup with the same permissions; directories created
//! along the way are reported so they can be removed again.

use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::files;

/// Who owns a file and its mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Perms {
    pub mode: u32,
    /// `None`: leave the owner as the writer made it.
    pub owner: Option<(u32, u32)>,
}

impl Perms {
    pub fn of(path: &Path) -> io::Result<Perms> {
        let m = fs::metadata(path)?;
        Ok(Perms {
            mode: m.permissions().mode() & 0o7777,
            owner: Some((m.uid(), m.gid())),
        })
    }
}

/// `true` when this process may give files away (root).
pub fn can_chown() -> bool {
    // SAFETY: geteuid has no failure mode.
    unsafe { libc::geteuid() == 0 }
}

/// The gid of a group on this host (the one OpenVPN will run under), `None` when unknown.
pub fn gid_of(group: &str) -> Option<u32> {
    let name = std::ffi::CString::new(group).ok()?;
    let mut buf = vec![0u8; 16 * 1024];
    let mut grp: libc::group = unsafe { std::mem::zeroed() };
    let mut out: *mut libc::group = std::ptr::null_mut();
    // SAFETY: all pointers are valid for the call; buf outlives it.
    let rc = unsafe {
        libc::getgrnam_r(
            name.as_ptr(),
            &mut grp,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut out,
        )
    };
    if rc != 0 || out.is_null() {
        return None;
    }
    Some(grp.gr_gid)
}

/// Create `dir` and its missing parents; returns the ones created, outermost first.
pub fn create_dirs(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut missing = Vec::new();
    let mut d = dir;
    while !d.exists() {
        missing.push(d.to_path_buf());
        match d.parent() {
            Some(p) => d = p,
            None => break,
        }
    }
    missing.reverse();
    for m in &missing {
        match fs::create_dir(m) {
            Ok(()) => fs::set_permissions(m, fs::Permissions::from_mode(0o755))?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(missing)
}

/// Replace `path` with `bytes` atomically (through `files::write_atomic`). The new file gets
/// `perms`, or those of the file it replaces, or 0644; an owner is only given away as root.
pub fn write_atomic(path: &Path, bytes: &[u8], perms: Option<Perms>) -> anyhow::Result<()> {
    let perms = perms.or_else(|| Perms::of(path).ok()).unwrap_or(Perms {
        mode: 0o644,
        owner: None,
    });
    let (uid, gid) = match perms.owner {
        Some(owner) if can_chown() => owner,
        // SAFETY: geteuid/getegid have no failure mode.
        _ => unsafe { (libc::geteuid(), libc::getegid()) },
    };
    files::write_atomic(
        path,
        bytes,
        Some(files::Meta {
            mode: perms.mode,
            uid,
            gid,
        }),
    )
}

/// Copy `path` to `backup` (creating its directory) with the same mode and owner.
pub fn backup(path: &Path, backup: &Path) -> anyhow::Result<()> {
    let perms = Perms::of(path)?;
    let bytes = fs::read(path)?;
    if let Some(parent) = backup.parent() {
        fs::create_dir_all(parent)?;
        fs::set_permissions(parent, fs::Permissions::from_mode(0o700))?;
    }
    write_atomic(backup, &bytes, Some(perms))
}

/// Remove `dirs` (deepest first) when they are empty; returns the ones removed.
pub fn remove_empty_dirs(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut sorted: Vec<&PathBuf> = dirs.iter().collect();
    sorted.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    sorted
        .into_iter()
        .filter(|d| fs::remove_dir(d).is_ok())
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_keeps_mode_and_backs_up() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("server.conf");
        fs::write(&f, "a\n").unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o640)).unwrap();
        backup(&f, &d.path().join("bk/server.conf")).unwrap();
        write_atomic(&f, b"b\n", None).unwrap();
        assert_eq!(fs::read(&f).unwrap(), b"b\n");
        assert_eq!(
            fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert_eq!(fs::read(d.path().join("bk/server.conf")).unwrap(), b"a\n");
        assert_eq!(
            fs::metadata(d.path().join("bk/server.conf"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o640
        );
        let created = create_dirs(&d.path().join("x/y/z")).unwrap();
        assert_eq!(created.len(), 3);
        assert_eq!(remove_empty_dirs(&created).len(), 3);
        assert!(!d.path().join("x").exists());
    }
}
