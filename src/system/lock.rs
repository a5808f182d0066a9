//! One exclusive lock in the state folder, held by setup (from its first change to the end)
//! and by uninstall, so two runs never interleave their changes or their manifest records.
//!
//! `flock` on `/var/lib/duo-openvpn/lock`, which holds the holder's pid and command line for
//! the message a second run prints. Uninstall removes the state folder with the lock held, so a
//! run that was waiting may end up holding a lock on a file that is gone: after locking, the
//! file at the path must still be the one locked, else it starts over.

use std::io::{Read, Seek, Write};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rustix::fs::{self as rfs, FlockOperation, Mode, OFlags};
use rustix::io::Errno;

use super::process::Process;
use super::receipt::STATE_DIR;
use super::tree::{SysPath, Tree};

/// How long a second run waits for the first before giving up (seconds, `DUO_OPENVPN_LOCK_WAIT`
/// overrides it).
pub const WAIT: Duration = Duration::from_secs(5);

/// Held until dropped.
#[derive(Debug)]
pub struct Lock {
    _file: std::fs::File,
}

impl Drop for Lock {
    /// The holder's name goes with it: a run that changed nothing leaves every byte as it was.
    fn drop(&mut self) {
        let _ = self._file.set_len(0);
    }
}

/// Another run holds the lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Busy {
    /// "pid 1234 (duo-openvpn setup --yes …)", or what could be read of it.
    pub holder: String,
    pub waited: Duration,
}

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "another duo-openvpn run holds the lock ({}), still after {:.0} s; nothing was changed. \
             Wait for it to finish and run this again",
            self.holder,
            self.waited.as_secs_f64()
        )
    }
}

/// The lock's path under the state folder.
pub fn lock_path() -> SysPath {
    SysPath::normalize(format!("{STATE_DIR}/lock"))
}

/// How long to wait for another run, from this run's environment.
pub fn wait(process: &Process) -> Duration {
    process
        .var("DUO_OPENVPN_LOCK_WAIT")
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(WAIT)
}

/// Takes the lock, creating the state folder (reported to `before_create`, like every folder
/// setup makes). `Ok(Err(busy))` when another run kept it for all of `wait`.
pub fn acquire(
    tree: &Tree,
    process: &Process,
    wait: Duration,
    before_create: &mut dyn FnMut(&SysPath) -> Result<()>,
) -> Result<std::result::Result<Lock, Busy>> {
    let started = Instant::now();
    let path = lock_path();
    loop {
        let dir = tree.create_dirs(
            &path.parent().expect("in the state folder"),
            0o700,
            before_create,
        )?;
        let fd = rfs::openat(
            dir.as_fd(),
            "lock",
            OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map_err(std::io::Error::from)
        .with_context(|| format!("{}: cannot open", tree.host_path(&path).display()))?;
        let mut file = std::fs::File::from(fd);
        match rfs::flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {
                // Still the lock file, not one uninstall removed while we waited?
                let locked = rfs::fstat(&file).map_err(std::io::Error::from)?;
                let now = rfs::statat(dir.as_fd(), "lock", rfs::AtFlags::SYMLINK_NOFOLLOW);
                if !matches!(now, Ok(st) if st.st_ino == locked.st_ino && st.st_dev == locked.st_dev)
                {
                    continue;
                }
                let me = format!("pid {} ({})\n", std::process::id(), command_line(process));
                file.set_len(0)?;
                file.write_all(me.as_bytes())?;
                return Ok(Ok(Lock { _file: file }));
            }
            Err(Errno::WOULDBLOCK) => {
                if started.elapsed() >= wait {
                    let mut holder = String::new();
                    let _ = file.rewind();
                    let _ = (&mut file).take(4096).read_to_string(&mut holder);
                    let holder = holder.trim();
                    return Ok(Err(Busy {
                        holder: if holder.is_empty() {
                            "a process that has not written its name yet".into()
                        } else {
                            holder.to_string()
                        },
                        waited: started.elapsed(),
                    }));
                }
                drop(file);
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => {
                return Err(std::io::Error::from(e))
                    .with_context(|| format!("{}: cannot lock", tree.host_path(&path).display()));
            }
        }
    }
}

/// This process's command line, arguments after the program name kept (none is a secret: the
/// secret key is never an argument).
fn command_line(process: &Process) -> String {
    let args: Vec<String> = process
        .args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut s = args.join(" ");
    if s.len() > 200 {
        let mut end = 200;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> Process {
        Process::new(["duo-openvpn", "setup", "--yes"], [("PATH", "/bin")])
    }

    #[test]
    fn a_second_holder_waits_then_names_the_first() {
        let d = tempfile::tempdir().unwrap();
        let tree = Tree::new(d.path());
        let first = acquire(&tree, &me(), WAIT, &mut |_| Ok(()))
            .unwrap()
            .unwrap();
        let busy = acquire(&tree, &me(), Duration::from_millis(300), &mut |_| Ok(()))
            .unwrap()
            .unwrap_err();
        assert!(
            busy.holder.starts_with(&format!(
                "pid {} (duo-openvpn setup --yes)",
                std::process::id()
            )),
            "{busy:?}"
        );
        assert!(busy.waited >= Duration::from_millis(300));
        assert!(busy.to_string().contains("nothing was changed"));
        drop(first);
        let again = acquire(&tree, &me(), Duration::ZERO, &mut |_| Ok(())).unwrap();
        assert!(again.is_ok());
    }

    #[test]
    fn the_wait_comes_from_the_injected_environment() {
        use crate::system::process::Process;
        let with = |v: &str| Process::new(["duo-openvpn"], [("DUO_OPENVPN_LOCK_WAIT", v)]);
        assert_eq!(wait(&with("1.5")), Duration::from_millis(1500));
        assert_eq!(wait(&with("-1")), WAIT);
        assert_eq!(wait(&with("soon")), WAIT);
        assert_eq!(wait(&Process::new(["x"], [("PATH", "/bin")])), WAIT);
    }

    #[test]
    fn a_lock_file_removed_while_waiting_is_not_trusted() {
        let d = tempfile::tempdir().unwrap();
        let tree = Tree::new(d.path());
        let first = acquire(&tree, &me(), WAIT, &mut |_| Ok(()))
            .unwrap()
            .unwrap();
        let t = tree.clone();
        let waiter = std::thread::spawn(move || {
            acquire(&t, &me(), Duration::from_secs(5), &mut |_| Ok(()))
                .unwrap()
                .unwrap()
        });
        std::thread::sleep(Duration::from_millis(250));
        // What uninstall does at its end: the state folder goes, with the lock held.
        tree.clear_tree(&SysPath::normalize(STATE_DIR)).unwrap();
        drop(first);
        let _second = waiter.join().unwrap();
        // The waiter holds the lock on the file that exists now: a third run cannot take it.
        let third = acquire(&tree, &me(), Duration::from_millis(200), &mut |_| Ok(())).unwrap();
        assert!(third.is_err());
    }
}
