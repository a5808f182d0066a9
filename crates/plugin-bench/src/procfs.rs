//! What this process (the stand-in for OpenVPN) costs, from /proc and the clocks.

use std::time::Duration;

/// `VmRSS`, `VmHWM` (kB) and `Threads` from `/proc/self/status`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Status {
    pub rss_kb: u64,
    pub hwm_kb: u64,
    pub threads: u64,
}

pub fn status() -> Status {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let mut s = Status::default();
    for line in text.lines() {
        let num = |l: &str| {
            l.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        if line.starts_with("VmRSS:") {
            s.rss_kb = num(line);
        } else if line.starts_with("VmHWM:") {
            s.hwm_kb = num(line);
        } else if line.starts_with("Threads:") {
            s.threads = num(line);
        }
    }
    s
}

/// Open file descriptors of this process.
pub fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count() as u64)
        .unwrap_or(0)
}

fn clock(id: libc::clockid_t) -> Duration {
    // SAFETY: clock_gettime on a local timespec.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    unsafe { libc::clock_gettime(id, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// CPU time of the whole process (every thread), user + system.
pub fn process_cpu() -> Duration {
    clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// CPU time of the calling thread.
pub fn thread_cpu() -> Duration {
    clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time of another thread of this process.
pub fn cpu_of(thread: libc::pthread_t) -> Duration {
    let mut id: libc::clockid_t = 0;
    // SAFETY: a live pthread_t of this process (the caller keeps its JoinHandle).
    if unsafe { libc::pthread_getcpuclockid(thread, &mut id) } != 0 {
        return Duration::ZERO;
    }
    clock(id)
}

/// `getrusage(RUSAGE_CHILDREN)`: user + system of reaped descendants, and their largest RSS.
pub fn children_rusage() -> (Duration, u64) {
    // SAFETY: getrusage on a local struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (tv(ru.ru_utime) + tv(ru.ru_stime), ru.ru_maxrss as u64)
}

/// Live (not zombie) child processes of this process — with [`become_subreaper`], that is
/// every orphaned descendant too — and the sum of their proportional set sizes (kB).
pub fn live_children() -> (u64, u64) {
    let mut live = 0;
    let mut pss = 0;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return (0, 0);
    };
    for task in tasks.flatten() {
        let Ok(list) = std::fs::read_to_string(task.path().join("children")) else {
            continue;
        };
        for pid in list.split_whitespace() {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // The state follows the parenthesised command name.
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, r)| r.trim().chars().next());
            if matches!(state, None | Some('Z') | Some('X')) {
                continue;
            }
            live += 1;
            let rollup =
                std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
            pss += rollup
                .lines()
                .find(|l| l.starts_with("Pss:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    (live, pss)
}

/// Orphaned descendants (the grandchild of a double fork) become our children, so they can be
/// seen and reaped here rather than by init.
pub fn become_subreaper() {
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
}

/// Reap every exited child; returns how many.
pub fn reap_children() -> u64 {
    let mut n = 0;
    loop {
        let mut status = 0;
        // SAFETY: waitpid on any child, non-blocking.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            return n;
        }
        n += 1;
    }
}

/// Raise the soft open-files limit to the hard one (each login in flight holds a socket).
pub fn raise_nofile() -> u64 {
    // SAFETY: getrlimit/setrlimit on a local struct.
    unsafe {
        let mut lim: libc::rlimit = std::mem::zeroed();
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        if lim.rlim_cur < lim.rlim_max {
            let want = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
        lim.rlim_cur as u64
    }
}

/// Bytes glibc's malloc has handed out and not had back (every arena, plus mmapped chunks):
/// the live heap, as opposed to RSS, which also holds memory freed but kept by the allocator.
pub fn heap_in_use() -> u64 {
    // SAFETY: mallinfo2 only reads allocator state.
    let m = unsafe { libc::mallinfo2() };
    (m.uordblks + m.hblkhd) as u64
}
