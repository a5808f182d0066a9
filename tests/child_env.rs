//! The secret key (`DUO_SKEY`) and a passcode (`DUO_PASSCODE`) in the tool's environment never
//! reach a child process: the real binary runs setup, status and uninstall with recording fakes
//! of `systemctl`, `openvpn`, `journalctl` and Access Server's `sacli` that write down the
//! environment they were given.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{Sandbox, text};
use duo_mock::{MOCK_IKEY, MOCK_SKEY, MockConfig, MockDuo};

const PASSCODE: &str = "918273";
/// Set next to the secrets, to show the fakes do record what they are given.
const CANARY: &str = "DUO_OPENVPN_TEST_CANARY";

/// Replace `exe` with a shell script that appends its environment to `log`, then runs the
/// original (moved to `exe.real`).
fn record_env(exe: &Path, log: &Path) {
    let real = exe.with_extension("real");
    std::fs::rename(exe, &real).unwrap();
    let script = format!(
        "#!/bin/sh\n{{ echo \"--- $0 $*\"; env; }} >> '{}'\nexec '{}' \"$@\"\n",
        log.display(),
        real.display()
    );
    common::write(exe, script.as_bytes(), 0o755);
}

/// Every environment recorded: none holds a secret variable or the secret's value.
fn assert_no_secret(log: &Path, programs: &[&str]) {
    let env = std::fs::read_to_string(log).unwrap_or_default();
    for p in programs {
        assert!(
            env.contains(&format!("/{p} ")) || env.contains(&format!("/{p}\n")),
            "{p} was not run (or not recorded):\n{env}"
        );
    }
    assert!(
        env.contains(&format!("{CANARY}=1")),
        "the fakes recorded no environment:\n{env}"
    );
    for bad in ["DUO_SKEY", "DUO_PASSCODE", MOCK_SKEY, PASSCODE] {
        assert!(
            !env.contains(bad),
            "{bad} reached a child process's environment:\n{env}"
        );
    }
}

#[test]
fn community_setup_status_and_uninstall_pass_no_secret_to_children() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let s = Sandbox::new();
    let log = s.inputs.path().join("child-env.log");
    for prog in ["systemctl", "openvpn", "journalctl"] {
        record_env(&s.bin.path().join(prog), &log);
    }
    let ca = s.inputs.path().join("mock-ca.pem");
    mock.write_ca(&ca).unwrap();
    let root = s.root().display().to_string();
    let plugin = s.fake_plugin().display().to_string();
    let ca = ca.display().to_string();
    let host = mock.host();
    let run = |args: &[&str]| {
        let o = s
            .cmd(args)
            .env("DUO_SKEY", MOCK_SKEY)
            .env("DUO_PASSCODE", PASSCODE)
            .env(CANARY, "1")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o));
        o
    };
    run(&[
        "setup",
        "--yes",
        "--root",
        &root,
        "--ikey",
        MOCK_IKEY,
        "--host",
        &host,
        "--ca-file",
        &ca,
        "--plugin-so",
        &plugin,
        "--client-config",
        "/home/alice/alice.ovpn",
    ]);
    assert_no_secret(&log, &["systemctl", "openvpn"]);
    run(&["status", "--root", &root]);
    run(&["uninstall", "--yes", "--root", &root]);
    assert_no_secret(&log, &["systemctl", "openvpn"]);
}

#[test]
fn access_server_setup_status_and_uninstall_pass_no_secret_to_sacli() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let inputs = tempfile::tempdir().unwrap();
    let sacli = common::install_sacli(dir.path());
    std::fs::create_dir_all(dir.path().join("usr/local/openvpn_as/etc")).unwrap();
    let log: PathBuf = inputs.path().join("child-env.log");
    record_env(&sacli, &log);
    let ca = inputs.path().join("ca.pem");
    mock.write_ca(&ca).unwrap();
    let root = dir.path().display().to_string();
    let run = |args: &[&str]| {
        let o = Command::new(common::BIN)
            .args(args)
            .env("DUO_SKEY", MOCK_SKEY)
            .env("DUO_PASSCODE", PASSCODE)
            .env(CANARY, "1")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o));
    };
    run(&[
        "setup",
        "--yes",
        "--target",
        "access-server",
        "--root",
        &root,
        "--ikey",
        MOCK_IKEY,
        "--host",
        &mock.host(),
        "--ca-file",
        &ca.display().to_string(),
    ]);
    assert_no_secret(&log, &["sacli"]);
    run(&["status", "--root", &root]);
    run(&["uninstall", "--yes", "--root", &root]);
    let env = std::fs::read_to_string(&log).unwrap();
    assert!(
        env.contains("ConfigDel"),
        "uninstall did not run sacli:\n{env}"
    );
    assert_no_secret(&log, &["sacli"]);
}
