//! The second factor asked by the client (OpenVPN 2.6 `CR_TEXT`).
//!
//! A client that lists `crtext` in `IV_SSO` and sent no factor in its password field is asked
//! for one: the verify call writes `auth_pending_file` (timeout, method, `CR_TEXT:R,E:<text>`)
//! and returns DEFERRED; OpenVPN reads and deletes that file right after the call returns and
//! sends the client `AUTH_PENDING` and `INFO_PRE,CR_TEXT:…`. The user's answer comes back as a
//! separate `CLIENT_CRRESPONSE` call (env `crresponse`, base64), whose return value OpenVPN
//! ignores: the login task answers through the control file of the verify call, which that
//! call's environment names too, so the control file path is the key joining the two.
//!
//! The prompt cannot name the user's devices: preauth would have to run before the verify
//! call returns, on OpenVPN's thread, and the pending file cannot be written later. It names
//! the factors anyone can type instead.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

use crate::env::Var;
use crate::secret::SecretBytes;

/// What the client shows (one line: OpenVPN GUI puts it above the answer field).
pub const PROMPT: &str = "Duo: type a passcode, or press Enter for a push to your phone; \
                          push, phone, sms or push2 also work";

/// `IV_SSO` lists `crtext` (a comma-separated list: `openurl,webauth,crtext`).
pub fn offered(iv_sso: &Var) -> bool {
    match iv_sso {
        Var::Present(v) => v.split(|&b| b == b',').any(|m| m.trim_ascii() == b"crtext"),
        _ => false,
    }
}

/// The password field carries no factor: nothing typed, or only one of OpenVPN's session
/// tokens (a renegotiation whose token was not accepted).
pub fn no_factor(password: &Var<SecretBytes>) -> bool {
    match password {
        Var::Missing => true,
        Var::TooLong => false,
        Var::Present(p) => {
            p.as_bytes().iter().all(u8::is_ascii_whitespace)
                || crate::session::is_token(p.as_bytes())
        }
    }
}

/// The three lines of `auth_pending_file`. `timeout` is how long OpenVPN keeps the login
/// pending (it never goes past its own `hand-window` cap whatever this says).
pub fn pending_text(timeout: Duration) -> String {
    format!("{}\ncrtext\nCR_TEXT:R,E:{PROMPT}", timeout.as_secs().max(1))
}

/// Write the pending file OpenVPN created (empty) for this call: no `O_CREAT`, no links
/// followed. Not `O_TRUNC`: on ext4 truncating to zero makes the close flush the file
/// (`auto_da_alloc`), about ten times the cost of the write on OpenVPN's thread; anything
/// past our text (never there in practice) is cut after writing instead.
pub fn write_pending(path: &Path, text: &str) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    if f.metadata()?.len() > text.len() as u64 {
        f.set_len(text.len() as u64)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_is_asked() {
        let sso = |s: &[u8]| Var::Present(s.to_vec());
        assert!(offered(&sso(b"crtext")));
        assert!(offered(&sso(b"openurl,webauth,crtext")));
        assert!(offered(&sso(b"webauth, crtext ")));
        assert!(!offered(&sso(b"webauth")));
        assert!(!offered(&sso(b"crtextx,openurl")));
        assert!(!offered(&Var::Missing));
        let pw = |s: &[u8]| Var::Present(SecretBytes::copy(s));
        assert!(no_factor(&pw(b"")));
        assert!(no_factor(&pw(b"  ")));
        assert!(no_factor(&Var::Missing));
        assert!(no_factor(&pw(b"SESS_ID_AT_abc")));
        for typed in [
            &b"push"[..],
            b"123456",
            b"auto",
            b"SCRV1:aHVudGVyMg==:",
            b"sms2",
        ] {
            assert!(!no_factor(&pw(typed)), "{}", String::from_utf8_lossy(typed));
        }
        assert!(!no_factor(&Var::TooLong));
    }

    #[test]
    fn the_pending_file() {
        let text = pending_text(Duration::from_secs(54));
        let lines: Vec<&str> = text.split('\n').collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0], "54");
        assert_eq!(lines[1], "crtext");
        assert_eq!(lines[2], format!("CR_TEXT:R,E:{PROMPT}"));
        // OpenVPN sends it in one control message of at most 1024 bytes.
        assert!(("INFO_PRE,".len() + lines[2].len()) < 1024);
        let dir = tempfile::tempdir().unwrap();
        let apf = dir.path().join("apf");
        assert!(write_pending(&apf, &text).is_err(), "never creates it");
        std::fs::write(&apf, "old contents, longer than the new ones ............................................................................................").unwrap();
        write_pending(&apf, &text).unwrap();
        assert_eq!(std::fs::read_to_string(&apf).unwrap(), text);
    }
}
