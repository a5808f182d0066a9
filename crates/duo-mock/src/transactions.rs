//! Authentication transactions (`txid`s) and the long-poll on their status.
//!
//! Each transaction is a `watch` channel: a scripted task moves it along (pushed → allow after
//! the push delay, …) and every held `auth_status` request is a task awaiting a change, so
//! thousands of held polls cost a few hundred bytes each and no thread.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;

/// How long a finished transaction can still be polled.
const KEEP_FINISHED: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Status {
    /// `waiting`, `allow` or `deny`.
    pub result: &'static str,
    pub status: &'static str,
    pub status_msg: String,
}

impl Status {
    pub fn new(result: &'static str, status: &'static str, msg: impl Into<String>) -> Status {
        Status {
            result,
            status,
            status_msg: msg.into(),
        }
    }

    /// Nothing will change any more (a result, or Duo's own push timeout).
    pub fn is_final(&self) -> bool {
        self.result != "waiting" || self.status == "timeout"
    }

    pub fn to_json(&self) -> Value {
        json!({"result": self.result, "status": self.status, "status_msg": self.status_msg})
    }

    /// What a synchronous `/auth` answers: `allow` or `deny`, never `waiting`.
    pub fn as_sync(&self) -> Status {
        if self.result == "waiting" {
            Status::new("deny", "timeout", "Login timed out.")
        } else {
            self.clone()
        }
    }
}

pub(crate) struct Txn {
    /// (version, status): the version tells a poller whether it has seen this status already.
    tx: watch::Sender<(u64, Status)>,
    /// The last version handed to a poller.
    reported: AtomicU64,
}

impl Txn {
    fn new(initial: Status) -> Txn {
        Txn {
            tx: watch::Sender::new((1, initial)),
            reported: AtomicU64::new(0),
        }
    }

    pub fn set(&self, status: Status) {
        self.tx.send_modify(|(v, s)| {
            *v += 1;
            *s = status;
        });
    }

    pub fn current(&self) -> Status {
        self.tx.borrow().1.clone()
    }

    /// `auth_status`: a status not yet reported comes back at once; otherwise hold until it
    /// changes or `hold` passes (then the unchanged, still waiting status).
    pub async fn poll(&self, hold: Duration) -> Status {
        let mut rx = self.tx.subscribe();
        let (version, status) = rx.borrow_and_update().clone();
        let seen = self.reported.swap(version, Ordering::SeqCst);
        if seen != version || status.is_final() {
            return status;
        }
        let _ = tokio::time::timeout(hold, rx.changed()).await;
        let (version, status) = rx.borrow().clone();
        self.reported.store(version, Ordering::SeqCst);
        status
    }

    /// Synchronous `/auth`: wait for the end.
    pub async fn finished(&self) -> Status {
        let mut rx = self.tx.subscribe();
        match rx.wait_for(|(_, s)| s.is_final()).await {
            Ok(r) => r.1.clone(),
            Err(_) => self.current(),
        }
    }
}

#[derive(Default)]
pub(crate) struct Transactions {
    map: Mutex<HashMap<String, Arc<Txn>>>,
    counter: AtomicU64,
}

impl Transactions {
    /// A new transaction that starts at `initial` and then follows `script`: (delay, status)
    /// steps, each delay counted from the previous step.
    pub fn start(
        self: &Arc<Self>,
        initial: Status,
        script: Vec<(Duration, Status)>,
    ) -> (String, Arc<Txn>) {
        let txid = self.new_txid();
        let txn = Arc::new(Txn::new(initial));
        self.map
            .lock()
            .unwrap()
            .insert(txid.clone(), Arc::clone(&txn));
        let (all, id, t) = (Arc::clone(self), txid.clone(), Arc::clone(&txn));
        tokio::spawn(async move {
            for (delay, status) in script {
                tokio::time::sleep(delay).await;
                t.set(status);
            }
            tokio::time::sleep(KEEP_FINISHED).await;
            all.map.lock().unwrap().remove(&id);
        });
        (txid, txn)
    }

    pub fn get(&self, txid: &str) -> Option<Arc<Txn>> {
        self.map.lock().unwrap().get(txid).cloned()
    }

    pub fn len(&self) -> usize {
        self.map.lock().unwrap().len()
    }

    /// A UUID-shaped id, unique per stand-in and unpredictable enough for tests.
    pub fn new_txid(&self) -> String {
        use std::hash::{BuildHasher, RandomState};
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let state = RandomState::new();
        let a = state.hash_one(n);
        let b = state.hash_one(a ^ n.rotate_left(17));
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pushed() -> Status {
        Status::new(
            "waiting",
            "pushed",
            "Pushed a login request to your device...",
        )
    }

    #[tokio::test(start_paused = true)]
    async fn first_poll_at_once_then_held_until_the_change() {
        let all = Arc::new(Transactions::default());
        let allow = Status::new("allow", "allow", "Success. Logging you in...");
        let (txid, txn) = all.start(pushed(), vec![(Duration::from_secs(5), allow.clone())]);
        assert_eq!(txid.len(), 36);
        assert!(all.get(&txid).is_some());
        let t0 = tokio::time::Instant::now();
        assert_eq!(txn.poll(Duration::from_secs(20)).await, pushed());
        assert_eq!(t0.elapsed(), Duration::ZERO);
        assert_eq!(txn.poll(Duration::from_secs(20)).await, allow);
        assert_eq!(t0.elapsed(), Duration::from_secs(5));
        // Final: answered again at once.
        assert_eq!(txn.poll(Duration::from_secs(20)).await, allow);
        assert_eq!(t0.elapsed(), Duration::from_secs(5));
        tokio::time::sleep(KEEP_FINISHED + Duration::from_secs(1)).await;
        assert!(all.get(&txid).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_held_poll_gives_up_after_the_hold() {
        let all = Arc::new(Transactions::default());
        let (_, txn) = all.start(pushed(), vec![]);
        txn.poll(Duration::from_secs(20)).await;
        let t0 = tokio::time::Instant::now();
        assert_eq!(txn.poll(Duration::from_secs(20)).await, pushed());
        assert_eq!(t0.elapsed(), Duration::from_secs(20));
    }

    #[tokio::test(start_paused = true)]
    async fn synchronous_waits_for_the_end() {
        let all = Arc::new(Transactions::default());
        let timeout = Status::new("waiting", "timeout", "Login timed out.");
        let (_, txn) = all.start(pushed(), vec![(Duration::from_secs(60), timeout)]);
        let s = txn.finished().await;
        assert_eq!(s.as_sync().result, "deny");
        assert_eq!(s.as_sync().status, "timeout");
    }

    #[test]
    fn txids_differ() {
        let all = Transactions::default();
        let a = all.new_txid();
        assert_ne!(a, all.new_txid());
        assert_eq!(a.matches('-').count(), 4);
    }
}
