//! OpenVPN 2.6 login flows with the real server and real clients: session tokens
//! (`auth-gen-token … external-auth`) across renegotiations.
//!
//! Needs root and /dev/net/tun; fails saying so unless `DUO_OPENVPN_SKIP_E2E=1`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use duo::{Failmode, UsernameFrom};
use duo_mock::{MockConfig, MockDuo, users};
use testkit::{ClientOptions, Pki, ServerOptions};

const WAIT: Duration = Duration::from_secs(30);

fn duo_toml(mock: &MockDuo, dir: &Path) -> PathBuf {
    duo_toml_with(mock, dir, false)
}

fn duo_toml_with(mock: &MockDuo, dir: &Path, autopush: bool) -> PathBuf {
    let mut duo = mock.settings(&dir.join("mock-ca.pem"));
    duo.failmode = Failmode::Secure;
    duo.autopush = autopush;
    let path = dir.join("duo.toml");
    testkit::write_duo_toml(
        &path,
        &duo::Config {
            duo,
            username_from: UsernameFrom::Username,
        },
    )
    .unwrap();
    path
}

/// `openvpn --genkey auth-token FILE`, readable by the server before it drops privileges.
fn token_secret(dir: &Path) -> PathBuf {
    let path = dir.join("auth-token.key");
    let status = std::process::Command::new("openvpn")
        .args(["--genkey", "auth-token"])
        .arg(&path)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "openvpn --genkey auth-token: {status}");
    path
}

/// A server renegotiating every 10 s with session tokens: the client stays connected through
/// several renegotiations, each answered by its token, and Duo is asked once.
#[test]
fn session_tokens_survive_renegotiations_with_one_duo_login() {
    if !testkit::e2e_enabled() {
        return;
    }
    let _turn = testkit::exclusive();
    let started = Instant::now();
    let dir = testkit::workdir().unwrap();
    let pki = Pki::generate(dir.path(), &[]).unwrap();
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    mock.set_push_delay(Duration::from_millis(300));
    let toml = duo_toml(&mock, dir.path());
    let secret = token_secret(dir.path());
    let mut options = ServerOptions::new(&pki, 66, toml);
    options.client_certs = false;
    options.extra = vec![
        // OpenVPN wants the renewal time (default: reneg-sec) at least twice hand-window.
        "auth-gen-token 3600 120 external-auth".into(),
        format!("auth-gen-token-secret \"{}\"", secret.display()),
        // Later lines win: this replaces the harness's `reneg-sec 0`.
        "reneg-sec 10".into(),
    ];
    let mut server = options.start().unwrap();

    let mut c = ClientOptions::new(&pki, &server, users::APPROVES, "push")
        .start()
        .unwrap();
    let o = c.wait_outcome(WAIT);
    assert!(o.is_connected(), "{o:?}");
    let renegotiations = 3;
    assert!(
        server.wait_for_log(
            "allowed: session token still valid",
            renegotiations,
            Duration::from_secs(12 * renegotiations as u64 + 10)
        ),
        "no {renegotiations} renegotiations answered by the token:\n{}",
        server.log_lines("duo-openvpn:").join("\n")
    );
    assert!(c.is_running(), "the client left:\n{}", c.log_text());
    assert!(!c.log_text().contains("AUTH_FAILED"), "{}", c.log_text());
    assert_eq!(
        mock.count("/auth/v2/auth"),
        1,
        "Duo asked more than once: {:?}",
        mock.requests()
    );
    let lines = server.log_lines("duo-openvpn: allowed");
    assert!(
        lines[0].contains("allowed: Duo push approved")
            || lines[0].contains("allowed: ") && lines[0].contains("factor push"),
        "{lines:?}"
    );
    let token_lines = server.log_lines("session token still valid");
    assert!(
        token_lines
            .iter()
            .all(|l| l.contains("user \"alice\" from 127.0.0.1, factor session token")),
        "{token_lines:?}"
    );
    assert!(
        !server.log_text().contains("SESS_ID_"),
        "a token in the log"
    );
    eprintln!(
        "session tokens: {} renegotiations without Duo in {:.1} s",
        token_lines.len(),
        started.elapsed().as_secs_f64()
    );
}

fn expect_connected(c: &mut testkit::Client, what: &str) {
    let o = c.wait_outcome(WAIT);
    assert!(o.is_connected(), "{what}: {o:?}");
}

fn expect_refused(c: &mut testkit::Client, reason: &str, within: Duration, what: &str) {
    match c.wait_outcome(within) {
        testkit::Outcome::AuthFailed(line) => assert!(
            line.contains(&format!("AUTH_FAILED,{reason}")),
            "{what}: expected the reason {reason:?} in {line:?}"
        ),
        o => panic!("{what}: expected AUTH_FAILED, got {o:?}"),
    }
}

/// CR_TEXT with real 2.6 clients driven through their management interface as OpenVPN GUI
/// drives them: asked, then push approved, push denied, a passcode; a typed `push` is not
/// asked; a client without crtext gets the automatic push; a user who never answers is
/// refused with a reason before OpenVPN's deadline.
#[test]
fn the_client_asks_for_the_second_factor() {
    if !testkit::e2e_enabled() {
        return;
    }
    let _turn = testkit::exclusive();
    let started = Instant::now();
    let dir = testkit::workdir().unwrap();
    let pki = Pki::generate(dir.path(), &[]).unwrap();
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    mock.set_push_delay(Duration::from_millis(500));
    let toml = duo_toml(&mock, dir.path());
    let mut options = ServerOptions::new(&pki, 67, toml);
    options.client_certs = false;
    let server = options.start().unwrap();
    let prompt = format!("CR_TEXT:R,E:{}", duo_openvpn_plugin::crtext::PROMPT);
    let passcode = users::PASSCODES[2];
    let asked = |user: &str, answer: Option<&str>| {
        testkit::CrTextClient::start(ClientOptions::new(&pki, &server, user, ""), answer).unwrap()
    };
    let hand_window = duo_openvpn_plugin::deadline::OPENVPN_HAND_WINDOW;

    std::thread::scope(|s| {
        s.spawn(|| {
            let mut c = asked(users::APPROVES, Some(""));
            expect_connected(&mut c.client, "asked, Enter: push approved");
            assert_eq!(c.prompts(), vec![prompt.clone()]);
        });
        s.spawn(|| {
            let mut c = asked(users::DENIES, Some(""));
            expect_refused(&mut c.client, "Duo push denied", WAIT, "asked, push denied");
            assert_eq!(c.prompts(), vec![prompt.clone()]);
        });
        s.spawn(|| {
            let mut c = asked("user21", Some(passcode));
            expect_connected(&mut c.client, "asked, a passcode");
        });
        s.spawn(|| {
            let mut c = testkit::CrTextClient::start(
                ClientOptions::new(&pki, &server, "user22", "push"),
                Some("123"),
            )
            .unwrap();
            expect_connected(&mut c.client, "typed push, crtext");
            assert!(c.prompts().is_empty(), "asked again: {:?}", c.prompts());
        });
        s.spawn(|| {
            let mut c = ClientOptions::new(&pki, &server, "user23", "")
                .start()
                .unwrap();
            expect_connected(&mut c, "no crtext, empty password: automatic push");
        });
        s.spawn(|| {
            let t = Instant::now();
            let mut c = asked("user24", None);
            expect_refused(
                &mut c.client,
                "No answer to the Duo prompt in time",
                hand_window + Duration::from_secs(10),
                "asked, never answered",
            );
            assert!(t.elapsed() < hand_window, "{:?}", t.elapsed());
            assert_eq!(c.prompts(), vec![prompt.clone()]);
        });
    });
    let via = server.log_lines("via CR_TEXT");
    assert_eq!(
        via.len(),
        4,
        "{}",
        server.log_lines("duo-openvpn:").join("\n")
    );
    assert_eq!(
        server
            .log_lines("duo-openvpn: allowed")
            .iter()
            .filter(|l| l.contains("factor passcode via CR_TEXT"))
            .count(),
        1
    );
    assert!(
        via.iter()
            .all(|l| l.contains("; client unknown, sso crtext")),
        "{via:?}"
    );
    assert!(
        !server.log_text().contains(passcode),
        "the passcode in the log"
    );
    eprintln!("CR_TEXT logins: {:.1} s", started.elapsed().as_secs_f64());
}

/// `autopush = true`: a client that could be asked is not; the push goes out at once.
#[test]
fn autopush_skips_the_prompt() {
    if !testkit::e2e_enabled() {
        return;
    }
    let _turn = testkit::exclusive();
    let dir = testkit::workdir().unwrap();
    let pki = Pki::generate(dir.path(), &[]).unwrap();
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    mock.set_push_delay(Duration::from_millis(300));
    let toml = duo_toml_with(&mock, dir.path(), true);
    let mut options = ServerOptions::new(&pki, 68, toml);
    options.client_certs = false;
    let server = options.start().unwrap();
    // It would never answer a prompt: it connects only if none is shown.
    let mut c =
        testkit::CrTextClient::start(ClientOptions::new(&pki, &server, users::APPROVES, ""), None)
            .unwrap();
    expect_connected(&mut c.client, "autopush");
    assert!(c.prompts().is_empty(), "{:?}", c.prompts());
    assert_eq!(
        server.log_lines("factor auto; ").len(),
        1,
        "{}",
        server.log_lines("duo-openvpn:").join("\n")
    );
}

/// A token past its lifetime is `Expired` at the next renegotiation: Duo is asked again (an
/// automatic push, never the token as a passcode) and the session goes on once approved.
#[test]
fn an_expired_session_token_asks_duo_again() {
    if !testkit::e2e_enabled() {
        return;
    }
    let _turn = testkit::exclusive();
    let dir = testkit::workdir().unwrap();
    let pki = Pki::generate(dir.path(), &[]).unwrap();
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    mock.set_push_delay(Duration::from_millis(300));
    let toml = duo_toml(&mock, dir.path());
    let secret = token_secret(dir.path());
    let mut options = ServerOptions::new(&pki, 69, toml);
    options.client_certs = false;
    options.extra = vec![
        "auth-gen-token 15 120 external-auth".into(),
        format!("auth-gen-token-secret \"{}\"", secret.display()),
        "reneg-sec 10".into(),
    ];
    let mut server = options.start().unwrap();
    let mut c = ClientOptions::new(&pki, &server, users::APPROVES, "push")
        .start()
        .unwrap();
    expect_connected(&mut c, "first login");
    assert!(
        server.wait_for_log("duo-openvpn: allowed: ", 3, Duration::from_secs(60)),
        "no second Duo login after the token expired:\n{}",
        server.log_lines("duo-openvpn:").join("\n")
    );
    let lines = server.log_lines("duo-openvpn: allowed");
    eprintln!("{}", lines.join("\n"));
    assert!(mock.count("/auth/v2/auth") >= 2, "{:?}", mock.requests());
    assert!(
        mock.requests()
            .iter()
            .filter(|r| r.path == "/auth/v2/auth")
            .all(|r| !r
                .params
                .iter()
                .any(|(k, v)| k == "factor" && v == "passcode")),
        "the token went to Duo as a passcode"
    );
    assert!(c.is_running(), "{}", c.log_text());
}

/// Verified Duo Push with the real 2.6 server and clients answering the CRV1 challenge as
/// OpenVPN GUI does: the code the stand-in issued is in the challenge the client received;
/// approved → connected (also after a CR_TEXT prompt answered with Enter), denied → refused,
/// a forged state id → refused; nothing of the code or the state id in the plugin's log lines.
#[test]
fn verified_push_shows_the_code_as_a_challenge() {
    if !testkit::e2e_enabled() {
        return;
    }
    let _turn = testkit::exclusive();
    let started = Instant::now();
    let dir = testkit::workdir().unwrap();
    let pki = Pki::generate(dir.path(), &[]).unwrap();
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    // Approved or denied a little after the code was shown: mostly while the client reconnects.
    mock.set_push_delay(Duration::from_secs(2));
    let mut duo = mock.settings(&dir.path().join("mock-ca.pem"));
    duo.verified_push = true;
    let toml = dir.path().join("duo.toml");
    testkit::write_duo_toml(
        &toml,
        &duo::Config {
            duo,
            username_from: UsernameFrom::Username,
        },
    )
    .unwrap();
    let mut options = ServerOptions::new(&pki, 70, toml);
    options.client_certs = false;
    // Two clients log in as victor at once (one forging its state id).
    options.duplicate_cn = true;
    let server = options.start().unwrap();
    let start = |user: &str, forged: Option<&str>| {
        testkit::Crv1Client::start(ClientOptions::new(&pki, &server, user, ""), forged).unwrap()
    };
    let wait = WAIT + Duration::from_secs(30);
    let forged = "0123456789abcdef0123456789abcdef";

    let challenges = std::thread::scope(|s| {
        let approved = s.spawn(|| {
            let mut c = start(users::VERIFIED_APPROVES, None);
            let o = c.wait_outcome(wait);
            assert!(o.is_connected(), "verified push approved: {o:?}");
            c.challenges()
        });
        let denied = s.spawn(|| {
            let mut c = start(users::VERIFIED_DENIES, None);
            match c.wait_outcome(wait) {
                testkit::Outcome::AuthFailed(l) => {
                    assert!(l.contains("AUTH_FAILED,Duo push denied"), "{l}")
                }
                o => panic!("verified push denied: {o:?}"),
            }
            c.challenges()
        });
        let via_crtext = s.spawn(|| {
            let mut c = testkit::Crv1Client::start_crtext(ClientOptions::new(
                &pki,
                &server,
                users::VERIFIED_APPROVES,
                "",
            ))
            .unwrap();
            let o = c.wait_outcome(wait);
            assert!(
                o.is_connected(),
                "CR_TEXT, Enter, then the challenge: {o:?}"
            );
            c.challenges()
        });
        let forging = s.spawn(|| {
            let mut c = start(users::VERIFIED_APPROVES, Some(forged));
            match c.wait_outcome(wait) {
                testkit::Outcome::AuthFailed(l) => assert!(
                    l.contains("AUTH_FAILED,Duo Verified Push not recognised"),
                    "{l}"
                ),
                o => panic!("a forged state id: {o:?}"),
            }
            c.challenges()
        });
        [approved, denied, via_crtext, forging].map(|h| h.join().unwrap())
    });
    let issued = mock.verification_codes();
    for (seen, user) in challenges.iter().zip([
        users::VERIFIED_APPROVES,
        users::VERIFIED_DENIES,
        users::VERIFIED_APPROVES,
        users::VERIFIED_APPROVES,
    ]) {
        assert_eq!(seen.len(), 1, "{user}: {seen:?}");
        let c = &seen[0];
        assert!(c.starts_with("CRV1:R,E:"), "{c}");
        let shown = issued.iter().filter(|(u, _)| u == user).any(|(_, code)| {
            c.ends_with(&format!(
                ":Duo Verified Push: enter {code} in Duo Mobile, then press Enter"
            ))
        });
        assert!(shown, "{user}: {c} does not carry a code of {issued:?}");
    }
    let lines = server.log_lines("duo-openvpn:");
    let all = lines.join("\n");
    let challenged = server.log_lines("challenged: Duo Verified Push");
    assert_eq!(challenged.len(), 4, "{all}");
    assert_eq!(
        challenged
            .iter()
            .filter(|l| l.contains("factor auto via CR_TEXT; ")
                && l.contains("; factor asked via CR_TEXT; client unknown, sso crtext"))
            .count(),
        1,
        "{all}"
    );
    let allowed = server.log_lines("duo-openvpn: allowed");
    assert_eq!(
        allowed
            .iter()
            .filter(|l| l.contains("factor verified push, answer via CRV1; ")
                && l.contains("; factor asked via CRV1; "))
            .count(),
        2,
        "{all}"
    );
    assert!(
        all.contains("denied: an unknown Verified Push state id"),
        "{all}"
    );
    for c in challenges.iter().flatten() {
        let id = c.split(':').nth(2).unwrap();
        assert!(!all.contains(id), "a state id in the log: {all}");
    }
    for (_, code) in &issued {
        assert!(
            !lines.iter().any(|l| l.contains(&format!("enter {code}"))),
            "a code in the log: {all}"
        );
    }
    eprintln!(
        "verified push logins: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
