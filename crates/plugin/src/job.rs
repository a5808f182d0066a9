//! One login handed from OpenVPN's thread to the runtime, and turning it into a Duo request.
//!
//! OpenVPN's thread only copies bytes ([`crate::env`]); everything that can fail slowly or
//! needs judgement (UTF-8, the password grammar, the static-challenge decoding) happens here,
//! on the runtime thread, where a refusal can be written with its reason.

use std::ffi::OsString;
use std::net::IpAddr;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;
use std::time::Instant;

use duo::factor::{Factor, StaticChallenge};
use duo::{LoginRequest, UsernameFrom};

use crate::env::{Var, VerifyEnv};

/// What the runtime receives for one `AUTH_USER_PASS_VERIFY`.
#[derive(Debug)]
pub struct Job {
    pub env: VerifyEnv,
    /// When OpenVPN called us: the login's deadline counts from here.
    pub received: Instant,
    /// The client was asked for its factor (CR_TEXT): it comes in a later `CLIENT_CRRESPONSE`.
    pub prompted: bool,
}

/// A login ready to go to Duo.
#[derive(Debug)]
pub struct Prepared {
    pub request: LoginRequest,
}

/// A login refused before asking Duo: `reason` goes to the user, `detail` to the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub reason: String,
    pub detail: String,
}

impl Refusal {
    fn new(reason: &str, detail: impl Into<String>) -> Refusal {
        Refusal {
            reason: reason.to_string(),
            detail: detail.into(),
        }
    }
}

/// The control and reason files of a job (the control file is known to be present: the
/// verify call refuses synchronously without one).
pub fn answer_files(env: &VerifyEnv) -> Option<(PathBuf, Option<PathBuf>)> {
    let path = |v: &Var| match v {
        Var::Present(b) if !b.is_empty() => Some(PathBuf::from(OsString::from_vec(b.clone()))),
        _ => None,
    };
    Some((
        path(&env.auth_control_file)?,
        path(&env.auth_failed_reason_file),
    ))
}

/// The Duo user name as configured, or why there is none.
pub fn username(env: &VerifyEnv, from: UsernameFrom) -> Result<String, Refusal> {
    let (var, name) = match from {
        UsernameFrom::CommonName => (&env.common_name, "common_name"),
        UsernameFrom::Username => (&env.username, "username"),
    };
    match var {
        Var::Missing => Err(Refusal::new(
            "No user name for Duo",
            match from {
                UsernameFrom::CommonName => {
                    "no certificate common name (common_name is unset; with verify-client-cert \
                     none set username_from = \"username\" in duo.toml)"
                }
                UsernameFrom::Username => "no user name (username is unset)",
            },
        )),
        Var::TooLong => Err(Refusal::new(
            "User name too long",
            format!("{name} is longer than {} bytes", crate::env::MAX_VALUE),
        )),
        Var::Present(bytes) => match std::str::from_utf8(bytes) {
            Err(_) => Err(Refusal::new(
                "User name is not valid UTF-8",
                format!("{name} is not UTF-8"),
            )),
            Ok(s) if s.trim().is_empty() => Err(Refusal::new(
                "No user name for Duo",
                format!("{name} is empty"),
            )),
            Ok(s) => Ok(s.to_string()),
        },
    }
}

/// The client's address for Duo's `ipaddr`: only a well-formed IP, else none.
pub fn client_ip(env: &VerifyEnv) -> Option<String> {
    [&env.untrusted_ip, &env.untrusted_ip6]
        .into_iter()
        .find_map(|v| match v {
            Var::Present(b) => std::str::from_utf8(b).ok()?.parse::<IpAddr>().ok(),
            _ => None,
        })
        .map(|ip| ip.to_string())
}

/// The Duo factor from the password field: the `duo::Factor` grammar, or for a static-challenge
/// password (`SCRV1:<b64 password>:<b64 response>`) the response part; the primary password in
/// it is not ours to check (another plugin, PAM or LDAP, may).
pub fn factor(env: &VerifyEnv) -> Result<Factor, Refusal> {
    let bytes = match &env.password {
        Var::Missing => return Ok(Factor::Auto),
        Var::TooLong => return Err(Refusal::new("Password too long", "password is too long")),
        // A session token (renegotiation with an expired or invalid one): not the user's, and
        // never sent to Duo as a passcode.
        Var::Present(p) if crate::session::is_token(p.as_bytes()) => return Ok(Factor::Auto),
        Var::Present(p) => p.as_bytes(),
    };
    let text = std::str::from_utf8(bytes).map_err(|_| {
        Refusal::new(
            "Password is not valid UTF-8",
            "the password field is not UTF-8",
        )
    })?;
    match StaticChallenge::parse(text) {
        None => Ok(Factor::parse(text)),
        Some(Ok(sc)) => Ok(Factor::parse(&sc.response)),
        Some(Err(m)) => Err(Refusal::new("Malformed static-challenge answer", m)),
    }
}

/// Everything Duo needs for this job, or why it is refused outright. `answered`: the factor
/// the user gave a CR_TEXT prompt, instead of the password field's.
pub fn prepare(
    env: &VerifyEnv,
    from: UsernameFrom,
    answered: Option<Factor>,
) -> Result<Prepared, Refusal> {
    let username = username(env, from)?;
    let factor = match answered {
        Some(f) => f,
        None => factor(env)?,
    };
    Ok(Prepared {
        request: LoginRequest {
            username,
            factor,
            ipaddr: client_ip(env),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretBytes;

    fn env(user: &[u8], password: &[u8]) -> VerifyEnv {
        VerifyEnv {
            username: Var::Present(user.to_vec()),
            common_name: Var::Present(b"cn-alice".to_vec()),
            password: Var::Present(SecretBytes::copy(password)),
            untrusted_ip: Var::Present(b"192.0.2.7".to_vec()),
            auth_control_file: Var::Present(b"/tmp/acf".to_vec()),
            ..VerifyEnv::default()
        }
    }

    #[test]
    fn the_password_field() {
        let f = |pw: &[u8]| factor(&env(b"a", pw));
        assert_eq!(f(b"").unwrap(), Factor::Auto);
        assert_eq!(f(b"push").unwrap(), Factor::Push(None));
        assert_eq!(f(b"sms2").unwrap(), Factor::Sms(Some(2)));
        assert_eq!(f(b"123456").unwrap(), Factor::Passcode("123456".into()));
        // static challenge: hunter2 / push
        assert_eq!(
            f(b"SCRV1:aHVudGVyMg==:cHVzaA==").unwrap(),
            Factor::Push(None)
        );
        // static challenge: hunter2 / 123456
        assert_eq!(
            f(b"SCRV1:aHVudGVyMg==:MTIzNDU2").unwrap(),
            Factor::Passcode("123456".into())
        );
        assert_eq!(f(b"SCRV1::").unwrap(), Factor::Auto);
        assert!(f(b"SCRV1:!!:x").is_err());
        assert!(f(b"\xff").is_err());
        let mut e = env(b"a", b"");
        e.password = Var::Missing;
        assert_eq!(factor(&e).unwrap(), Factor::Auto);
        // OpenVPN's session token in the password field (an expired one asks Duo again).
        assert_eq!(f(b"SESS_ID_AT_aGVsbG8gd29ybGQ=").unwrap(), Factor::Auto);
    }

    #[test]
    fn the_user_name() {
        let e = env(b"alice", b"");
        assert_eq!(username(&e, UsernameFrom::Username).unwrap(), "alice");
        assert_eq!(username(&e, UsernameFrom::CommonName).unwrap(), "cn-alice");
        for bad in [&b""[..], b"   ", b"\xc3"] {
            assert!(username(&env(bad, b""), UsernameFrom::Username).is_err());
        }
        let mut e = env(b"alice", b"");
        e.common_name = Var::Missing;
        let r = username(&e, UsernameFrom::CommonName).unwrap_err();
        assert!(r.detail.contains("username_from"), "{r:?}");
    }

    #[test]
    fn addresses() {
        let mut e = env(b"a", b"");
        assert_eq!(client_ip(&e).as_deref(), Some("192.0.2.7"));
        e.untrusted_ip = Var::Present(b"not an ip".to_vec());
        e.untrusted_ip6 = Var::Present(b"2001:db8::1".to_vec());
        assert_eq!(client_ip(&e).as_deref(), Some("2001:db8::1"));
        e.untrusted_ip6 = Var::Missing;
        assert_eq!(client_ip(&e), None);
    }
}
