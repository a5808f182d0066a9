//! What can go wrong talking to Duo, classified the way the login decision needs it.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No answer: DNS, a refused or reset connection, TLS, proxy. Failmode applies.
    #[error("Duo could not be reached at {host}: {detail}")]
    Unreachable { host: String, detail: String },
    /// The request was sent to Duo and no answer came within the request's own deadline,
    /// counted from the moment it was written. Failmode applies.
    #[error("Duo did not answer within {0:?}")]
    Timeout(Duration),
    /// This machine could not get the request to Duo, or look at the answer, in time: nothing
    /// was written within the deadline (a starved or overloaded VPN server, out of file
    /// descriptors, or a Duo host that never completed a connection), the login's own time ran
    /// out first, or a failure was only seen once it had. Nothing shows that Duo failed, so this
    /// is not an outage: failmode does not apply and a login is refused.
    #[error("the request to Duo at {host} did not get through in time: {detail}")]
    NotSent { host: String, detail: String },
    /// HTTP 401: the integration key, secret key or signature (often the clock) was refused.
    #[error(
        "Duo rejected the integration key or secret key ({message}); check ikey, skey and the system clock"
    )]
    Credentials { code: Option<i64>, message: String },
    /// HTTP 5xx, or 429 after every retry. Failmode applies.
    #[error("Duo answered with a server error (HTTP {status}{}): {message}", code.map(|c| format!(", code {c}")).unwrap_or_default())]
    Server {
        status: u16,
        code: Option<i64>,
        message: String,
    },
    /// Any other refusal of the request itself (400, 403, 404 …): a definite error, not an outage.
    #[error("Duo refused the request (HTTP {status}{}): {message}", code.map(|c| format!(", code {c}")).unwrap_or_default())]
    Request {
        status: u16,
        code: Option<i64>,
        message: String,
    },
    /// An answer that is not what the Auth API sends.
    #[error("unexpected answer from Duo: {0}")]
    Protocol(String),
    /// The client could not be built (bad CA file, bad proxy URL, …).
    #[error("{0}")]
    Setup(String),
}

impl Error {
    /// Duo could not give an answer at all: the case failmode is for. Only what Duo (or the
    /// network to it) did counts; [`Error::NotSent`] is this machine's own delay.
    pub fn is_outage(&self) -> bool {
        matches!(
            self,
            Error::Unreachable { .. } | Error::Timeout(_) | Error::Server { .. }
        )
    }
}
