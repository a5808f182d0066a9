//! The file layer: the only code that opens a file or directory of the managed system.
//!
//! Setup runs as root and writes into folders other users may own (client profiles in home
//! directories). A path is therefore normalised once ([`SysPath`]: absolute, no `.` or `..`)
//! and from then on reached through directory handles opened without following symlinks:
//! `openat2(RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH)` from a handle on the root where the kernel
//! has it, an `O_NOFOLLOW | O_DIRECTORY` walk one component at a time otherwise. Every read,
//! temp file (`O_EXCL`), fsync, `renameat` and directory fsync is relative to the handle that
//! was opened, so a folder swapped for a symlink after it was checked cannot redirect a write:
//! the walk refuses the link, and a handle opened before the swap still names the old folder.
//!
//! Symlinks an administrator really uses are resolved once, before any of this, by
//! [`super::files::resolve`], which refuses links in folders other users can change.
//!
//! Every mutating step passes [`super::fault::point`] first: in debug builds a test can stop
//! or kill the process there, to prove that a crash or a swap at any point is survivable.

use std::ffi::OsStr;
use std::fmt;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

use super::fault;

/// Files larger than this are refused before they are read: no OpenVPN config, profile, key or
/// manifest comes near it, and reading a huge file whole could exhaust memory.
pub const MAX_FILE_BYTES: u64 = duo::config::MAX_INPUT_BYTES;

/// The limit for files setup installs and reads back (the plugin library: a debug build is
/// tens of MB).
pub const MAX_INSTALLED_BYTES: u64 = 512 * 1024 * 1024;

/// A system path (`/etc/openvpn/server.conf`): absolute, with `.` and `..` resolved by name.
/// Resolving `..` by name is sound here because no symlink is ever followed below the root.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SysPath(PathBuf);

impl SysPath {
    /// `p` normalised; a relative path is taken from `/`.
    pub fn normalize(p: impl AsRef<Path>) -> SysPath {
        let mut out = PathBuf::from("/");
        for c in p.as_ref().components() {
            match c {
                Component::ParentDir => {
                    out.pop();
                }
                Component::Normal(n) => out.push(n),
                Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            }
        }
        SysPath(out)
    }

    pub fn as_path(&self) -> &Path {
        &self.0
    }

    pub fn parent(&self) -> Option<SysPath> {
        self.0.parent().map(|p| SysPath(p.to_path_buf()))
    }

    pub fn file_name(&self) -> Option<&OsStr> {
        self.0.file_name()
    }

    pub fn join(&self, rel: impl AsRef<Path>) -> SysPath {
        SysPath::normalize(self.0.join(rel))
    }

    /// The path below `/` (`etc/openvpn/server.conf`); empty for `/`.
    fn relative(&self) -> &Path {
        self.0.strip_prefix("/").unwrap_or(&self.0)
    }
}

impl fmt::Display for SysPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.display().fmt(f)
    }
}

/// A file's mode and owner: what a write keeps and a backup copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

impl Meta {
    fn of(st: &rfs::Stat) -> Meta {
        Meta {
            mode: st.st_mode & 0o7777,
            uid: st.st_uid,
            gid: st.st_gid,
        }
    }
}

/// What is at a name in a directory, without following a symlink there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub kind: Kind,
    pub meta: Meta,
    pub nlink: u64,
    pub size: u64,
    pub dev: u64,
    pub ino: u64,
}

/// The managed system below its root directory (`/`, or `--root DIR`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    dir: PathBuf,
}

/// An open directory of the managed system, reached without following symlinks.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    path: SysPath,
}

impl Tree {
    pub fn new(dir: impl Into<PathBuf>) -> Tree {
        Tree { dir: dir.into() }
    }

    /// Where the system path `p` is on this host (for messages and for paths written into
    /// configs, which OpenVPN itself opens).
    pub fn host_path(&self, p: &SysPath) -> PathBuf {
        self.dir.join(p.relative())
    }

    fn open_root(&self) -> Result<OwnedFd> {
        // The root itself is the administrator's choice and may be reached through links.
        rfs::open(
            &self.dir,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(io::Error::from)
        .with_context(|| format!("{}: cannot open the root directory", self.dir.display()))
    }

    /// Opens the directory `dir`, refusing a symlink anywhere below the root.
    pub fn open_dir(&self, dir: &SysPath) -> Result<Dir> {
        let root = self.open_root()?;
        let rel = dir.relative();
        if rel.as_os_str().is_empty() {
            return Ok(Dir {
                fd: root,
                path: dir.clone(),
            });
        }
        let fd = match open_beneath(root.as_fd(), rel) {
            Ok(fd) => fd,
            Err(e) => return Err(walk_error(self, dir, e)),
        };
        Ok(Dir {
            fd,
            path: dir.clone(),
        })
    }

    /// Opens `dir`, creating missing directories (mode `mode`, owned by this process) one at a
    /// time. `before_create` is told each directory just before it is made, outermost first:
    /// the manifest records it there, so a crash never leaves a directory nobody knows of.
    pub fn create_dirs(
        &self,
        dir: &SysPath,
        mode: u32,
        before_create: &mut dyn FnMut(&SysPath) -> Result<()>,
    ) -> Result<Dir> {
        let mut cur = Dir {
            fd: self.open_root()?,
            path: SysPath::normalize("/"),
        };
        for c in dir.relative().components() {
            let Component::Normal(name) = c else { continue };
            let path = cur.path.join(name);
            let next = match openat_dir(cur.fd.as_fd(), name) {
                Ok(fd) => fd,
                Err(Errno::NOENT) => {
                    before_create(&path)?;
                    fault::point("mkdir", &path);
                    match rfs::mkdirat(cur.fd.as_fd(), name, Mode::from_raw_mode(mode)) {
                        Ok(()) | Err(Errno::EXIST) => {}
                        Err(e) => {
                            return Err(io::Error::from(e))
                                .with_context(|| format!("{path}: cannot create"));
                        }
                    }
                    let fd =
                        openat_dir(cur.fd.as_fd(), name).map_err(|e| walk_error(self, &path, e))?;
                    // The umask must not narrow or widen what was asked for.
                    rfs::fchmod(&fd, Mode::from_raw_mode(mode))
                        .map_err(io::Error::from)
                        .with_context(|| format!("{path}: cannot set its mode"))?;
                    cur.sync().with_context(|| format!("{path}: cannot sync"))?;
                    fd
                }
                Err(e) => return Err(walk_error(self, &path, e)),
            };
            cur = Dir { fd: next, path };
        }
        Ok(cur)
    }

    /// The directory holding `path` and the file's name in it.
    pub fn open_parent<'p>(&self, path: &'p SysPath) -> Result<(Dir, &'p OsStr)> {
        let name = path
            .file_name()
            .ok_or_else(|| anyhow!("{path}: not a file path"))?;
        let parent = path.parent().expect("a path with a file name has a parent");
        Ok((self.open_dir(&parent)?, name))
    }

    /// What is at `path` (not following a symlink there); `None` when nothing is.
    pub fn entry(&self, path: &SysPath) -> Result<Option<Entry>> {
        let (dir, name) = match self.open_parent(path) {
            Ok(x) => x,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        dir.entry(name)
    }

    /// The bytes and permissions of the regular file at `path`.
    pub fn read(&self, path: &SysPath) -> Result<(Vec<u8>, Meta)> {
        let (dir, name) = self.open_parent(path)?;
        dir.read(name)
    }

    /// Like [`Tree::read`], `None` when nothing is at `path` (or its folder is missing).
    pub fn read_opt(&self, path: &SysPath) -> Result<Option<(Vec<u8>, Meta)>> {
        self.read_opt_up_to(path, MAX_FILE_BYTES)
    }

    /// [`Tree::read_opt`] with another size limit (installed files).
    pub fn read_opt_up_to(&self, path: &SysPath, limit: u64) -> Result<Option<(Vec<u8>, Meta)>> {
        let read = self
            .open_parent(path)
            .and_then(|(dir, name)| dir.read_up_to(name, limit));
        match read {
            Ok(x) => Ok(Some(x)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Replaces `path` with `bytes` atomically, with `meta` (see [`Dir::write_atomic`]).
    pub fn write_atomic(&self, path: &SysPath, bytes: &[u8], meta: Meta) -> Result<()> {
        let (dir, name) = self.open_parent(path)?;
        dir.write_atomic(name, bytes, meta)
    }

    /// Removes the file (or symlink) at `path`; `false` when nothing was there.
    pub fn remove(&self, path: &SysPath) -> Result<bool> {
        let (dir, name) = match self.open_parent(path) {
            Ok(x) => x,
            Err(e) if is_not_found(&e) => return Ok(false),
            Err(e) => return Err(e),
        };
        dir.remove(name)
    }

    /// Removes the directory `path` when it is empty; `true` when it was removed.
    pub fn remove_empty_dir(&self, path: &SysPath) -> bool {
        let Ok((dir, name)) = self.open_parent(path) else {
            return false;
        };
        fault::point("rmdir", path);
        let ok = rfs::unlinkat(dir.fd.as_fd(), name, AtFlags::REMOVEDIR).is_ok();
        if ok {
            let _ = dir.sync();
        }
        ok
    }

    /// Removes everything in the folder `path`, never following a symlink (our own state
    /// folder); `false` when there is no such folder.
    pub fn clear_tree(&self, path: &SysPath) -> Result<bool> {
        match self.open_dir(path) {
            Ok(dir) => dir.clear().map(|_| true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Removes `path` and everything in it, never following a symlink.
    #[cfg(test)]
    pub fn remove_tree(&self, path: &SysPath) -> Result<bool> {
        let (parent, name) = match self.open_parent(path) {
            Ok(x) => x,
            Err(e) if is_not_found(&e) => return Ok(false),
            Err(e) => return Err(e),
        };
        match parent.entry(name)? {
            None => Ok(false),
            Some(e) if e.kind != Kind::Dir => parent.remove(name),
            Some(_) => {
                let dir = parent.open(name)?;
                dir.clear()?;
                fault::point("rmdir", path);
                rfs::unlinkat(parent.fd.as_fd(), name, AtFlags::REMOVEDIR)
                    .map_err(io::Error::from)
                    .with_context(|| format!("{path}: cannot remove"))?;
                parent.sync()?;
                Ok(true)
            }
        }
    }
}

impl Dir {
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// This directory's own owner and mode.
    pub fn meta(&self) -> Result<Meta> {
        let st = rfs::fstat(&self.fd)
            .map_err(io::Error::from)
            .with_context(|| format!("{}: cannot read", self.path))?;
        Ok(Meta::of(&st))
    }

    /// A subdirectory, not following a symlink.
    pub fn open(&self, name: &OsStr) -> Result<Dir> {
        let path = self.path.join(name);
        let fd = openat_dir(self.fd.as_fd(), name)
            .map_err(io::Error::from)
            .with_context(|| format!("{path}: cannot open (a symlink is never followed here)"))?;
        Ok(Dir { fd, path })
    }

    pub fn entry(&self, name: &OsStr) -> Result<Option<Entry>> {
        match rfs::statat(self.fd.as_fd(), name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Some(entry_of(&st))),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(io::Error::from(e))
                .with_context(|| format!("{}: cannot read", self.path.join(name))),
        }
    }

    /// The target of the symlink `name`.
    pub fn read_link(&self, name: &OsStr) -> Result<PathBuf> {
        let target = rfs::readlinkat(self.fd.as_fd(), name, Vec::new())
            .map_err(io::Error::from)
            .with_context(|| format!("{}: cannot read the symlink", self.path.join(name)))?;
        Ok(PathBuf::from(OsStr::from_bytes(target.as_bytes())))
    }

    /// The names in this directory.
    pub fn names(&self) -> Result<Vec<std::ffi::OsString>> {
        let fd = rfs::openat(
            self.fd.as_fd(),
            ".",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(io::Error::from)
        .with_context(|| format!("{}: cannot list", self.path))?;
        let mut out = Vec::new();
        let rd = rfs::Dir::read_from(&fd)
            .map_err(io::Error::from)
            .with_context(|| format!("{}: cannot list", self.path))?;
        for e in rd {
            let e = e
                .map_err(io::Error::from)
                .with_context(|| format!("{}: cannot list", self.path))?;
            let name = e.file_name().to_bytes();
            if name != b"." && name != b".." {
                out.push(OsStr::from_bytes(name).to_os_string());
            }
        }
        out.sort();
        Ok(out)
    }

    /// The bytes and permissions of the regular file `name` (a symlink, a device, a FIFO or a
    /// directory is refused by name; so is a file over [`MAX_FILE_BYTES`]).
    pub fn read(&self, name: &OsStr) -> Result<(Vec<u8>, Meta)> {
        self.read_up_to(name, MAX_FILE_BYTES)
    }

    pub fn read_up_to(&self, name: &OsStr, limit: u64) -> Result<(Vec<u8>, Meta)> {
        let path = self.path.join(name);
        fault::point("read", &path);
        // O_NONBLOCK: opening a FIFO must not hang; a regular file ignores it.
        let fd = rfs::openat(
            self.fd.as_fd(),
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY,
            Mode::empty(),
        )
        .map_err(|e| match e {
            Errno::LOOP => anyhow::Error::new(SymlinkRefused(path.clone())),
            e => anyhow::Error::from(io::Error::from(e)).context(format!("{path}: cannot read")),
        })?;
        let st = rfs::fstat(&fd)
            .map_err(io::Error::from)
            .with_context(|| format!("{path}: cannot read"))?;
        match FileType::from_raw_mode(st.st_mode) {
            FileType::RegularFile => {}
            FileType::Directory => bail!("{path}: is a directory, not a file"),
            _ => bail!("{path}: is not a regular file"),
        }
        let size = st.st_size as u64;
        if size > limit {
            bail!(
                "{path}: {size} bytes, larger than the {} MiB this tool reads",
                limit / (1024 * 1024)
            );
        }
        let mut file = std::fs::File::from(fd);
        let mut bytes = Vec::with_capacity(size as usize);
        // One byte over the limit is enough to know it grew past it while being read.
        (&mut file)
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .with_context(|| format!("{path}: cannot read"))?;
        if bytes.len() as u64 > limit {
            bail!("{path}: grew past the size limit while being read");
        }
        Ok((bytes, Meta::of(&st)))
    }

    /// Replaces `name` with `bytes`: a temp file created `O_EXCL` in this directory (0600 until
    /// its final owner and mode are set, so a secret never shows to others), written, fsynced,
    /// renamed over `name`, and the directory fsynced. A directory at `name` is refused.
    pub fn write_atomic(&self, name: &OsStr, bytes: &[u8], meta: Meta) -> Result<()> {
        let path = self.path.join(name);
        if let Some(e) = self.entry(name)?
            && e.kind == Kind::Dir
        {
            bail!("{path}: is a directory, not a file");
        }
        let tmp = temp_name(name);
        // A temp file of ours left by a crash; in a folder someone else owns it may be anything,
        // and removing a name there changes nothing outside it.
        let _ = rfs::unlinkat(self.fd.as_fd(), &tmp, AtFlags::empty());
        let result = (|| -> io::Result<()> {
            fault::point("create", &path);
            let fd = rfs::openat(
                self.fd.as_fd(),
                &tmp,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o600),
            )?;
            let mut file = std::fs::File::from(fd);
            file.write_all(bytes)?;
            let st = rfs::fstat(&file)?;
            if (st.st_uid, st.st_gid) != (meta.uid, meta.gid) {
                rfs::fchown(
                    &file,
                    Some(rustix::fs::Uid::from_raw(meta.uid)),
                    Some(rustix::fs::Gid::from_raw(meta.gid)),
                )?;
            }
            rfs::fchmod(&file, Mode::from_raw_mode(meta.mode))?;
            fault::point("fsync", &path);
            file.sync_all()?;
            drop(file);
            fault::point("rename", &path);
            rfs::renameat(self.fd.as_fd(), &tmp, self.fd.as_fd(), name)?;
            fault::point("fsync-dir", &path);
            self.sync()
        })();
        if result.is_err() {
            let _ = rfs::unlinkat(self.fd.as_fd(), &tmp, AtFlags::empty());
        }
        result.with_context(|| format!("{path}: cannot write"))
    }

    /// Removes the file or symlink `name` (never what a link points to); `false` when absent.
    pub fn remove(&self, name: &OsStr) -> Result<bool> {
        let path = self.path.join(name);
        fault::point("unlink", &path);
        match rfs::unlinkat(self.fd.as_fd(), name, AtFlags::empty()) {
            Ok(()) => {
                self.sync()?;
                Ok(true)
            }
            Err(Errno::NOENT) => Ok(false),
            Err(e) => Err(io::Error::from(e)).with_context(|| format!("{path}: cannot remove")),
        }
    }

    /// Removes the temp file a crash may have left for `name` (see [`Dir::write_atomic`]).
    pub fn remove_temp_of(&self, name: &OsStr) -> Result<bool> {
        let tmp = temp_name(name);
        match self.entry(&tmp)? {
            Some(e) if e.kind != Kind::Dir => self.remove(&tmp),
            _ => Ok(false),
        }
    }

    /// Can a file be created here? Checked by creating and removing one, since as root the
    /// mode bits say nothing (a read-only mount, an immutable directory).
    pub fn probe_writable(&self) -> Result<()> {
        let probe = std::ffi::OsString::from(format!(".duo-openvpn-probe.{}", std::process::id()));
        let _ = rfs::unlinkat(self.fd.as_fd(), &probe, AtFlags::empty());
        rfs::openat(
            self.fd.as_fd(),
            &probe,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map_err(io::Error::from)
        .with_context(|| format!("{}: cannot create files in this directory", self.path))?;
        let _ = rfs::unlinkat(self.fd.as_fd(), &probe, AtFlags::empty());
        Ok(())
    }

    pub fn sync(&self) -> io::Result<()> {
        rfs::fsync(&self.fd).map_err(io::Error::from)
    }

    /// Everything inside this directory, depth first, links unlinked rather than followed.
    fn clear(&self) -> Result<()> {
        for name in self.names()? {
            match self.entry(&name)? {
                Some(e) if e.kind == Kind::Dir => {
                    let sub = self.open(&name)?;
                    sub.clear()?;
                    fault::point("rmdir", &sub.path);
                    rfs::unlinkat(self.fd.as_fd(), &name, AtFlags::REMOVEDIR)
                        .map_err(io::Error::from)
                        .with_context(|| format!("{}: cannot remove", sub.path))?;
                }
                Some(_) => {
                    self.remove(&name)?;
                }
                None => {}
            }
        }
        Ok(())
    }
}

/// The temp file for `name`: fixed, so that uninstall can find one a crash left behind.
fn temp_name(name: &OsStr) -> std::ffi::OsString {
    let mut t = std::ffi::OsString::from(".");
    t.push(name);
    t.push(".duo-openvpn.tmp");
    t
}

fn openat_dir(dir: BorrowedFd<'_>, name: &OsStr) -> Result<OwnedFd, Errno> {
    rfs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// Opens the directory `rel` below `root` without following any symlink: `openat2` when the
/// kernel has it (5.6+), else one `O_NOFOLLOW` component at a time.
fn open_beneath(root: BorrowedFd<'_>, rel: &Path) -> Result<OwnedFd, Errno> {
    if !fault::force_walk() {
        match rfs::openat2(
            root,
            rel,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::NO_SYMLINKS | ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS,
        ) {
            Err(Errno::NOSYS) | Err(Errno::PERM) => {}
            other => return other,
        }
    }
    let mut cur: Option<OwnedFd> = None;
    for c in rel.components() {
        let Component::Normal(name) = c else {
            return Err(Errno::INVAL);
        };
        let next = openat_dir(cur.as_ref().map(|f| f.as_fd()).unwrap_or(root), name)?;
        cur = Some(next);
    }
    match cur {
        Some(fd) => Ok(fd),
        None => rfs::openat(root, ".", OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()),
    }
}

/// A walk that failed: which component is the symlink (or missing), by name.
fn walk_error(tree: &Tree, dir: &SysPath, e: Errno) -> anyhow::Error {
    // Find the first component that is not a plain directory, for a message an administrator
    // can act on.
    let mut cur = SysPath::normalize("/");
    for c in dir.relative().components() {
        let Component::Normal(name) = c else { continue };
        let next = cur.join(name);
        match tree.open_dir_plain(&cur).and_then(|d| d.entry(name)) {
            Ok(Some(en)) if en.kind == Kind::Symlink => {
                return anyhow::Error::new(SymlinkRefused(next));
            }
            Ok(Some(en)) if en.kind != Kind::Dir => {
                return anyhow!("{next}: is not a directory");
            }
            Ok(None) => {
                return anyhow::Error::from(io::Error::from(Errno::NOENT))
                    .context(format!("{next}: cannot read"));
            }
            _ => {}
        }
        cur = next;
    }
    anyhow::Error::from(io::Error::from(e)).context(format!("{dir}: cannot open"))
}

impl Tree {
    /// For error messages only: the component walk without openat2.
    fn open_dir_plain(&self, dir: &SysPath) -> Result<Dir> {
        let root = self.open_root()?;
        let mut cur = Dir {
            fd: root,
            path: SysPath::normalize("/"),
        };
        for c in dir.relative().components() {
            let Component::Normal(name) = c else { continue };
            cur = cur.open(name)?;
        }
        Ok(cur)
    }
}

// The stat fields' widths differ between architectures: `as` keeps one spelling for all.
#[allow(clippy::unnecessary_cast)]
fn entry_of(st: &rfs::Stat) -> Entry {
    let kind = match FileType::from_raw_mode(st.st_mode) {
        FileType::RegularFile => Kind::File,
        FileType::Directory => Kind::Dir,
        FileType::Symlink => Kind::Symlink,
        _ => Kind::Other,
    };
    Entry {
        kind,
        meta: Meta::of(st),
        nlink: st.st_nlink as u64,
        size: st.st_size as u64,
        dev: st.st_dev as u64,
        ino: st.st_ino as u64,
    }
}

/// A symlink met where none is followed: on the way to a managed file, or the file itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymlinkRefused(pub SysPath);

impl fmt::Display for SymlinkRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: is a symlink; a symlink is never followed here",
            self.0
        )
    }
}

impl std::error::Error for SymlinkRefused {}

/// Did this fail on a symlink (one that appeared after setup resolved the path, maybe)?
pub fn symlink_refused(e: &anyhow::Error) -> Option<&SymlinkRefused> {
    e.chain().find_map(|c| c.downcast_ref::<SymlinkRefused>())
}

/// Is this error "no such file or directory" somewhere on the way?
pub fn is_not_found(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::NotFound)
    })
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::{PermissionsExt, symlink};

    use super::*;

    fn sys(p: &str) -> SysPath {
        SysPath::normalize(p)
    }

    #[test]
    fn paths_are_normalised_once() {
        assert_eq!(
            sys("/a/../../../../../var/tmp/p.ovpn").as_path(),
            Path::new("/var/tmp/p.ovpn")
        );
        assert_eq!(
            sys("/etc/./openvpn//x").as_path(),
            Path::new("/etc/openvpn/x")
        );
        // A relative path is taken from the root, as `--root` joins it.
        assert_eq!(sys("etc/x").as_path(), Path::new("/etc/x"));
    }

    #[test]
    fn a_symlink_anywhere_below_the_root_is_refused_by_name() {
        for force_walk in [false, true] {
            fault::set_force_walk(force_walk);
            let d = tempfile::tempdir().unwrap();
            let t = Tree::new(d.path());
            fs::create_dir_all(d.path().join("etc/real")).unwrap();
            fs::write(d.path().join("etc/real/x.conf"), "dev tun\n").unwrap();
            symlink("real", d.path().join("etc/link")).unwrap();
            symlink("/etc/real/x.conf", d.path().join("etc/real/l.conf")).unwrap();
            let e = t.read(&sys("/etc/link/x.conf")).unwrap_err();
            assert!(
                format!("{e:#}").contains("/etc/link: is a symlink"),
                "{force_walk}: {e:#}"
            );
            let e = t
                .write_atomic(
                    &sys("/etc/link/y.conf"),
                    b"x",
                    t.read(&sys("/etc/real/x.conf")).unwrap().1,
                )
                .unwrap_err();
            assert!(
                format!("{e:#}").contains("/etc/link: is a symlink"),
                "{e:#}"
            );
            assert!(!d.path().join("etc/real/y.conf").exists());
            let e = t.read(&sys("/etc/real/l.conf")).unwrap_err();
            assert!(format!("{e:#}").contains("l.conf: is a symlink"), "{e:#}");
            assert_eq!(t.read(&sys("/etc/real/x.conf")).unwrap().0, b"dev tun\n");
        }
        fault::set_force_walk(false);
    }

    #[test]
    fn writes_are_atomic_keep_meta_and_leave_no_temp() {
        let d = tempfile::tempdir().unwrap();
        let t = Tree::new(d.path());
        fs::create_dir_all(d.path().join("etc")).unwrap();
        fs::write(d.path().join("etc/a"), "old").unwrap();
        fs::set_permissions(d.path().join("etc/a"), fs::Permissions::from_mode(0o640)).unwrap();
        let (_, meta) = t.read(&sys("/etc/a")).unwrap();
        assert_eq!(meta.mode, 0o640);
        // A stale temp file from a crash does not stop the write.
        fs::write(d.path().join("etc/.a.duo-openvpn.tmp"), "stale").unwrap();
        t.write_atomic(&sys("/etc/a"), b"new", meta).unwrap();
        assert_eq!(t.read(&sys("/etc/a")).unwrap(), (b"new".to_vec(), meta));
        assert_eq!(fs::read_dir(d.path().join("etc")).unwrap().count(), 1);
        fs::create_dir(d.path().join("etc/dir")).unwrap();
        let e = t.write_atomic(&sys("/etc/dir"), b"x", meta).unwrap_err();
        assert!(
            format!("{e:#}").contains("/etc/dir: is a directory"),
            "{e:#}"
        );
    }

    #[test]
    fn created_directories_are_announced_first() {
        let d = tempfile::tempdir().unwrap();
        let t = Tree::new(d.path());
        let mut seen = Vec::new();
        let dir = t
            .create_dirs(&sys("/var/lib/x"), 0o700, &mut |p| {
                // Announced before it exists.
                assert!(!t.host_path(p).exists());
                seen.push(p.to_string());
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, ["/var", "/var/lib", "/var/lib/x"]);
        assert_eq!(dir.meta().unwrap().mode, 0o700);
        assert!(t.remove_tree(&sys("/var")).unwrap());
        assert!(!d.path().join("var").exists());
    }

    #[test]
    fn big_files_and_fifos_are_refused_before_reading() {
        let d = tempfile::tempdir().unwrap();
        let t = Tree::new(d.path());
        let f = fs::File::create(d.path().join("big.conf")).unwrap();
        f.set_len(300 * 1024 * 1024).unwrap();
        let e = t.read(&sys("/big.conf")).unwrap_err();
        assert!(
            format!("{e:#}").contains("/big.conf: 314572800 bytes, larger than the 4 MiB"),
            "{e:#}"
        );
        let fifo = d.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = t.read(&sys("/fifo")).unwrap_err();
        assert!(
            format!("{e:#}").contains("/fifo: is not a regular file"),
            "{e:#}"
        );
    }
}
