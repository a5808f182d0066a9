//! The async Auth API client: signed requests over pinned TLS, a timeout on every call,
//! backoff with jitter on HTTP 429, and clock-skew correction from `ping`.

use std::convert::Infallible;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicI64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::api::{AuthAnswer, AuthStatus, Envelope, PreauthResponse, Time};
use crate::config::{DuoSettings, Secret, redact_userinfo};
use crate::date;
use crate::error::Error;
use crate::sign::{self, Digest};
use crate::tls;

/// How long one ordinary call may take (ping, check, preauth, starting an auth).
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(15);
/// Retries on HTTP 429, as Duo's reference client: wait 1, 2, 4 … 32 s plus jitter, 7 attempts.
const MAX_ATTEMPTS: u32 = 7;

pub struct Client {
    http: reqwest::Client,
    ikey: String,
    skey: Secret,
    host: String,
    digest: Digest,
    call_timeout: Duration,
    /// Seconds to add to the local clock when dating a request (from `ping`).
    clock_offset: AtomicI64,
    user_agent: String,
    /// Preauth says this client can show a Verified Duo Push code.
    verified_push: bool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("ikey", &self.ikey)
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for these settings. Reads `ca_file` now, so that a process which later drops
    /// privileges (OpenVPN) keeps its trust anchors.
    pub fn new(settings: &DuoSettings) -> Result<Client, Error> {
        let roots = match &settings.ca_file {
            Some(path) => {
                let pem = crate::config::read_input(path).map_err(|e| {
                    Error::Setup(format!("{}: cannot read CA file: {e}", path.display()))
                })?;
                tls::root_store(&pem, &path.display().to_string())?
            }
            None => tls::root_store(tls::DUO_ROOTS_PEM, "bundled Duo roots")?,
        };
        let mut builder = reqwest::Client::builder()
            .tls_backend_preconfigured(tls::client_config(roots)?)
            .https_only(true)
            .connect_timeout(DEFAULT_CALL_TIMEOUT)
            .pool_idle_timeout(Duration::from_secs(30));
        builder = match &settings.proxy {
            // An explicit setting only: the plugin inherits OpenVPN's daemon environment, where a
            // stray HTTPS_PROXY would silently change where the secret-signed requests go.
            Some(url) => builder.proxy(
                reqwest::Proxy::all(url)
                    .map_err(|e| Error::Setup(format!("proxy {:?}: {e}", redact_userinfo(url))))?,
            ),
            None => builder.no_proxy(),
        };
        let http = builder
            .build()
            .map_err(|e| Error::Setup(format!("cannot build the HTTPS client: {e}")))?;
        Ok(Client {
            http,
            ikey: settings.ikey.clone(),
            skey: settings.skey.clone(),
            host: settings.host.clone(),
            digest: Digest::Sha512,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            clock_offset: AtomicI64::new(0),
            user_agent: format!("duo-openvpn/{}", env!("CARGO_PKG_VERSION")),
            verified_push: settings.verified_push,
        })
    }

    /// Use HMAC-SHA1 instead of SHA-512 (legacy endpoints only).
    pub fn with_digest(mut self, digest: Digest) -> Client {
        self.digest = digest;
        self
    }

    /// How long Duo may take to answer ping, check, preauth or auth once the request is written.
    pub fn with_call_timeout(mut self, timeout: Duration) -> Client {
        self.call_timeout = timeout;
        self
    }

    pub fn call_timeout(&self) -> Duration {
        self.call_timeout
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn clock_offset(&self) -> i64 {
        self.clock_offset.load(Ordering::Relaxed)
    }

    /// Date signed requests as `now + offset` (Duo's own Unix client does this after `ping`).
    pub fn set_clock_offset(&self, offset: i64) {
        self.clock_offset.store(offset, Ordering::Relaxed);
    }

    /// `/auth/v2/ping`: Duo's time, unsigned; proves the host answers.
    pub async fn ping(&self) -> Result<i64, Error> {
        let t: Time = self
            .call(Method::GET, "/auth/v2/ping", &[], self.call_timeout, false)
            .await?;
        Ok(t.time)
    }

    /// Seconds Duo's clock is ahead of ours (negative: behind).
    pub async fn clock_skew(&self) -> Result<i64, Error> {
        let ours = date::now_unix(0);
        Ok(self.ping().await? - ours)
    }

    /// `/auth/v2/check`: are the integration key and secret key accepted?
    pub async fn check(&self) -> Result<i64, Error> {
        let t: Time = self
            .call(Method::GET, "/auth/v2/check", &[], self.call_timeout, true)
            .await?;
        Ok(t.time)
    }

    pub async fn preauth(
        &self,
        username: &str,
        ipaddr: Option<&str>,
    ) -> Result<PreauthResponse, Error> {
        let mut params = vec![("username", username)];
        if let Some(ip) = ipaddr {
            params.push(("ipaddr", ip));
        }
        if self.verified_push {
            params.push(("client_supports_verified_push", "1"));
        }
        self.call(
            Method::POST,
            "/auth/v2/preauth",
            &params,
            self.call_timeout,
            true,
        )
        .await
    }

    /// `/auth/v2/auth` with `async=1` (a txid comes back) unless Duo answers at once.
    pub async fn auth(&self, params: &[(&str, &str)]) -> Result<AuthAnswer, Error> {
        let mut all: Vec<(&str, &str)> = params
            .iter()
            .filter(|(k, _)| *k != "async")
            .copied()
            .collect();
        all.push(("async", "1"));
        self.call(Method::POST, "/auth/v2/auth", &all, self.call_timeout, true)
            .await
    }

    /// `/auth/v2/auth_status`: Duo holds the request until the status changes, so the caller
    /// gives the time it is willing to wait.
    pub async fn auth_status(&self, txid: &str, wait: Duration) -> Result<AuthStatus, Error> {
        self.call(
            Method::GET,
            "/auth/v2/auth_status",
            &[("txid", txid)],
            wait,
            true,
        )
        .await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, &str)],
        timeout: Duration,
        signed: bool,
    ) -> Result<T, Error> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            // A GET has no body to mark (see `answered`).
            let (mark, written) = match method {
                Method::GET => (None, None),
                _ => {
                    let (tx, rx) = oneshot::channel();
                    (Some(tx), Some(rx))
                }
            };
            let request = self.send(&method, path, params, signed, mark);
            let response = self.answered(request, written, timeout).await?;
            let status = response.status();
            if status == StatusCode::TOO_MANY_REQUESTS && attempt < MAX_ATTEMPTS {
                tokio::time::sleep(backoff(attempt, retry_after(&response))).await;
                continue;
            }
            let body = second_look(Instant::now() + timeout, &mut pin!(response.bytes()))
                .await
                .ok_or(Error::Timeout(timeout))?
                .map_err(|e| self.transport(e))?;
            return decode(status, &body);
        }
    }

    /// Wait for the answer to `request`, counting Duo's time from the moment it was written.
    ///
    /// The rule that decides what may be called an outage (where failmode applies): a request
    /// that was written to an established connection to Duo and then got no answer within
    /// `timeout` is [`Error::Timeout`]; one that was never written within `timeout` is
    /// [`Error::NotSent`], which is not an outage. Everything before the write is this machine's
    /// own time (a login queued behind others, a pooled connection, DNS, the TCP connect and the
    /// TLS handshake on a CPU-starved thread), so it never makes Duo look down.
    ///
    /// "Written" is the first poll of the request body ([`MarkedBody`]): hyper polls a body only
    /// once it holds a connected (TCP + TLS) connection and has buffered the request head, and
    /// writes and flushes both in that same poll. Once written, the timer gets a
    /// [`second_look`], so an answer that arrived while this one thread was busy with other
    /// logins is read, not mistaken for Duo's silence (measured: under a storm of logins every
    /// such late timer found its answer after one round of the runtime's queue).
    ///
    /// A GET (ping, check, auth_status) carries no body to mark, so its timer runs from the start;
    /// none of them decides failmode for a login (auth_status running out only means "ask again").
    async fn answered(
        &self,
        request: impl Future<Output = Result<reqwest::Response, Error>>,
        written: Option<oneshot::Receiver<Instant>>,
        timeout: Duration,
    ) -> Result<reqwest::Response, Error> {
        let started = Instant::now();
        let mut request = pin!(request);
        let Some(written) = written else {
            return tokio::time::timeout(timeout, request)
                .await
                .map_err(|_| Error::Timeout(timeout))?;
        };
        // A request that fails before its body is asked for drops the sender: the request
        // itself then ends the wait.
        let written = async {
            match written.await {
                Ok(at) => at,
                Err(_) => std::future::pending().await,
            }
        };
        let at = tokio::select! {
            biased;
            r = &mut request => return self.unless_late(r, started + timeout),
            at = written => at,
            _ = tokio::time::sleep_until(started + timeout) => {
                return Err(Error::NotSent {
                    host: self.host.clone(),
                    detail: format!("not written to a connection within {timeout:?}"),
                });
            }
        };
        second_look(at + timeout, &mut request)
            .await
            .unwrap_or(Err(Error::Timeout(timeout)))
    }

    /// A failure before the write that this task only saw after `deadline` (its budget to get
    /// the request out) says that this machine was too slow, not that Duo failed: a TLS
    /// handshake left unfinished on a starved thread ends with the server hanging up on it.
    fn unless_late(
        &self,
        r: Result<reqwest::Response, Error>,
        deadline: Instant,
    ) -> Result<reqwest::Response, Error> {
        match r {
            Err(e) if e.is_outage() && Instant::now() >= deadline => Err(Error::NotSent {
                host: self.host.clone(),
                detail: format!("{e}, seen only after the time to send the request had passed"),
            }),
            r => r,
        }
    }

    async fn send(
        &self,
        method: &Method,
        path: &str,
        params: &[(&str, &str)],
        signed: bool,
        written: Option<oneshot::Sender<Instant>>,
    ) -> Result<reqwest::Response, Error> {
        let encoded = sign::canon_params(params);
        let url = if *method == Method::GET && !encoded.is_empty() {
            format!("https://{}{}?{}", self.host, path, encoded)
        } else {
            format!("https://{}{}", self.host, path)
        };
        let mut request = self
            .http
            .request(method.clone(), url)
            .header("User-Agent", &self.user_agent);
        if signed {
            let date = date::rfc2822(date::now_unix(self.clock_offset()));
            let canon = sign::canonicalize(&date, method.as_str(), &self.host, path, params);
            request = request.header("Date", &date).header(
                "Authorization",
                sign::authorization(&self.ikey, self.skey.expose(), &canon, self.digest),
            );
        }
        if *method != Method::GET {
            let body = match written {
                Some(written) => reqwest::Body::wrap(MarkedBody {
                    data: Some(Bytes::from(encoded)),
                    written: Some(written),
                }),
                None => encoded.into(),
            };
            request = request
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body);
        }
        request.send().await.map_err(|e| self.transport(e))
    }

    fn transport(&self, e: reqwest::Error) -> Error {
        // The chain carries the useful part (connection refused, certificate unknown, DNS).
        let mut detail = e.to_string();
        let mut local = false;
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            detail = format!("{detail}: {s}");
            local |= s
                .downcast_ref::<std::io::Error>()
                .and_then(std::io::Error::raw_os_error)
                .is_some_and(|errno| LOCAL_EXHAUSTION.contains(&errno));
            source = s.source();
        }
        // No request timeout is set on reqwest, so a timeout here is the connect timeout: the
        // request was never written. Running out of descriptors, ports or memory is this
        // machine's load. Neither shows that Duo failed.
        if e.is_timeout() || local {
            return Error::NotSent {
                host: self.host.clone(),
                detail,
            };
        }
        Error::Unreachable {
            host: self.host.clone(),
            detail,
        }
    }
}

/// errnos that mean this machine ran out of something (Linux values): EMFILE, ENFILE, ENOMEM,
/// ENOBUFS, EADDRNOTAVAIL (no ephemeral port left). A flood of logins can cause each of them.
const LOCAL_EXHAUSTION: [i32; 5] = [24, 23, 12, 105, 99];

/// A request body that tells when hyper first asks for it: the moment the request is written
/// to an established connection (see [`Client::answered`]).
struct MarkedBody {
    data: Option<Bytes>,
    written: Option<oneshot::Sender<Instant>>,
}

impl http_body::Body for MarkedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if let Some(tx) = this.written.take() {
            let _ = tx.send(Instant::now());
        }
        Poll::Ready(this.data.take().map(|d| Ok(Frame::data(d))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    // Exact, so hyper sends a Content-Length rather than a chunked body.
    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.as_ref().map_or(0, |d| d.len() as u64))
    }
}

fn decode<T: DeserializeOwned>(status: StatusCode, body: &[u8]) -> Result<T, Error> {
    let envelope: Result<Envelope, _> = serde_json::from_slice(body);
    let (code, message) = match &envelope {
        Ok(e) => (
            e.code_number(),
            match (&e.message, &e.message_detail) {
                (Some(m), Some(d)) => format!("{m}: {d}"),
                (Some(m), None) => m.clone(),
                _ => String::new(),
            },
        ),
        Err(_) => (
            None,
            String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        ),
    };
    let s = status.as_u16();
    match status {
        _ if status.is_success() => {
            let envelope =
                envelope.map_err(|e| Error::Protocol(format!("not a Duo JSON envelope: {e}")))?;
            if envelope.stat != "OK" {
                return Err(Error::Request {
                    status: s,
                    code,
                    message,
                });
            }
            let response = envelope
                .response
                .ok_or_else(|| Error::Protocol("\"response\" is missing".into()))?;
            serde_json::from_value(response).map_err(|e| Error::Protocol(e.to_string()))
        }
        StatusCode::UNAUTHORIZED => Err(Error::Credentials { code, message }),
        _ if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS => {
            Err(Error::Server {
                status: s,
                code,
                message,
            })
        }
        _ => Err(Error::Request {
            status: s,
            code,
            message,
        }),
    }
}

/// `Retry-After` / `X-Retry-After` in whole seconds (Duo's Unix client honours both).
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    ["Retry-After", "X-Retry-After"].iter().find_map(|h| {
        let v = response.headers().get(*h)?.to_str().ok()?;
        v.trim()
            .parse::<u64>()
            .ok()
            .map(Duration::from_secs)
            .or_else(|| {
                date::parse_rfc2822(v)
                    .map(|t| Duration::from_secs((t - date::now_unix(0)).max(0) as u64))
            })
    })
}

/// 1, 2, 4 … 32 s plus up to a second of jitter, or what the server asked for (capped at 32 s).
fn backoff(attempt: u32, asked: Option<Duration>) -> Duration {
    let base = asked
        .unwrap_or(Duration::from_secs(1 << (attempt - 1).min(5)))
        .min(Duration::from_secs(32));
    base + Duration::from_millis(fastrand::u64(0..1000))
}

/// `fut` if it is ready by `deadline`, with a second look when the timer fires: every task
/// already woken runs once first (`yield_now` puts this one behind them, after the I/O driver
/// has been polled), so an answer that reached this process while its thread was busy
/// elsewhere is read rather than taken for Duo's silence.
async fn second_look<F: Future + Unpin>(deadline: Instant, fut: &mut F) -> Option<F::Output> {
    if let Ok(out) = tokio::time::timeout_at(deadline, &mut *fut).await {
        return Some(out);
    }
    tokio::task::yield_now().await;
    match std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *fut).poll(cx))).await {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn offline_client() -> Client {
        let settings = DuoSettings::new(
            "DIWJ8X6AEYOR5OMC6TQ1",
            Secret::new("Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep"),
            "localhost:1",
        );
        Client::new(&settings).unwrap()
    }

    fn run<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(f)
    }

    /// A request that never answers, written after `written_after` (never: `None`).
    async fn silent(
        client: &Client,
        written_after: Option<Duration>,
        timeout: Duration,
    ) -> (Error, Duration) {
        let (tx, rx) = oneshot::channel();
        let request = async move {
            if let Some(d) = written_after {
                tokio::time::sleep(d).await;
                let _ = tx.send(Instant::now());
            }
            std::future::pending().await
        };
        let t = Instant::now();
        let e = client
            .answered(request, Some(rx), timeout)
            .await
            .unwrap_err();
        (e, t.elapsed())
    }

    #[test]
    fn a_request_never_written_is_not_an_outage() {
        let client = offline_client();
        let (e, took) = run(silent(&client, None, 100 * MS));
        assert!(matches!(e, Error::NotSent { .. }), "{e:?}");
        assert!(!e.is_outage());
        assert!(took >= 100 * MS);
        assert!(
            e.to_string()
                .contains("the request to Duo at localhost:1 did not get through in time"),
            "{e}"
        );
    }

    #[test]
    fn a_written_request_gets_its_whole_timeout_from_the_write() {
        let client = offline_client();
        // Written late in its window (a slow handshake on a busy thread): Duo still gets the
        // full timeout after the write before silence counts as an outage.
        let (e, took) = run(silent(&client, Some(80 * MS), 100 * MS));
        assert!(matches!(e, Error::Timeout(_)), "{e:?}");
        assert!(e.is_outage());
        assert!(took >= 180 * MS, "{took:?}");
        let (e, _) = run(silent(&client, Some(Duration::ZERO), 100 * MS));
        assert!(matches!(e, Error::Timeout(_)), "{e:?}");
    }

    #[test]
    fn a_failure_before_the_write_is_the_failure() {
        let client = offline_client();
        let (tx, rx) = oneshot::channel::<Instant>();
        let request = async move {
            drop(tx);
            Err(Error::Unreachable {
                host: "h".into(),
                detail: "connection refused".into(),
            })
        };
        let e = run(client.answered(request, Some(rx), Duration::from_secs(5))).unwrap_err();
        assert!(
            matches!(e, Error::Unreachable { .. }) && e.is_outage(),
            "{e:?}"
        );
        // The same failure seen only after the time to send had passed: this thread was late.
        let (tx, rx) = oneshot::channel::<Instant>();
        let request = async move {
            drop(tx);
            std::thread::sleep(60 * MS); // a starved thread: the failure is seen late
            Err(Error::Unreachable {
                host: "h".into(),
                detail: "tls handshake eof".into(),
            })
        };
        let e = run(client.answered(request, Some(rx), 50 * MS)).unwrap_err();
        assert!(
            matches!(e, Error::NotSent { .. }) && !e.is_outage(),
            "{e:?}"
        );
        assert!(
            e.to_string().contains("tls handshake eof, seen only after"),
            "{e}"
        );
        // A GET has no marker: plain timeout from the start, as ping and check always had.
        let e = run(client.answered(std::future::pending(), None, 50 * MS)).unwrap_err();
        assert!(matches!(e, Error::Timeout(_)), "{e:?}");
    }

    #[test]
    fn the_second_look_reads_an_answer_that_is_already_here() {
        run(async {
            // A deadline the timer wheel has already passed, so it is found elapsed at once.
            let past = Instant::now();
            tokio::time::sleep(5 * MS).await;
            let here = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            // Woken but not yet run when the deadline is checked, like the connection task
            // holding Duo's answer on a thread busy with other logins.
            let h = here.clone();
            let task = tokio::spawn(async move { h.store(true, Ordering::SeqCst) });
            let answer = || {
                let here = here.clone();
                std::future::poll_fn(move |_| match here.load(Ordering::SeqCst) {
                    true => Poll::Ready("answer"),
                    false => Poll::Pending,
                })
            };
            assert_eq!(
                tokio::time::timeout_at(past, answer()).await.ok(),
                None,
                "a plain timeout misses it"
            );
            assert_eq!(second_look(past, &mut pin!(answer())).await, Some("answer"));
            task.await.unwrap();
            // Nothing arriving: still a timeout.
            let never = std::future::pending::<()>();
            assert_eq!(second_look(Instant::now(), &mut pin!(never)).await, None);
        });
    }

    #[test]
    fn backoff_doubles_with_jitter_and_honours_the_server() {
        for (attempt, secs) in [(1, 1), (2, 2), (3, 4), (6, 32), (7, 32)] {
            let d = backoff(attempt, None);
            assert!(
                d >= Duration::from_secs(secs) && d < Duration::from_secs(secs + 1),
                "{attempt}: {d:?}"
            );
        }
        let d = backoff(1, Some(Duration::from_secs(5)));
        assert!(d >= Duration::from_secs(5) && d < Duration::from_secs(6));
        assert!(backoff(1, Some(Duration::from_secs(600))) < Duration::from_secs(33));
    }

    #[test]
    fn decodes_envelopes_by_status() {
        let ok: Time = decode(StatusCode::OK, br#"{"stat":"OK","response":{"time":5}}"#).unwrap();
        assert_eq!(ok.time, 5);
        let e = decode::<Time>(
            StatusCode::UNAUTHORIZED,
            br#"{"stat":"FAIL","code":40103,"message":"Invalid signature in request credentials"}"#,
        )
        .unwrap_err();
        assert!(matches!(
            e,
            Error::Credentials {
                code: Some(40103),
                ..
            }
        ));
        assert!(
            e.to_string()
                .contains("Duo rejected the integration key or secret key")
        );
        let e = decode::<Time>(StatusCode::SERVICE_UNAVAILABLE, b"<html>down</html>").unwrap_err();
        assert!(e.is_outage());
        let e = decode::<Time>(StatusCode::BAD_REQUEST, br#"{"stat":"FAIL","code":40002,"message":"Invalid request parameters","message_detail":"username"}"#)
            .unwrap_err();
        assert!(!e.is_outage());
        assert!(
            e.to_string()
                .contains("Invalid request parameters: username")
        );
        assert!(matches!(
            decode::<Time>(StatusCode::OK, b"nope").unwrap_err(),
            Error::Protocol(_)
        ));
    }
}
