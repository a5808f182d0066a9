//! `setup --yes --target access-server` and `uninstall --yes` against a fake `sacli` (the
//! access-server crate's) in a sandbox root, with the Duo stand-in.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::text;
use duo_mock::{MOCK_IKEY, MOCK_SKEY, MockConfig, MockDuo};

const KEY: &str = "auth.module.post_auth_script";

struct AsSandbox {
    dir: tempfile::TempDir,
    inputs: tempfile::TempDir,
}

impl AsSandbox {
    fn new(config: &[(&str, &str)]) -> AsSandbox {
        let s = AsSandbox {
            dir: tempfile::tempdir().unwrap(),
            inputs: tempfile::tempdir().unwrap(),
        };
        common::install_sacli(s.dir.path());
        std::fs::create_dir_all(s.dir.path().join("usr/local/openvpn_as/etc")).unwrap();
        let db: BTreeMap<&str, &str> = config.iter().copied().collect();
        std::fs::write(s.db_path(), serde_json::to_string_pretty(&db).unwrap()).unwrap();
        s
    }

    fn db_path(&self) -> PathBuf {
        self.dir
            .path()
            .join("usr/local/openvpn_as/etc/fake-config.json")
    }

    fn db(&self) -> BTreeMap<String, String> {
        serde_json::from_str(&std::fs::read_to_string(self.db_path()).unwrap()).unwrap()
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new(common::BIN)
            .args(args)
            .env_remove("DUO_SKEY")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn setup_args(&self, mock: &MockDuo) -> Vec<String> {
        let ca = self.inputs.path().join("ca.pem");
        mock.write_ca(&ca).unwrap();
        let skey = self.inputs.path().join("skey");
        std::fs::write(&skey, MOCK_SKEY).unwrap();
        [
            "setup",
            "--yes",
            "--target",
            "access-server",
            "--root",
            &self.dir.path().display().to_string(),
            "--ikey",
            MOCK_IKEY,
            "--skey-file",
            &skey.display().to_string(),
            "--host",
            &mock.host(),
            "--ca-file",
            &ca.display().to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn access_server_setup_test_push_and_uninstall() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    mock.set_push_delay(std::time::Duration::from_millis(100));
    let s = AsSandbox::new(&[("vpn.server.google_auth.enable", "true")]);
    let before = s.db();
    let root = s.dir.path().display().to_string();

    // Missing answers are all named.
    let o = s.run(&[
        "setup",
        "--yes",
        "--target",
        "access-server",
        "--root",
        &root,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--ikey") && err.contains("--skey-file") && err.contains("--host"),
        "{}",
        text(&o)
    );

    // Dry run: the plan, no change.
    let mut args = s.setup_args(&mock);
    args.push("--dry-run".into());
    let o = s.run(&strs(&args));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("ConfigPut"),
        "{}",
        text(&o)
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("TOTP"),
        "the TOTP warning: {}",
        text(&o)
    );
    assert_eq!(s.db(), before);

    let mut args = s.setup_args(&mock);
    args.extend(["--test-user".into(), "alice".into()]);
    let o = s.run(&strs(&args));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("test push: ALLOWED"),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains(MOCK_SKEY));
    let script = s
        .db()
        .get(KEY)
        .cloned()
        .expect("the post-auth script is installed");
    assert!(script.contains(MOCK_IKEY));
    let o = s.run(&["status", "--root", &root]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("our post-auth script is installed"),
        "{}",
        text(&o)
    );
    let manifest =
        std::fs::read_to_string(s.dir.path().join("var/lib/duo-openvpn/manifest.json")).unwrap();
    assert!(
        manifest.contains("access_server") && !manifest.contains(MOCK_SKEY),
        "{manifest}"
    );

    let o = s.run(&["uninstall", "--yes", "--root", &root]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(s.db(), before);
    assert!(!s.dir.path().join("var/lib/duo-openvpn").exists());
}

#[test]
fn another_post_auth_script_needs_consent_and_comes_back() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let theirs = "# their own script\nfrom pyovpn.plugin import *\n";
    let s = AsSandbox::new(&[(KEY, theirs)]);
    let root = s.dir.path().display().to_string();
    let o = s.run(&strs(&s.setup_args(&mock)));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--replace-post-auth-script"),
        "{}",
        text(&o)
    );
    assert_eq!(s.db().get(KEY).map(String::as_str), Some(theirs));

    let mut args = s.setup_args(&mock);
    args.push("--replace-post-auth-script".into());
    let o = s.run(&strs(&args));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_ne!(s.db().get(KEY).map(String::as_str), Some(theirs));
    let o = s.run(&["uninstall", "--yes", "--root", &root]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(s.db().get(KEY).map(String::as_str), Some(theirs));
}

#[test]
fn autopush_and_skip_duo_for_vpn_reach_the_loaded_script() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let s = AsSandbox::new(&[]);
    let loaded = |extra: &[&str]| {
        let mut args = s.setup_args(&mock);
        args.extend(extra.iter().map(|a| a.to_string()));
        let o = s.run(&strs(&args));
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        s.db().get(KEY).cloned().expect("our script is loaded")
    };
    let plain = loaded(&[]);
    assert!(plain.contains("\nAUTOPUSH = False") && plain.contains("\nSKIP_DUO_FOR_VPN = False"));
    let script = loaded(&["--autopush", "--skip-duo-for-vpn"]);
    assert!(script.contains("\nAUTOPUSH = True"), "AUTOPUSH not set");
    assert!(
        script.contains("\nSKIP_DUO_FOR_VPN = True"),
        "SKIP_DUO_FOR_VPN not set"
    );
}

/// The live test runs the script Access Server has loaded (read back from its database), with
/// python3 from the injected PATH: a refusal is reported as one with exit code 1, a web-only
/// install is tried as a web login (so Duo is really asked), and neither the script (it holds
/// the secret key) nor the answer reaches python's argv or environment.
#[test]
fn the_live_test_runs_the_loaded_script_and_hands_python_no_secret_in_argv_or_env() {
    let real = Command::new("sh")
        .args(["-c", "command -v python3"])
        .output()
        .unwrap();
    let real = String::from_utf8_lossy(&real.stdout).trim().to_string();
    assert!(!real.is_empty(), "python3 is needed for this test");
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    mock.set_push_delay(std::time::Duration::from_millis(50));
    let s = AsSandbox::new(&[]);
    let bin = s.inputs.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = s.inputs.path().join("python.log");
    let wrapper = bin.join("python3");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nprintf 'argv: %s\\n' \"$*\" >> '{log}'\nenv >> '{log}'\nexec '{real}' \"$@\"\n",
            log = log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let run = |extra: &[&str]| {
        let mut args = s.setup_args(&mock);
        args.extend(extra.iter().map(|a| a.to_string()));
        Command::new(common::BIN)
            .args(&args)
            .env("PATH", &path)
            .env("DUO_PASSCODE", "31337042")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };

    let o = run(&["--test-user", duo_mock::users::DENIES]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("test push: REFUSED"), "{out}");
    assert!(out.contains("challenge shown to the user"), "{out}");
    let recorded = std::fs::read_to_string(&log).expect("python3 from PATH ran");
    assert!(recorded.contains("argv: -I -c"), "{recorded}");
    assert!(
        !recorded.contains(MOCK_SKEY),
        "the secret key reached python's argv or env"
    );
    assert!(
        !recorded.contains("31337042"),
        "DUO_PASSCODE reached python's env"
    );

    let before = mock.count("/auth/v2/auth");
    let o = run(&[
        "--skip-duo-for-vpn",
        "--test-user",
        duo_mock::users::APPROVES,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("a web login for alice"), "{}", text(&o));
    assert!(
        mock.count("/auth/v2/auth") > before,
        "the web-only script was tried without asking Duo"
    );
}

#[test]
fn verified_push_is_refused_on_access_server_rather_than_ignored() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let s = AsSandbox::new(&[]);
    let before = s.db();
    let mut args = s.setup_args(&mock);
    args.push("--verified-push".into());
    let o = s.run(&strs(&args));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--verified-push"), "{}", text(&o));
    assert_eq!(s.db(), before);
}
