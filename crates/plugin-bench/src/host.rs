//! The C half (`csrc/openvpn_host.c`): OpenVPN's callbacks and the counting interposers.

#[cfg(test)]
use std::ffi::c_long;
use std::ffi::{CString, c_char, c_int, c_ulong, c_void};
use std::path::Path;

unsafe extern "C" {
    fn bench_log_open(path: *const c_char) -> c_int;
    fn bench_log_lines() -> c_ulong;
    fn bench_log_errors() -> c_ulong;
    fn bench_log_warnings() -> c_ulong;
    fn bench_callbacks_ptr() -> *const c_void;
    fn bench_processes_created() -> c_ulong;
    fn bench_threads_created() -> c_ulong;
    fn bench_inet_connects() -> c_ulong;
}

/// Send the plugin's log lines to `path` (appended), formatted as OpenVPN does.
pub fn log_to(path: &Path) -> std::io::Result<()> {
    let c = CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| std::io::Error::other("log path contains NUL"))?;
    // SAFETY: a NUL-terminated path; the C side only opens it.
    if unsafe { bench_log_open(c.as_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// `struct openvpn_plugin_callbacks` (structver 5), static in C.
pub fn callbacks() -> *const c_void {
    // SAFETY: returns the address of a static.
    unsafe { bench_callbacks_ptr() }
}

/// What the plugin has done so far, as counted by the C side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub log_lines: u64,
    pub log_errors: u64,
    pub log_warnings: u64,
    /// fork, vfork, posix_spawn(p), system, popen — in this process or a forked descendant.
    pub processes: u64,
    /// pthread_create.
    pub threads: u64,
    /// TCP connect() calls to an IPv4/IPv6 address: one per connection, so one per TLS handshake.
    pub connects: u64,
}

impl Counters {
    pub fn now() -> Counters {
        // SAFETY: atomic loads in C.
        unsafe {
            Counters {
                log_lines: bench_log_lines() as u64,
                log_errors: bench_log_errors() as u64,
                log_warnings: bench_log_warnings() as u64,
                processes: bench_processes_created() as u64,
                threads: bench_threads_created() as u64,
                connects: bench_inet_connects() as u64,
            }
        }
    }

    pub fn since(&self, before: &Counters) -> Counters {
        Counters {
            log_lines: self.log_lines - before.log_lines,
            log_errors: self.log_errors - before.log_errors,
            log_warnings: self.log_warnings - before.log_warnings,
            processes: self.processes - before.processes,
            threads: self.threads - before.threads,
            connects: self.connects - before.connects,
        }
    }
}

/// Offsets from the installed `openvpn-plugin.h` (`None` without the header).
#[cfg(test)]
pub fn header_layout(which: c_int) -> Option<i64> {
    unsafe extern "C" {
        fn bench_header_layout(which: c_int) -> c_long;
    }
    // SAFETY: a pure function in C.
    let v = unsafe { bench_header_layout(which) } as i64;
    (v >= 0).then_some(v)
}
