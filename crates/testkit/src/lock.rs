//! One OpenVPN-as-`nobody` test at a time, across threads and test processes.
//!
//! `prlimit --nproc=10` is counted per user, machine-wide: two servers running as `nobody`
//! together could push each other over the limit (and make thread counts meaningless).

use std::fs::File;
use std::os::fd::AsRawFd;

const LOCK_FILE: &str = "/tmp/duo-openvpn-e2e.lock";

/// Held for as long as it lives; released on drop (or when the process dies).
pub struct Exclusive {
    _file: File,
}

/// Wait for our turn. `flock` locks belong to the open file, so this also serializes the
/// threads of one test binary.
pub fn exclusive() -> Exclusive {
    let file = File::options()
        .create(true)
        .append(true)
        .open(LOCK_FILE)
        .unwrap_or_else(|e| panic!("cannot open {LOCK_FILE}: {e}"));
    // SAFETY: flock on a descriptor we own.
    let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(
        r,
        0,
        "flock {LOCK_FILE}: {}",
        std::io::Error::last_os_error()
    );
    Exclusive { _file: file }
}
