//! The rendered post-auth script, run the way Access Server runs it (tests/harness), against the
//! Duo stand-in over real HTTPS with every signature checked. One line per scenario.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use access_server::{Proxy, RenderOptions, render_script};
use duo::Failmode;
use duo::config::Secret;
use duo::sign::Digest;
use duo_mock::{MOCK_IKEY, MOCK_SKEY, MockConfig, MockDuo, users};
use serde_json::{Value, json};

struct Env {
    dir: tempfile::TempDir,
    mock: MockDuo,
}

impl Env {
    fn new(test: &str) -> Option<Env> {
        if !common::python3_available(test) {
            return None;
        }
        let mock = MockDuo::start(MockConfig {
            push_delay: Duration::from_millis(300),
            ..MockConfig::default()
        })
        .expect("the Duo stand-in starts");
        Some(Env {
            dir: tempfile::tempdir().unwrap(),
            mock,
        })
    }

    /// Options pointing at the stand-in: its host, its CA (instead of the pinned roots), its keys.
    fn opts(&self) -> RenderOptions {
        let mut o = RenderOptions::new(MOCK_IKEY, Secret::new(MOCK_SKEY), self.mock.host());
        o.ca_pem = Some(self.mock.ca_pem());
        o.timeout_secs = 20;
        o
    }

    fn script(&self, name: &str, opts: &RenderOptions) -> PathBuf {
        let path = self.dir.path().join(format!("{name}.py"));
        std::fs::write(&path, render_script(opts)).unwrap();
        path
    }

    /// Run one login scenario and print its line.
    fn login(&self, name: &str, script: &Path, scenario: Value) -> Value {
        let mut sc = scenario;
        sc["script"] = json!(script);
        sc["mode"] = json!("login");
        let out = harness(&sc);
        let answers = sc["answers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|v| {
                        let s = v.as_str().unwrap_or("");
                        if s.chars().all(|c| c.is_ascii_digit()) && !s.is_empty() {
                            "<passcode>".to_string()
                        } else {
                            format!("{s:?}")
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        let secs: f64 = out["rounds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["seconds"].as_f64().unwrap())
            .sum();
        println!(
            "scenario {name:<40} user={:<6} answers=[{answers}] rounds={} -> {} | client: {} | log: {} ({secs:.1} s)",
            sc["username"].as_str().unwrap_or("alice"),
            out["rounds"].as_array().unwrap().len(),
            out["status"].as_str().unwrap(),
            out["client_reason"].as_str().unwrap_or("-"),
            out["reason"].as_str().unwrap_or("-"),
        );
        // Nothing secret ever reaches Access Server's log.
        let log = out["log"].to_string();
        assert!(
            !log.contains(MOCK_SKEY),
            "{name}: the secret key was logged: {log}"
        );
        for code in users::PASSCODES {
            assert!(!log.contains(code), "{name}: a passcode was logged: {log}");
        }
        out
    }

    /// Every request the stand-in saw was signed like Duo's clients sign (v2, HMAC-SHA512).
    fn assert_all_signed(&self) {
        let requests = self.mock.requests();
        assert!(!requests.is_empty());
        for r in &requests {
            assert!(
                r.signature_ok && r.sig_version == Some(2) && r.digest == Some(Digest::Sha512),
                "{r:?}"
            );
        }
    }

    fn requests_for(&self, user: &str) -> Vec<String> {
        self.mock
            .requests()
            .iter()
            .filter(|r| r.params.iter().any(|(k, v)| k == "username" && v == user))
            .map(|r| r.path.clone())
            .collect()
    }
}

fn harness(scenario: &Value) -> Value {
    let runner = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/harness/run_scenario.py");
    let out = Command::new("python3")
        .arg(&runner)
        .arg(scenario.to_string())
        .stdin(Stdio::null())
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "the harness failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "harness output is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn status(out: &Value) -> &str {
    out["status"].as_str().unwrap()
}

fn client_reason(out: &Value) -> &str {
    out["client_reason"].as_str().unwrap_or("")
}

fn reason(out: &Value) -> &str {
    out["reason"].as_str().unwrap_or("")
}

fn challenges(out: &Value) -> usize {
    out["challenges"].as_array().unwrap().len()
}

fn web() -> Value {
    json!({"vpn_auth": false, "log_service_name": "WEB_CLIENT"})
}

#[test]
fn challenge_and_response() {
    let Some(env) = Env::new("challenge_and_response") else {
        return;
    };
    let script = env.script("default", &env.opts());

    let out = env.login(
        "push approved",
        &script,
        json!({"username": users::APPROVES, "answers": ["push"]}),
    );
    assert_eq!(status(&out), "SUCCEED");
    assert_eq!(challenges(&out), 1);
    let prompt = out["challenges"][0]["text"].as_str().unwrap();
    assert!(
        prompt.contains("passcode") && prompt.contains("push") && prompt.contains("phone"),
        "{prompt}"
    );
    assert!(
        prompt.contains("push2"),
        "alice has two devices that push: {prompt}"
    );
    assert_eq!(out["challenges"][0]["echo"], true);
    assert_eq!(
        out["rounds"][0]["status"], "FAIL",
        "the challenge round is a CRV1 refusal"
    );
    assert!(
        out["rounds"][0]["client_reason"]
            .as_str()
            .unwrap()
            .starts_with("CRV1:R,E:")
    );
    assert_eq!(
        out["expired"], 1,
        "crstate is expired once the answer is used"
    );
    assert!(reason(&out).contains("allowed"), "{}", reason(&out));

    let out = env.login(
        "push denied",
        &script,
        json!({"username": users::DENIES, "answers": ["push"]}),
    );
    assert_eq!(status(&out), "FAIL");
    assert_eq!(client_reason(&out), "Duo push denied");
    assert_eq!(out["expired"], 1);

    let code = users::PASSCODES[0];
    let out = env.login(
        "one-time passcode",
        &script,
        json!({"username": users::APPROVES, "answers": [code]}),
    );
    assert_eq!(status(&out), "SUCCEED");
    let out = env.login(
        "the same passcode again",
        &script,
        json!({"username": users::APPROVES, "answers": [code]}),
    );
    assert_eq!(status(&out), "FAIL");
    assert_eq!(client_reason(&out), "Duo passcode refused");

    let out = env.login(
        "second device (push2)",
        &script,
        json!({"username": users::APPROVES, "answers": ["push2"]}),
    );
    assert_eq!(status(&out), "SUCCEED");
    let out = env.login(
        "third device that cannot push (push3)",
        &script,
        json!({"username": users::APPROVES, "answers": ["push3"]}),
    );
    assert_eq!(status(&out), "FAIL");
    assert_eq!(
        client_reason(&out),
        "push3 asks for device 3, but only 2 device(s) can push"
    );

    let out = env.login(
        "sms sends passcodes",
        &script,
        json!({"username": users::APPROVES, "answers": ["sms"]}),
    );
    assert_eq!(status(&out), "FAIL");
    assert_eq!(
        client_reason(&out),
        "Duo sent new SMS passcodes: log in again with one"
    );

    let out = env.login(
        "static challenge response",
        &script,
        json!({"username": users::APPROVES, "authcred": {"static_response": "push"}}),
    );
    assert_eq!(status(&out), "SUCCEED");
    assert_eq!(
        challenges(&out),
        0,
        "a static response needs no challenge round"
    );

    let out = env.login(
        "enroll (web: with the link)",
        &script,
        json!({"username": users::ENROLL, "attributes": web()}),
    );
    assert_eq!(status(&out), "FAIL");
    assert_eq!(challenges(&out), 0);
    let portal = format!("https://{}/portal?code=", env.mock.host());
    assert!(
        client_reason(&out).starts_with("Enroll in Duo first: "),
        "{}",
        client_reason(&out)
    );
    assert!(
        client_reason(&out).contains(&portal),
        "{}",
        client_reason(&out)
    );

    let out = env.login(
        "enroll (VPN: a sentence, no link)",
        &script,
        json!({"username": users::ENROLL}),
    );
    assert_eq!(status(&out), "FAIL");
    assert!(
        client_reason(&out).contains("not enrolled in Duo"),
        "{}",
        client_reason(&out)
    );
    assert!(
        !client_reason(&out).contains("http"),
        "{}",
        client_reason(&out)
    );

    let out = env.login("bypass", &script, json!({"username": users::BYPASS}));
    assert_eq!(status(&out), "SUCCEED");
    assert_eq!(challenges(&out), 0);

    let out = env.login(
        "locked out",
        &script,
        json!({"username": users::LOCKED_OUT}),
    );
    assert_eq!(status(&out), "FAIL");
    assert!(
        client_reason(&out).starts_with("Duo refused the login: "),
        "{}",
        client_reason(&out)
    );

    let out = env.login(
        "no devices: passcode only",
        &script,
        json!({"username": users::NO_DEVICES, "answers": [""]}),
    );
    assert_eq!(
        out["challenges"][0]["text"],
        "Duo two-factor login: enter a passcode"
    );
    assert_eq!(status(&out), "FAIL");
    assert!(
        client_reason(&out).contains("enter a passcode"),
        "{}",
        client_reason(&out)
    );

    // Nothing goes to Duo for these.
    let before = env.mock.requests().len();
    for method in ["session", "autologin"] {
        let out = env.login(
            &format!("{method} login skips Duo"),
            &script,
            json!({"username": users::DENIES, "info": {"auth_method": method}}),
        );
        assert_eq!(status(&out), "SUCCEED");
        assert_eq!(reason(&out), "primary auth", "authret untouched");
    }
    let out = env.login(
        "primary auth failed: no push",
        &script,
        json!({"username": users::APPROVES, "primary": "FAIL"}),
    );
    assert_eq!(status(&out), "FAIL");
    assert_eq!(reason(&out), "primary auth", "authret untouched");
    assert_eq!(env.mock.requests().len(), before);

    env.assert_all_signed();
}

#[test]
fn autopush_and_skipping_vpn_logins() {
    let Some(env) = Env::new("autopush_and_skipping_vpn_logins") else {
        return;
    };
    let mut o = env.opts();
    o.autopush = true;
    let autopush = env.script("autopush", &o);
    let out = env.login("auto-push", &autopush, json!({"username": users::APPROVES}));
    assert_eq!(status(&out), "SUCCEED");
    assert_eq!(challenges(&out), 0);
    assert_eq!(out["rounds"].as_array().unwrap().len(), 1);

    let out = env.login(
        "auto-push, user without devices",
        &autopush,
        json!({"username": users::NO_DEVICES}),
    );
    assert_eq!(status(&out), "FAIL");
    assert!(
        client_reason(&out).contains("none of your Duo devices can receive a push"),
        "{}",
        client_reason(&out)
    );
    assert_eq!(
        env.requests_for(users::NO_DEVICES),
        ["/auth/v2/preauth"],
        "no auth request is sent when nothing can push"
    );

    let out = env.login(
        "auto-push denied",
        &autopush,
        json!({"username": users::DENIES}),
    );
    assert_eq!(status(&out), "FAIL");
    assert_eq!(client_reason(&out), "Duo push denied");

    let mut o = env.opts();
    o.skip_duo_for_vpn = true;
    let web_only = env.script("web-only", &o);
    let before = env.requests_for(users::DENIES).len();
    let out = env.login(
        "skip Duo for VPN: VPN login",
        &web_only,
        json!({"username": users::DENIES}),
    );
    assert_eq!(status(&out), "SUCCEED");
    assert_eq!(
        env.requests_for(users::DENIES).len(),
        before,
        "nothing goes to Duo"
    );
    let out = env.login(
        "skip Duo for VPN: web login still asks",
        &web_only,
        json!({"username": users::APPROVES, "attributes": web(), "answers": ["push"]}),
    );
    assert_eq!(status(&out), "SUCCEED");
    assert_eq!(challenges(&out), 1);

    env.assert_all_signed();
}

#[test]
fn duo_unavailable_and_failmode() {
    let Some(env) = Env::new("duo_unavailable_and_failmode") else {
        return;
    };
    // A port nobody listens on.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    for (mode, want) in [(Failmode::Secure, "FAIL"), (Failmode::Safe, "SUCCEED")] {
        let mut o = env.opts();
        o.host = format!("localhost:{closed}");
        o.failmode = mode;
        let script = env.script(&format!("closed-{}", mode.as_str()), &o);
        let out = env.login(
            &format!("Duo unreachable, failmode {}", mode.as_str()),
            &script,
            json!({"username": users::APPROVES}),
        );
        assert_eq!(status(&out), want);
        if mode == Failmode::Safe {
            assert!(
                reason(&out).contains("allowed by failmode safe"),
                "{}",
                reason(&out)
            );
            assert!(out["log"].to_string().contains("failmode safe"));
        } else {
            assert_eq!(client_reason(&out), "Duo is unavailable");
        }
    }

    // HTTP 503 from Duo: failmode applies, before and after the challenge.
    for (mode, want) in [(Failmode::Secure, "FAIL"), (Failmode::Safe, "SUCCEED")] {
        let mut o = env.opts();
        o.failmode = mode;
        let script = env.script(&format!("outage-{}", mode.as_str()), &o);
        env.mock.set_outage(Some(503));
        let out = env.login(
            &format!("Duo answers 503, failmode {}", mode.as_str()),
            &script,
            json!({"username": users::APPROVES}),
        );
        env.mock.set_outage(None);
        assert_eq!(status(&out), want, "{}", reason(&out));
        assert!(reason(&out).contains("HTTP 503"), "{}", reason(&out));
    }

    // A definite refusal is never covered by failmode: wrong secret key under failmode safe.
    let mut o = env.opts();
    o.failmode = Failmode::Safe;
    o.skey = Secret::new("WrongSecretKey00000000000000000000000000");
    let wrong = env.script("wrong-skey", &o);
    let out = env.login(
        "wrong secret key, failmode safe",
        &wrong,
        json!({"username": users::APPROVES}),
    );
    assert_eq!(status(&out), "FAIL");
    assert!(
        reason(&out).contains("rejected the integration key or secret key"),
        "{}",
        reason(&out)
    );

    // Duo's pinned roots do not trust the stand-in's certificate: TLS refuses, nothing is sent.
    let mut o = env.opts();
    o.ca_pem = None;
    let pinned = env.script("pinned", &o);
    let out = env.login(
        "pinned roots refuse an unknown certificate",
        &pinned,
        json!({"username": users::APPROVES}),
    );
    assert_eq!(status(&out), "FAIL");
    assert!(
        reason(&out).to_ascii_lowercase().contains("certificate"),
        "{}",
        reason(&out)
    );

    // Nobody answers the push: the login ends at the timeout, as a denial.
    let mut o = env.opts();
    o.timeout_secs = 2;
    o.failmode = Failmode::Safe;
    let short = env.script("short-timeout", &o);
    let out = env.login(
        "nobody answers, bounded by the timeout",
        &short,
        json!({"username": users::NEVER_ANSWERS, "answers": ["push"]}),
    );
    assert_eq!(status(&out), "FAIL");
    assert_eq!(client_reason(&out), "Duo login timed out: nobody answered");
    let secs = out["rounds"][1]["seconds"].as_f64().unwrap();
    assert!((1.5..6.0).contains(&secs), "{secs}");

    let signed: Vec<_> = env
        .mock
        .requests()
        .into_iter()
        .filter(|r| r.status != 401 && r.status != 503)
        .collect();
    assert!(signed.iter().all(|r| r.signature_ok), "{signed:?}");
}

/// Kills the proxy it holds when dropped (the test started it).
struct ProxyProcess(Child);

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn through_a_connect_proxy() {
    let Some(env) = Env::new("through_a_connect_proxy") else {
        return;
    };
    let log = env.dir.path().join("proxy.log");
    let mut child = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/harness/connect_proxy.py"))
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the test proxy starts");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let _proxy = ProxyProcess(child);
    let port: u16 = line.trim().parse().expect("the proxy prints its port");

    let mut o = env.opts();
    o.proxy = Some(Proxy::parse(&format!("http://user:pw@127.0.0.1:{port}")).unwrap());
    let script = env.script("proxied", &o);
    let out = env.login(
        "push through a CONNECT proxy",
        &script,
        json!({"username": users::APPROVES, "answers": ["push"]}),
    );
    assert_eq!(status(&out), "SUCCEED", "{}", reason(&out));
    let entries: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        entries.len() >= 3,
        "preauth, auth and auth_status go through the proxy"
    );
    for e in &entries {
        // The tunnel goes to the Duo host; TLS inside it checks the Duo host's name.
        assert_eq!(e["method"], "CONNECT");
        assert_eq!(e["target"], env.mock.host());
        assert_eq!(e["proxy_authorization"], "Basic dXNlcjpwdw==");
    }
    env.assert_all_signed();
}

#[test]
fn signing_trust_and_safe_rendering() {
    if !common::python3_available("signing_trust_and_safe_rendering") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, o: &RenderOptions| {
        let p = dir.path().join(name);
        std::fs::write(&p, render_script(o)).unwrap();
        p
    };

    // Vector A of the reference, as Duo's own client signs it.
    let o = RenderOptions::new(
        "DIWJ8X6AEYOR5OMC6TQ1",
        Secret::new("Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep"),
        "api-XXXXXXXX.duosecurity.com",
    );
    let p = write("vectors.py", &o);
    let date = "Tue, 21 Aug 2012 17:29:18 -0000";
    let out = harness(&json!({"script": p, "mode": "sign", "sign": {
        "method": "POST", "path": "/auth/v2/preauth", "date": date,
        "params": {"username": "alice smith", "ipaddr": "203.0.113.7"}}}));
    assert_eq!(
        out["canon_params"],
        "ipaddr=203.0.113.7&username=alice%20smith"
    );
    let want = duo::sign::authorization(
        "DIWJ8X6AEYOR5OMC6TQ1",
        "Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep",
        &format!(
            "{date}\nPOST\napi-xxxxxxxx.duosecurity.com\n/auth/v2/preauth\nipaddr=203.0.113.7&username=alice%20smith"
        ),
        Digest::Sha512,
    );
    assert_eq!(out["authorization"], want);
    assert_eq!(
        duo::sign::parse_authorization(&want).unwrap().1,
        "e0687c85ebc8e0ea001ef602c80f1205e6a56227d2287e8323f8c7cfa5333697f43c02b13662b11ddc276d6172efc2080bd5ba212d2d9c5b43c8409969b4f3bc"
    );
    let out = harness(&json!({"script": p, "mode": "sign", "sign": {
        "method": "GET", "path": "/auth/v2/auth_status", "date": date,
        "params": {"txid": "45f7c92b-f45f-4862-8545-e0f58e78075a"}}}));
    assert_eq!(
        duo::sign::parse_authorization(out["authorization"].as_str().unwrap())
            .unwrap()
            .1,
        "b87b1075bc61e5c3393b5d14fc5ed0f9c8792ee90071ce76987ba519b0ff6f75776406fe25c6a0b2206a0ad3b9f1276d67ad416ae7a4a6f43dcef4cddf366df4"
    );
    println!("scenario signing vectors A and D                 -> match Duo's reference client");

    // The default trust: exactly the 15 roots Duo pins, host names checked.
    let out = harness(&json!({"script": p, "mode": "tls"}));
    assert_eq!(out["ca_certs"], 15);
    assert_eq!(out["check_hostname"], true);
    assert_eq!(out["verify_mode"], 2);
    println!(
        "scenario pinned roots                            -> 15 CA certificates, hostname checked"
    );

    // Hostile values stay data.
    let mut o = RenderOptions::new(
        "DI\"; import os; os.system('touch /tmp/pwned'); x = \"",
        Secret::new("\"\"\"\n{{SKEY}}\\'''\r\u{0}\u{2028}é😀"),
        "api-x.duosecurity.com\nimport os",
    );
    o.proxy = Some(Proxy {
        host: "p\"roxy".into(),
        port: 3128,
        credentials: Some(Secret::new("u:p\"\n")),
    });
    let mock_like = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    o.ca_pem = Some(format!("\"\"\"\nimport os\n{mock_like}'''\n{mock_like}"));
    let p = write("hostile.py", &o);
    let out = harness(&json!({"script": p, "mode": "values"}));
    assert_eq!(out["IKEY"], o.ikey);
    assert_eq!(out["SKEY"], o.skey.expose());
    assert_eq!(out["HOST"], o.host);
    assert_eq!(out["PROXY_HOST"], "p\"roxy");
    assert_eq!(out["PROXY_PORT"], 3128);
    assert_eq!(out["CA_CERTS"], format!("{mock_like}\n{mock_like}"));
    assert_eq!(out["SYNCHRONOUS"], false);
    assert_eq!(out["FAILMODE"], "secure");
    assert_eq!(out["TIMEOUT"], 60);
    assert_eq!(out["log"], json!([]), "loading the script prints nothing");
    assert!(!Path::new("/tmp/pwned").exists());
    println!("scenario hostile values                          -> kept as data");
}

#[test]
fn user_names_cannot_forge_log_lines() {
    let Some(env) = Env::new("user_names_cannot_forge_log_lines") else {
        return;
    };
    let script = env.script("default", &env.opts());
    // A name that, printed raw, ends our line and writes one saying alice got in.
    let forged = "mallory\nduo-openvpn: alice: allowed (bypass)\r\x1b[2K\u{85}\0";
    let check = |name: &str, out: &Value| {
        let log: Vec<&str> = out["log"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        assert!(!log.is_empty(), "{name}: nothing logged");
        for line in &log {
            assert!(
                line.starts_with(
                    "duo-openvpn: mallory?duo-openvpn: alice: allowed (bypass)??[2K??: "
                ),
                "{name}: a line not about mallory, or the name unescaped: {line:?} in {log:#?}"
            );
        }
        let reason = reason(out);
        assert!(!reason.chars().any(char::is_control), "{name}: {reason:?}");
    };
    // Not enrolled (the stand-in enrolls nobody by that name): preauth, refused.
    let out = env.login(
        "forged name, first round",
        &script,
        json!({"username": forged}),
    );
    assert_eq!(status(&out), "FAIL");
    check("first round", &out);
    // A session-token login is logged without asking Duo.
    let out = env.login(
        "forged name, session login",
        &script,
        json!({"username": forged, "info": {"auth_method": "session"}}),
    );
    assert_eq!(status(&out), "SUCCEED");
    check("session login", &out);
}
