//! The control files of every login, and two observers of them:
//! - a poller, which does what OpenVPN does (look at each pending `auth_control_file`'s first
//!   byte), every few milliseconds rather than on OpenVPN's backoff, and records when it first
//!   saw the byte;
//! - an inotify reader, which counts every write (`IN_MODIFY`) to every file and records the
//!   first one: this is how "written exactly once" is checked, since a second `1` written over
//!   the first cannot be seen by reading the file. The kernel merges an event into the previous
//!   one when both are identical and unread, so `IN_CLOSE_WRITE` is watched too: two
//!   open-write-close cycles give MODIFY, CLOSE_WRITE, MODIFY, CLOSE_WRITE, never merged. (Two
//!   writes through one open descriptor would still merge; a second byte at another offset
//!   shows in the file's content instead.)

use std::collections::HashMap;
use std::ffi::CString;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Control,
    Pending,
    Reason,
}

/// `auth_control_file`, `auth_pending_file` and `auth_failed_reason_file` of each login,
/// created empty with mode 0600 in one directory, named as OpenVPN 2.6 names them
/// (`openvpn_<acf|apf|afr>_<32 hex>.tmp`, `platform_create_temp_file`).
pub struct Files {
    pub dir: PathBuf,
    pub acf: Vec<CString>,
    pub apf: Vec<CString>,
    pub afr: Vec<CString>,
    names: HashMap<Vec<u8>, (usize, Kind)>,
}

impl Files {
    pub fn create(dir: &Path, n: usize) -> anyhow::Result<Files> {
        let mut files = Files {
            dir: dir.to_path_buf(),
            acf: Vec::with_capacity(n),
            apf: Vec::with_capacity(n),
            afr: Vec::with_capacity(n),
            names: HashMap::with_capacity(3 * n),
        };
        let mut seed = fastish_seed();
        for i in 0..n {
            for (kind, tag) in [
                (Kind::Control, "acf"),
                (Kind::Pending, "apf"),
                (Kind::Reason, "afr"),
            ] {
                seed = splitmix(seed);
                let hi = splitmix(seed);
                let name = format!("openvpn_{tag}_{seed:016x}{hi:016x}.tmp");
                let path = dir.join(&name);
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                    .with_context(|| format!("creating {}", path.display()))?;
                let c = CString::new(path.as_os_str().as_encoded_bytes())?;
                match kind {
                    Kind::Control => files.acf.push(c),
                    Kind::Pending => files.apf.push(c),
                    Kind::Reason => files.afr.push(c),
                }
                files.names.insert(name.into_bytes(), (i, kind));
            }
        }
        Ok(files)
    }

    pub fn len(&self) -> usize {
        self.acf.len()
    }
}

fn fastish_seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    t.as_nanos() as u64 ^ ((std::process::id() as u64) << 32)
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// What the observers record, per login (times in ns since `epoch`, 0 = not yet).
pub struct Record {
    pub epoch: Instant,
    /// Logins handed to the plugin so far; `deferred[i]` is set before this moves past `i`.
    pub issued: AtomicUsize,
    pub deferred: Vec<AtomicBool>,
    /// First write to the control file (inotify).
    pub written_ns: Vec<AtomicU64>,
    pub acf_writes: Vec<AtomicU32>,
    pub afr_writes: Vec<AtomicU32>,
    pub apf_writes: Vec<AtomicU32>,
    /// When the poller first read a byte from the control file, and which.
    pub seen_ns: Vec<AtomicU64>,
    pub seen_byte: Vec<AtomicU8>,
    /// Logins whose byte the poller has seen.
    pub resolved: AtomicUsize,
    pub overflowed: AtomicBool,
    pub max_sweep_ns: AtomicU64,
    pub sweeps: AtomicU64,
}

impl Record {
    pub fn new(n: usize) -> Record {
        let v64 = || (0..n).map(|_| AtomicU64::new(0)).collect();
        let v32 = || (0..n).map(|_| AtomicU32::new(0)).collect();
        Record {
            epoch: Instant::now(),
            issued: AtomicUsize::new(0),
            deferred: (0..n).map(|_| AtomicBool::new(false)).collect(),
            written_ns: v64(),
            acf_writes: v32(),
            afr_writes: v32(),
            apf_writes: v32(),
            seen_ns: v64(),
            seen_byte: (0..n).map(|_| AtomicU8::new(0)).collect(),
            resolved: AtomicUsize::new(0),
            overflowed: AtomicBool::new(false),
            max_sweep_ns: AtomicU64::new(0),
            sweeps: AtomicU64::new(0),
        }
    }

    /// Nanoseconds since the epoch, never 0.
    pub fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64 + 1
    }
}

/// A thread that runs until told to stop, and whose CPU time can be read meanwhile.
pub struct Worker {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<()>,
}

impl Worker {
    pub fn spawn(name: &str, f: impl FnOnce(Arc<AtomicBool>) + Send + 'static) -> Worker {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let handle = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || f(s))
            .expect("spawning a harness thread");
        Worker { stop, handle }
    }

    pub fn cpu(&self) -> Duration {
        use std::os::unix::thread::JoinHandleExt;
        crate::procfs::cpu_of(self.handle.as_pthread_t())
    }

    pub fn stop(self) {
        self.stop.store(true, Ordering::Release);
        let _ = self.handle.join();
    }
}

/// The poller: every `interval`, each pending login's control file is `stat`ed, and read once
/// it holds a byte.
pub fn poller(files: Arc<Files>, rec: Arc<Record>, interval: Duration) -> Worker {
    Worker::spawn("bench-poll", move |stop| {
        let mut pending: Vec<usize> = Vec::with_capacity(files.len());
        let mut next = 0;
        loop {
            let issued = rec.issued.load(Ordering::Acquire);
            pending.extend((next..issued).filter(|&i| rec.deferred[i].load(Ordering::Relaxed)));
            next = issued;
            let t0 = Instant::now();
            pending.retain(|&i| match first_byte(&files.acf[i]) {
                Some(b) => {
                    rec.seen_byte[i].store(b, Ordering::Relaxed);
                    rec.seen_ns[i].store(rec.now_ns(), Ordering::Release);
                    rec.resolved.fetch_add(1, Ordering::AcqRel);
                    false
                }
                None => true,
            });
            if !pending.is_empty() {
                rec.max_sweep_ns
                    .fetch_max(t0.elapsed().as_nanos() as u64, Ordering::Relaxed);
                rec.sweeps.fetch_add(1, Ordering::Relaxed);
            }
            if stop.load(Ordering::Acquire) {
                return;
            }
            std::thread::sleep(interval);
        }
    })
}

/// The first byte of a file that has one.
pub fn first_byte(path: &CString) -> Option<u8> {
    // SAFETY: stat/open/read/close on a NUL-terminated path and local buffers.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::stat(path.as_ptr(), &mut st) != 0 || st.st_size == 0 {
            return None;
        }
        let fd = libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return None;
        }
        let mut b = 0u8;
        let n = libc::read(fd, (&mut b as *mut u8).cast(), 1);
        libc::close(fd);
        (n == 1).then_some(b)
    }
}

/// The inotify reader: counts `IN_MODIFY` per file in the directory (see the module comment).
pub fn inotify(files: Arc<Files>, rec: Arc<Record>) -> anyhow::Result<Worker> {
    // SAFETY: plain syscalls on our own descriptor.
    let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
    if fd < 0 {
        anyhow::bail!("inotify_init1: {}", std::io::Error::last_os_error());
    }
    let dir = CString::new(files.dir.as_os_str().as_encoded_bytes())?;
    // SAFETY: as above.
    if unsafe { libc::inotify_add_watch(fd, dir.as_ptr(), libc::IN_MODIFY | libc::IN_CLOSE_WRITE) }
        < 0
    {
        anyhow::bail!("inotify_add_watch: {}", std::io::Error::last_os_error());
    }
    Ok(Worker::spawn("bench-inotify", move |stop| {
        let mut buf = vec![0u8; 1 << 18];
        loop {
            let mut pfd = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one pollfd.
            unsafe { libc::poll(&mut pfd, 1, 20) };
            let mut got = false;
            loop {
                // SAFETY: reading into our buffer.
                let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
                if n <= 0 {
                    break;
                }
                got = true;
                let now = rec.now_ns();
                parse_events(&buf[..n as usize], |mask, name| {
                    if mask & libc::IN_Q_OVERFLOW != 0 {
                        rec.overflowed.store(true, Ordering::Relaxed);
                    }
                    if mask & libc::IN_MODIFY == 0 {
                        return;
                    }
                    let Some(&(i, kind)) = files.names.get(name) else {
                        return;
                    };
                    match kind {
                        Kind::Control => {
                            if rec.acf_writes[i].fetch_add(1, Ordering::Relaxed) == 0 {
                                rec.written_ns[i].store(now, Ordering::Release);
                            }
                        }
                        Kind::Reason => {
                            rec.afr_writes[i].fetch_add(1, Ordering::Relaxed);
                        }
                        Kind::Pending => {
                            rec.apf_writes[i].fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            }
            if !got && stop.load(Ordering::Acquire) {
                // SAFETY: our descriptor, closed once.
                unsafe { libc::close(fd) };
                return;
            }
        }
    }))
}

/// `struct inotify_event { int wd; uint32_t mask, cookie, len; char name[len]; }`.
fn parse_events(mut b: &[u8], mut f: impl FnMut(u32, &[u8])) {
    const HEADER: usize = 16;
    while b.len() >= HEADER {
        let mask = u32::from_ne_bytes(b[4..8].try_into().unwrap());
        let len = u32::from_ne_bytes(b[12..16].try_into().unwrap()) as usize;
        let name = &b[HEADER..(HEADER + len).min(b.len())];
        let end = name.iter().position(|&c| c == 0).unwrap_or(name.len());
        f(mask, &name[..end]);
        b = &b[(HEADER + len).min(b.len())..];
    }
}
