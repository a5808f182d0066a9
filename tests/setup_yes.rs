//! `setup --yes`, `--dry-run`, `uninstall --yes` and `status` of the real binary, in sandboxes,
//! against the Duo stand-in, without a terminal.

mod common;

use common::{Sandbox, text};
use duo_mock::{MOCK_IKEY, MOCK_SKEY, MockConfig, MockDuo};

fn base_args(s: &Sandbox, mock: &MockDuo) -> Vec<String> {
    s.setup_args(mock, &["/home/alice/alice.ovpn", "/root/bob.ovpn"])
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn missing_answers_without_a_terminal_exit_2_naming_every_one() {
    let s = Sandbox::new();
    let before = s.tree();
    let root = s.root().display().to_string();
    let o = s.run(&["setup", "--root", &root]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    for flag in ["--ikey", "--skey-file", "--host"] {
        assert!(err.contains(flag), "{flag} not named:\n{}", text(&o));
    }
    assert!(err.contains("no terminal"), "{}", text(&o));
    // --yes: the same list.
    let o = s.run(&["setup", "--yes", "--root", &root, "--ikey", MOCK_IKEY]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--skey-file") && err.contains("--host") && !err.contains("--ikey"),
        "{}",
        text(&o)
    );
    assert_eq!(s.tree(), before, "nothing may change");
}

#[test]
fn invalid_values_are_named_and_the_secret_never_echoed() {
    let s = Sandbox::new();
    let root = s.root().display().to_string();
    let skey = s.skey_file("tooshort-secret-value");
    let o = s.run(&[
        "setup",
        "--yes",
        "--root",
        &root,
        "--ikey",
        "DIBAD",
        "--skey-file",
        &skey.display().to_string(),
        "--host",
        "https://x/",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let all = text(&o);
    assert!(
        all.contains("--ikey") && all.contains("--skey-file") && all.contains("--host"),
        "{all}"
    );
    assert!(!all.contains("tooshort-secret-value"), "{all}");
}

#[test]
fn dry_run_changes_no_byte() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let s = Sandbox::new();
    let mut args = base_args(&s, &mock);
    args.push("--dry-run".into());
    let before = s.tree();
    let o = s.run(&strs(&args));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("+++ b/etc/openvpn/server/server.conf"),
        "{out}"
    );
    assert!(
        out.contains("+reneg-sec 0") && out.contains("-auth-retry nointeract"),
        "{out}"
    );
    assert_eq!(s.tree(), before);
    assert!(!s.calls().contains("restart"), "{}", s.calls());
}

#[test]
fn setup_is_idempotent_and_uninstall_restores_every_byte() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    mock.set_push_delay(std::time::Duration::from_millis(100));
    let s = Sandbox::new();
    // A hand-window shorter than setup's: replaced, and uninstall must bring it back.
    let bob = s.path("/root/bob.ovpn");
    let mut profile = std::fs::read_to_string(&bob).unwrap();
    profile.push_str("hand-window 30 # bob's\n");
    common::write(&bob, profile.as_bytes(), 0o600);
    let before = s.tree();
    let mut args = base_args(&s, &mock);
    args.extend(["--test-user".into(), "alice".into()]);

    let o = s.run(&strs(&args));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("test push: ALLOWED"), "{out}");
    let conf = std::fs::read_to_string(s.path("/etc/openvpn/server/server.conf")).unwrap();
    let plugin_line = format!(
        "plugin {}/usr/lib/duo-openvpn/libduo_openvpn_plugin.so '{}/etc/duo-openvpn/duo.toml'",
        s.root().display(),
        s.root().display()
    );
    assert!(conf.contains(&plugin_line), "{conf}");
    // The server, each profile and duo.toml carry the same hand-window.
    assert!(conf.contains("\nhand-window 75\n"), "{conf}");
    let alice = std::fs::read_to_string(s.path("/home/alice/alice.ovpn")).unwrap();
    assert!(alice.contains("\nhand-window 75\n"), "{alice}");
    let bob_after = std::fs::read_to_string(&bob).unwrap();
    assert!(
        bob_after.contains("\nhand-window 75 # bob's\n"),
        "{bob_after}"
    );
    assert!(!bob_after.contains("hand-window 30"), "{bob_after}");
    let toml = std::fs::read_to_string(s.path("/etc/duo-openvpn/duo.toml")).unwrap();
    assert!(toml.contains("\nhand_window_secs = 75\n"), "{toml}");
    assert!(
        toml.contains(&format!(
            "ca_file = \"{}/etc/duo-openvpn/ca.pem\"",
            s.root().display()
        )),
        "{toml}"
    );
    use std::os::unix::fs::MetadataExt;
    let md = std::fs::metadata(s.path("/etc/duo-openvpn/duo.toml")).unwrap();
    assert_eq!(md.mode() & 0o777, 0o640);
    if unsafe { libc_geteuid() } == 0 {
        assert_eq!(md.uid(), 0);
    }
    assert!(
        s.calls()
            .contains("systemctl restart openvpn-server@server"),
        "{}",
        s.calls()
    );
    assert!(
        !text(&o).contains(MOCK_SKEY),
        "the secret leaked into the output"
    );

    // Twice: nothing changes the second time.
    let after_first = s.tree();
    let o = s.run(&strs(&args));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("Already set up"),
        "{}",
        text(&o)
    );
    assert_eq!(s.tree(), after_first);

    // status: healthy.
    let root = s.root().display().to_string();
    let o = s.run(&["status", "--root", &root, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["healthy"], true, "{v}");

    // uninstall: without --yes and without a terminal it refuses; with --yes every byte is back.
    let o = s.run(&["uninstall", "--root", &root]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = s.run(&["uninstall", "--root", &root, "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("restored byte for byte"),
        "{}",
        text(&o)
    );
    assert_eq!(
        s.tree(),
        before,
        "uninstall must give back exactly what was there"
    );

    // status now: not set up (exit 2).
    let o = s.run(&["status", "--root", &root]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn uninstall_keeps_the_admins_later_edits() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let s = Sandbox::new();
    let args = base_args(&s, &mock);
    let o = s.run(&strs(&args));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let conf = s.path("/etc/openvpn/server/server.conf");
    let edited = std::fs::read_to_string(&conf)
        .unwrap()
        .replace("verb 3\n", "verb 4\n# added by the admin\n");
    std::fs::write(&conf, &edited).unwrap();
    let root = s.root().display().to_string();
    let o = s.run(&["uninstall", "--root", &root, "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("our changes undone, later edits kept"),
        "{}",
        text(&o)
    );
    let now = std::fs::read_to_string(&conf).unwrap();
    let original = std::fs::read_to_string(format!("{}/server.conf", common::ASSETS)).unwrap();
    assert_eq!(
        now,
        original.replace("verb 3\n", "verb 4\n# added by the admin\n")
    );
    assert!(!s.path("/etc/duo-openvpn").exists() && !s.path("/var/lib/duo-openvpn").exists());
}

#[test]
fn refused_test_push_exits_1_after_the_changes() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    mock.set_push_delay(std::time::Duration::from_millis(100));
    let s = Sandbox::new();
    let mut args = base_args(&s, &mock);
    args.extend(["--test-user".into(), "bob".into(), "--no-restart".into()]);
    let o = s.run(&strs(&args));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("REFUSED"),
        "{}",
        text(&o)
    );
    assert!(s.path("/var/lib/duo-openvpn/manifest.json").exists());
    assert!(
        !s.calls().contains("restart"),
        "--no-restart: {}",
        s.calls()
    );
}

#[test]
fn refused_credentials_change_nothing() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let s = Sandbox::new();
    let before = s.tree();
    let mut args = base_args(&s, &mock);
    let skey = s.skey_file("WrongSecretKey00000000000000000000000000");
    let i = args.iter().position(|a| a == "--skey-file").unwrap();
    args[i + 1] = skey.display().to_string();
    let o = s.run(&strs(&args));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("Nothing was changed"),
        "{}",
        text(&o)
    );
    assert_eq!(s.tree(), before);
}

#[test]
fn demo_yes_runs_without_a_terminal() {
    let o = std::process::Command::new(common::BIN)
        .args(["setup", "--demo", "--yes"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("test push: ALLOWED: alice approved"), "{out}");
    let dir = out
        .lines()
        .find_map(|l| l.strip_prefix("The demo sandbox is kept at "))
        .unwrap()
        .trim()
        .to_string();
    let o = std::process::Command::new(common::BIN)
        .args(["uninstall", "--yes", "--root", &dir])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn neither_openvpn_nor_access_server_says_what_next() {
    let d = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(common::BIN)
        .args(["setup", "--yes", "--root", &d.path().display().to_string()])
        .env("PATH", "/nonexistent")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("setup --demo"),
        "{}",
        text(&o)
    );
    // Access Server alone: detected, and its own answers asked for.
    common::write(
        &d.path().join("usr/local/openvpn_as/scripts/sacli"),
        b"#!/bin/sh\n",
        0o755,
    );
    let o = std::process::Command::new(common::BIN)
        .args(["setup", "--yes", "--root", &d.path().display().to_string()])
        .env("PATH", "/nonexistent")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("(Access Server)"),
        "{}",
        text(&o)
    );
}

unsafe fn libc_geteuid() -> u32 {
    unsafe extern "C" {
        fn geteuid() -> u32;
    }
    unsafe { geteuid() }
}

#[test]
fn several_servers_need_server_config_and_one_outside_etc_openvpn_works() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let s = Sandbox::new();
    let conf = std::fs::read(s.path("/etc/openvpn/server/server.conf")).unwrap();
    common::write(&s.path("/etc/openvpn/server/second.conf"), &conf, 0o644);
    let args = base_args(&s, &mock);
    let o = s.run(&strs(&args));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--server-config")
            && err.contains("second.conf")
            && err.contains("server.conf"),
        "{}",
        text(&o)
    );

    // A config elsewhere, named explicitly: no unit we know, so no restart.
    common::write(&s.path("/opt/vpn/edge.conf"), &conf, 0o644);
    let mut args = base_args(&s, &mock);
    args.extend(["--server-config".into(), "/opt/vpn/edge.conf".into()]);
    let o = s.run(&strs(&args));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        std::fs::read_to_string(s.path("/opt/vpn/edge.conf"))
            .unwrap()
            .contains("libduo_openvpn_plugin.so")
    );
    assert!(!s.calls().contains("restart"), "{}", s.calls());

    // A client profile given as the server config is named as such.
    let mut args = base_args(&s, &mock);
    args.extend(["--server-config".into(), "/root/bob.ovpn".into()]);
    let o = s.run(&strs(&args));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("/root/bob.ovpn: a client profile"),
        "{}",
        text(&o)
    );
}

/// The package puts the plugin where setup installs it; setup then finds it there (`--root /`,
/// simulated here with the sandbox's own copy given as `--plugin-so`): the file is neither
/// rewritten nor truncated nor backed up, and uninstall leaves it to the package.
#[test]
fn the_packaged_plugin_is_left_in_place_and_to_the_package() {
    use std::os::unix::fs::MetadataExt;
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let s = Sandbox::new();
    let packaged = s.path("/usr/lib/duo-openvpn/libduo_openvpn_plugin.so");
    let bytes = b"\x7fELF the packaged plugin\n";
    common::write(&packaged, bytes, 0o644);
    let ino = std::fs::metadata(&packaged).unwrap().ino();
    let before = s.tree();
    let mut args = base_args(&s, &mock);
    let at = args.iter().position(|a| a == "--plugin-so").unwrap();
    // Through a symlink too: it is the same file.
    let link = s.inputs.path().join("link.so");
    std::os::unix::fs::symlink(&packaged, &link).unwrap();
    args[at + 1] = link.display().to_string();

    let o = s.run(&strs(&args));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("in place, left to the package"),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read(&packaged).unwrap(), bytes);
    assert_eq!(
        std::fs::metadata(&packaged).unwrap().ino(),
        ino,
        "rewritten"
    );
    assert!(
        !s.path("/var/lib/duo-openvpn/backup/usr").exists(),
        "the packaged plugin was backed up"
    );
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(s.path("/var/lib/duo-openvpn/manifest.json")).unwrap(),
    )
    .unwrap();
    let installed = manifest["installed"].as_array().unwrap();
    assert!(
        installed
            .iter()
            .all(|i| !i["path"].as_str().unwrap().ends_with(".so")),
        "{manifest}"
    );

    // Twice: still nothing to do.
    let after_first = s.tree();
    let o = s.run(&strs(&args));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(s.tree(), after_first);

    let root = s.root().display().to_string();
    let o = s.run(&["uninstall", "--root", &root, "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        s.tree(),
        before,
        "uninstall must leave the package's plugin"
    );
    assert_eq!(std::fs::metadata(&packaged).unwrap().ino(), ino);
}

#[test]
fn migrating_duos_own_plugin_line_never_prints_its_secret_key() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let s = Sandbox::new();
    let conf = s.path("/etc/openvpn/server/server.conf");
    let mut config = std::fs::read(&conf).unwrap();
    config.extend_from_slice(
        format!(
            "plugin /usr/lib/openvpn/duo_openvpn.so '{MOCK_IKEY} {MOCK_SKEY} {}'\n",
            mock.host()
        )
        .as_bytes(),
    );
    std::fs::write(&conf, &config).unwrap();
    let mut args = base_args(&s, &mock);
    args.push("--dry-run".into());
    let o = s.run(&strs(&args));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let all = text(&o);
    assert!(
        all.contains("-plugin /usr/lib/openvpn/duo_openvpn.so"),
        "the migration is shown: {all}"
    );
    assert!(all.contains("<secret key>"), "{all}");
    assert!(
        !all.contains(MOCK_SKEY),
        "the secret key was printed:\n{all}"
    );
}

/// A server's own hand-window larger than setup's is kept and becomes duo.toml's figure; status
/// says when the two disagree later: a smaller server figure is a problem, a larger one a note.
#[test]
fn a_larger_hand_window_is_kept_and_status_compares_it_with_duo_toml() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let s = Sandbox::new();
    let server = s.path("/etc/openvpn/server/server.conf");
    let mut conf = std::fs::read_to_string(&server).unwrap();
    conf.push_str("hand-window 120\n");
    common::write(&server, conf.as_bytes(), 0o644);
    let before = s.tree();
    let o = s.run(&strs(&base_args(&s, &mock)));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let after = std::fs::read_to_string(&server).unwrap();
    assert_eq!(after.matches("hand-window").count(), 1, "{after}");
    assert!(after.contains("\nhand-window 120\n"), "{after}");
    let toml = std::fs::read_to_string(s.path("/etc/duo-openvpn/duo.toml")).unwrap();
    assert!(toml.contains("\nhand_window_secs = 120\n"), "{toml}");
    let alice = std::fs::read_to_string(s.path("/home/alice/alice.ovpn")).unwrap();
    assert!(alice.contains("\nhand-window 120\n"), "{alice}");

    let root = s.root().display().to_string();
    let status = |conf: &str| {
        common::write(&server, conf.as_bytes(), 0o644);
        let o = s.run(&["status", "--root", &root, "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        (o.status.code(), v)
    };
    let (code, v) = status(&after);
    assert_eq!(
        (code, &v["healthy"]),
        (Some(0), &serde_json::json!(true)),
        "{v}"
    );
    assert_eq!(
        v["notes"].to_string().matches("hand-window").count(),
        0,
        "{v}"
    );

    let (code, v) = status(&after.replace("hand-window 120", "hand-window 40"));
    assert_eq!(code, Some(2), "{v}");
    let problems = v["problems"].to_string();
    assert!(
        problems.contains("server.conf: hand-window 40, but duo.toml's hand_window_secs is 120"),
        "{v}"
    );
    let (_, v) = status(&after.replace("hand-window 120\n", ""));
    assert!(
        v["problems"].to_string().contains(
            "no hand-window (OpenVPN's default 60), but duo.toml's hand_window_secs is 120"
        ),
        "{v}"
    );
    let (code, v) = status(&after.replace("hand-window 120", "hand-window 300"));
    assert_eq!(code, Some(0), "{v}");
    assert!(
        v["notes"]
            .to_string()
            .contains("hand-window 300, duo.toml's hand_window_secs 120"),
        "{v}"
    );

    common::write(&server, after.as_bytes(), 0o644);
    let o = s.run(&["uninstall", "--root", &root, "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        s.tree(),
        before,
        "the admin's hand-window 120 stays, ours go"
    );
}

/// `--verified-push` reaches duo.toml; with `--autopush` it is refused before anything changes.
#[test]
fn verified_push_is_written_and_never_with_autopush() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let s = Sandbox::new();
    let before = s.tree();
    let mut args = base_args(&s, &mock);
    args.extend(["--verified-push".into(), "--autopush".into()]);
    let o = s.run(&strs(&args));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--verified-push") && err.contains("--autopush"),
        "{err}"
    );
    assert_eq!(s.tree(), before);
    args.pop();
    let o = s.run(&strs(&args));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let toml = std::fs::read_to_string(s.path("/etc/duo-openvpn/duo.toml")).unwrap();
    assert!(toml.contains("\nverified_push = true\n"), "{toml}");
    assert!(duo::Config::parse(&toml).unwrap().duo.verified_push);
    assert!(!toml.contains("autopush"), "{toml}");
    // --autopush alone: the plugin pushes without a CR_TEXT prompt.
    args.pop();
    args.push("--autopush".into());
    let o = s.run(&strs(&args));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let toml = std::fs::read_to_string(s.path("/etc/duo-openvpn/duo.toml")).unwrap();
    let c = duo::Config::parse(&toml).unwrap();
    assert!(c.duo.autopush && !c.duo.verified_push, "{toml}");
}

/// A server hand-window past what duo.toml accepts is kept, and duo.toml gets the largest it
/// accepts (the plugin then answers within that): the plugin still starts.
#[test]
fn a_huge_hand_window_is_kept_and_duo_toml_stays_valid() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let s = Sandbox::new();
    let server = s.path("/etc/openvpn/server/server.conf");
    let mut conf = std::fs::read_to_string(&server).unwrap();
    conf.push_str("hand-window 3600\n");
    common::write(&server, conf.as_bytes(), 0o644);
    let o = s.run(&strs(&base_args(&s, &mock)));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let after = std::fs::read_to_string(&server).unwrap();
    assert_eq!(after.matches("hand-window").count(), 1, "{after}");
    assert!(after.contains("\nhand-window 3600\n"), "{after}");
    let toml = std::fs::read_to_string(s.path("/etc/duo-openvpn/duo.toml")).unwrap();
    let c = duo::Config::parse(&toml).unwrap_or_else(|e| panic!("{e}\n{toml}"));
    assert_eq!(c.duo.hand_window.as_secs(), 900);
}
