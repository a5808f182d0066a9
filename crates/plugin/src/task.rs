//! One login on the runtime: prepare, ask Duo within the deadline, answer OpenVPN, log one line.
//!
//! The [`Answer`] is owned here, outside the part that can fail: a panic in the login is
//! caught and refused with a reason, and a task cancelled by shutdown drops its `Answer`,
//! which refuses too. The log line gives the outcome first, then the user (a long name
//! shortened), the address, the factor (its description, never a passcode) and the time taken.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::{Semaphore, oneshot};
use tokio::time::Instant;

use duo::login::{self, Denied, Outcome, Progress, Step};
use duo::{Client, Failmode, UsernameFrom};

use crate::control_file::Answer;
use crate::deadline;
use crate::env::{Var, VerifyEnv};
use crate::job::{self, Job};
use crate::log::{Level, Logger};
use crate::secret::SecretBytes;
use crate::verified;

/// What every login task shares: built once in `open`.
pub struct Shared {
    pub client: Client,
    pub failmode: Failmode,
    pub username_from: UsernameFrom,
    /// The whole login, from OpenVPN's call to the answer (see [`crate::deadline`]).
    pub deadline: Duration,
    pub log: Logger,
    /// Logins allowed to be between preauth and a sent factor at once (see [`STARTING`]).
    pub starting: Arc<Semaphore>,
    /// `duo.verified_push`: a code Duo shows ends the login with a CRV1 challenge.
    pub verified_push: bool,
    /// Verified pushes whose code was shown, waiting for the client's answer.
    pub pending: std::sync::Mutex<crate::verified::Table>,
}

/// How many logins may be opening connections and talking to Duo before their factor is out.
/// Every TLS handshake runs on the one runtime thread: with thousands of logins starting
/// together, unbounded, each request queues behind all the handshakes and runs into its
/// timeout, and the connection pool dials a second connection for many of them. Waiting on a
/// push (the long part) holds no permit.
pub const STARTING: usize = 128;

/// The decision for one login, before it is written.
struct Verdict {
    permit: bool,
    /// For `auth_failed_reason_file` when refused.
    reason: String,
    /// The outcome part of the log line (who and how long follow it).
    line: String,
    level: Level,
}

pub async fn run(
    shared: Arc<Shared>,
    job: Job,
    prompt_answer: Option<oneshot::Receiver<SecretBytes>>,
) {
    let Some((control, reason_file)) = job::answer_files(&job.env) else {
        // The verify call checked this; nothing to answer if it is somehow gone.
        return;
    };
    let answer = Answer::new(control, reason_file);

    let (verdict, who) = match CatchUnwind(AssertUnwindSafe(login(&shared, &job, prompt_answer)))
        .await
    {
        Ok(v) => v,
        Err(panic) => (
            Verdict {
                permit: false,
                reason: "Duo login failed: internal error in the VPN server's Duo plugin".into(),
                line: format!("denied: internal error ({})", panic_message(&*panic)),
                level: Level::Err,
            },
            who(&job.env, shared.username_from, None),
        ),
    };
    let elapsed = job.received.elapsed();
    let written = if verdict.permit {
        answer.allow()
    } else {
        answer.deny(&verdict.reason)
    };
    let mut line = log_line(&verdict.line, &who, elapsed);
    line.push_str(&client_part(&job));
    let mut level = verdict.level;
    if let Err(e) = written {
        line.push_str(&format!(
            "; could not write the answer ({e}): the client is probably gone"
        ));
        level = Level::Warn;
    }
    shared.log.log(level, &line);
}

/// The key joining a prompted login to its `CLIENT_CRRESPONSE`: its control file's path.
pub fn control_key(job: &Job) -> Option<Vec<u8>> {
    match &job.env.auth_control_file {
        Var::Present(p) if !p.is_empty() => Some(p.clone()),
        _ => None,
    }
}

/// The decision and the "who" part of the log line. A prompted login first waits for the
/// user's answer, at most until the part of the login preauth and auth need is all that is
/// left (the same reserve as admission, [`deadline::admission_reserve`]).
async fn login(
    shared: &Shared,
    job: &Job,
    prompt_answer: Option<oneshot::Receiver<SecretBytes>>,
) -> (Verdict, String) {
    let from = shared.username_from;
    if let Var::Present(p) = &job.env.password
        && verified::is_answer(p.as_bytes())
    {
        let who = who(&job.env, from, Some("verified push, answer via CRV1"));
        return (resume_verified(shared, job, p.as_bytes()).await, who);
    }
    let Some(rx) = prompt_answer else {
        return (decide(shared, job, None).await, who(&job.env, from, None));
    };
    let received = Instant::from_std(job.received);
    let answer_by = received + shared.deadline - deadline::admission_reserve(shared.deadline);
    let refused = |line: String, reason: &str, level: Level| Verdict {
        permit: false,
        reason: reason.to_string(),
        line,
        level,
    };
    match tokio::time::timeout_at(answer_by, rx).await {
        Ok(Ok(response)) => match duo::factor::from_cr_response(response.as_bytes()) {
            Ok(factor) => {
                let who = who(
                    &job.env,
                    from,
                    Some(&format!("{} via CR_TEXT", factor.describe())),
                );
                (decide(shared, job, Some(factor)).await, who)
            }
            Err(m) => (
                refused(
                    format!("denied before asking Duo: {m}"),
                    "Unreadable answer to the Duo prompt",
                    Level::Warn,
                ),
                who(&job.env, from, Some("unreadable, via CR_TEXT")),
            ),
        },
        // Only at shutdown, or when OpenVPN reused this control file for a newer login.
        Ok(Err(_)) => (
            refused(
                "denied: the login was abandoned before the Duo prompt was answered".into(),
                "No answer to the Duo prompt",
                Level::Note,
            ),
            who(&job.env, from, Some("none, via CR_TEXT")),
        ),
        Err(_) => (
            refused(
                format!(
                    "denied: no answer to the Duo prompt within {:.0} s",
                    (answer_by - received).as_secs_f64()
                ),
                "No answer to the Duo prompt in time",
                Level::Note,
            ),
            who(&job.env, from, Some("none, via CR_TEXT")),
        ),
    }
}

/// How the factor reached the plugin, for the log line and `status`.
pub fn asked(job: &Job) -> &'static str {
    match &job.env.password {
        Var::Present(p) if verified::is_answer(p.as_bytes()) => "CRV1",
        _ if job.prompted => "CR_TEXT",
        _ => "password field",
    }
}

/// `; factor asked via CR_TEXT; client OpenVPN_GUI_11, sso openurl,webauth,crtext`: how the
/// factor came and what the client said it is (`unknown`, `none` when it did not), so that
/// `status` can tell which logins used CR_TEXT and which clients cannot be asked.
fn client_part(job: &Job) -> String {
    let env = &job.env;
    let show = |v: &Var| match v {
        // Only what fits on the line and cannot be mistaken for its separators.
        Var::Present(b) if !b.is_empty() => {
            let s = String::from_utf8_lossy(b);
            Some(
                s.chars()
                    .take(64)
                    .map(|c| if c == ';' || c.is_control() { ' ' } else { c })
                    .collect::<String>(),
            )
        }
        _ => None,
    };
    format!(
        "; factor asked via {}; client {}, sso {}",
        asked(job),
        show(&env.iv_gui_ver).as_deref().unwrap_or("unknown"),
        show(&env.iv_sso).as_deref().unwrap_or("none")
    )
}

/// `user "alice" from 192.0.2.7, factor push`, from the raw environment (for every outcome);
/// `factor` overrides what the password field would say.
pub fn who(env: &VerifyEnv, from: UsernameFrom, factor: Option<&str>) -> String {
    let user = job::username(env, from)
        .map(|u| user_for_log(&u))
        .unwrap_or_else(|_| "(none)".into());
    let ip = job::client_ip(env).unwrap_or_else(|| "unknown address".into());
    let factor = match factor {
        Some(f) => f.to_string(),
        None => job::factor(env)
            .map(|f| f.describe())
            .unwrap_or_else(|_| "(unusable)".into()),
    };
    format!("user {user} from {ip}, factor {factor}")
}

/// User names longer than this many characters are shortened in the log.
const USER_CHARS: usize = 64;

/// The user name quoted and escaped; past [`USER_CHARS`] characters cut, with its length:
/// OpenVPN's line is cut at 1,000 bytes, and a name of any length must leave room for the
/// rest.
fn user_for_log(name: &str) -> String {
    if name.chars().count() <= USER_CHARS {
        return format!("{name:?}");
    }
    let head: String = name.chars().take(USER_CHARS).collect();
    format!("{head:?}… ({} bytes)", name.len())
}

/// The outcome first (so a cut line still says what happened), then who and how long.
pub fn log_line(outcome: &str, who: &str, elapsed: Duration) -> String {
    format!("{outcome}; {who}; {:.1} s", elapsed.as_secs_f64())
}

async fn decide(shared: &Shared, job: &Job, answered: Option<duo::Factor>) -> Verdict {
    let prepared = match job::prepare(&job.env, shared.username_from, answered) {
        Ok(p) => p,
        Err(r) => {
            return Verdict {
                permit: false,
                line: format!("denied before asking Duo: {}", r.detail),
                reason: r.reason,
                level: Level::Warn,
            };
        }
    };
    // Time spent here before Duo is asked (the job channel, the admission gate) comes out of
    // the login's own window, never out of what preauth and auth get: a login not admitted by
    // `admit_by` is refused as busy (see `deadline::admission_reserve`).
    let received = Instant::from_std(job.received);
    let end = received + shared.deadline;
    let reserve = deadline::admission_reserve(shared.deadline);
    let admit_by = end - reserve;
    let permit =
        match tokio::time::timeout_at(admit_by, shared.starting.clone().acquire_owned()).await {
            Ok(Ok(p)) => Some(p),
            // Closed only at shutdown; a task then is cancelled anyway.
            Ok(Err(_)) => None,
            Err(_) => {
                let detail = format!(
                    "not started within {:.1} s, {STARTING} logins being ahead of it with Duo; \
                     the last {:.1} s of the login are kept for preauth and auth",
                    (admit_by - received).as_secs_f64(),
                    reserve.as_secs_f64()
                );
                let busy = Outcome::busy(shared.client.host(), detail);
                return verdict(&busy, shared.failmode);
            }
        };
    let mut permit = permit;
    let mut progress = move |p: Progress| {
        if matches!(p, Progress::Sent { .. }) {
            permit.take();
        }
    };
    let (client, request) = (&shared.client, &prepared.request);
    let login = async {
        if shared.verified_push {
            login::login_until_code(client, request, end, &mut progress).await
        } else {
            Step::Done(login::login_until(client, request, end, &mut progress).await)
        }
    };
    // `login` keeps its own deadline; this outer bound only guards against a step that does
    // not, and then refuses (a hang is not an outage we may let users through on).
    let step = match tokio::time::timeout_at(end + Duration::from_secs(1), login).await {
        Ok(s) => s,
        Err(_) => Step::Done(Outcome::Denied(Denied::TimedOut)),
    };
    match step {
        Step::Done(outcome) => verdict(&outcome, shared.failmode),
        Step::Code { code, txid } => {
            challenge(shared, job, &prepared.request.username, &code, txid)
        }
    }
}

/// Duo showed a Verified Push code: keep the transaction and end this login with a CRV1
/// challenge carrying the code (see [`crate::verified`]). Never logs the id, txid or code.
fn challenge(shared: &Shared, job: &Job, user: &str, code: &str, txid: String) -> Verdict {
    let refused = |line: String| Verdict {
        permit: false,
        reason: "the VPN server is busy, try again".into(),
        line,
        level: Level::Warn,
    };
    let id = match verified::new_state_id() {
        Ok(id) => id,
        Err(e) => {
            return refused(format!(
                "denied: no random state id for Verified Push ({e})"
            ));
        }
    };
    // The user name the client is to send back: the one it typed, else the Duo user.
    let typed = match &job.env.username {
        Var::Present(u) if !u.is_empty() => u.clone(),
        _ => user.as_bytes().to_vec(),
    };
    let text = verified::challenge(&id, &typed, code);
    if text.len() > crate::control_file::MAX_REASON {
        return Verdict {
            permit: false,
            reason: "Duo Verified Push: the user name is too long for a challenge".into(),
            line: "denied: the Verified Push challenge would not fit OpenVPN's message".into(),
            level: Level::Warn,
        };
    }
    let stored = shared
        .pending
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id, txid, user.to_string(), std::time::Instant::now());
    if !stored {
        return refused(format!(
            "denied, this server is busy: {} Verified Push codes already wait for their client",
            verified::MAX_PENDING
        ));
    }
    Verdict {
        permit: false,
        reason: text,
        line: "challenged: Duo Verified Push, its code sent to the client as a CRV1 challenge"
            .into(),
        level: Level::Note,
    }
}

/// The client came back with a CRV1 answer: go on polling the transaction its state id names,
/// for the same user only.
async fn resume_verified(shared: &Shared, job: &Job, password: &[u8]) -> Verdict {
    let denied = |line: String, reason: &str| Verdict {
        permit: false,
        reason: reason.to_string(),
        line,
        level: Level::Warn,
    };
    let user = match job::username(&job.env, shared.username_from) {
        Ok(u) => u,
        Err(r) => return denied(format!("denied before asking Duo: {}", r.detail), &r.reason),
    };
    let Some(id) = verified::answer_state_id(password) else {
        return denied(
            "denied: a malformed CRV1 answer".into(),
            "Malformed answer to the Duo challenge",
        );
    };
    let taken = shared
        .pending
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take(id, &user, std::time::Instant::now());
    let txid = match taken {
        Ok(t) => t,
        Err(miss) => return denied(format!("denied: {}", miss.describe()), miss.reason()),
    };
    let end = Instant::from_std(job.received) + shared.deadline;
    let mut progress = |_: Progress| {};
    let resume = login::resume_until(
        &shared.client,
        &txid,
        &duo::Factor::Auto,
        end,
        &mut progress,
    );
    let outcome = match tokio::time::timeout_at(end + Duration::from_secs(1), resume).await {
        Ok(o) => o,
        Err(_) => Outcome::Denied(Denied::TimedOut),
    };
    verdict(&outcome, shared.failmode)
}

fn verdict(outcome: &Outcome, failmode: Failmode) -> Verdict {
    let permit = outcome.permits(failmode);
    let level = match outcome {
        // Users are being turned away for this server's load: worth the administrator's eye.
        o if o.is_busy() => Level::Warn,
        Outcome::Allowed(_) | Outcome::Denied(_) => Level::Note,
        // Duo unreachable or refusing our credentials: the administrator has to look.
        Outcome::Unavailable(_) if permit => Level::Warn,
        Outcome::Unavailable(_) | Outcome::Failed(_) => Level::Err,
    };
    Verdict {
        permit,
        reason: outcome.user_reason(),
        line: outcome.describe(failmode),
        level,
    }
}

/// `catch_unwind` for a future: each poll runs inside it.
struct CatchUnwind<F>(AssertUnwindSafe<F>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: structural pinning of the only field; it is never moved out.
        let inner = unsafe { self.map_unchecked_mut(|s| &mut s.0.0) };
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(p) => Poll::Ready(Err(p)),
        }
    }
}

pub fn panic_message(p: &(dyn Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_future_is_caught() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let r = rt.block_on(CatchUnwind(AssertUnwindSafe(async {
            if true {
                panic!("boom");
            }
        })));
        assert_eq!(panic_message(&*r.unwrap_err()), "boom");
    }

    #[test]
    fn the_outcome_leads_and_a_long_name_is_shortened() {
        let long = "a".repeat(300);
        let user = user_for_log(&long);
        assert_eq!(user, format!("\"{}\"… (300 bytes)", "a".repeat(64)));
        assert_eq!(user_for_log("alice \"x\""), "\"alice \\\"x\\\"\"");
        assert_eq!(
            user_for_log(&"ü".repeat(64)),
            format!("{:?}", "ü".repeat(64))
        );
        let line = log_line(
            "denied: Duo push denied",
            &format!("user {user} from 192.0.2.7, factor push"),
            Duration::from_millis(1234),
        );
        assert_eq!(
            line,
            format!(
                "denied: Duo push denied; user \"{}\"… (300 bytes) from 192.0.2.7, factor push; 1.2 s",
                "a".repeat(64)
            )
        );
        // Even the longest name OpenVPN passes leaves the whole line under the 1,000-byte cut.
        let huge = user_for_log(&"x".repeat(crate::env::MAX_VALUE));
        let line = log_line(
            "denied: Duo push denied",
            &format!("user {huge} from 192.0.2.7, factor push"),
            Duration::ZERO,
        );
        assert_eq!(crate::log::sanitize(&line), line);
    }

    #[test]
    fn the_line_says_how_the_factor_was_asked_and_who_the_client_is() {
        let job = |password: &[u8], prompted: bool, gui: Option<&[u8]>, sso: Option<&[u8]>| Job {
            env: VerifyEnv {
                password: Var::Present(SecretBytes::copy(password)),
                iv_gui_ver: gui.map_or(Var::Missing, |g| Var::Present(g.to_vec())),
                iv_sso: sso.map_or(Var::Missing, |g| Var::Present(g.to_vec())),
                ..VerifyEnv::default()
            },
            received: std::time::Instant::now(),
            prompted,
        };
        assert_eq!(
            client_part(&job(b"push", false, None, None)),
            "; factor asked via password field; client unknown, sso none"
        );
        assert_eq!(
            client_part(&job(
                b"",
                true,
                Some(b"OpenVPN_GUI_11"),
                Some(b"openurl,crtext")
            )),
            "; factor asked via CR_TEXT; client OpenVPN_GUI_11, sso openurl,crtext"
        );
        assert_eq!(
            client_part(&job(b"CRV1::abc::", false, Some(b"a;b\nc"), None)),
            "; factor asked via CRV1; client a b c, sso none"
        );
    }

    #[test]
    fn outages_follow_failmode_and_are_loud() {
        let o = Outcome::Unavailable(duo::Error::Timeout(Duration::from_secs(1)));
        let v = verdict(&o, Failmode::Secure);
        assert!(!v.permit);
        assert_eq!(v.level, Level::Err);
        assert_eq!(v.reason, "Duo is unavailable");
        let v = verdict(&o, Failmode::Safe);
        assert!(v.permit);
        assert_eq!(v.level, Level::Warn);
        let busy = Outcome::busy("api-x.duosecurity.com", "not started within 1.7 s");
        for failmode in [Failmode::Safe, Failmode::Secure] {
            let v = verdict(&busy, failmode);
            assert!(!v.permit);
            assert_eq!(v.reason, "the VPN server is busy, try again");
            assert_eq!(v.level, Level::Warn);
            assert!(
                v.line.starts_with("denied, this server is busy"),
                "{}",
                v.line
            );
        }
    }
}
