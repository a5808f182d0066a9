//! Reading a secret from the controlling terminal without echoing it.

use std::io::{self, BufRead};
use std::os::fd::AsRawFd;

/// Read one line from stdin (a terminal) with echo switched off, restoring the mode after.
pub fn read_line_hidden() -> io::Result<String> {
    let stdin = io::stdin();
    let fd = stdin.as_raw_fd();
    // SAFETY: termios is plain data; tcgetattr fills it or fails.
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut quiet = saved;
    quiet.c_lflag &= !libc::ECHO;
    quiet.c_lflag |= libc::ECHONL;
    if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut line = String::new();
    let result = stdin.lock().read_line(&mut line);
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &saved) };
    result.map(|_| line)
}
