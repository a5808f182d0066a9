//! Logging through OpenVPN's own `plugin_log`, so lines land wherever OpenVPN logs
//! (`--log`, syslog, the journal) with its timestamps and a `PLUGIN duo-openvpn:` prefix.
//!
//! Rules kept here:
//! - the text is always passed as the argument of a `"%s"` format, never as the format;
//! - the plugin name contains no `%`: OpenVPN pastes it into a format string (`plugin_vlog`);
//! - control characters are replaced, so a crafted user name cannot forge log lines;
//! - lines from the worker thread carry `PLOG_NOMUTE`: OpenVPN's `--mute` counters are plain
//!   globals of its own thread, and `NOMUTE` skips them (`dont_mute`).
//!
//! Nothing here ever receives a password, a passcode or the secret key: callers format only
//! user names, addresses, factor descriptions (`Factor::describe`) and outcomes.

use std::ffi::{CString, c_int};

use crate::ffi::{PLOG_ERR, PLOG_NOMUTE, PLOG_NOTE, PLOG_WARN, PluginLog};

/// The name OpenVPN prints before our lines.
pub const PLUGIN_NAME: &std::ffi::CStr = c"duo-openvpn";

/// Longest line we hand to OpenVPN (its own buffer is 1280 bytes, `ERR_BUF_SIZE`).
const MAX_LINE: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Note,
    Warn,
    Err,
}

/// Where log lines go. `Copy` and `Send`: the worker thread keeps its own.
///
/// `plugin_log` points into OpenVPN's executable (a static callbacks table), so it stays valid
/// after `open` returns and for as long as the plugin is loaded.
#[derive(Clone, Copy)]
pub struct Logger {
    plugin_log: Option<PluginLog>,
}

impl Logger {
    pub fn new(plugin_log: Option<PluginLog>) -> Logger {
        Logger { plugin_log }
    }

    pub fn note(&self, line: &str) {
        self.log(Level::Note, line)
    }

    pub fn warn(&self, line: &str) {
        self.log(Level::Warn, line)
    }

    pub fn err(&self, line: &str) {
        self.log(Level::Err, line)
    }

    pub fn log(&self, level: Level, line: &str) {
        let flags: c_int = PLOG_NOMUTE
            | match level {
                Level::Note => PLOG_NOTE,
                Level::Warn => PLOG_WARN,
                Level::Err => PLOG_ERR,
            };
        let text = CString::new(sanitize(line)).unwrap_or_default();
        match self.plugin_log {
            // SAFETY: OpenVPN's `plugin_log` takes (flags, name, format, ...); both strings are
            // NUL-terminated and outlive the call, and "%s" consumes exactly one `char *`.
            Some(f) => unsafe { f(flags, PLUGIN_NAME.as_ptr(), c"%s".as_ptr(), text.as_ptr()) },
            // No callback (an OpenVPN that passed none): stderr, which OpenVPN redirects to its
            // log file under `--log`, and systemd to the journal.
            None => eprintln!(
                "{}: {}",
                PLUGIN_NAME.to_string_lossy(),
                text.to_string_lossy()
            ),
        }
    }
}

/// One printable line of bounded length: control characters (CR, LF, NUL, ESC …) become `?`.
pub fn sanitize(line: &str) -> String {
    let mut out = String::with_capacity(line.len().min(MAX_LINE));
    for c in line.chars() {
        if out.len() + c.len_utf8() > MAX_LINE {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { '?' } else { c });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_cannot_be_forged_or_overlong() {
        assert_eq!(sanitize("a\nb\r\0c\x1b[31m"), "a?b??c?[31m");
        assert_eq!(sanitize("jürgen"), "jürgen");
        let long = "x".repeat(5000);
        let s = sanitize(&long);
        assert!(s.len() <= MAX_LINE + '…'.len_utf8());
        assert!(s.ends_with('…'));
    }
}
