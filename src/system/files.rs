//! The managed system's files as setup sees them: symlinks resolved once (and only where no
//! other user could have planted them), configs read and parsed, backups, owners.
//!
//! Below this, [`super::tree`] reaches every file through handles that never follow a symlink;
//! here is the one place that does follow one, before any edit is planned, so the plan can
//! show it and the manifest can record where the file really is.

use std::ffi::OsStr;
use std::path::{Component, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use ovpn_config::Document;

pub use super::tree::{Meta, SysPath, Tree};

/// A path with its symlinks resolved inside the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The path as given, normalised.
    pub path: SysPath,
    /// The file itself: no symlink anywhere on the way.
    pub target: SysPath,
    /// The links followed on the way (link, its target as written), for the plan to show.
    pub links: Vec<(SysPath, PathBuf)>,
}

/// Follows the symlinks on the way to `path` inside `tree`; an absolute link target is a
/// system path too, so a sandbox sees what the real system would. A link in a folder that a
/// user other than root (and us) owns or may write is refused: that user could point it
/// anywhere, between setup's reads and its writes.
pub fn resolve(tree: &Tree, path: &SysPath) -> Result<Resolved> {
    let mut links = Vec::new();
    let mut todo: Vec<std::ffi::OsString> = components(path);
    todo.reverse();
    let mut cur = SysPath::normalize("/");
    while let Some(name) = todo.pop() {
        let next = cur.join(&name);
        let dir = tree.open_dir(&cur)?;
        match dir.entry(&name)? {
            Some(e) if e.kind == super::tree::Kind::Symlink => {
                if links.len() >= 40 {
                    bail!("{path}: too many levels of symbolic links");
                }
                if let Some(who) = foreign(&dir.meta()?) {
                    bail!(
                        "{next}: a symlink in {cur}, which {who}; not followed (replace it with the file itself)"
                    );
                }
                let target = dir.read_link(&name)?;
                links.push((next.clone(), target.clone()));
                let base = if target.is_absolute() {
                    SysPath::normalize(&target)
                } else {
                    cur.join(&target)
                };
                // Start over from the root with the link's target and what was left.
                let mut rest = components(&base);
                rest.extend(todo.drain(..).rev());
                todo = rest;
                todo.reverse();
                cur = SysPath::normalize("/");
            }
            _ => cur = next,
        }
    }
    Ok(Resolved {
        path: path.clone(),
        target: cur,
        links,
    })
}

fn components(p: &SysPath) -> Vec<std::ffi::OsString> {
    p.as_path()
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            _ => None,
        })
        .collect()
}

/// Who other than root and this process could change a folder with these permissions, as a
/// phrase ("is owned by uid 1000", "is writable by its group"); `None` when nobody.
pub fn foreign(m: &Meta) -> Option<String> {
    // SAFETY: geteuid has no failure mode.
    let me = unsafe { libc::geteuid() };
    if m.uid != 0 && m.uid != me {
        return Some(format!("is owned by {}", user_name(m.uid)));
    }
    let sticky = m.mode & 0o1000 != 0;
    if !sticky && m.mode & 0o020 != 0 && m.gid != 0 {
        return Some("is writable by its group".into());
    }
    if !sticky && m.mode & 0o002 != 0 {
        return Some("is writable by every user".into());
    }
    None
}

/// Is any folder on the way to `path` (below the root) one another user can change? The
/// phrase names the folder.
pub fn foreign_folder(tree: &Tree, path: &SysPath) -> Option<String> {
    let mut cur = SysPath::normalize("/");
    let parent = path.parent()?;
    for name in components(&parent) {
        cur = cur.join(&name);
        let meta = tree.open_dir(&cur).ok()?.meta().ok()?;
        if let Some(who) = foreign(&meta) {
            return Some(format!("{cur} {who}"));
        }
    }
    None
}

fn user_name(uid: u32) -> String {
    let mut buf = vec![0u8; 16 * 1024];
    // SAFETY: zeroed passwd is a valid out-parameter; all pointers outlive the call.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    let rc =
        unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr().cast(), buf.len(), &mut out) };
    if rc == 0 && !out.is_null() {
        // SAFETY: getpwuid_r filled pw_name with a C string inside buf.
        let name = unsafe { std::ffi::CStr::from_ptr(pw.pw_name) };
        return format!("user {} (uid {uid})", name.to_string_lossy());
    }
    format!("uid {uid}")
}

/// A config file read and parsed, with everything needed to write it back in place.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    /// The path as given, normalised (a symlink, maybe).
    pub path: SysPath,
    /// The file itself, symlinks followed.
    pub target: SysPath,
    pub links: Vec<(SysPath, PathBuf)>,
    pub bytes: Vec<u8>,
    pub doc: Document,
    pub meta: Meta,
}

/// Reads and parses the config at `path`; errors name the file, and the line when OpenVPN
/// would reject it.
pub fn load_config(tree: &Tree, path: &SysPath) -> Result<ConfigFile> {
    let (r, bytes, meta) = read_config(tree, path)?;
    let doc = Document::from_bytes(&bytes)
        .map_err(|e| anyhow!("{path}: {e}"))
        .map_err(|e| e.context("not an OpenVPN config this tool can edit"))?;
    Ok(ConfigFile {
        path: r.path,
        target: r.target,
        links: r.links,
        bytes,
        doc,
        meta,
    })
}

/// The bytes of the config at `path`, its symlinks resolved once; not parsed.
pub fn read_config(tree: &Tree, path: &SysPath) -> Result<(Resolved, Vec<u8>, Meta)> {
    let r = resolve(tree, path).map_err(|e| named(path, e))?;
    let (bytes, meta) = tree.read(&r.target).map_err(|e| named(path, e))?;
    Ok((r, bytes, meta))
}

/// An error about the file a link led to, named by the path the administrator gave.
fn named(path: &SysPath, e: anyhow::Error) -> anyhow::Error {
    let msg = format!("{e:#}");
    if msg.starts_with(&format!("{path}:")) {
        e
    } else {
        e.context(format!("{path}: cannot read"))
    }
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes a backup: `bytes` with the original's mode and owner, its directories created 0700
/// (they hold copies of configs that may carry secrets). Backups live in our own state folder,
/// which uninstall removes whole, so the directories need no record.
pub fn write_backup(tree: &Tree, backup: &SysPath, bytes: &[u8], meta: Meta) -> Result<()> {
    let parent = backup.parent().expect("a backup path has a folder");
    let dir = tree.create_dirs(&parent, 0o700, &mut |_| Ok(()))?;
    dir.write_atomic(file_name(backup), bytes, meta)
}

pub fn file_name(p: &SysPath) -> &OsStr {
    p.file_name().unwrap_or_else(|| OsStr::new(""))
}

/// `true` when this process may give files away (root).
pub fn can_chown() -> bool {
    // SAFETY: geteuid has no failure mode.
    unsafe { libc::geteuid() == 0 }
}

/// This process's uid and gid: the owner of what it creates when it cannot give files away.
pub fn me() -> (u32, u32) {
    // SAFETY: geteuid/getegid have no failure mode.
    unsafe { (libc::geteuid(), libc::getegid()) }
}

/// The gid of a group on this host (the one OpenVPN will run under), `None` when unknown.
pub fn gid_of(group: &str) -> Option<u32> {
    let name = std::ffi::CString::new(group).ok()?;
    let mut buf = vec![0u8; 16 * 1024];
    // SAFETY: zeroed group is a valid out-parameter.
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

/// Where a system path is on this host, for tests.
#[cfg(test)]
pub fn host_path(root: &std::path::Path, path: &std::path::Path) -> PathBuf {
    root.join(path.strip_prefix("/").unwrap_or(path))
}

/// A new folder for a sandbox root (kept after the run), 0755 so OpenVPN's unprivileged user
/// can reach what is inside.
pub fn new_sandbox(prefix: &str) -> Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new().prefix(prefix).tempdir()?.keep();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))?;
    Ok(dir)
}

/// Writes `files` (system path, bytes, mode) under `tree`, creating folders 0755, owned by
/// this process: the demo's sample system.
pub fn populate(tree: &Tree, files: &[(&str, &[u8], u32)]) -> Result<()> {
    let (uid, gid) = me();
    for (path, bytes, mode) in files {
        let path = SysPath::normalize(path);
        let dir = tree.create_dirs(&path.parent().expect("a file path"), 0o755, &mut |_| Ok(()))?;
        dir.write_atomic(
            file_name(&path),
            bytes,
            Meta {
                mode: *mode,
                uid,
                gid,
            },
        )?;
    }
    Ok(())
}

/// An input given to the tool (the plugin library to install): read where it is given, refused
/// over `limit` bytes before it is read (`duo::config::read_input_up_to`); the error names it.
pub fn read_input(path: &std::path::Path, limit: u64) -> Result<Vec<u8>> {
    duo::config::read_input_up_to(path, limit)
        .with_context(|| format!("{}: cannot read", path.display()))
}

/// Is there a regular file at `path` (an input, read where it is given)?
pub fn is_input_file(path: &std::path::Path) -> bool {
    path.is_file()
}

/// Do two input paths name the same file (through symlinks)? The packaged plugin is both what
/// setup would install and where, with `--root /`.
pub fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;
    use std::fs;
    use std::os::unix::fs::{PermissionsExt, symlink};
    use std::path::Path;

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

    fn sys(p: &str) -> SysPath {
        SysPath::normalize(p)
    }

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        let tree = Tree::new(root);
        write(root, "/etc/openvpn/server/real.conf", "dev tun\n", 0o640);
        fs::create_dir_all(root.join("srv")).unwrap();
        // Absolute target: a system path, so inside the root.
        symlink(
            "/etc/openvpn/server/real.conf",
            root.join("etc/openvpn/abs.conf"),
        )
        .unwrap();
        symlink("server/real.conf", root.join("etc/openvpn/rel.conf")).unwrap();
        symlink("../etc/openvpn/abs.conf", root.join("srv/chain.conf")).unwrap();
        // A folder that is a link (an administrator's /etc/openvpn -> /srv/openvpn).
        symlink("/etc/openvpn/server", root.join("srv/server")).unwrap();
        for link in [
            "/etc/openvpn/abs.conf",
            "/etc/openvpn/rel.conf",
            "/srv/chain.conf",
            "/srv/server/real.conf",
        ] {
            let r = resolve(&tree, &sys(link)).unwrap();
            assert_eq!(r.target, sys("/etc/openvpn/server/real.conf"), "{link}");
            assert!(!r.links.is_empty());
        }
        // A link that climbs out of the root stays inside it.
        symlink(
            "../../../../../../etc/openvpn/server/real.conf",
            root.join("srv/up.conf"),
        )
        .unwrap();
        assert_eq!(
            resolve(&tree, &sys("/srv/up.conf")).unwrap().target,
            sys("/etc/openvpn/server/real.conf")
        );
        symlink("loop-b", root.join("etc/loop-a")).unwrap();
        symlink("loop-a", root.join("etc/loop-b")).unwrap();
        let e = resolve(&tree, &sys("/etc/loop-a")).unwrap_err();
        assert!(
            format!("{e:#}").contains("/etc/loop-a: too many levels"),
            "{e:#}"
        );
    }

    #[test]
    fn a_link_in_a_folder_others_can_change_is_not_followed() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        let tree = Tree::new(root);
        write(root, "/etc/openvpn/real.ovpn", "client\n", 0o600);
        fs::create_dir_all(root.join("home/eve")).unwrap();
        fs::set_permissions(root.join("home/eve"), fs::Permissions::from_mode(0o777)).unwrap();
        symlink("/etc/openvpn/real.ovpn", root.join("home/eve/x.ovpn")).unwrap();
        let e = load_config(&tree, &sys("/home/eve/x.ovpn")).unwrap_err();
        assert!(
            format!("{e:#}").contains(
                "/home/eve/x.ovpn: a symlink in /home/eve, which is writable by every user"
            ),
            "{e:#}"
        );
        assert_eq!(
            foreign_folder(&tree, &sys("/home/eve/x.ovpn")).unwrap(),
            "/home/eve is writable by every user"
        );
        assert_eq!(foreign_folder(&tree, &sys("/etc/openvpn/real.ovpn")), None);
    }

    #[test]
    fn unreadable_inputs_are_named() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        let tree = Tree::new(root);
        fs::create_dir_all(root.join("etc/openvpn/dir.conf")).unwrap();
        write(root, "/etc/openvpn/plain", "x", 0o644);
        let cases = [
            ("/etc/openvpn/dir.conf", "is a directory"),
            ("/etc/openvpn/missing.conf", "cannot read"),
            ("/etc/openvpn/plain/inner.conf", "not a directory"),
        ];
        for (path, why) in cases {
            let e = load_config(&tree, &sys(path)).unwrap_err();
            let msg = format!("{e:#}");
            assert!(msg.contains(path) && msg.contains(why), "{msg}");
        }
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
        let e = load_config(&Tree::new(root), &sys("/etc/openvpn/server.conf")).unwrap_err();
        let msg = format!("{e:#}");
        assert!(msg.contains("/etc/openvpn/server.conf: line 2"), "{msg}");
        assert!(msg.contains("</ca>"), "{msg}");
    }

    #[test]
    fn backups_keep_permissions_in_private_directories() {
        let d = tempfile::tempdir().unwrap();
        let tree = Tree::new(d.path());
        let backup = sys("/var/lib/duo-openvpn/backup/etc/openvpn/server.conf");
        let (uid, gid) = me();
        let meta = Meta {
            mode: 0o600,
            uid,
            gid,
        };
        write_backup(&tree, &backup, b"x\n", meta).unwrap();
        assert_eq!(tree.read(&backup).unwrap(), (b"x\n".to_vec(), meta));
        let dir = tree.open_dir(&backup.parent().unwrap()).unwrap();
        assert_eq!(dir.meta().unwrap().mode, 0o700);
    }
}
