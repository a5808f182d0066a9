//! The answer to one deferred login: `auth_control_file` gets `1` or `0`, exactly once.
//!
//! OpenVPN pre-creates both files (mode 0600, in `--tmp-dir`), reads the control file's first
//! byte while the login is pending, and unlinks both when the key state dies. Hence:
//! - open without `O_CREAT`: a client that went away leaves no stray file behind (`ENOENT`);
//! - `O_NOFOLLOW`: the last component is OpenVPN's own file, never a link planted in /tmp;
//! - on refusal the reason goes to `auth_failed_reason_file` *first* (2.6 reads it when it sees
//!   the `0`), without a trailing newline, at most [`MAX_REASON`] bytes;
//! - the control byte is one `write` of one byte, so OpenVPN never reads a partial answer.
//!
//! An [`Answer`] dropped unanswered writes `0`: a cancelled task (the plugin closing) or a bug
//! can only ever refuse, never leave a login hanging until OpenVPN's deadline.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// OpenVPN sends the reason as `AUTH_FAILED,<reason>` in one control message of at most 1024
/// bytes (`PUSH_BUNDLE_SIZE`, NUL included).
pub const MAX_REASON: usize = 1024 - "AUTH_FAILED,".len() - 1;

pub struct Answer {
    control: PathBuf,
    reason_file: Option<PathBuf>,
    answered: bool,
}

impl Answer {
    pub fn new(control: PathBuf, reason_file: Option<PathBuf>) -> Answer {
        Answer {
            control,
            reason_file,
            answered: false,
        }
    }

    pub fn control_file(&self) -> &Path {
        &self.control
    }

    /// Let the user in.
    pub fn allow(mut self) -> io::Result<()> {
        self.answered = true;
        write_byte(&self.control, b'1')
    }

    /// Refuse, telling the user why when OpenVPN gave us a reason file (2.6). A reason that
    /// cannot be written does not stop the refusal; its error is returned after the `0` is.
    pub fn deny(mut self, reason: &str) -> io::Result<()> {
        self.answered = true;
        let reason_result = match &self.reason_file {
            Some(path) => write_reason(path, reason),
            None => Ok(()),
        };
        write_byte(&self.control, b'0')?;
        reason_result
    }
}

impl Drop for Answer {
    fn drop(&mut self) {
        if !self.answered {
            let _ = write_byte(&self.control, b'0');
        }
    }
}

fn open_existing(path: &Path, truncate: bool) -> io::Result<std::fs::File> {
    OpenOptions::new()
        .write(true)
        .truncate(truncate)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

fn write_byte(path: &Path, byte: u8) -> io::Result<()> {
    let mut f = open_existing(path, false)?;
    let n = f.write(&[byte])?;
    if n != 1 {
        return Err(io::Error::new(io::ErrorKind::WriteZero, "short write"));
    }
    Ok(())
}

fn write_reason(path: &Path, reason: &str) -> io::Result<()> {
    let text = reason_text(reason);
    if text.is_empty() {
        return Ok(());
    }
    open_existing(path, true)?.write_all(text.as_bytes())
}

/// One line, no trailing newline, cut at a character boundary to fit the control message.
/// Control characters would end or corrupt the message, so they become spaces.
pub fn reason_text(reason: &str) -> String {
    let mut out = String::new();
    for c in reason.trim().chars() {
        if out.len() + c.len_utf8() > MAX_REASON {
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let acf = dir.path().join("acf");
        let afr = dir.path().join("afr");
        std::fs::write(&acf, b"").unwrap();
        std::fs::write(&afr, b"").unwrap();
        (dir, acf, afr)
    }

    #[test]
    fn allow_writes_one_byte() {
        let (_d, acf, afr) = files();
        Answer::new(acf.clone(), Some(afr.clone())).allow().unwrap();
        assert_eq!(std::fs::read(&acf).unwrap(), b"1");
        assert_eq!(std::fs::read(&afr).unwrap(), b"");
    }

    #[test]
    fn deny_writes_the_reason_first_without_newline() {
        let (_d, acf, afr) = files();
        Answer::new(acf.clone(), Some(afr.clone()))
            .deny("Enroll in Duo first: https://x\n")
            .unwrap();
        assert_eq!(std::fs::read(&acf).unwrap(), b"0");
        assert_eq!(
            std::fs::read_to_string(&afr).unwrap(),
            "Enroll in Duo first: https://x"
        );
    }

    #[test]
    fn dropped_unanswered_refuses() {
        let (_d, acf, _afr) = files();
        drop(Answer::new(acf.clone(), None));
        assert_eq!(std::fs::read(&acf).unwrap(), b"0");
    }

    #[test]
    fn never_creates_files() {
        let dir = tempfile::tempdir().unwrap();
        let acf = dir.path().join("gone");
        assert!(Answer::new(acf.clone(), None).allow().is_err());
        drop(Answer::new(acf.clone(), None));
        assert!(!acf.exists());
    }

    #[test]
    fn reasons_fit_the_control_message() {
        let long = "é".repeat(2000);
        let r = reason_text(&long);
        assert!(r.len() <= MAX_REASON);
        assert!(r.is_char_boundary(r.len()));
        assert_eq!(reason_text("a\nb\rc"), "a b c");
    }
}
