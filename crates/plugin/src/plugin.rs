//! The plugin instance behind OpenVPN's handle, in safe Rust: what `open`, the verify call and
//! `close` do once [`crate::entry`] has copied everything out of C.

use std::ffi::{OsStr, c_int};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::args::{self, Source};
use crate::crtext;
use crate::deadline;
use crate::env::{Var, VerifyEnv};
use crate::ffi::{
    OPENVPN_PLUGIN_FUNC_DEFERRED, OPENVPN_PLUGIN_FUNC_ERROR, OPENVPN_PLUGIN_FUNC_SUCCESS,
};
use crate::job::Job;
use crate::limits;
use crate::log::Logger;
use crate::runtime::{self, Message, Runtime};
use crate::secret::SecretBytes;
use crate::session::SessionState;
use crate::task::{self, Shared};

/// Marks a live handle, so a stale or foreign pointer is refused rather than used.
const MAGIC: u64 = 0x6475_6f2d_6f76_706e; // "duo-ovpn"

pub struct Plugin {
    magic: u64,
    log: Logger,
    username_from: duo::UsernameFrom,
    /// `duo.autopush`: never ask, push at once.
    autopush: bool,
    /// OpenVPN gave us `CLIENT_CRRESPONSE` (2.6): clients may be asked (see [`crate::crtext`]).
    crtext: bool,
    /// The first line of `auth_pending_file`: the whole login, plus the time OpenVPN may
    /// take to read its answer.
    pending_timeout: Duration,
    runtime: Runtime,
}

impl Plugin {
    /// Read and check the configuration, build the Duo client (reading any CA file now, while
    /// root), raise the open-files limit and start the background thread. `args` are the words
    /// after the library path. The error is the one line to log.
    pub fn open(args: &[String], log: Logger, openvpn: Option<&str>) -> Result<Plugin, String> {
        let (config, source) = args::parse(args)?;
        let (login_deadline, capped) =
            deadline::login_deadline(config.duo.timeout, config.duo.hand_window);
        let client = duo::Client::new(&config.duo)
            .map_err(|e| match &source {
                Source::File(p) => format!("{p}: {e}"),
                Source::Arguments => e.to_string(),
            })?
            .with_call_timeout(deadline::request_budget(login_deadline));
        let files = match limits::raise_nofile() {
            Ok((_, new)) => format!("open files {new}"),
            Err(e) => {
                log.warn(&format!(
                    "{e}; each pending login holds a socket, so this many users can wait at once"
                ));
                "open files not raised".into()
            }
        };
        let shared = Arc::new(Shared {
            client,
            failmode: config.duo.failmode,
            username_from: config.username_from,
            deadline: login_deadline,
            log,
            starting: Arc::new(tokio::sync::Semaphore::new(task::STARTING)),
            verified_push: config.duo.verified_push,
            pending: std::sync::Mutex::new(crate::verified::Table::default()),
        });
        let runtime = Runtime::start(shared)?;
        if source == Source::Arguments {
            log.warn(
                "the secret key is on the plugin line: OpenVPN writes plugin arguments to its \
                 log (PLUGIN_INIT, verb 3 and up) and server.conf is often world-readable; move \
                 the keys to a duo.toml (root:<openvpn group> 0640), as `duo-openvpn setup` does",
            );
        }
        log.note(&format!(
            "{} {} ready{}: Duo host {}, {}, failmode {}, user name from {}, logins answered \
             within {} s{}, {} threads, {files}",
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            openvpn.map(|v| format!(" in {v}")).unwrap_or_default(),
            config.duo.host,
            match &source {
                Source::File(p) => format!("config {p}"),
                Source::Arguments => "configured by plugin arguments (upstream form)".into(),
            },
            config.duo.failmode.as_str(),
            config.username_from.as_str(),
            login_deadline.as_secs(),
            if capped {
                format!(
                    " (timeout_secs {} capped under OpenVPN's {} s hand-window)",
                    config.duo.timeout.as_secs(),
                    config.duo.hand_window.as_secs()
                )
            } else {
                String::new()
            },
            runtime::THREADS,
        ));
        Ok(Plugin {
            magic: MAGIC,
            log,
            username_from: config.username_from,
            autopush: config.duo.autopush,
            crtext: false,
            pending_timeout: login_deadline + deadline::OPENVPN_POLL_LATENCY,
            runtime,
        })
    }

    /// OpenVPN granted `CLIENT_CRRESPONSE`: answers to a CR_TEXT prompt can reach us.
    pub fn enable_crtext(&mut self) {
        self.crtext = true;
    }

    pub fn is_valid(&self) -> bool {
        self.magic == MAGIC
    }

    /// `AUTH_USER_PASS_VERIFY`: hand the copied environment to the runtime and return
    /// `DEFERRED`. Only a missing control file (nothing to answer through) or a dead runtime
    /// is refused here, synchronously; a renegotiation with a session token OpenVPN found
    /// valid is allowed here, synchronously, without Duo (see [`crate::session`]): it must not
    /// wait behind other logins, nor be refused as busy.
    pub fn verify(&self, env: VerifyEnv) -> c_int {
        let received = Instant::now();
        if SessionState::skips_duo(&env.session_state) {
            self.log.note(&task::log_line(
                "allowed: session token still valid",
                &task::who(&env, self.username_from, Some("session token")),
                received.elapsed(),
            ));
            return OPENVPN_PLUGIN_FUNC_SUCCESS;
        }
        match &env.auth_control_file {
            Var::Present(p) if !p.is_empty() => {}
            other => {
                self.log.err(&format!(
                    "login refused: OpenVPN passed {} auth_control_file, so a deferred answer \
                     is impossible",
                    match other {
                        Var::TooLong => "an overlong",
                        _ => "no",
                    }
                ));
                return OPENVPN_PLUGIN_FUNC_ERROR;
            }
        }
        let prompted = self.prompt(&env);
        if self.runtime.submit(Job {
            env,
            received,
            prompted,
        }) {
            OPENVPN_PLUGIN_FUNC_DEFERRED
        } else {
            self.log
                .err("login refused: the background thread is not running");
            OPENVPN_PLUGIN_FUNC_ERROR
        }
    }

    /// Ask this client for its factor (write `auth_pending_file`) when it can be asked and
    /// typed none. This is the one file written on OpenVPN's thread: OpenVPN reads it as soon
    /// as the call returns. If it cannot be written the login goes on as today (a push).
    fn prompt(&self, env: &VerifyEnv) -> bool {
        if !self.crtext
            || self.autopush
            || !crtext::offered(&env.iv_sso)
            || !crtext::no_factor(&env.password)
        {
            return false;
        }
        let Var::Present(path) = &env.auth_pending_file else {
            return false;
        };
        let path = Path::new(OsStr::from_bytes(path));
        match crtext::write_pending(path, &crtext::pending_text(self.pending_timeout)) {
            Ok(()) => true,
            Err(e) => {
                self.log.warn(&format!(
                    "cannot write {} ({e}): the client is not asked, it gets a push",
                    path.display()
                ));
                false
            }
        }
    }

    /// `CLIENT_CRRESPONSE`: hand the answer to the login waiting for it. OpenVPN ignores what
    /// this returns; the login answers through its control file.
    pub fn cr_response(&self, env: VerifyEnv) -> c_int {
        let control = match env.auth_control_file {
            Var::Present(p) if !p.is_empty() => p,
            _ => {
                self.log
                    .warn("an answer to the Duo prompt came without auth_control_file: ignored");
                return OPENVPN_PLUGIN_FUNC_ERROR;
            }
        };
        let response = match env.crresponse {
            Var::Present(r) => r,
            // Nothing readable: refused by the login as an unreadable answer.
            _ => SecretBytes::copy(b"!"),
        };
        if self.runtime.send(Message::Answer { control, response }) {
            OPENVPN_PLUGIN_FUNC_SUCCESS
        } else {
            OPENVPN_PLUGIN_FUNC_ERROR
        }
    }

    /// Stop the runtime and join its thread (pending logins: see [`crate::runtime`]).
    pub fn close(mut self) {
        self.magic = 0;
        self.runtime.stop();
    }
}
