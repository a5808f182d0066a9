//! The line mode through a real terminal: the binary in tmux, every prompt answered keystroke by
//! keystroke, asserting on the transcript (the pane's whole history) and on the sandbox after.
//! `setup --plain` for Community and Access Server, the masked passcode of
//! `test --factor passcode`, uninstall's confirmation, and the line mode chosen on its own for a
//! narrow terminal and for TERM=dumb. Every wait is bounded.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::tmux::Tmux;
use duo_mock::{MOCK_IKEY, MOCK_SKEY, MockConfig, MockDuo, users};

/// The right shape for a secret key, but not the stand-in's.
const WRONG_SKEY: &str = "WrongSecretKeyWrongSecretKeyWrongSecret0";

/// The sandbox `setup --demo` announced in its first line.
fn demo_dir(transcript: &str) -> PathBuf {
    let line = transcript
        .lines()
        .find_map(|l| l.trim().strip_prefix("Demo sandbox: "))
        .unwrap_or_else(|| panic!("no sandbox line in:\n{transcript}"));
    PathBuf::from(line.split(" (").next().unwrap())
}

fn read(root: &Path, sys: &str) -> String {
    std::fs::read_to_string(root.join(sys.trim_start_matches('/')))
        .unwrap_or_else(|e| panic!("{sys} under {}: {e}", root.display()))
}

fn asset(name: &str) -> String {
    std::fs::read_to_string(Path::new(common::ASSETS).join(name)).unwrap()
}

#[test]
fn community_setup_plain_answering_every_prompt() {
    let cmd = format!(
        "{} setup --demo --plain; echo EXIT=$?; sleep 120",
        common::BIN
    );
    let t = Tmux::start("community", (100, 40), &cmd, &[]);
    let s = t.wait("? Integration key:", 30);
    assert!(s.contains("== 1. Detection =="), "{s}");
    assert!(
        s.contains("/etc/openvpn/server/server.conf") && s.contains("openvpn-server@server active"),
        "{s}"
    );
    assert!(s.contains(MOCK_IKEY), "the ikey is not pre-filled:\n{s}");
    t.keys(&["Enter"]);
    t.wait("? Secret key:", 10);
    // A key Duo refuses: said, and the keys are asked again; nothing is changed by it.
    t.type_text(WRONG_SKEY);
    t.keys(&["Enter"]);
    t.wait("? API hostname:", 10);
    t.keys(&["Enter"]);
    t.wait("Type the keys again", 20);
    t.wait("? Integration key:", 10);
    t.keys(&["Enter"]);
    t.wait("? Secret key:", 10);
    // Typed, not kept: the prompt masks it as it is typed.
    t.type_text(MOCK_SKEY);
    let s = t.screen();
    assert!(s.contains("****"), "the secret key is not masked:\n{s}");
    assert!(!s.contains(MOCK_SKEY), "the secret key is echoed:\n{s}");
    t.keys(&["Enter"]);
    t.wait("? API hostname:", 10);
    t.keys(&["Enter"]);
    t.wait("Duo accepted the integration key and secret key", 20);
    let s = t.wait("? When Duo is down:", 10);
    assert!(s.contains("> secure"), "{s}");
    t.keys(&["Down", "Enter"]);
    t.wait("? The Duo user is:", 10);
    t.keys(&["Enter"]);
    let s = t.wait("? Client profiles to edit:", 10);
    assert!(
        s.contains("[x] /root/bob.ovpn")
            && s.contains("[x] /home/alice/alice.ovpn")
            && s.contains("[ ] /etc/openvpn/client/laptop.conf"),
        "{s}"
    );
    // Right ticks them all: laptop.conf too.
    t.keys(&["Right", "Enter"]);
    let s = t.wait("? Apply these changes?", 15);
    assert!(s.contains("== 6. Review =="), "{s}");
    t.keys(&["y", "Enter"]);
    t.wait("restarted openvpn-server@server: active", 30);
    let s = t.wait("? Duo user for a test push:", 10);
    assert!(s.contains("alice"), "the test user is not pre-filled:\n{s}");
    t.keys(&["Enter"]);
    t.wait("test push: ALLOWED: alice approved the push", 30);
    let s = t.wait("EXIT=", 20);
    assert!(s.contains("EXIT=0"), "{}", t.transcript());
    let out = t.transcript();
    for step in [
        "== 2. Credentials ==",
        "== 3. Options ==",
        "== 4. Server config ==",
        "== 5. Client profiles ==",
        "== 7. Apply ==",
        "== 8. Restart ==",
        "== 9. Test push ==",
        "== 10. Done ==",
    ] {
        assert!(out.contains(step), "no {step:?} in:\n{out}");
    }
    // Every answer stays in the transcript; the secret key only as its length.
    assert!(
        out.contains("> Secret key: ******** (40 characters)"),
        "{out}"
    );
    assert!(out.contains("> When Duo is down: safe"), "{out}");
    assert!(
        out.contains("+++ b/etc/openvpn/server/server.conf"),
        "{out}"
    );
    assert!(
        out.contains("+++ b/etc/openvpn/client/laptop.conf"),
        "{out}"
    );
    assert!(
        !out.contains(MOCK_SKEY),
        "the secret key is in the transcript"
    );

    let dir = demo_dir(&out);
    let server = read(&dir, "/etc/openvpn/server/server.conf");
    assert!(
        server.contains("libduo_openvpn_plugin.so") && server.contains("reneg-sec 0"),
        "{server}"
    );
    let toml = read(&dir, "/etc/duo-openvpn/duo.toml");
    assert!(
        toml.contains(MOCK_SKEY) && toml.contains(MOCK_IKEY),
        "duo.toml lacks the keys typed"
    );
    assert!(toml.contains("failmode = \"safe\""), "{toml}");
    for profile in [
        "/home/alice/alice.ovpn",
        "/root/bob.ovpn",
        "/etc/openvpn/client/laptop.conf",
    ] {
        assert!(
            read(&dir, profile).contains("auth-user-pass"),
            "{profile} was not edited"
        );
    }
    let o = Command::new(common::BIN)
        .args(["uninstall", "--yes", "--root"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", common::text(&o));
    assert_eq!(
        read(&dir, "/etc/openvpn/server/server.conf"),
        asset("server.conf")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn access_server_setup_plain_answering_every_prompt() {
    let cmd = format!(
        "{} setup --demo --target access-server --plain; echo EXIT=$?; sleep 120",
        common::BIN
    );
    let t = Tmux::start("access", (100, 40), &cmd, &[]);
    let s = t.wait("? Integration key:", 30);
    assert!(
        s.contains("Access Server 2.") && s.contains("post-auth script: none loaded"),
        "{s}"
    );
    t.keys(&["Enter"]);
    t.wait("? Secret key:", 10);
    // Enter alone keeps the demo's key (given by file): said, never shown.
    let s = t.screen();
    assert!(s.contains("Enter alone keeps"), "{s}");
    t.keys(&["Enter"]);
    t.wait("? API hostname:", 10);
    t.keys(&["Enter"]);
    t.wait("Duo accepted the integration key and secret key", 20);
    t.wait("? Push at once (AUTOPUSH)?", 10);
    t.keys(&["y", "Enter"]);
    t.wait("? Ask for Duo on:", 10);
    t.keys(&["Enter"]);
    t.wait("? When Duo is down:", 10);
    t.keys(&["Enter"]);
    let s = t.wait("? Apply these changes?", 15);
    assert!(s.contains("ConfigPut") && s.contains("sha256 "), "{s}");
    t.keys(&["y", "Enter"]);
    let s = t.wait("? Duo user for the test:", 30);
    assert!(s.contains("alice"), "{s}");
    t.keys(&["Enter"]);
    t.wait("test push: ALLOWED: alice", 40);
    let s = t.wait("EXIT=", 20);
    assert!(s.contains("EXIT=0"), "{}", t.transcript());
    let out = t.transcript();
    assert!(out.contains("> Push at once (AUTOPUSH)? Yes"), "{out}");
    assert!(
        out.contains("through the installed post-auth script"),
        "{out}"
    );
    assert!(
        !out.contains(MOCK_SKEY),
        "the secret key is in the transcript"
    );

    let dir = demo_dir(&out);
    let db = read(&dir, "/usr/local/openvpn_as/etc/fake-config.json");
    let db: serde_json::Value = serde_json::from_str(&db).unwrap();
    let script = db
        .pointer("/auth.module.post_auth_script")
        .or_else(|| db.get("auth.module.post_auth_script"))
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("no post-auth script in the stand-in's database: {db}"));
    assert!(script.contains("AUTOPUSH = True\n"), "AUTOPUSH not on");
    let calls = read(&dir, "/usr/local/openvpn_as/sacli-calls.log");
    assert!(
        calls.contains("ConfigPut") && calls.contains("start"),
        "{calls}"
    );
    let o = Command::new(common::BIN)
        .args(["uninstall", "--yes", "--root"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", common::text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_narrow_terminal_or_term_dumb_gets_the_line_mode_and_esc_changes_nothing() {
    for (name, size, env) in [
        ("narrow", (60, 24), vec![]),
        ("dumb", (100, 24), vec![("TERM", "dumb")]),
    ] {
        let cmd = format!("{} setup --demo; echo EXIT=$?; sleep 120", common::BIN);
        let t = Tmux::start(name, size, &cmd, &env);
        let s = t.wait("? Integration key:", 30);
        assert!(s.contains("== 1. Detection =="), "{name}: {s}");
        t.keys(&["Escape"]);
        let s = t.wait("EXIT=", 20);
        assert!(
            s.contains("Nothing was changed.") && s.contains("EXIT=0"),
            "{name}: {s}"
        );
        let dir = demo_dir(&t.transcript());
        assert!(
            !dir.join("var/lib/duo-openvpn").exists(),
            "{name}: something was recorded"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn duo_toml(dir: &Path, mock: &MockDuo) -> PathBuf {
    let ca = dir.join("ca.pem");
    mock.write_ca(&ca).unwrap();
    let path = dir.join("duo.toml");
    std::fs::write(
        &path,
        format!(
            "[duo]\nikey = \"{MOCK_IKEY}\"\nskey = \"{MOCK_SKEY}\"\nhost = \"{}\"\nca_file = \"{}\"\ntimeout_secs = 20\n",
            mock.host(),
            ca.display()
        ),
    )
    .unwrap();
    path
}

#[test]
fn test_factor_passcode_masks_what_is_typed() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = duo_toml(dir.path(), &mock);
    let code = users::PASSCODES[5];
    let cmd = format!(
        "{} test {} --factor passcode --config {}; echo EXIT=$?; sleep 60",
        common::BIN,
        users::APPROVES,
        config.display()
    );
    // DUO_PASSCODE would be taken instead of asking: it must not come from the test's own
    // environment.
    let t = Tmux::start(
        "passcode",
        (80, 24),
        &format!("unset DUO_PASSCODE; {cmd}"),
        &[],
    );
    t.wait("? Duo passcode:", 20);
    t.type_text(code);
    let s = t.screen();
    assert!(s.contains(&"*".repeat(code.len())), "not masked:\n{s}");
    assert!(!s.contains(code), "the passcode is echoed:\n{s}");
    t.keys(&["Enter"]);
    let s = t.wait("EXIT=", 30);
    assert!(s.contains("ALLOWED") && s.contains("EXIT=0"), "{s}");
    assert!(
        !t.transcript().contains(code),
        "the passcode is in the transcript"
    );
    assert!(
        mock.requests().iter().any(|r| r.path == "/auth/v2/auth"),
        "no auth request reached the stand-in"
    );
}

#[test]
fn uninstall_asks_and_only_yes_undoes() {
    let sandbox = common::Sandbox::new();
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let before = std::fs::read(sandbox.path("/etc/openvpn/server/server.conf")).unwrap();
    let args = sandbox.setup_args(&mock, &["/home/alice/alice.ovpn"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = sandbox.run(&args);
    assert_eq!(o.status.code(), Some(0), "{}", common::text(&o));
    let manifest = sandbox.path("/var/lib/duo-openvpn/manifest.json");
    assert!(manifest.exists());
    let path = format!(
        "{}:{}",
        sandbox.bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let cmd = format!(
        "{} uninstall --root {}; echo EXIT=$?; sleep 60",
        common::BIN,
        sandbox.root().display()
    );
    // n: nothing changes.
    let t = Tmux::start("uninstall-no", (80, 24), &cmd, &[("PATH", &path)]);
    let s = t.wait("? Undo all of this?", 20);
    assert!(s.contains("(y/N)"), "{s}");
    t.keys(&["n", "Enter"]);
    let s = t.wait("EXIT=", 20);
    assert!(
        s.contains("Nothing changed.") && s.contains("EXIT=0"),
        "{s}"
    );
    assert!(manifest.exists(), "n undid it");
    drop(t);
    // y: undone.
    let t = Tmux::start("uninstall-yes", (80, 24), &cmd, &[("PATH", &path)]);
    t.wait("? Undo all of this?", 20);
    t.keys(&["y", "Enter"]);
    let s = t.wait("EXIT=", 30);
    assert!(s.contains("EXIT=0"), "{}", t.transcript());
    assert_eq!(
        std::fs::read(sandbox.path("/etc/openvpn/server/server.conf")).unwrap(),
        before
    );
    assert!(!manifest.exists(), "the manifest is still there");
}

/// Duo's own `duo_openvpn_as.py` loaded (its secret key near the top): the line mode shows what
/// it is without quoting it and asks before replacing it; no leaves it, yes replaces it.
#[test]
fn access_server_asks_before_replacing_another_post_auth_script() {
    const KEY: &str = "auth.module.post_auth_script";
    const SECRET: &str = "their-secret-key";
    let theirs = format!(
        "#!/usr/bin/env python\n#\n# duo_openvpn_as.py\n#\n# Copyright 2012 Duo Security, Inc.\n\n\
         IKEY = 'DIXXXXXXXXXXXXXXXXXX'\nSKEY = '{SECRET}'\nHOST = 'api-x.duosecurity.com'\n\n\
         __version__ = '2.8'\n\ndef post_auth_cr(authcred, attributes, authret, info, crstate):\n    return authret\n"
    );
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let inputs = tempfile::tempdir().unwrap();
    common::install_sacli(dir.path());
    let db_path = dir.path().join("usr/local/openvpn_as/etc/fake-config.json");
    std::fs::create_dir_all(db_path.parent().unwrap()).unwrap();
    std::fs::write(&db_path, serde_json::json!({ KEY: theirs }).to_string()).unwrap();
    let loaded = || -> Option<String> {
        let db: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&db_path).unwrap()).unwrap();
        db.get(KEY).and_then(|v| v.as_str()).map(str::to_string)
    };
    let ca = inputs.path().join("ca.pem");
    mock.write_ca(&ca).unwrap();
    let skey = inputs.path().join("skey");
    std::fs::write(&skey, MOCK_SKEY).unwrap();
    let cmd = format!(
        "{} setup --plain --target access-server --root {} --ikey {MOCK_IKEY} --skey-file {} \
         --host {} --ca-file {}; echo EXIT=$?; sleep 60",
        common::BIN,
        dir.path().display(),
        skey.display(),
        mock.host(),
        ca.display()
    );
    let answer_up_to_consent = |t: &Tmux| {
        let s = t.wait("? Integration key:", 30);
        assert!(s.contains("ANOTHER"), "{s}");
        t.keys(&["Enter"]);
        t.wait("? Secret key:", 10);
        t.keys(&["Enter"]);
        t.wait("? API hostname:", 10);
        t.keys(&["Enter"]);
        t.wait("? Push at once (AUTOPUSH)?", 20);
        t.keys(&["Enter"]);
        t.wait("? Ask for Duo on:", 10);
        t.keys(&["Enter"]);
        t.wait("? When Duo is down:", 10);
        t.keys(&["Enter"]);
        t.wait("? Replace it with duo-openvpn's?", 10)
    };
    let t = Tmux::start("foreign-no", (100, 40), &cmd, &[]);
    let s = answer_up_to_consent(&t);
    assert!(
        s.contains("Duo's own duo_openvpn_as.py, version 2.8"),
        "{s}"
    );
    t.keys(&["n", "Enter"]);
    let s = t.wait("EXIT=", 20);
    assert!(
        s.contains("Nothing was changed: the other script stays.") && s.contains("EXIT=0"),
        "{s}"
    );
    assert!(!t.transcript().contains(SECRET), "their secret was printed");
    assert_eq!(loaded().as_deref(), Some(theirs.as_str()));
    drop(t);

    let t = Tmux::start("foreign-yes", (100, 40), &cmd, &[]);
    answer_up_to_consent(&t);
    t.keys(&["y", "Enter"]);
    let s = t.wait("? Apply these changes?", 10);
    assert!(s.contains("with the script that is loaded now"), "{s}");
    t.keys(&["y", "Enter"]);
    // Esc once everything is in place skips the test; setup still ends done.
    t.wait("? Duo user for the test:", 30);
    t.keys(&["Escape"]);
    let s = t.wait("EXIT=", 20);
    assert!(
        s.contains("No test.")
            && s.contains("Duo now guards this Access Server")
            && s.contains("EXIT=0"),
        "{}",
        t.transcript()
    );
    assert!(!t.transcript().contains(SECRET), "their secret was printed");
    let ours = loaded().unwrap();
    assert_ne!(ours, theirs);
    assert!(ours.contains("duo-openvpn"), "not our script");
    // Uninstall puts theirs back.
    let o = Command::new(common::BIN)
        .args(["uninstall", "--yes", "--root"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", common::text(&o));
    assert_eq!(loaded().as_deref(), Some(theirs.as_str()));
}

/// `setup --plain` in a `common::Sandbox` (the fake systemctl, openvpn and journalctl first on
/// PATH) with these flags, in tmux.
fn sandbox_setup(s: &common::Sandbox, name: &str, mock: &MockDuo, flags: &[String]) -> Tmux {
    let ca = s.inputs.path().join("mock-ca.pem");
    mock.write_ca(&ca).unwrap();
    let path = format!(
        "{}:{}",
        s.bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let cmd = format!(
        "{} setup --plain --root {} --ca-file {} --plugin-so {} \
         --client-config /home/alice/alice.ovpn {}; echo EXIT=$?; sleep 60",
        common::BIN,
        s.root().display(),
        ca.display(),
        s.fake_plugin().display(),
        flags.join(" ")
    );
    Tmux::start(name, (100, 40), &cmd, &[("PATH", &path)])
}

/// Answer the prompts from the credentials to the review with Enter (every answer pre-filled).
fn enter_to_review(t: &Tmux) -> String {
    for prompt in ["? Integration key:", "? Secret key:", "? API hostname:"] {
        t.wait(prompt, 20);
        t.keys(&["Enter"]);
    }
    t.wait("Duo accepted the integration key and secret key", 20);
    for prompt in [
        "? When Duo is down:",
        "? The Duo user is:",
        "? Client profiles to edit:",
    ] {
        t.wait(prompt, 10);
        t.keys(&["Enter"]);
    }
    t.wait("? Apply these changes?", 15)
}

#[test]
fn duos_old_plugin_line_offers_its_keys_and_its_secret_stays_masked() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let s = common::Sandbox::new();
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
    let t = sandbox_setup(&s, "upstream", &mock, &[]);
    let screen = t.wait("? Integration key:", 30);
    assert!(
        screen.contains("Duo's own plugin found") && screen.contains(MOCK_IKEY),
        "{screen}"
    );
    enter_to_review(&t);
    t.keys(&["n", "Enter"]);
    let screen = t.wait("EXIT=", 20);
    assert!(
        screen.contains("Nothing was changed.") && screen.contains("EXIT=0"),
        "{screen}"
    );
    let out = t.transcript();
    assert!(
        out.contains("-plugin /usr/lib/openvpn/duo_openvpn.so") && out.contains("<secret key>"),
        "the migration is not shown masked:\n{out}"
    );
    assert!(
        !out.contains(MOCK_SKEY),
        "the secret key was printed:\n{out}"
    );
    assert_eq!(std::fs::read(&conf).unwrap(), config);
}

#[test]
fn a_failed_restart_offers_the_rollback_and_yes_restores_every_file() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let s = common::Sandbox::new();
    common::write(
        &s.bin.path().join("systemctl"),
        b"#!/bin/sh\necho \"systemctl $*\" >> \"$(dirname \"$0\")/calls.log\"\n\
          case \"$1\" in\n  is-active) echo active ;;\n  \
          restart) echo 'Job for openvpn-server@server.service failed.' >&2; exit 1 ;;\nesac\nexit 0\n",
        0o755,
    );
    let before = s.tree();
    let skey = s.skey_file(MOCK_SKEY);
    let flags = [
        format!("--ikey {MOCK_IKEY}"),
        format!("--skey-file {}", skey.display()),
        format!("--host {}", mock.host()),
    ];
    let t = sandbox_setup(&s, "rollback", &mock, &flags);
    enter_to_review(&t);
    t.keys(&["y", "Enter"]);
    let screen = t.wait("? Roll everything back now?", 30);
    assert!(
        screen.contains("restarting openvpn-server@server failed"),
        "{screen}"
    );
    t.keys(&["y", "Enter"]);
    let screen = t.wait("EXIT=", 20);
    assert!(
        screen.contains("Rolled back: the system is as it was.") && screen.contains("EXIT=3"),
        "{}",
        t.transcript()
    );
    assert!(!t.transcript().contains("== 9. Test push =="));
    let after = s.tree();
    let changed: Vec<_> = before
        .iter()
        .filter(|(k, v)| after.get(*k) != Some(v))
        .map(|(k, _)| k)
        .chain(after.keys().filter(|k| !before.contains_key(*k)))
        .collect();
    assert!(changed.is_empty(), "not as it was: {changed:?}");
}

/// Community OpenVPN and Access Server on one machine: the line mode asks which one first, and
/// the wizard opens on a screen that chooses; either way nothing is changed by leaving there.
#[test]
fn both_products_installed_asks_which_one_first() {
    let s = common::Sandbox::new();
    common::install_sacli(s.root());
    let before = s.tree();
    let path = format!(
        "{}:{}",
        s.bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for (name, plain, shown) in [
        ("both-line", "--plain", "Set up which?"),
        ("both-tui", "", "Access Server"),
    ] {
        let cmd = format!(
            "{} setup {plain} --root {}; echo EXIT=$?; sleep 60",
            common::BIN,
            s.root().display()
        );
        let t = Tmux::start(name, (100, 30), &cmd, &[("PATH", &path)]);
        let screen = t.wait(shown, 20);
        assert!(
            screen.contains("Community"),
            "{name}: both are offered:\n{screen}"
        );
        t.keys(&["Escape"]);
        if plain.is_empty() {
            // The wizard's first screen: q leaves it.
            t.keys(&["q"]);
        }
        t.wait("EXIT=", 20);
        // The stand-in sacli's own call log aside (detection asked it), nothing is touched.
        let mut after = s.tree();
        after.remove("usr/local/openvpn_as/sacli-calls.log");
        assert_eq!(after, before, "{name}: something changed");
    }
    // Without a terminal the choice is refused, naming --target.
    let o = s.run(&["setup", "--yes", "--root", &s.root().display().to_string()]);
    assert_eq!(o.status.code(), Some(2), "{}", common::text(&o));
    assert!(
        common::text(&o).contains("--target"),
        "{}",
        common::text(&o)
    );
}
