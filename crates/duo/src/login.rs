//! The login decision shared by the plugin, the `test` command and the wizard:
//! preauth → (allow | deny | enroll | auth) → auth → auth_status until a result or the deadline.

use std::time::Duration;

use tokio::time::Instant;

use crate::api::{AuthAnswer, AuthResult, AuthStatus, PreauthResponse, PreauthResult};
use crate::client::Client;
use crate::config::Failmode;
use crate::error::Error;
use crate::factor::Factor;

/// Each `auth_status` long-poll waits at most this long before asking again.
const POLL_WAIT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct LoginRequest {
    pub username: String,
    pub factor: Factor,
    /// The VPN client's address (`untrusted_ip` / `untrusted_ip6`).
    pub ipaddr: Option<String>,
}

/// What happened along the way, for screens that show live progress.
#[derive(Debug, Clone)]
pub enum Progress {
    Preauth(PreauthResponse),
    /// The factor went out (`device` is the label of the chosen device, when one was chosen).
    Sent {
        factor: String,
        device: Option<String>,
    },
    Status(AuthStatus),
}

/// Why a login was let in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allowed {
    /// The factor was approved (push accepted, passcode valid, call answered).
    Approved { status_msg: String },
    /// Preauth said `allow`: the user bypasses the second factor.
    Bypass { status_msg: String },
}

/// A definite refusal by Duo (or by the rules of the login itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// Preauth `deny`: locked out, not permitted, …
    Refused { status_msg: String },
    /// Preauth `enroll`: the user has to enroll first.
    NotEnrolled { url: Option<String> },
    /// The factor was refused (push or call denied, fraud, …).
    FactorDenied { status: String, status_msg: String },
    /// The passcode was wrong, expired or already used.
    PasscodeRejected { status_msg: String },
    /// `sms` sent new passcodes: this login fails, the next one uses a passcode.
    SmsSent,
    /// Nobody answered in time.
    TimedOut,
    /// The password field asked for something impossible (`push3` with two devices).
    BadFactor(String),
}

#[derive(Debug)]
pub enum Outcome {
    Allowed(Allowed),
    Denied(Denied),
    /// Duo could not be reached or failed (timeout, 5xx): failmode decides.
    Unavailable(Error),
    /// Duo refused the request itself (bad credentials, bad parameters), or this server could
    /// not get its request to Duo and an answer back in time ([`Error::NotSent`]: queued behind
    /// other logins, a starved CPU, no descriptor left; see [`Outcome::busy`]). Always refused:
    /// nothing shows that Duo failed.
    Failed(Error),
}

impl Outcome {
    /// This server could not get an answer from Duo in time for reasons of its own.
    pub fn busy(host: &str, detail: impl Into<String>) -> Outcome {
        Outcome::Failed(Error::NotSent {
            host: host.to_string(),
            detail: detail.into(),
        })
    }

    /// Is this [`Outcome::busy`]?
    pub fn is_busy(&self) -> bool {
        matches!(self, Outcome::Failed(Error::NotSent { .. }))
    }

    /// Does this outcome let the user in under `failmode`? A definite deny is always a deny.
    pub fn permits(&self, failmode: Failmode) -> bool {
        match self {
            Outcome::Allowed(_) => true,
            Outcome::Unavailable(_) => failmode == Failmode::Safe,
            Outcome::Denied(_) | Outcome::Failed(_) => false,
        }
    }

    /// A short sentence the VPN user can act on (OpenVPN's `auth_failed_reason_file`).
    pub fn user_reason(&self) -> String {
        match self {
            Outcome::Allowed(_) => "Duo login approved".into(),
            Outcome::Denied(Denied::Refused { status_msg }) => {
                if status_msg.is_empty() {
                    "Duo refused the login".into()
                } else {
                    format!("Duo refused the login: {status_msg}")
                }
            }
            Outcome::Denied(Denied::NotEnrolled { url: Some(u) }) => {
                format!("Enroll in Duo first: {u}")
            }
            Outcome::Denied(Denied::NotEnrolled { url: None }) => "Enroll in Duo first".into(),
            Outcome::Denied(Denied::FactorDenied { status, status_msg }) => match status.as_str() {
                "deny" => "Duo push denied".into(),
                "fraud" => "Duo login reported as fraud".into(),
                "locked_out" => "Duo account locked out".into(),
                _ if status_msg.is_empty() => "Duo login denied".into(),
                _ => format!("Duo login denied: {status_msg}"),
            },
            Outcome::Denied(Denied::PasscodeRejected { .. }) => "Duo passcode not accepted".into(),
            Outcome::Denied(Denied::SmsSent) => {
                "Duo sent new SMS passcodes: log in again with one".into()
            }
            Outcome::Denied(Denied::TimedOut) => "Duo login timed out: nobody answered".into(),
            Outcome::Denied(Denied::BadFactor(m)) => m.clone(),
            Outcome::Unavailable(_) => "Duo is unavailable".into(),
            Outcome::Failed(Error::NotSent { .. }) => "the VPN server is busy, try again".into(),
            Outcome::Failed(_) => {
                "Duo login failed: the server's Duo configuration was refused".into()
            }
        }
    }

    /// One line for the administrator's log; never carries a passcode or secret.
    pub fn describe(&self, failmode: Failmode) -> String {
        match self {
            Outcome::Allowed(Allowed::Approved { status_msg }) => format!("allowed: {status_msg}"),
            Outcome::Allowed(Allowed::Bypass { status_msg }) => {
                format!("allowed (bypass): {status_msg}")
            }
            Outcome::Denied(_) => format!("denied: {}", self.user_reason()),
            Outcome::Unavailable(e) if failmode == Failmode::Safe => {
                format!("allowed by failmode safe, Duo unavailable: {e}")
            }
            Outcome::Unavailable(e) => format!("denied by failmode secure, Duo unavailable: {e}"),
            Outcome::Failed(e @ Error::NotSent { .. }) => format!(
                "denied, this server is busy (not a Duo outage, failmode does not apply): {e}"
            ),
            Outcome::Failed(e) => format!("denied: {e}"),
        }
    }
}

/// Run one login against Duo, bounded by `deadline` as a whole.
pub async fn login(
    client: &Client,
    req: &LoginRequest,
    deadline: Duration,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Outcome {
    login_until(client, req, Instant::now() + deadline, progress).await
}

/// Run one login against Duo; it ends by `end` whatever happens.
///
/// What is an outage (where failmode decides) and what is not:
/// - Duo failed: a connection, DNS or TLS failure, a 5xx, or a request written to Duo that
///   got no answer within its own deadline (the client's call timeout, counted from the
///   write: see `Client::answered`). [`Outcome::Unavailable`].
/// - This server failed to ask in time: `end` came before Duo answered preauth or auth, or a
///   request was never written within its deadline. [`Outcome::busy`], refused under either
///   failmode: time queued here is not Duo's, and a flood of logins must not turn failmode
///   safe into a way in. The caller admits a login only while enough time is left for
///   preauth and auth their own deadlines, so `end` cuts a request only if this machine
///   delayed it.
/// - `end` coming while waiting on the user is a definite timeout, [`Denied::TimedOut`].
pub async fn login_until(
    client: &Client,
    req: &LoginRequest,
    end: Instant,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Outcome {
    match start(client, req, end, progress).await {
        Err(o) => o,
        Ok(txid) => resume_until(client, &txid, &req.factor, end, progress).await,
    }
}

/// Preauth and auth: the transaction to poll, or the outcome already.
async fn start(
    client: &Client,
    req: &LoginRequest,
    end: Instant,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<String, Outcome> {
    let cut = |step: &str| {
        Outcome::busy(
            client.host(),
            format!(
                "the login ran out of time before Duo answered {step}, within that request's own {:?}",
                client.call_timeout()
            ),
        )
    };

    let preauth =
        match tokio::time::timeout_at(end, client.preauth(&req.username, req.ipaddr.as_deref()))
            .await
        {
            Err(_) => return Err(cut("preauth")),
            Ok(Err(e)) => return Err(classify_by(e, end, client.host())),
            Ok(Ok(p)) => p,
        };
    progress(Progress::Preauth(preauth.clone()));
    match preauth.result {
        PreauthResult::Allow => {
            return Err(Outcome::Allowed(Allowed::Bypass {
                status_msg: preauth.status_msg,
            }));
        }
        PreauthResult::Deny => {
            return Err(Outcome::Denied(Denied::Refused {
                status_msg: preauth.status_msg,
            }));
        }
        PreauthResult::Enroll => {
            return Err(Outcome::Denied(Denied::NotEnrolled {
                url: preauth.enroll_portal_url,
            }));
        }
        PreauthResult::Auth => {}
    }

    let factor_params = match req.factor.auth_params(&preauth.devices) {
        Ok(p) => p,
        Err(m) => return Err(Outcome::Denied(Denied::BadFactor(m))),
    };
    let device = match req.factor.device(&preauth.devices) {
        Ok(d) => d.map(|d| d.label().to_string()),
        Err(m) => return Err(Outcome::Denied(Denied::BadFactor(m))),
    };
    let mut params: Vec<(&str, &str)> = vec![("username", &req.username)];
    if let Some(ip) = &req.ipaddr {
        params.push(("ipaddr", ip));
    }
    params.extend(factor_params.iter().map(|(k, v)| (*k, v.as_str())));
    // Verified push: the code Duo will show belongs to this preauth (as Duo's UNIX client).
    if let Some(txid) = &preauth.txid {
        params.push(("txid", txid));
    }

    let answer = match tokio::time::timeout_at(end, client.auth(&params)).await {
        Err(_) => return Err(cut("auth")),
        Ok(Err(e)) => return Err(classify_by(e, end, client.host())),
        Ok(Ok(a)) => a,
    };
    progress(Progress::Sent {
        factor: req.factor.describe(),
        device,
    });
    match answer {
        AuthAnswer::Done(status) => Err(finish(status, &req.factor)),
        AuthAnswer::Started(s) => Ok(s.txid),
    }
}

/// Where a login with Verified Duo Push may stop before its result.
#[derive(Debug)]
pub enum Step {
    Done(Outcome),
    /// Duo is waiting for the user to type `code` into Duo Mobile; `txid` is the transaction
    /// to go on polling ([`resume_until`]) once the user has seen the code.
    Code {
        code: String,
        txid: String,
    },
}

/// [`login_until`], except that it stops as soon as Duo shows a Verified Duo Push code, so
/// that the caller can get the code to the user first.
pub async fn login_until_code(
    client: &Client,
    req: &LoginRequest,
    end: Instant,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Step {
    match start(client, req, end, progress).await {
        Err(o) => Step::Done(o),
        Ok(txid) => poll(client, &txid, &req.factor, end, progress, true).await,
    }
}

/// Go on polling a transaction [`login_until_code`] stopped at, until its result or `end`.
pub async fn resume_until(
    client: &Client,
    txid: &str,
    factor: &Factor,
    end: Instant,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Outcome {
    match poll(client, txid, factor, end, progress, false).await {
        Step::Done(o) => o,
        // Not asked to stop at a code: never returned.
        Step::Code { .. } => Outcome::Denied(Denied::TimedOut),
    }
}

/// The code in a Verified Duo Push `status_msg` ("Please enter verification code 376 into Duo
/// Mobile..."): the digits after "code", 2 to 10 of them.
pub fn verification_code(status_msg: &str) -> Option<String> {
    let lower = status_msg.to_ascii_lowercase();
    let at = lower.find("verification code")? + "verification code".len();
    let rest = status_msg[at..].trim_start_matches([' ', ':']);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    (2..=10).contains(&digits.len()).then_some(digits)
}

async fn poll(
    client: &Client,
    txid: &str,
    factor: &Factor,
    end: Instant,
    progress: &mut (dyn FnMut(Progress) + Send),
    stop_at_code: bool,
) -> Step {
    let remaining = || end.saturating_duration_since(Instant::now());
    loop {
        let wait = remaining().min(POLL_WAIT);
        if wait.is_zero() {
            return Step::Done(Outcome::Denied(Denied::TimedOut));
        }
        // Bounded as a whole: the client's 429 backoff sleeps between attempts.
        let polled = tokio::time::timeout(wait, client.auth_status(txid, wait))
            .await
            .unwrap_or(Err(Error::Timeout(wait)));
        match polled {
            Ok(status) if status.result == AuthResult::Waiting => {
                // A push Duo itself gave up on will not change any more.
                let timed_out = status.status == "timeout";
                let code = verification_code(&status.status_msg);
                progress(Progress::Status(status));
                if timed_out {
                    return Step::Done(Outcome::Denied(Denied::TimedOut));
                }
                if let (Some(code), true) = (code, stop_at_code) {
                    return Step::Code {
                        code,
                        txid: txid.to_string(),
                    };
                }
            }
            Ok(status) => {
                progress(Progress::Status(status.clone()));
                return Step::Done(finish(status, factor));
            }
            // The long-poll running out is not an answer: ask again until the deadline.
            Err(Error::Timeout(_)) => continue,
            Err(e) => return Step::Done(classify_by(e, end, client.host())),
        }
    }
}

fn finish(status: AuthStatus, factor: &Factor) -> Outcome {
    match status.result {
        AuthResult::Allow => Outcome::Allowed(Allowed::Approved {
            status_msg: status.status_msg,
        }),
        AuthResult::Deny if matches!(factor, Factor::Sms(_)) && status.status == "sent" => {
            Outcome::Denied(Denied::SmsSent)
        }
        AuthResult::Deny if matches!(factor, Factor::Passcode(_)) => {
            Outcome::Denied(Denied::PasscodeRejected {
                status_msg: status.status_msg,
            })
        }
        AuthResult::Deny => Outcome::Denied(Denied::FactorDenied {
            status: status.status,
            status_msg: status.status_msg,
        }),
        AuthResult::Waiting => Outcome::Denied(Denied::TimedOut),
    }
}

/// As [`classify`], but an outage this task only got to see once the login's time had run out
/// is refused as busy: the thread was too far behind to tell whether Duo failed within that
/// time (a starved TLS handshake the server gave up on reads `tls handshake eof`, and looks
/// like Duo failing).
fn classify_by(e: Error, end: Instant, host: &str) -> Outcome {
    if e.is_outage() && Instant::now() >= end {
        return Outcome::busy(
            host,
            format!("{e}, seen only after the login's time had run out"),
        );
    }
    classify(e)
}

/// An outage is [`Outcome::Unavailable`]; anything else, [`Error::NotSent`] included, is
/// refused.
fn classify(e: Error) -> Outcome {
    if e.is_outage() {
        Outcome::Unavailable(e)
    } else {
        Outcome::Failed(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verification_code_in_a_status_message() {
        let code = |m: &str| verification_code(m);
        assert_eq!(
            code("Please enter verification code 376 into Duo Mobile..."),
            Some("376".into())
        );
        assert_eq!(code("Verification code: 708123"), Some("708123".into()));
        assert_eq!(code("Pushed a login request to your device..."), None);
        assert_eq!(code("Please enter verification code into Duo Mobile"), None);
        assert_eq!(code("verification code 7"), None, "too short to be one");
    }

    #[test]
    fn failmode_only_decides_outages() {
        let unavailable = Outcome::Unavailable(Error::Timeout(Duration::from_secs(1)));
        assert!(unavailable.permits(Failmode::Safe));
        assert!(!unavailable.permits(Failmode::Secure));
        let denied = Outcome::Denied(Denied::FactorDenied {
            status: "deny".into(),
            status_msg: String::new(),
        });
        assert!(!denied.permits(Failmode::Safe));
        assert_eq!(denied.user_reason(), "Duo push denied");
        let failed = Outcome::Failed(Error::Credentials {
            code: Some(40103),
            message: String::new(),
        });
        assert!(!failed.permits(Failmode::Safe));
        assert!(
            Outcome::Denied(Denied::TimedOut)
                .describe(Failmode::Safe)
                .starts_with("denied")
        );
        assert!(
            unavailable
                .describe(Failmode::Safe)
                .starts_with("allowed by failmode safe")
        );
    }

    fn client_for(host: String, call_timeout: Duration) -> Client {
        let settings = crate::DuoSettings::new(
            "DIWJ8X6AEYOR5OMC6TQ1",
            crate::config::Secret::new("Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep"),
            host,
        );
        Client::new(&settings)
            .unwrap()
            .with_call_timeout(call_timeout)
    }

    fn bob() -> LoginRequest {
        LoginRequest {
            username: "bob".into(),
            factor: Factor::Push(None),
            ipaddr: None,
        }
    }

    /// One login against `host`, ending `within` from now, on a current-thread runtime.
    fn login_against(host: String, call_timeout: Duration, within: Duration) -> Outcome {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = client_for(host, call_timeout);
        rt.block_on(login_until(
            &client,
            &bob(),
            Instant::now() + within,
            &mut |_| {},
        ))
    }

    fn assert_busy(o: &Outcome, want_detail: &str) {
        assert!(
            o.is_busy() && matches!(o, Outcome::Failed(e) if e.to_string().contains(want_detail)),
            "{o:?}"
        );
        assert!(
            !o.permits(Failmode::Safe),
            "busy must never pass failmode safe"
        );
        assert_eq!(o.user_reason(), "the VPN server is busy, try again");
        assert!(o.describe(Failmode::Safe).starts_with("denied"));
    }

    #[test]
    fn running_out_before_a_request_reaches_duo_is_busy_not_an_outage() {
        // Accepts TCP (the kernel does, from the backlog) and never answers the TLS
        // ClientHello: the request is never written, like one stuck behind a starved thread.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let host = format!("127.0.0.1:{}", silent.local_addr().unwrap().port());
        let ms = Duration::from_millis;
        // The whole login ends first.
        let o = login_against(host.clone(), Duration::from_secs(10), ms(300));
        assert_busy(&o, "ran out of time before Duo answered preauth");
        // The request's own deadline ends first, still unwritten.
        let o = login_against(host, ms(300), Duration::from_secs(10));
        assert_busy(&o, "not written to a connection within 300ms");
    }

    #[test]
    fn only_what_duo_did_is_an_outage() {
        // Sent, and no answer within the request's own deadline: Duo's silence.
        let sent = classify(Error::Timeout(Duration::from_secs(10)));
        assert!(matches!(sent, Outcome::Unavailable(_)) && sent.permits(Failmode::Safe));
        // Never sent (or no descriptor to send with): this server's load.
        let unsent = classify(Error::NotSent {
            host: "h".into(),
            detail: "not written to a connection within 10s".into(),
        });
        assert_busy(
            &unsent,
            "the request to Duo at h did not get through in time",
        );
        // Seen only after the login's end: this server was too late to tell.
        let late = classify_by(
            Error::Unreachable {
                host: "h".into(),
                detail: "tls handshake eof".into(),
            },
            Instant::now(),
            "h",
        );
        assert_busy(
            &late,
            "tls handshake eof, seen only after the login's time had run out",
        );
        let in_time = classify_by(
            Error::Server {
                status: 503,
                code: None,
                message: String::new(),
            },
            Instant::now() + Duration::from_secs(5),
            "h",
        );
        assert!(matches!(in_time, Outcome::Unavailable(_)), "{in_time:?}");
        // A refused connection is Duo (or the way to it) failing.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let host = format!("127.0.0.1:{}", closed.local_addr().unwrap().port());
        drop(closed);
        let o = login_against(host, Duration::from_secs(5), Duration::from_secs(5));
        assert!(
            matches!(o, Outcome::Unavailable(Error::Unreachable { .. })),
            "{o:?}"
        );
        assert!(o.permits(Failmode::Safe) && !o.permits(Failmode::Secure));
    }

    #[test]
    fn sms_is_a_refusal_that_explains_itself() {
        let st = AuthStatus {
            result: AuthResult::Deny,
            status: "sent".into(),
            status_msg: "New SMS passcodes sent".into(),
        };
        let o = finish(st, &Factor::Sms(None));
        assert_eq!(
            o.user_reason(),
            "Duo sent new SMS passcodes: log in again with one"
        );
    }
}
