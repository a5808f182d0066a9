//! The open-files limit: every pending login holds a socket to Duo (HTTP/1.1, one request per
//! connection at a time), so a thousand users waiting on their phones need a thousand
//! descriptors on top of OpenVPN's own. The soft limit is often 1024; the hard limit (which
//! systemd sets high) may be used without privilege, so raise soft to hard.
//!
//! OpenVPN 2.6 on Linux waits with epoll, which has no `FD_SETSIZE` ceiling.

/// Raise the soft `RLIMIT_NOFILE` to the hard limit. Returns the (old, new) soft limits.
pub fn raise_nofile() -> Result<(u64, u64), String> {
    // SAFETY: getrlimit/setrlimit on a local, initialised struct.
    unsafe {
        let mut lim: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return Err(format!(
                "getrlimit(RLIMIT_NOFILE): {}",
                std::io::Error::last_os_error()
            ));
        }
        let old = lim.rlim_cur;
        if old >= lim.rlim_max {
            return Ok((old as u64, old as u64));
        }
        // An "unlimited" hard limit is refused for files (fs.nr_open caps it): try it, then
        // the kernel's usual fs.nr_open.
        for want in [lim.rlim_max, 1 << 20] {
            let new = libc::rlimit {
                rlim_cur: want.min(lim.rlim_max),
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &new) == 0 {
                return Ok((old as u64, new.rlim_cur as u64));
            }
        }
        Err(format!(
            "cannot raise the open-files limit from {old} to {}: {}",
            lim.rlim_max,
            std::io::Error::last_os_error()
        ))
    }
}
