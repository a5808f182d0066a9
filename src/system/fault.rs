//! Fault injection for the file layer's tests: every mutating step of [`super::tree`] (and
//! every read) is a numbered point. In debug builds only, the environment can ask the process
//! to die at point N (as `kill -9` would: no destructor, no cleanup) or to stop itself there
//! (SIGSTOP) so a test can swap a folder for a symlink and let it go on. Release builds have
//! neither: [`point`] is empty there.
//!
//! - `DUO_OPENVPN_FAULT=crash:N` or `stop:N`
//! - `DUO_OPENVPN_FAULT_LOG=FILE`: one line per point, `N kind path`, appended.

use std::fmt::Display;
use std::sync::atomic::{AtomicBool, Ordering};

static FORCE_WALK: AtomicBool = AtomicBool::new(false);

/// Tests of the component walk turn `openat2` off.
pub fn force_walk() -> bool {
    FORCE_WALK.load(Ordering::Relaxed)
}

#[cfg(test)]
pub fn set_force_walk(on: bool) {
    FORCE_WALK.store(on, Ordering::Relaxed);
}

#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn point(_kind: &str, _path: &dyn Display) {}

#[cfg(debug_assertions)]
pub fn point(kind: &str, path: &dyn Display) {
    use std::io::Write;
    use std::sync::OnceLock;
    use std::sync::atomic::AtomicU64;

    struct Plan {
        action: Option<(String, u64)>,
        log: Option<std::path::PathBuf>,
    }
    static PLAN: OnceLock<Plan> = OnceLock::new();
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let plan = PLAN.get_or_init(|| Plan {
        action: std::env::var("DUO_OPENVPN_FAULT").ok().and_then(|v| {
            let (a, n) = v.split_once(':')?;
            Some((a.to_string(), n.parse().ok()?))
        }),
        log: std::env::var_os("DUO_OPENVPN_FAULT_LOG").map(Into::into),
    });
    if plan.action.is_none() && plan.log.is_none() {
        return;
    }
    let n = COUNT.fetch_add(1, Ordering::SeqCst) + 1;
    if let Some(log) = &plan.log
        && let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
    {
        let _ = writeln!(f, "{n} {kind} {path}");
    }
    match &plan.action {
        Some((a, at)) if *at == n && a == "crash" => {
            // SAFETY: _exit ends the process at once, like a kill.
            unsafe { libc::_exit(137) }
        }
        Some((a, at)) if *at == n && a == "stop" => {
            // SAFETY: raising a signal on ourselves; SIGCONT resumes here.
            unsafe {
                libc::raise(libc::SIGSTOP);
            }
        }
        _ => {}
    }
}
