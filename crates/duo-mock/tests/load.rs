//! How many logins can wait on a push at once: N concurrent logins (`user1`…`userN`), each
//! holding an `auth_status` long-poll for the push delay. Prints figures; asserts only that
//! every login was approved.
//!
//! `DUO_MOCK_LOAD_N=5000 DUO_MOCK_LOAD_DELAY=15 cargo test -p duo-mock --release --test load -- --ignored --nocapture`

use std::sync::Arc;
use std::time::{Duration, Instant};

use duo::login::{Allowed, LoginRequest, Outcome, login};
use duo::{Client, Factor};
use duo_mock::{MockConfig, MockDuo};

fn proc_status(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .map(|l| l[field.len()..].trim().to_string())
        })
        .unwrap_or_else(|| "?".into())
}

#[test]
#[ignore = "a measurement: run with --ignored --nocapture"]
fn thousands_of_held_long_polls() {
    let n: usize = std::env::var("DUO_MOCK_LOAD_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let delay = Duration::from_secs(
        std::env::var("DUO_MOCK_LOAD_DELAY")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(15),
    );
    let mock = MockDuo::start(MockConfig {
        push_delay: delay,
        ..MockConfig::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let settings = mock.settings(&dir.path().join("ca.pem"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let rss_before = proc_status("VmRSS:");
    let t0 = Instant::now();
    let outcomes = rt.block_on(async {
        let client = Arc::new(Client::new(&settings).unwrap());
        let tasks: Vec<_> = (1..=n)
            .map(|i| {
                let client = Arc::clone(&client);
                tokio::spawn(async move {
                    let req = LoginRequest {
                        username: format!("user{i}"),
                        factor: Factor::Push(None),
                        ipaddr: None,
                    };
                    login(&client, &req, Duration::from_secs(120), &mut |_| {}).await
                })
            })
            .collect();
        // Sample while the polls are held: the most held at once, and the process then.
        let mut peak = (0, String::new(), String::new());
        while !tasks.iter().all(|t| t.is_finished()) {
            let held = mock.held_long_polls();
            if held > peak.0 {
                peak = (held, proc_status("Threads:"), proc_status("VmRSS:"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        (out, peak)
    });
    let took = t0.elapsed();
    let (outcomes, (held, threads, rss_held)) = outcomes;
    let approved = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Allowed(Allowed::Approved { .. })))
        .count();
    let held_polls = mock
        .requests()
        .iter()
        .filter(|r| r.path == "/auth/v2/auth_status")
        .count();
    println!(
        "{n} concurrent logins, push delay {delay:?}: all done in {took:.2?}; approved {approved}; \
         {held_polls} auth_status requests; at most {held} long-polls held at once, with \
         {threads} process threads (client + stand-in) and RSS {rss_before} -> {rss_held}; \
         peak RSS {}",
        proc_status("VmHWM:")
    );
    if approved != n {
        let sample: Vec<_> = outcomes
            .iter()
            .filter(|o| !matches!(o, Outcome::Allowed(_)))
            .take(3)
            .collect();
        panic!(
            "{} of {n} logins not approved, e.g. {sample:?}",
            n - approved
        );
    }
}
