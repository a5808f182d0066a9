//! Session tokens (`auth-gen-token … external-auth`): OpenVPN verifies the token's HMAC and
//! expiry itself and tells us what it found in `session_state`; we only decide what each state
//! means for Duo.
//!
//! Only `Authenticated` (a token OpenVPN issued after a login we allowed, still valid) skips
//! Duo. Every other state, a value we do not know included, asks Duo again: the manual calls
//! accepting an expired or invalid token an authentication bypass, and the `EmptyUser`
//! variants mean the client changed the user name it logs in with.
//!
//! In those states the password field holds the token itself (`SESS_ID_…`), not a factor the
//! user typed: it must never go to Duo as a passcode, so such a password counts as empty.

use crate::env::Var;

/// OpenVPN's prefix of the tokens it pushes (`SESSION_ID_PREFIX` in `auth_token.h`).
pub const TOKEN_PREFIX: &[u8] = b"SESS_ID_";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionState {
    Initial,
    Authenticated,
    Expired,
    Invalid,
    AuthenticatedEmptyUser,
    ExpiredEmptyUser,
    /// A value this plugin does not know (a newer OpenVPN): treated as untrusted.
    Unknown,
}

impl SessionState {
    /// `None` when OpenVPN passed no `session_state` (no `auth-gen-token … external-auth`).
    pub fn from_env(var: &Var) -> Option<SessionState> {
        match var {
            Var::Missing => None,
            Var::TooLong => Some(SessionState::Unknown),
            Var::Present(v) => Some(match v.as_slice() {
                b"Initial" => SessionState::Initial,
                b"Authenticated" => SessionState::Authenticated,
                b"Expired" => SessionState::Expired,
                b"Invalid" => SessionState::Invalid,
                b"AuthenticatedEmptyUser" => SessionState::AuthenticatedEmptyUser,
                b"ExpiredEmptyUser" => SessionState::ExpiredEmptyUser,
                _ => SessionState::Unknown,
            }),
        }
    }

    /// Whether the login may be allowed without Duo: a valid token, and nothing else.
    pub fn skips_duo(var: &Var) -> bool {
        SessionState::from_env(var) == Some(SessionState::Authenticated)
    }
}

/// A password that is one of OpenVPN's session tokens rather than something the user typed.
pub fn is_token(password: &[u8]) -> bool {
    password.starts_with(TOKEN_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(v: &[u8]) -> Var {
        Var::Present(v.to_vec())
    }

    #[test]
    fn only_a_valid_token_skips_duo() {
        assert!(SessionState::skips_duo(&state(b"Authenticated")));
        for other in [
            &b"Initial"[..],
            b"Expired",
            b"Invalid",
            b"AuthenticatedEmptyUser",
            b"ExpiredEmptyUser",
            b"authenticated",
            b"Authenticated ",
            b"",
            b"Renewed",
        ] {
            assert!(
                !SessionState::skips_duo(&state(other)),
                "{}",
                String::from_utf8_lossy(other)
            );
        }
        assert!(!SessionState::skips_duo(&Var::Missing));
        assert!(!SessionState::skips_duo(&Var::TooLong));
        assert_eq!(SessionState::from_env(&Var::Missing), None);
        assert_eq!(
            SessionState::from_env(&state(b"Renewed")),
            Some(SessionState::Unknown)
        );
        assert_eq!(
            SessionState::from_env(&state(b"ExpiredEmptyUser")),
            Some(SessionState::ExpiredEmptyUser)
        );
    }

    #[test]
    fn tokens_are_recognised() {
        assert!(is_token(b"SESS_ID_AT_0123456789abcdef"));
        assert!(!is_token(b"123456"));
        assert!(!is_token(b"push"));
        assert!(!is_token(b""));
    }
}
