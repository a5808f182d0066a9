//! A real OpenVPN client process whose user name and password are typed through its
//! management interface — the only way to send an empty password or a static-challenge
//! answer (`auth-user-pass FILE` cannot carry an empty password).
//!
//! The profile pulls nothing that touches the host (`route-nopull`); the tun device it opens
//! gets an address in the server's test subnet and disappears with the process.

use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::pki::Pki;
use crate::process::{find_program, read_log, tail, terminate};
use crate::server::{Server, quote};

static NEXT_ID: AtomicUsize = AtomicUsize::new(0);

/// How a client's login ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// "Initialization Sequence Completed".
    Connected,
    /// The log line carrying `AUTH_FAILED` (with the server's reason, if it sent one).
    AuthFailed(String),
    /// The process ended without either; the log's tail.
    Exited(String),
    /// Neither within the time allowed; the log's tail.
    TimedOut(String),
}

impl Outcome {
    pub fn is_connected(&self) -> bool {
        *self == Outcome::Connected
    }

    pub fn is_auth_failed(&self) -> bool {
        matches!(self, Outcome::AuthFailed(_))
    }
}

#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub dir: PathBuf,
    pub ca: PathBuf,
    /// Certificate and key; `None` for servers with `verify-client-cert none`.
    pub cert: Option<(PathBuf, PathBuf)>,
    pub server_port: u16,
    pub username: String,
    pub password: String,
    /// `static-challenge "TEXT" 1`: the password is then sent as
    /// `SCRV1:<base64 password>:<base64 response>`.
    pub static_challenge: Option<(String, String)>,
    pub extra: Vec<String>,
}

impl ClientOptions {
    /// A client of `server` typing `username` / `password`, without a certificate.
    pub fn new(pki: &Pki, server: &Server, username: &str, password: &str) -> ClientOptions {
        ClientOptions {
            dir: server.options.dir.join("clients"),
            ca: pki.ca.clone(),
            cert: None,
            server_port: server.port(),
            username: username.into(),
            password: password.into(),
            static_challenge: None,
            extra: Vec::new(),
        }
    }

    /// Present the certificate `pki` issued for `cn`.
    pub fn with_cert(mut self, pki: &Pki, cn: &str) -> ClientOptions {
        self.cert = Some(pki.client(cn));
        self
    }

    /// Use a static challenge and answer it with `response`.
    pub fn with_static_challenge(mut self, text: &str, response: &str) -> ClientOptions {
        self.static_challenge = Some((text.into(), response.into()));
        self
    }

    fn config_text(&self, mgmt_port: u16, log: &std::path::Path) -> String {
        let q = |p: &std::path::Path| quote(&p.display().to_string());
        let mut lines = vec![
            "client".to_string(),
            "dev tun".into(),
            "proto udp".into(),
            format!("remote 127.0.0.1 {}", self.server_port),
            "nobind".into(),
            "route-nopull".into(),
            format!("ca {}", q(&self.ca)),
            "remote-cert-tls server".into(),
            "auth-user-pass".into(),
            "auth-retry none".into(),
            "reneg-sec 0".into(),
            format!("management 127.0.0.1 {mgmt_port}"),
            "management-query-passwords".into(),
            "management-hold".into(),
            "verb 3".into(),
            format!("log {}", q(log)),
        ];
        if let Some((crt, key)) = &self.cert {
            lines.push(format!("cert {}", q(crt)));
            lines.push(format!("key {}", q(key)));
        }
        if let Some((text, _)) = &self.static_challenge {
            lines.push(format!("static-challenge {} 1", quote(text)));
        }
        lines.extend(self.extra.iter().cloned());
        lines.join("\n") + "\n"
    }

    /// The password as it goes to the management interface.
    fn wire_password(&self) -> String {
        match &self.static_challenge {
            None => self.password.clone(),
            Some((_, response)) => {
                let b64 = base64::engine::general_purpose::STANDARD;
                format!(
                    "SCRV1:{}:{}",
                    b64.encode(&self.password),
                    b64.encode(response)
                )
            }
        }
    }

    /// Start the client and answer its prompts in the background.
    pub fn start(self) -> io::Result<Client> {
        let (user, password) = (self.username.clone(), self.wire_password());
        self.start_with(move |port, stop| answer_prompts(port, &user, &password, &stop))
    }

    /// Start the client; `talk(management port, stop)` runs on its own thread and drives the
    /// management interface until `stop` is set.
    pub(crate) fn start_with(
        self,
        talk: impl FnOnce(u16, Arc<AtomicBool>) + Send + 'static,
    ) -> io::Result<Client> {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let dir = self.dir.join(format!("{id}-{}", sanitize(&self.username)));
        fs::create_dir_all(&dir)?;
        let log = dir.join("client.log");
        let mgmt_port = crate::free_tcp_port();
        let conf = dir.join("client.conf");
        fs::write(&conf, self.config_text(mgmt_port, &log))?;
        let openvpn =
            find_program("openvpn").ok_or_else(|| io::Error::other("openvpn not found"))?;
        let out = fs::File::create(dir.join("client.stdout"))?;
        let child = Command::new(openvpn)
            .arg("--config")
            .arg(&conf)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stderr(out.try_clone()?)
            .stdout(out)
            .spawn()?;
        let stop = Arc::new(AtomicBool::new(false));
        let answerer = {
            let stop = stop.clone();
            std::thread::spawn(move || talk(mgmt_port, stop))
        };
        Ok(Client {
            child,
            log,
            username: self.username,
            stop,
            answerer: Some(answerer),
        })
    }
}

/// A running client: killed on drop.
pub struct Client {
    child: Child,
    pub log: PathBuf,
    pub username: String,
    stop: Arc<AtomicBool>,
    answerer: Option<JoinHandle<()>>,
}

impl Client {
    /// The outcome so far, if there is one.
    pub fn outcome_now(&mut self) -> Option<Outcome> {
        let text = read_log(&self.log);
        if let Some(line) = text.lines().find(|l| l.contains("AUTH_FAILED")) {
            return Some(Outcome::AuthFailed(line.to_string()));
        }
        if text.contains("Initialization Sequence Completed") {
            return Some(Outcome::Connected);
        }
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            // It may have logged its outcome just before exiting.
            let text = read_log(&self.log);
            if let Some(line) = text.lines().find(|l| l.contains("AUTH_FAILED")) {
                return Some(Outcome::AuthFailed(line.to_string()));
            }
            return Some(Outcome::Exited(tail(&self.log, 20)));
        }
        None
    }

    /// Wait for the outcome, at most `timeout`.
    pub fn wait_outcome(&mut self, timeout: Duration) -> Outcome {
        let end = Instant::now() + timeout;
        loop {
            if let Some(o) = self.outcome_now() {
                return o;
            }
            if Instant::now() >= end {
                return Outcome::TimedOut(tail(&self.log, 20));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The process has not exited.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn log_text(&self) -> String {
        read_log(&self.log)
    }

    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        terminate(&mut self.child);
        if let Some(t) = self.answerer.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Talk to the client's management interface until told to stop: release the hold, type the
/// user name and password whenever asked.
fn answer_prompts(port: u16, user: &str, password: &str, stop: &AtomicBool) {
    converse(port, stop, |line| {
        if line.starts_with(">HOLD:") {
            Some("hold release\n".to_string())
        } else if line.starts_with(">PASSWORD:Need 'Auth'") {
            Some(format!(
                "username \"Auth\" {}\npassword \"Auth\" {}\n",
                quote(user),
                quote(password)
            ))
        } else {
            None
        }
    })
}

/// Connect to the management interface (for 30 s at most) and answer each line it sends with
/// what `reply` returns, until `stop` is set or the client goes away.
pub(crate) fn converse(
    port: u16,
    stop: &AtomicBool,
    mut reply: impl FnMut(&str) -> Option<String>,
) {
    let end = Instant::now() + Duration::from_secs(30);
    let stream = loop {
        if stop.load(Ordering::Relaxed) || Instant::now() > end {
            return;
        }
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    while !stop.load(Ordering::Relaxed) {
        match reader.read_line(&mut line) {
            Ok(0) => return,
            Ok(_) => {
                if let Some(r) = reply(line.trim_end())
                    && writer.write_all(r.as_bytes()).is_err()
                {
                    return;
                }
                line.clear();
            }
            // A read timeout keeps any partial line in `line`; go round and check `stop`.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(32)
        .collect()
}
