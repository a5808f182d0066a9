//! Non-interactive setup end to end with a real OpenVPN: `setup --yes --root SANDBOX` against
//! the Duo stand-in, then OpenVPN started from the sandbox's own `server.conf` (as its unit would:
//! that config, that working directory, dropping to nobody under Debian's task limit) lets a real
//! client in with password `push` and keeps a wrong passcode out; `uninstall --yes` then gives
//! back every byte.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Sandbox, text};
use duo_mock::{MOCK_IKEY, MOCK_SKEY, MockConfig, MockDuo};

/// OpenVPN run from a config file; killed on drop (log tail printed when the test fails).
struct OpenVpn {
    child: Child,
    log: std::path::PathBuf,
}

impl OpenVpn {
    fn start(conf: &std::path::Path, log: &std::path::Path) -> OpenVpn {
        let mut c = Command::new("prlimit");
        c.arg("--nproc=10:10")
            .arg("openvpn")
            .arg("--config")
            .arg(conf)
            .current_dir(conf.parent().unwrap())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut s = OpenVpn {
            child: c.spawn().expect("prlimit openvpn"),
            log: log.to_path_buf(),
        };
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            let l = std::fs::read_to_string(&s.log).unwrap_or_default();
            if l.contains("Initialization Sequence Completed") {
                return s;
            }
            if Instant::now() > end || matches!(s.child.try_wait(), Ok(Some(_))) {
                panic!("OpenVPN did not start from {}:\n{l}", conf.display());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for OpenVpn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- server log ---\n{}", testkit::tail(&self.log, 60));
        }
    }
}

#[test]
fn setup_yes_then_a_real_openvpn_lets_alice_in_and_uninstall_restores_every_byte() {
    if !testkit::e2e_enabled() {
        return;
    }
    let _turn = testkit::exclusive();
    let started = Instant::now();
    let work = testkit::workdir().unwrap();
    let pki = testkit::Pki::generate(work.path(), &["alice"]).unwrap();
    let mut opts = testkit::ServerOptions::new(&pki, 61, "/unused");
    opts.dir = work.path().to_path_buf();
    // No SIGHUP here: the host's /dev/net/tun is enough (testkit's private node is made by its own start).
    opts.private_tun_node = false;
    // The server config as an administrator has it: no Duo yet, and no reneg-sec.
    let server_conf: String = opts
        .config_text()
        .lines()
        .filter(|l| !l.starts_with("plugin ") && !l.starts_with("reneg-sec"))
        .map(|l| format!("{l}\n"))
        .collect();

    let s = Sandbox::new();
    common::write(
        &s.path("/etc/openvpn/server/server.conf"),
        server_conf.as_bytes(),
        0o644,
    );
    let before = s.tree();

    let mock = MockDuo::start(MockConfig::default()).unwrap();
    mock.set_push_delay(Duration::from_millis(200));
    let ca = s.inputs.path().join("mock-ca.pem");
    mock.write_ca(&ca).unwrap();
    let skey = s.skey_file(MOCK_SKEY);
    let so = testkit::plugin_so();
    let root = s.root().display().to_string();
    let t = Instant::now();
    let o = s.run(&[
        "setup",
        "--yes",
        "--root",
        &root,
        "--ikey",
        MOCK_IKEY,
        "--skey-file",
        &skey.display().to_string(),
        "--host",
        &mock.host(),
        "--ca-file",
        &ca.display().to_string(),
        "--plugin-so",
        &so.display().to_string(),
        "--client-config",
        "/home/alice/alice.ovpn",
        "--test-user",
        "alice",
    ]);
    let setup_secs = t.elapsed().as_secs_f64();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        s.calls()
            .contains("systemctl restart openvpn-server@server"),
        "{}",
        s.calls()
    );
    let edited = std::fs::read_to_string(s.path("/etc/openvpn/server/server.conf")).unwrap();
    assert!(
        edited.contains("reneg-sec 0") && edited.contains("libduo_openvpn_plugin.so"),
        "{edited}"
    );

    // What the unit would run: this very config, from its directory.
    let server = OpenVpn::start(&s.path("/etc/openvpn/server/server.conf"), &opts.log_path());
    let client = |password: &str| testkit::ClientOptions {
        dir: work.path().join(format!("clients-{password}")),
        ca: pki.ca.clone(),
        cert: Some(pki.client("alice")),
        server_port: opts.port,
        username: "alice".into(),
        password: password.into(),
        static_challenge: None,
        extra: Vec::new(),
    };
    let t = Instant::now();
    let mut alice = client("push").start().unwrap();
    let outcome = alice.wait_outcome(Duration::from_secs(40));
    assert!(outcome.is_connected(), "alice with `push`: {outcome:?}");
    let login_secs = t.elapsed().as_secs_f64();
    alice.stop();
    let mut wrong = client("000000").start().unwrap();
    let outcome = wrong.wait_outcome(Duration::from_secs(40));
    assert!(outcome.is_auth_failed(), "a wrong passcode: {outcome:?}");
    wrong.stop();
    drop(server);

    let o = s.run(&["uninstall", "--yes", "--root", &root]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        s.tree(),
        before,
        "uninstall must give back exactly what was there"
    );
    eprintln!(
        "setup --yes took {setup_secs:.1}s (test push included); alice's VPN login with push took {login_secs:.1}s; \
         whole test {:.1}s",
        started.elapsed().as_secs_f64()
    );
}
