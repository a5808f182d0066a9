//! The one background thread all Duo traffic runs on.
//!
//! Debian runs OpenVPN with `LimitNPROC=10` / `TasksMax=10`, counted per user after the
//! privilege drop, so there is no thread or process per login: a tokio current-thread runtime
//! on a single `std::thread` drives every pending login (each is a task holding one socket),
//! thousands at once if need be.
//!
//! Threads, all made in `open` while OpenVPN is still root, none later:
//! - `duo-openvpn`: the runtime;
//! - [`BLOCKING_THREADS`] × `duo-openvpn-dns`: tokio's blocking pool, which reqwest uses for
//!   `getaddrinfo`. Capped, started up front and kept alive forever, so the pool never grows
//!   on demand (that would spawn threads as the unprivileged user, under the limit).
//!
//! Every one of them has all signals blocked (set on the runtime thread before it is spawned;
//! the pool threads inherit it): OpenVPN handles SIGTERM/SIGHUP/SIGUSR1 on its own thread and
//! a signal delivered to ours would never wake its event loop. glibc's `pthread_sigmask` keeps
//! the signals it needs internally (`setuid` across threads), so the privilege drop still works.
//!
//! Shutdown (`close`): the job channel is closed, the loop ends, and the runtime is dropped.
//! Pending logins are cancelled and each refuses (`0`) through its [`crate::control_file::Answer`]:
//! OpenVPN closes plugins after tearing down its clients, so their control files are normally
//! gone already and nothing is written (no `O_CREAT`); any that remain get the fail-closed
//! answer. Dropping the runtime waits for the blocking pool, so no thread of ours is left
//! running when OpenVPN `dlclose`s the library.

use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use std::collections::HashMap;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::sync::oneshot;

use crate::job::Job;
use crate::secret::SecretBytes;
use crate::task::{self, Shared};

/// tokio's blocking pool size: `getaddrinfo` for new connections to one Duo host.
pub const BLOCKING_THREADS: usize = 2;
/// Threads this plugin adds to OpenVPN: the runtime plus its blocking pool.
pub const THREADS: usize = 1 + BLOCKING_THREADS;
/// Idle blocking threads live this long: for ever, in practice.
const KEEP_ALIVE: Duration = Duration::from_secs(365 * 24 * 3600);
/// How long `open` waits for the thread to report ready.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// What OpenVPN's thread hands the runtime.
// Each message travels boxed already (see `Runtime::jobs`): the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub enum Message {
    Login(Job),
    /// The answer to a CR_TEXT prompt, for the login whose control file is `control`.
    Answer {
        control: Vec<u8>,
        response: SecretBytes,
    },
}

pub struct Runtime {
    // Boxed: the channel's blocks then stay small, so a send on OpenVPN's thread does not
    // allocate kilobytes at a time (and trigger malloc consolidation there).
    jobs: Option<UnboundedSender<Box<Message>>>,
    thread: Option<JoinHandle<()>>,
}

impl Runtime {
    /// Start the thread and its runtime; returns once every thread exists.
    pub fn start(shared: Arc<Shared>) -> Result<Runtime, String> {
        let (jobs, rx) = unbounded_channel();
        let (ready_tx, ready_rx) = std_mpsc::sync_channel::<Result<(), String>>(1);
        let thread = with_all_signals_blocked(|| {
            std::thread::Builder::new()
                .name("duo-openvpn".into())
                .spawn(move || run(shared, rx, ready_tx))
        })
        .map_err(|e| format!("cannot start the background thread: {e}"))?;
        let ready = ready_rx
            .recv_timeout(START_TIMEOUT)
            .unwrap_or_else(|_| Err("the background thread did not start in time".into()));
        let mut runtime = Runtime {
            jobs: Some(jobs),
            thread: Some(thread),
        };
        match ready {
            Ok(()) => Ok(runtime),
            Err(e) => {
                runtime.stop();
                Err(e)
            }
        }
    }

    /// Hand a job to the runtime: never blocks. False if the runtime is gone.
    pub fn submit(&self, job: Job) -> bool {
        self.send(Message::Login(job))
    }

    /// Hand a message to the runtime: never blocks. False if the runtime is gone.
    pub fn send(&self, message: Message) -> bool {
        self.jobs
            .as_ref()
            .is_some_and(|tx| tx.send(Box::new(message)).is_ok())
    }

    /// Close the job channel and join the thread (see the module comment for pending logins).
    pub fn stop(&mut self) {
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(
    shared: Arc<Shared>,
    mut jobs: UnboundedReceiver<Box<Message>>,
    ready: std_mpsc::SyncSender<Result<(), String>>,
) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .max_blocking_threads(BLOCKING_THREADS)
        .thread_keep_alive(KEEP_ALIVE)
        .thread_name("duo-openvpn-dns")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(format!("cannot build the async runtime: {e}")));
            return;
        }
    };
    let started = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(start_blocking_pool())
    }))
    .unwrap_or_else(|p| Err(task::panic_message(&*p)));
    let failed = started.is_err();
    let _ = ready.send(started);
    if failed {
        return;
    }
    rt.block_on(async {
        // Logins waiting for the answer to their prompt, by control file. Only this loop
        // touches it, and one channel carries both calls, so a login is always registered
        // before its answer is looked up.
        let mut waiting = Waiting::default();
        while let Some(message) = jobs.recv().await {
            match *message {
                Message::Login(job) if job.prompted => {
                    let (tx, rx) = oneshot::channel();
                    if let Some(key) = task::control_key(&job) {
                        waiting.insert(key, tx);
                    }
                    tokio::spawn(task::run(shared.clone(), job, Some(rx)));
                }
                Message::Login(job) => {
                    tokio::spawn(task::run(shared.clone(), job, None));
                }
                Message::Answer { control, response } => {
                    if let Some(tx) = waiting.take(&control) {
                        // A login already over (refused for want of an answer) dropped its end.
                        let _ = tx.send(response);
                    } else {
                        shared.log.warn(
                            "an answer to the Duo prompt came for no waiting login (it was \
                             already refused, or never asked): ignored",
                        );
                    }
                }
            }
        }
    });
    // Dropping `rt` cancels pending logins (each refuses) and joins the blocking pool.
}

/// The prompted logins' answer channels. Finished logins drop their receiver; their entries
/// are swept whenever the map has doubled since the last sweep, so it stays as large as the
/// logins actually waiting.
#[derive(Default)]
struct Waiting {
    map: HashMap<Vec<u8>, oneshot::Sender<SecretBytes>>,
    sweep_at: usize,
}

impl Waiting {
    fn insert(&mut self, key: Vec<u8>, tx: oneshot::Sender<SecretBytes>) {
        if self.map.len() >= self.sweep_at {
            self.map.retain(|_, tx| !tx.is_closed());
            self.sweep_at = (2 * self.map.len()).max(64);
        }
        // A key state's control file name is unique while it lives; a reused one replaces a
        // login that is over anyway.
        self.map.insert(key, tx);
    }

    fn take(&mut self, key: &[u8]) -> Option<oneshot::Sender<SecretBytes>> {
        self.map.remove(key).filter(|tx| !tx.is_closed())
    }
}

/// Make the blocking pool start all its threads now, while the process is still root:
/// [`BLOCKING_THREADS`] tasks that each wait until all of them run at once.
async fn start_blocking_pool() -> Result<(), String> {
    let gate = Arc::new((Mutex::new(0usize), Condvar::new()));
    let mut handles = Vec::new();
    for _ in 0..BLOCKING_THREADS {
        let gate = gate.clone();
        handles.push(tokio::task::spawn_blocking(move || {
            let (count, cv) = &*gate;
            let mut n = count.lock().unwrap_or_else(|e| e.into_inner());
            *n += 1;
            cv.notify_all();
            let (n, _) = cv
                .wait_timeout_while(n, START_TIMEOUT, |n| *n < BLOCKING_THREADS)
                .unwrap_or_else(|e| e.into_inner());
            *n
        }));
    }
    for h in handles {
        let seen = h
            .await
            .map_err(|e| format!("cannot start the DNS threads: {e}"))?;
        if seen < BLOCKING_THREADS {
            return Err(format!(
                "could start only {seen} of {BLOCKING_THREADS} DNS threads"
            ));
        }
    }
    Ok(())
}

/// Run `f` (which spawns a thread) with every signal blocked, then restore the caller's mask:
/// the new thread inherits the blocked mask, OpenVPN's thread keeps its own.
fn with_all_signals_blocked<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: plain libc calls on local, initialised sigset_t values.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        let blocked = libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old) == 0;
        let r = f();
        if blocked {
            libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        }
        r
    }
}
