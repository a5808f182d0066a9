//! `duo-openvpn test USER` as an administrator runs it: the real binary, a `duo.toml` pointing at
//! the Duo stand-in over HTTPS, and the exit codes scripts rely on.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use duo_mock::{MOCK_IKEY, MOCK_SKEY, MockConfig, MockDuo, users};

struct Fixture {
    dir: tempfile::TempDir,
    mock: MockDuo,
}

impl Fixture {
    fn new() -> Fixture {
        let mock = MockDuo::start(MockConfig {
            push_delay: Duration::from_millis(300),
            ..MockConfig::default()
        })
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        mock.write_ca(&dir.path().join("ca.pem")).unwrap();
        Fixture { dir, mock }
    }

    fn config(&self, name: &str, skey: &str, host: &str, timeout: u64) -> PathBuf {
        let path = self.dir.path().join(name);
        let ca = self.dir.path().join("ca.pem");
        std::fs::write(
            &path,
            format!(
                "[duo]\nikey = \"{MOCK_IKEY}\"\nskey = \"{skey}\"\nhost = \"{host}\"\nca_file = \"{}\"\ntimeout_secs = {timeout}\n",
                ca.display()
            ),
        )
        .unwrap();
        path
    }

    fn good(&self) -> PathBuf {
        self.config("duo.toml", MOCK_SKEY, &self.mock.host(), 20)
    }
}

fn run(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_duo-openvpn"))
        .arg("test")
        .args(args)
        .arg("--config")
        .arg(config)
        .env_remove("DUO_PASSCODE")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn approving_user_exits_0_after_the_push() {
    let f = Fixture::new();
    let o = run(&f.good(), &[users::APPROVES]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("needs a second factor"), "{out}");
    assert!(out.contains("ALLOWED: alice approved"), "{out}");
    // The push really went out and was polled.
    let paths: Vec<String> = f.mock.requests().iter().map(|r| r.path.clone()).collect();
    assert!(
        paths.iter().any(|p| p == "/auth/v2/auth_status"),
        "{paths:?}"
    );
}

#[test]
fn denying_user_exits_1() {
    let f = Fixture::new();
    let o = run(&f.good(), &[users::DENIES, "--factor", "push"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("DENIED: bob: Duo push denied"),
        "{}",
        text(&o)
    );
}

#[test]
fn not_enrolled_user_exits_1_and_shows_the_enrollment_link() {
    let f = Fixture::new();
    let o = run(&f.good(), &[users::ENROLL]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("not enrolled"), "{out}");
    assert!(out.contains("Enrollment link: https://"), "{out}");
}

#[test]
fn locked_out_and_bypass() {
    let f = Fixture::new();
    assert_eq!(run(&f.good(), &[users::LOCKED_OUT]).status.code(), Some(1));
    let o = run(&f.good(), &[users::BYPASS]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("bypasses Duo"));
}

#[test]
fn passcode_from_the_environment_is_valid_once() {
    let f = Fixture::new();
    let code = users::PASSCODES[3];
    let go = || {
        Command::new(env!("CARGO_BIN_EXE_duo-openvpn"))
            .args(["test", users::APPROVES, "--factor", "passcode", "--config"])
            .arg(f.good())
            .env("DUO_PASSCODE", code)
            .output()
            .unwrap()
    };
    let first = go();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let again = go();
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert!(
        text(&again).contains("Duo passcode not accepted"),
        "{}",
        text(&again)
    );
    assert!(!text(&first).contains(code) && !text(&again).contains(code));
}

#[test]
fn a_passcode_in_argv_is_refused_with_exit_2() {
    let f = Fixture::new();
    let o = run(&f.good(), &[users::APPROVES, "--factor", "123456"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!text(&o).contains("123456"));
    assert!(f.mock.requests().is_empty(), "nothing may be sent to Duo");
}

#[test]
fn wrong_secret_key_says_so_plainly_and_never_prints_it() {
    let f = Fixture::new();
    let wrong = "WrongSecretKeyWrongSecretKeyWrongSecret1";
    let o = run(
        &f.config("wrong.toml", wrong, &f.mock.host(), 20),
        &[users::APPROVES],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("Duo rejected the integration key or secret key"),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains(wrong) && !text(&o).contains(MOCK_SKEY));
}

#[test]
fn unreachable_host_exits_3() {
    let f = Fixture::new();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = run(
        &f.config("closed.toml", MOCK_SKEY, &format!("localhost:{port}"), 20),
        &[users::APPROVES],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("could not be reached"), "{}", text(&o));
}

#[test]
fn silent_host_exits_3_within_the_configured_timeout() {
    let f = Fixture::new();
    // Accepts the connection and never answers: only the whole-login deadline ends it.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = f.config("silent.toml", MOCK_SKEY, &format!("localhost:{port}"), 5);
    let started = Instant::now();
    let o = run(&config, &[users::APPROVES]);
    let took = started.elapsed();
    drop(listener);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        took < Duration::from_secs(15),
        "bounded by timeout_secs = 5, took {took:?}"
    );
}

#[test]
fn configuration_errors_exit_2_naming_file_line_and_key() {
    let f = Fixture::new();
    let path = f.dir.path().join("bad.toml");
    std::fs::write(&path, "[duo]\nikey = \"DI123\"\n").unwrap();
    let o = run(&path, &[users::APPROVES]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains(&format!("{}:2: duo.ikey", path.display())),
        "{}",
        text(&o)
    );
}
