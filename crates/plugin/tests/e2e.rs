//! The plugin inside a real OpenVPN 2.6 server (as root, dropping to nobody under
//! `prlimit --nproc=10:10`), real clients on loopback, the Duo stand-in behind it.
//!
//! Three server starts cover the scenarios of issue #3:
//! - certificate logins (user = certificate CN): push, deny, one-time passcode, empty password,
//!   not enrolled (reason reaches the client), static challenge, locked out, nobody answering;
//! - failmode and SIGHUP: an outage refused under `secure`, `duo.toml` switched to `safe`,
//!   `kill -HUP` (the plugin re-opens as nobody), the outage let in, then a normal login;
//! - fifty logins waiting on slow pushes at once, a bypass user let in meanwhile, the server's
//!   thread count sampled throughout;
//! - the deadline: a push approved just before the plugin's 45 s cap still connects (OpenVPN
//!   reads the answer before its own 60 s `hand-window`), and one never answered is refused
//!   with its reason before OpenVPN would refuse it silently.
//!
//! Needs root and /dev/net/tun; fails saying so unless `DUO_OPENVPN_SKIP_E2E=1`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use duo::{Failmode, UsernameFrom};
use duo_mock::{MockConfig, MockDuo, users};
use duo_openvpn_plugin::runtime;
use testkit::{Client, ClientOptions, Outcome, Pki, Server, ServerOptions};

const WAIT: Duration = Duration::from_secs(30);
/// The most threads the server may have: OpenVPN's own plus the plugin's, all started in open.
const SERVER_THREADS: usize = 1 + runtime::THREADS;

fn duo_toml(
    mock: &MockDuo,
    dir: &Path,
    failmode: Failmode,
    from: UsernameFrom,
    timeout: Option<u64>,
) -> PathBuf {
    let mut duo = mock.settings(&dir.join("mock-ca.pem"));
    duo.failmode = failmode;
    if let Some(t) = timeout {
        duo.timeout = Duration::from_secs(t);
    }
    let path = dir.join("duo.toml");
    testkit::write_duo_toml(
        &path,
        &duo::Config {
            duo,
            username_from: from,
        },
    )
    .unwrap();
    path
}

fn expect_connected(c: &mut Client, what: &str) {
    let o = c.wait_outcome(WAIT);
    assert!(o.is_connected(), "{what}: {o:?}");
}

fn expect_refused(c: &mut Client, reason: &str, what: &str) {
    match c.wait_outcome(WAIT) {
        Outcome::AuthFailed(line) => assert!(
            line.contains(&format!("AUTH_FAILED,{reason}")),
            "{what}: expected the reason {reason:?} in {line:?}"
        ),
        o => panic!("{what}: expected AUTH_FAILED, got {o:?}"),
    }
}

/// No password, passcode, static-challenge string or secret key in the server's log.
/// The plugin's lines for logins whose outcome starts with `outcome` and whose "who" part
/// ends with `who` (`…; user "alice" from 127.0.0.1, factor push; 1.0 s`).
fn login_lines(server: &Server, outcome: &str, who: &str) -> Vec<String> {
    server
        .log_lines(&format!("duo-openvpn: {outcome}"))
        .into_iter()
        .filter(|l| l.contains(&format!("{who}; ")))
        .collect()
}

fn assert_no_secrets(server: &Server, secrets: &[&str]) {
    let log = server.log_text();
    for s in secrets.iter().chain(&[duo_mock::MOCK_SKEY, "SCRV1"]) {
        assert!(!log.contains(s), "{s:?} appears in the server log");
    }
}

#[test]
fn certificate_logins() {
    if !testkit::e2e_enabled() {
        return;
    }
    let _turn = testkit::exclusive();
    let started = Instant::now();
    let dir = testkit::workdir().unwrap();
    let names = ["alice", "bob", "carol", "eve", "frank"];
    let pki = Pki::generate(dir.path(), &names).unwrap();
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    // A short timeout so that the user who never answers is refused quickly.
    let toml = duo_toml(
        &mock,
        dir.path(),
        Failmode::Secure,
        UsernameFrom::CommonName,
        Some(6),
    );
    let mut options = ServerOptions::new(&pki, 61, toml);
    options.duplicate_cn = true; // alice logs in several times at once
    let server = options.start().unwrap();

    let passcode = users::PASSCODES[0];
    let client = |cn: &str, typed_user: &str, password: &str| {
        ClientOptions::new(&pki, &server, typed_user, password).with_cert(&pki, cn)
    };
    std::thread::scope(|s| {
        // The certificate decides who the Duo user is, not the typed name.
        s.spawn(|| {
            let mut c = client("alice", "mallory", "push").start().unwrap();
            expect_connected(&mut c, "alice, push");
        });
        s.spawn(|| {
            let mut c = client("alice", "alice", "").start().unwrap();
            expect_connected(&mut c, "alice, empty password (automatic push)");
        });
        s.spawn(|| {
            let mut c = client("alice", "alice", "hunter2")
                .with_static_challenge("Enter Duo passcode or push", "push")
                .start()
                .unwrap();
            expect_connected(&mut c, "alice, static challenge answered push");
        });
        s.spawn(|| {
            let mut c = client("alice", "alice", passcode).start().unwrap();
            expect_connected(&mut c, "alice, a valid passcode");
            c.stop();
            let mut c = client("alice", "alice", passcode).start().unwrap();
            expect_refused(
                &mut c,
                "Duo passcode not accepted",
                "alice, the same passcode again",
            );
        });
        s.spawn(|| {
            let mut c = client("bob", "bob", "push").start().unwrap();
            expect_refused(&mut c, "Duo push denied", "bob");
        });
        s.spawn(|| {
            let mut c = client("carol", "carol", "push").start().unwrap();
            expect_refused(&mut c, "Enroll in Duo first", "carol, not enrolled");
        });
        s.spawn(|| {
            let mut c = client("eve", "eve", "push").start().unwrap();
            expect_refused(&mut c, "Duo refused the login", "eve, locked out");
        });
        s.spawn(|| {
            let mut c = client("frank", "frank", "push").start().unwrap();
            expect_refused(&mut c, "Duo login timed out", "frank, never answers");
        });
    });

    let logins = server.log_lines("; user ");
    assert_eq!(
        logins.len(),
        9,
        "one line per login:\n{}",
        logins.join("\n")
    );
    let alice = login_lines(
        &server,
        "allowed",
        "user \"alice\" from 127.0.0.1, factor push",
    );
    assert_eq!(
        alice.len(),
        2,
        "push and static challenge:\n{}",
        logins.join("\n")
    );
    assert_eq!(login_lines(&server, "allowed", "factor auto").len(), 1);
    assert_eq!(login_lines(&server, "allowed", "factor passcode").len(), 1);
    assert_eq!(login_lines(&server, "denied", "factor passcode").len(), 1);
    assert_no_secrets(&server, &[passcode, "hunter2"]);
    assert!(
        server.max_threads() <= SERVER_THREADS,
        "{} threads",
        server.max_threads()
    );
    eprintln!(
        "certificate_logins: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn failmode_and_sighup() {
    if !testkit::e2e_enabled() {
        return;
    }
    let _turn = testkit::exclusive();
    let started = Instant::now();
    let dir = testkit::workdir().unwrap();
    let pki = Pki::generate(dir.path(), &[]).unwrap();
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let toml = duo_toml(
        &mock,
        dir.path(),
        Failmode::Secure,
        UsernameFrom::Username,
        None,
    );
    let mut options = ServerOptions::new(&pki, 62, &toml);
    options.client_certs = false;
    let mut server = options.start().unwrap();

    mock.set_outage(Some(503));
    let mut c = ClientOptions::new(&pki, &server, "alice", "push")
        .start()
        .unwrap();
    expect_refused(&mut c, "Duo is unavailable", "outage, failmode secure");
    drop(c);

    // Switch to failmode safe; SIGHUP makes OpenVPN close the plugin and open it again, now
    // as nobody: duo.toml (root:nogroup 0640) and the CA file must still be readable.
    duo_toml(
        &mock,
        dir.path(),
        Failmode::Safe,
        UsernameFrom::Username,
        None,
    );
    server.hup();
    assert!(
        server.wait_for_log("Initialization Sequence Completed", 2, WAIT),
        "the server did not come back after SIGHUP"
    );
    let ready = server.log_lines("duo-openvpn: duo-openvpn-plugin");
    assert_eq!(ready.len(), 2, "{ready:?}");
    assert!(ready[1].contains("failmode safe"), "{ready:?}");
    assert_eq!(
        server.threads(),
        Some(SERVER_THREADS),
        "close joined the old threads"
    );

    let mut c = ClientOptions::new(&pki, &server, "alice", "push")
        .start()
        .unwrap();
    expect_connected(&mut c, "outage, failmode safe, after SIGHUP");
    drop(c);

    mock.set_outage(None);
    let mut c = ClientOptions::new(&pki, &server, "user7", "push")
        .start()
        .unwrap();
    expect_connected(&mut c, "a normal login after SIGHUP");
    assert_eq!(
        login_lines(
            &server,
            "allowed",
            "user \"user7\" from 127.0.0.1, factor push"
        )
        .len(),
        1
    );
    assert!(
        server.max_threads() <= SERVER_THREADS,
        "{} threads",
        server.max_threads()
    );
    assert_no_secrets(&server, &[]);
    eprintln!(
        "failmode_and_sighup: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn fifty_pending_logins_and_a_bypass() {
    if !testkit::e2e_enabled() {
        return;
    }
    let _turn = testkit::exclusive();
    let started = Instant::now();
    let dir = testkit::workdir().unwrap();
    let pki = Pki::generate(dir.path(), &[]).unwrap();
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let push_delay = Duration::from_secs(10);
    mock.set_push_delay(push_delay);
    let toml = duo_toml(
        &mock,
        dir.path(),
        Failmode::Secure,
        UsernameFrom::Username,
        None,
    );
    let mut options = ServerOptions::new(&pki, 63, toml);
    options.client_certs = false;
    let server = options.start().unwrap();

    let n = 50;
    let mut waiting: Vec<Client> = (1..=n)
        .map(|i| {
            ClientOptions::new(&pki, &server, &format!("user{i}"), "push")
                .start()
                .unwrap()
        })
        .collect();
    // Every push is out and held by the stand-in.
    let pushes_out = || {
        mock.requests()
            .iter()
            .filter(|r| r.path == "/auth/v2/auth")
            .filter(|r| {
                r.params
                    .iter()
                    .any(|(k, v)| k == "username" && v.starts_with("user"))
            })
            .count()
    };
    let end = Instant::now() + WAIT;
    while pushes_out() < n && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(100));
    }
    if pushes_out() < n {
        let stuck: Vec<String> = waiting
            .iter_mut()
            .filter_map(|c| {
                let o = c.outcome_now();
                (o.is_some() || !server.log_text().contains(&format!("'{}'", c.username)))
                    .then(|| format!("{}: {o:?}\n{}", c.username, testkit::tail(&c.log, 8)))
            })
            .collect();
        panic!(
            "only {} of {n} pushes went out; clients that did not get that far:\n{}",
            pushes_out(),
            stuck.join("\n")
        );
    }
    let all_out = started.elapsed();

    let mut dave = ClientOptions::new(&pki, &server, users::BYPASS, "push")
        .start()
        .unwrap();
    expect_connected(&mut dave, "dave (bypass) while fifty wait");
    let dave_in = started.elapsed();
    let answered = server.log_lines("; user \"user").len();
    assert_eq!(
        answered, 0,
        "the bypass user got in only after {answered} of the fifty were answered"
    );
    for c in &mut waiting {
        assert!(
            c.outcome_now().is_none(),
            "{} finished before dave",
            c.username
        );
    }

    for c in &mut waiting {
        let who = c.username.clone();
        expect_connected(c, &who);
    }
    let all_in = started.elapsed();
    let max = server.max_threads();
    eprintln!(
        "fifty_pending_logins_and_a_bypass: {n} pushes out after {:.1} s, dave in after {:.1} s, \
         all {n} in after {:.1} s (push delay {push_delay:?}); server threads max {max} \
         (limit 10); total {:.1} s",
        all_out.as_secs_f64(),
        dave_in.as_secs_f64(),
        all_in.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    assert!(max <= 10, "the server went over LimitNPROC: {max} threads");
    assert!(
        max <= SERVER_THREADS,
        "{max} threads, expected at most {SERVER_THREADS}"
    );
    assert_eq!(
        login_lines(&server, "allowed", "factor push").len(),
        n + 1,
        "fifty approvals and the bypass"
    );
}

#[test]
fn answers_land_inside_openvpns_deadline() {
    if !testkit::e2e_enabled() {
        return;
    }
    let _turn = testkit::exclusive();
    let started = Instant::now();
    let dir = testkit::workdir().unwrap();
    let pki = Pki::generate(dir.path(), &[]).unwrap();
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let cap = duo_openvpn_plugin::deadline::MAX_LOGIN;
    // Approved two seconds before the plugin would give up.
    mock.set_push_delay(cap - Duration::from_secs(2));
    // The default timeout_secs (60), which the plugin caps.
    let toml = duo_toml(
        &mock,
        dir.path(),
        Failmode::Secure,
        UsernameFrom::Username,
        None,
    );
    let mut options = ServerOptions::new(&pki, 64, toml);
    options.client_certs = false;
    let server = options.start().unwrap();
    let hand_window = duo_openvpn_plugin::deadline::OPENVPN_HAND_WINDOW;
    let long = hand_window + Duration::from_secs(15);

    std::thread::scope(|s| {
        s.spawn(|| {
            let mut c = ClientOptions::new(&pki, &server, users::APPROVES, "push")
                .start()
                .unwrap();
            let o = c.wait_outcome(long);
            assert!(o.is_connected(), "a late approval: {o:?}");
            eprintln!(
                "late approval connected after {:.1} s",
                started.elapsed().as_secs_f64()
            );
        });
        s.spawn(|| {
            let t = Instant::now();
            let mut c = ClientOptions::new(&pki, &server, users::NEVER_ANSWERS, "push")
                .start()
                .unwrap();
            match c.wait_outcome(long) {
                Outcome::AuthFailed(line) => assert!(
                    line.contains("AUTH_FAILED,Duo login timed out"),
                    "refused by OpenVPN's deadline, not ours: {line}"
                ),
                o => panic!("never answered: {o:?}"),
            }
            assert!(t.elapsed() < hand_window, "{:?}", t.elapsed());
            eprintln!(
                "unanswered push refused after {:.1} s",
                t.elapsed().as_secs_f64()
            );
        });
    });
    eprintln!(
        "answers_land_inside_openvpns_deadline: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn the_upstream_argument_form_starts() {
    if !testkit::e2e_enabled() {
        return;
    }
    let _turn = testkit::exclusive();
    let dir = testkit::workdir().unwrap();
    let pki = Pki::generate(dir.path(), &[]).unwrap();
    let (ikey, skey) = (
        "DIWJ8X6AEYOR5OMC6TQ1",
        "Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep",
    );
    let mut options = ServerOptions::new(&pki, 65, "unused");
    // As upstream's README writes it: one quoted argument, which OpenVPN splits into three.
    options.plugin_args = vec![format!("{ikey} {skey} api-abcdef12.duosecurity.com")];
    let server = options.start().unwrap();
    let ready = server.log_lines("duo-openvpn: duo-openvpn-plugin");
    assert_eq!(ready.len(), 1, "{}", server.log_text());
    assert!(ready[0].contains("configured by plugin arguments (upstream form)"));
    assert!(ready[0].contains("api-abcdef12.duosecurity.com"));
    // OpenVPN itself echoes plugin arguments at verb 3 (PLUGIN_INIT), secret included: we say
    // so, and never repeat it.
    assert!(
        server
            .log_lines("PLUGIN_INIT")
            .iter()
            .any(|l| l.contains(skey))
    );
    assert_eq!(
        server
            .log_lines("the secret key is on the plugin line")
            .len(),
        1
    );
    let ours: Vec<String> = server.log_lines("PLUGIN duo-openvpn:");
    assert!(ours.iter().all(|l| !l.contains(skey)), "{ours:?}");
}
