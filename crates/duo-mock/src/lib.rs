//! A Duo Auth API v2 stand-in over HTTPS, for tests, benchmarks and `setup --demo`.
//!
//! It behaves like Duo where our client can tell: the JSON envelope, the HTTP statuses, the
//! long-polled `auth_status`, and it recomputes and checks every request signature (v2 with
//! HMAC-SHA512 or SHA1, v4 and v5 with SHA-512), including the date against its own clock.
//! Who answers how is fixed by the cast in [`users`].
//!
//! ```no_run
//! let mock = duo_mock::MockDuo::start(duo_mock::MockConfig::default()).unwrap();
//! let settings = mock.settings(std::path::Path::new("/tmp/mock-ca.pem"));
//! // duo::Client::new(&settings) now talks to the stand-in.
//! # drop(settings);
//! ```
//!
//! Each [`MockDuo`] owns a thread with its own tokio runtime, so it serves sync tests, async
//! tests, the demo and benchmarks alike; it stops when dropped.

mod api;
mod cert;
mod params;
mod server;
mod state;
mod transactions;
pub mod users;
pub mod verify;

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context as _;
use duo::sign::Digest;
use tokio::sync::watch;

use crate::state::State;

/// The stand-in's integration key (a fixed test fixture, not a secret).
pub const MOCK_IKEY: &str = "DIMOCK0000000000000A";
/// The stand-in's secret key (a fixed test fixture, printed freely; never a real Duo key).
pub const MOCK_SKEY: &str = "MockSecretKeyForTestsOnly000000000000000";

#[derive(Debug, Clone)]
pub struct MockConfig {
    pub ikey: String,
    pub skey: String,
    /// How long a push (or call) takes to be answered.
    pub push_delay: Duration,
    /// The stand-in's clock runs this many seconds ahead of the real one (negative: behind).
    pub clock_skew_secs: i64,
    /// Requests dated further than this from the stand-in's clock are refused (401).
    pub max_date_skew_secs: i64,
}

impl Default for MockConfig {
    fn default() -> MockConfig {
        MockConfig {
            ikey: MOCK_IKEY.into(),
            skey: MOCK_SKEY.into(),
            push_delay: Duration::from_secs(1),
            clock_skew_secs: 0,
            max_date_skew_secs: 300,
        }
    }
}

/// One request as the stand-in saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Query, form or JSON parameters; `passcode` values read `<redacted>`.
    pub params: Vec<(String, String)>,
    /// The signature was recomputed and matched (and the date was in range).
    pub signature_ok: bool,
    /// 2, 4 or 5 when the signature matched.
    pub sig_version: Option<u8>,
    pub digest: Option<Digest>,
    /// The HTTP status answered.
    pub status: u16,
}

/// A running stand-in. Stops (and frees its port) when dropped.
pub struct MockDuo {
    state: Arc<State>,
    ip: std::net::IpAddr,
    port: u16,
    ca_pem: String,
    stop: Option<watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
}

impl MockDuo {
    /// On 127.0.0.1, an ephemeral port.
    pub fn start(cfg: MockConfig) -> anyhow::Result<MockDuo> {
        MockDuo::start_on(cfg, SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn start_on(cfg: MockConfig, addr: SocketAddr) -> anyhow::Result<MockDuo> {
        let listener =
            TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
        listener.set_nonblocking(true)?;
        let local = listener.local_addr()?;
        let port = local.port();
        let certs = cert::generate()?;
        let tls = cert::server_config(&certs)?;
        let state = Arc::new(State::new(&cfg, format!("localhost:{port}")));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("duo-mock-worker")
            .enable_all()
            .build()
            .context("cannot start the stand-in's runtime")?;
        let (stop, stopped) = watch::channel(false);
        let shared = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name("duo-mock".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => server::serve(l, tls, shared, stopped).await,
                        Err(e) => eprintln!("duo-mock: cannot serve: {e}"),
                    }
                });
                // Dropping the runtime here ends every connection and held long-poll.
                runtime.shutdown_timeout(Duration::from_secs(1));
            })
            .context("cannot start the stand-in's thread")?;
        Ok(MockDuo {
            state,
            ip: local.ip(),
            port,
            ca_pem: certs.ca_pem,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `localhost:PORT`: the certificate names `localhost`, `127.0.0.1` and `::1`.
    pub fn host(&self) -> String {
        format!("localhost:{}", self.port)
    }

    /// `127.0.0.1:PORT` (the address it listens on): needs no name resolution, so it works on
    /// minimal systems without `/etc/hosts`, where `localhost` does not resolve. The
    /// certificate names the loopback addresses as IP addresses.
    pub fn addr_host(&self) -> String {
        SocketAddr::new(self.ip, self.port).to_string()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The CA (PEM) that signed the server certificate.
    pub fn ca_pem(&self) -> String {
        self.ca_pem.clone()
    }

    pub fn write_ca(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, &self.ca_pem)
    }

    /// Writes the CA to `ca_file` and returns settings pointing at the stand-in.
    /// Panics if the CA cannot be written (a test fixture: fail loudly).
    pub fn settings(&self, ca_file: &Path) -> duo::DuoSettings {
        self.write_ca(ca_file).unwrap_or_else(|e| {
            panic!(
                "cannot write the stand-in's CA to {}: {e}",
                ca_file.display()
            )
        });
        let mut s = duo::DuoSettings::new(
            self.state.ikey.clone(),
            duo::config::Secret::new(self.state.skey.clone()),
            self.host(),
        );
        s.ca_file = Some(ca_file.to_path_buf());
        s
    }

    pub fn set_push_delay(&self, d: Duration) {
        self.state.set_push_delay(d);
    }

    /// When a never-answered push reports `timeout` (Duo: 60 s).
    pub fn set_push_timeout(&self, d: Duration) {
        self.state.set_push_timeout(d);
    }

    /// The longest an `auth_status` long-poll is held before answering `waiting` (20 s).
    pub fn set_long_poll_hold(&self, d: Duration) {
        self.state.set_hold(d);
    }

    /// `Some(status)`: answer every request with that HTTP status and a FAIL envelope.
    pub fn set_outage(&self, status: Option<u16>) {
        self.state.set_outage(status);
    }

    /// Answer the next `n` requests with 429 (and `Retry-After: 1`).
    pub fn set_rate_limit(&self, n: u32) {
        self.state.set_rate_limit(n);
    }

    /// Every request so far (the latest 100 000), oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests()
    }

    /// How many requests to `path` (`/auth/v2/auth`) the stand-in has answered so far.
    pub fn count(&self, path: &str) -> usize {
        self.state
            .requests()
            .iter()
            .filter(|r| r.path == path)
            .count()
    }

    pub fn clear_requests(&self) {
        self.state.clear_requests();
    }

    /// Every Verified Duo Push code issued so far, as (user, code), oldest first.
    pub fn verification_codes(&self) -> Vec<(String, String)> {
        self.state.codes()
    }

    /// Transactions still known (finished ones are forgotten after five minutes).
    pub fn transactions(&self) -> usize {
        self.state.txns.len()
    }

    /// `auth_status` long-polls being held at this moment.
    pub fn held_long_polls(&self) -> usize {
        self.state.held.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn stop(self) {}
}

impl Drop for MockDuo {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_duo_shapes() {
        assert_eq!(MOCK_IKEY.len(), 20);
        assert!(MOCK_IKEY.starts_with("DI"));
        assert!(
            MOCK_IKEY[2..]
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        );
        assert_eq!(MOCK_SKEY.len(), 40);
        assert!(MOCK_SKEY.bytes().all(|b| b.is_ascii_alphanumeric()));
    }

    #[test]
    fn starts_and_stops_from_sync_code() {
        let mock = MockDuo::start(MockConfig::default()).unwrap();
        let port = mock.port();
        assert_eq!(mock.host(), format!("localhost:{port}"));
        assert!(mock.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        mock.stop();
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    }

    /// The address itself, no name to resolve: TLS verified against the IP, the signature
    /// checked with the IP as the host (a minimal system has no `/etc/hosts`).
    #[test]
    fn answers_at_its_ip_address() {
        let mock = MockDuo::start(MockConfig::default()).unwrap();
        assert_eq!(mock.addr_host(), format!("127.0.0.1:{}", mock.port()));
        let dir = tempfile::tempdir().unwrap();
        let mut settings = mock.settings(&dir.path().join("ca.pem"));
        settings.host = mock.addr_host();
        let client = duo::Client::new(&settings).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(client.check())
            .unwrap_or_else(|e| panic!("/auth/v2/check at {}: {e}", mock.addr_host()));
    }
}
