//! What one running stand-in shares between its connections and its handle.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::transactions::Transactions;
use crate::{MockConfig, Recorded};

/// At most this many requests are remembered (the oldest go first), so a load test does not
/// grow the log without bound.
const LOG_CAPACITY: usize = 100_000;

pub(crate) struct State {
    pub ikey: String,
    pub skey: String,
    pub clock_skew: i64,
    pub max_date_skew: i64,
    /// `localhost:PORT`, for the enrollment URL.
    pub host: String,
    push_delay_us: AtomicU64,
    push_timeout_us: AtomicU64,
    hold_us: AtomicU64,
    /// 0: no outage; else every request is answered with this HTTP status.
    outage: AtomicU32,
    rate_limited: AtomicU32,
    /// `auth_status` requests being held right now.
    pub held: AtomicUsize,
    pub txns: Arc<Transactions>,
    used_passcodes: Mutex<HashSet<String>>,
    log: Mutex<VecDeque<Recorded>>,
    /// Verified push: preauth's `txid` → its user, until `/auth` uses it.
    verified_preauths: Mutex<HashMap<String, String>>,
    /// Verified push: (user, code) for every code issued, oldest first.
    codes: Mutex<Vec<(String, String)>>,
}

impl State {
    pub fn new(cfg: &MockConfig, host: String) -> State {
        State {
            ikey: cfg.ikey.clone(),
            skey: cfg.skey.clone(),
            clock_skew: cfg.clock_skew_secs,
            max_date_skew: cfg.max_date_skew_secs,
            host,
            push_delay_us: AtomicU64::new(micros(cfg.push_delay)),
            push_timeout_us: AtomicU64::new(micros(Duration::from_secs(60))),
            hold_us: AtomicU64::new(micros(Duration::from_secs(20))),
            outage: AtomicU32::new(0),
            rate_limited: AtomicU32::new(0),
            held: AtomicUsize::new(0),
            txns: Arc::default(),
            used_passcodes: Mutex::default(),
            log: Mutex::default(),
            verified_preauths: Mutex::default(),
            codes: Mutex::default(),
        }
    }

    /// The stand-in's clock: real time plus the configured skew.
    pub fn now(&self) -> i64 {
        duo::date::now_unix(self.clock_skew)
    }

    pub fn push_delay(&self) -> Duration {
        Duration::from_micros(self.push_delay_us.load(Ordering::Relaxed))
    }
    pub fn set_push_delay(&self, d: Duration) {
        self.push_delay_us.store(micros(d), Ordering::Relaxed);
    }
    pub fn push_timeout(&self) -> Duration {
        Duration::from_micros(self.push_timeout_us.load(Ordering::Relaxed))
    }
    pub fn set_push_timeout(&self, d: Duration) {
        self.push_timeout_us.store(micros(d), Ordering::Relaxed);
    }
    pub fn hold(&self) -> Duration {
        Duration::from_micros(self.hold_us.load(Ordering::Relaxed))
    }
    pub fn set_hold(&self, d: Duration) {
        self.hold_us.store(micros(d), Ordering::Relaxed);
    }

    pub fn outage(&self) -> Option<u16> {
        match self.outage.load(Ordering::Relaxed) {
            0 => None,
            s => Some(s as u16),
        }
    }
    pub fn set_outage(&self, status: Option<u16>) {
        self.outage
            .store(status.map_or(0, u32::from), Ordering::Relaxed);
    }

    pub fn set_rate_limit(&self, n: u32) {
        self.rate_limited.store(n, Ordering::Relaxed);
    }
    /// Take one rate-limited answer if any are left.
    pub fn take_rate_limited(&self) -> bool {
        self.rate_limited
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    /// Accept a one-time passcode: true the first time only.
    pub fn consume_passcode(&self, code: &str) -> bool {
        crate::users::PASSCODES.contains(&code)
            && self.used_passcodes.lock().unwrap().insert(code.to_string())
    }

    /// A preauth `txid` for a Verified Duo Push user.
    pub fn verified_preauth(&self, user: &str) -> String {
        let txid = self.txns.new_txid();
        let mut all = self.verified_preauths.lock().unwrap();
        // Bounded like the request log: a load test never grows it without end.
        if all.len() >= LOG_CAPACITY {
            all.clear();
        }
        all.insert(txid.clone(), user.to_string());
        txid
    }

    /// `/auth` with a preauth `txid`: true once, and only for the user it was issued to.
    pub fn take_verified_preauth(&self, txid: &str, user: &str) -> bool {
        let mut all = self.verified_preauths.lock().unwrap();
        match all.get(txid) {
            Some(u) if u == user => all.remove(txid).is_some(),
            _ => false,
        }
    }

    /// A new three-digit code for `user`, remembered for the tests.
    pub fn issue_code(&self, user: &str) -> String {
        use std::hash::{BuildHasher, RandomState};
        let code = format!("{}", 100 + RandomState::new().hash_one(user) % 900);
        let mut codes = self.codes.lock().unwrap();
        if codes.len() >= LOG_CAPACITY {
            codes.remove(0);
        }
        codes.push((user.to_string(), code.clone()));
        code
    }

    pub fn codes(&self) -> Vec<(String, String)> {
        self.codes.lock().unwrap().clone()
    }

    pub fn record(&self, r: Recorded) {
        let mut log = self.log.lock().unwrap();
        if log.len() == LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(r);
    }
    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().iter().cloned().collect()
    }
    pub fn clear_requests(&self) {
        self.log.lock().unwrap().clear();
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}
