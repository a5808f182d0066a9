//! Verified Duo Push across two logins: the code goes to the user as a CRV1 dynamic challenge.
//!
//! Duo's verification code exists only once `/auth` was sent (preauth with
//! `client_supports_verified_push=1` returns a `txid` for `/auth`; the code arrives in an
//! `auth_status` `status_msg`). OpenVPN reads `auth_pending_file` (CR_TEXT) once, right after
//! the verify call returns DEFERRED, and deletes it (`key_state_check_auth_pending_file`), and
//! the plugin must never hold OpenVPN's thread waiting for Duo. So the code cannot be shown
//! during the login that asked for it. The one way left to reach the user is the reason of a
//! refusal: that login ends with `0` and `CRV1:R,E:<state id>:<base64 user>:<text>` in
//! `auth_failed_reason_file`; a client with `auth-retry interact` (OpenVPN GUI, Tunnelblick,
//! OpenVPN Connect, Android, the CLI on a terminal) shows the text and reconnects with the
//! password `CRV1::<state id>::<answer>`. That second login finds the transaction here by the
//! state id and goes on polling it. A client that cannot show a challenge (no terminal,
//! `auth-retry none`) cannot be told from one that can, so every client gets the challenge;
//! those only log the refusal.
//!
//! The table is bounded ([`MAX_PENDING`]) and entries expire ([`KEEP`]). A state id is used
//! once, and only by the user it was issued for. Neither ids, txids nor codes are logged.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;

/// Transactions waiting for their second login at most. A full table refuses new verified
/// pushes as busy rather than dropping users already shown a code.
pub const MAX_PENDING: usize = 4096;

/// How long a shown code waits for the client to come back: Duo's push lives 60 s, and the
/// client's reconnect and the user's typing come on top. Polling after that only hears
/// Duo's own timeout.
pub const KEEP: Duration = Duration::from_secs(90);

/// What the user reads; `{code}` is Duo's code.
pub fn challenge_text(code: &str) -> String {
    format!("Duo Verified Push: enter {code} in Duo Mobile, then press Enter")
}

/// `CRV1:R,E:<id>:<base64 user>:<text>`: `R` an answer is required (any will do), `E` echo it.
/// `user` is what the client should send back as its user name.
pub fn challenge(state_id: &str, user: &[u8], code: &str) -> String {
    format!(
        "CRV1:R,E:{state_id}:{}:{}",
        base64::engine::general_purpose::STANDARD.encode(user),
        challenge_text(code)
    )
}

/// The state id in a challenge answer (`CRV1::<id>::<answer>`), whatever the answer.
pub fn answer_state_id(password: &[u8]) -> Option<&str> {
    let rest = password.strip_prefix(b"CRV1::")?;
    let end = rest.windows(2).position(|w| w == b"::")?;
    std::str::from_utf8(&rest[..end]).ok()
}

/// Does the password field carry a challenge answer?
pub fn is_answer(password: &[u8]) -> bool {
    password.starts_with(b"CRV1::")
}

/// 128 random bits as 32 hex characters: never a `:`, which separates CRV1 fields.
pub fn new_state_id() -> std::io::Result<String> {
    let mut bytes = [0u8; 16];
    let mut got = 0;
    while got < bytes.len() {
        // SAFETY: the pointer and length describe the unfilled rest of `bytes`.
        let n = unsafe {
            libc::syscall(
                libc::SYS_getrandom,
                bytes[got..].as_mut_ptr(),
                bytes.len() - got,
                0,
            )
        };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        got += n as usize;
    }
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    txid: String,
    user: String,
    expires: Instant,
}

/// Why a challenge answer finds no transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    Unknown,
    Expired,
    /// Issued for someone else: refused, and the entry is gone (one use).
    OtherUser,
}

impl Miss {
    /// What the user is told.
    pub fn reason(self) -> &'static str {
        match self {
            Miss::Expired => "Duo Verified Push expired: connect again for a new code",
            Miss::Unknown | Miss::OtherUser => {
                "Duo Verified Push not recognised: connect again for a new code"
            }
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Miss::Unknown => "an unknown Verified Push state id",
            Miss::Expired => "an expired Verified Push state id",
            Miss::OtherUser => "a Verified Push state id issued to another user",
        }
    }
}

/// Transactions shown to their user as a code, waiting for the second login.
#[derive(Debug)]
pub struct Table {
    map: HashMap<String, Entry>,
    cap: usize,
    keep: Duration,
}

impl Default for Table {
    fn default() -> Self {
        Table::new(MAX_PENDING, KEEP)
    }
}

impl Table {
    pub fn new(cap: usize, keep: Duration) -> Table {
        Table {
            map: HashMap::new(),
            cap,
            keep,
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Keep `txid` for `user` under the new id `state_id`; `false` when the table is full of
    /// unexpired entries.
    pub fn insert(&mut self, state_id: String, txid: String, user: String, now: Instant) -> bool {
        if self.map.len() >= self.cap {
            self.map.retain(|_, e| e.expires > now);
        }
        if self.map.len() >= self.cap {
            return false;
        }
        let expires = now + self.keep;
        self.map.insert(
            state_id,
            Entry {
                txid,
                user,
                expires,
            },
        );
        true
    }

    /// The transaction for `state_id`, if it was issued to `user` and is still fresh. Taken
    /// out either way: an id answers one login.
    pub fn take(&mut self, state_id: &str, user: &str, now: Instant) -> Result<String, Miss> {
        let entry = self.map.remove(state_id).ok_or(Miss::Unknown)?;
        if entry.expires <= now {
            Err(Miss::Expired)
        } else if entry.user != user {
            Err(Miss::OtherUser)
        } else {
            Ok(entry.txid)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_and_its_answer() {
        let c = challenge("0123abcd", "alice".as_bytes(), "376");
        assert_eq!(
            c,
            "CRV1:R,E:0123abcd:YWxpY2U=:Duo Verified Push: enter 376 in Duo Mobile, then press Enter"
        );
        assert!(c.len() <= crate::control_file::MAX_REASON);
        assert_eq!(answer_state_id(b"CRV1::0123abcd::"), Some("0123abcd"));
        assert_eq!(
            answer_state_id(b"CRV1::0123abcd::anything: at all"),
            Some("0123abcd")
        );
        assert_eq!(answer_state_id(b"CRV1::0123abcd"), None);
        assert_eq!(answer_state_id(b"123456"), None);
        assert!(is_answer(b"CRV1::x::") && !is_answer(b"push"));
        let a = new_state_id().unwrap();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, new_state_id().unwrap());
    }

    #[test]
    fn ids_are_used_once_by_their_user_before_they_expire() {
        let t0 = Instant::now();
        let mut t = Table::new(3, Duration::from_secs(90));
        assert!(t.insert("a".into(), "tx-a".into(), "alice".into(), t0));
        assert_eq!(t.take("a", "alice", t0), Ok("tx-a".into()));
        assert_eq!(t.take("a", "alice", t0), Err(Miss::Unknown), "once");
        assert_eq!(t.take("forged", "alice", t0), Err(Miss::Unknown));

        assert!(t.insert("b".into(), "tx-b".into(), "alice".into(), t0));
        assert_eq!(t.take("b", "mallory", t0), Err(Miss::OtherUser));
        assert_eq!(
            t.take("b", "alice", t0),
            Err(Miss::Unknown),
            "gone after misuse"
        );

        assert!(t.insert("c".into(), "tx-c".into(), "alice".into(), t0));
        let late = t0 + Duration::from_secs(90);
        assert_eq!(t.take("c", "alice", late), Err(Miss::Expired));
        assert!(t.is_empty());
    }

    #[test]
    fn the_table_is_bounded_and_makes_room_from_expired_entries() {
        let t0 = Instant::now();
        let keep = Duration::from_secs(90);
        let mut t = Table::new(2, keep);
        assert!(t.insert("a".into(), "1".into(), "u".into(), t0));
        assert!(t.insert(
            "b".into(),
            "2".into(),
            "u".into(),
            t0 + Duration::from_secs(10)
        ));
        assert!(!t.insert(
            "c".into(),
            "3".into(),
            "u".into(),
            t0 + Duration::from_secs(20)
        ));
        assert_eq!(t.len(), 2);
        // `a` has expired by now: it makes room, `b` stays.
        assert!(t.insert("c".into(), "3".into(), "u".into(), t0 + keep));
        assert_eq!(t.len(), 2);
        assert_eq!(t.take("b", "u", t0 + keep), Ok("2".into()));
        assert_eq!(t.take("a", "u", t0 + keep), Err(Miss::Unknown));
    }
}
