//! The real binary in a real terminal: tmux at 80×24, keystroke by keystroke through the whole
//! `setup --demo` wizard, asserting on the screen. Every wait is bounded.

mod common;

use common::tmux::Tmux;

use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn the_whole_demo_wizard_keystroke_by_keystroke() {
    let started = Instant::now();
    let cmd = format!("{} setup --demo; echo EXIT=$?; sleep 120", common::BIN);
    let t = Tmux::start("demo", (80, 24), &cmd, &[]);
    let s = t.wait("1. Detection", 30);
    assert!(
        s.contains("/etc/openvpn/server/server.conf") && s.contains("openvpn-server@server active"),
        "{s}"
    );
    t.keys(&["Enter"]);
    let s = t.wait("Integration key", 10);
    assert!(
        s.contains("DIMOCK0000000000000A") && s.contains("(40 characters)"),
        "{s}"
    );
    assert!(
        !s.contains(duo_mock::MOCK_SKEY),
        "the secret is on the screen:\n{s}"
    );
    t.keys(&["Enter", "Enter", "Enter"]);
    let s = t.wait("Duo accepted the integration key and secret key", 20);
    assert!(s.contains("3. Options"), "{s}");
    t.keys(&["Enter"]);
    let s = t.wait("+reneg-sec 0", 10);
    assert!(
        s.contains("+++ b/etc/openvpn/server/server.conf") && s.contains("+plugin "),
        "{s}"
    );
    t.keys(&["Enter"]);
    let s = t.wait("5. Client profiles ─", 10);
    assert!(
        s.contains("[x] /home/alice/alice.ovpn") && s.contains("[x] /root/bob.ovpn"),
        "{s}"
    );
    t.keys(&["Enter"]);
    let s = t.wait("Installed (owner, mode)", 10);
    assert!(s.contains("root:nogroup 0640"), "{s}");
    t.keys(&["Enter"]);
    t.wait("All files in place", 30);
    t.keys(&["Enter"]);
    t.wait("openvpn-server@server is active", 20);
    t.keys(&["Enter"]);
    let s = t.wait("Duo user", 10);
    assert!(s.contains("alice"), "{s}");
    t.keys(&["Enter"]);
    let s = t.wait("ALLOWED: alice approved the push", 30);
    assert!(
        s.contains("Pushed a login request") || s.contains("sent auto"),
        "{s}"
    );
    t.keys(&["Enter"]);
    t.wait("Duo now guards this OpenVPN server", 10);
    t.keys(&["Enter"]);
    let s = t.wait("EXIT=", 20);
    assert!(s.contains("EXIT=0"), "{s}");
    // The terminal is back to normal and the sandbox path is printed; undo it.
    let dir = s
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Undo it all:  duo-openvpn uninstall --root ")
        })
        .map(|r| r.trim_end_matches(" --yes").trim().to_string());
    if let Some(dir) = dir {
        let o = Command::new(common::BIN)
            .args(["uninstall", "--yes", "--root", &dir])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", common::text(&o));
        let _ = std::fs::remove_dir_all(&dir);
    }
    eprintln!(
        "the demo wizard in tmux took {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn no_color_and_quitting_before_apply_changes_nothing() {
    let cmd = format!("{} setup --demo; echo EXIT=$?; sleep 120", common::BIN);
    let t = Tmux::start("nocolor", (80, 24), &cmd, &[("NO_COLOR", "1")]);
    t.wait("1. Detection", 30);
    t.keys(&["Enter"]);
    t.wait("Integration key", 10);
    let styled = t.screen_with_escapes();
    // Reverse video marks the focused field; no colour codes at all (39/49 are "default").
    let sgr = sgr_params(&styled);
    assert!(
        sgr.iter().any(|p| p.contains(&7)),
        "no reverse video under NO_COLOR:\n{styled:?}"
    );
    let colour = |n: &u32| matches!(n, 30..=38 | 40..=48 | 90..=97 | 100..=107);
    assert!(
        !sgr.iter().any(|p| p.iter().any(colour)),
        "a colour under NO_COLOR:\n{styled:?}"
    );
    t.keys(&["Escape", "q"]);
    let s = t.wait("EXIT=", 10);
    assert!(
        s.contains("Nothing was changed.") && s.contains("EXIT=0"),
        "{s}"
    );
    let dir = s
        .lines()
        .find_map(|l| l.trim().strip_prefix("The demo sandbox is kept at "))
        .unwrap()
        .trim()
        .to_string();
    assert!(
        !std::path::Path::new(&dir)
            .join("var/lib/duo-openvpn")
            .exists()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The parameters of every SGR sequence (`ESC [ … m`) in `s`.
fn sgr_params(s: &str) -> Vec<Vec<u32>> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find("\x1b[") {
        rest = &rest[i + 2..];
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(rest.len());
        if rest[end..].starts_with('m') {
            out.push(
                rest[..end]
                    .split(';')
                    .filter_map(|p| p.parse().ok())
                    .collect(),
            );
        }
    }
    out
}

/// The one sandbox `setup --demo` made under `tmp` (the test's own TMPDIR).
fn demo_sandbox(tmp: &std::path::Path) -> std::path::PathBuf {
    let found: Vec<_> = std::fs::read_dir(tmp)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("duo-openvpn-demo-"))
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "sandboxes under {}: {found:?}",
        tmp.display()
    );
    found[0].clone()
}

/// `setup --demo --target access-server` in tmux at 80×24, keystroke by keystroke: detection
/// from the stand-in sacli, the credentials checked, AUTOPUSH switched on, the review, the apply,
/// the test login through the installed script; afterwards the sandbox's database holds the
/// script as the options made it.
#[test]
fn the_access_server_demo_wizard_keystroke_by_keystroke() {
    let tmp = tempfile::tempdir().unwrap();
    let cmd = format!(
        "{} setup --demo --target access-server; echo EXIT=$?; sleep 120",
        common::BIN
    );
    let t = Tmux::start(
        "asdemo",
        (80, 24),
        &cmd,
        &[("TMPDIR", &tmp.path().display().to_string())],
    );
    let s = t.wait("1. Detection", 30);
    assert!(
        s.contains("Access Server 2.14.3") && s.contains("none loaded"),
        "{s}"
    );
    t.keys(&["Enter"]);
    let s = t.wait("Integration key", 10);
    assert!(
        !s.contains(duo_mock::MOCK_SKEY),
        "the secret is on the screen:\n{s}"
    );
    t.keys(&["Enter", "Enter", "Enter"]);
    let s = t.wait("Duo accepted the integration key and secret key", 20);
    assert!(s.contains("3. Options"), "{s}");
    // The first row is AUTOPUSH, off: ← turns it on.
    t.keys(&["Left"]);
    t.wait("(•) on", 5);
    t.keys(&["Enter"]);
    let s = t.wait("4. Review", 10);
    assert!(s.contains("ConfigPut") && s.contains("sha256"), "{s}");
    assert!(
        !s.contains(duo_mock::MOCK_SKEY),
        "the secret is on the screen:\n{s}"
    );
    t.keys(&["Enter"]);
    t.wait("The post-auth script is loaded", 30);
    t.keys(&["Enter"]);
    let s = t.wait("Duo user", 10);
    assert!(s.contains("alice"), "{s}");
    t.keys(&["Enter"]);
    let s = t.wait("ALLOWED: alice", 30);
    // AUTOPUSH: the installed script pushed without asking for a factor.
    assert!(
        s.contains("through the installed post-auth script") && !s.contains("challenge shown"),
        "{s}"
    );
    t.keys(&["Enter"]);
    t.wait("Duo now guards this Access Server", 10);
    t.keys(&["Enter"]);
    let s = t.wait("EXIT=", 20);
    assert!(s.contains("EXIT=0"), "{s}");

    let dir = demo_sandbox(tmp.path());
    let db: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("usr/local/openvpn_as/etc/fake-config.json")).unwrap(),
    )
    .unwrap();
    let script = db["auth.module.post_auth_script"]
        .as_str()
        .unwrap_or_default();
    assert!(
        script.contains("\nAUTOPUSH = True"),
        "AUTOPUSH is not on in the loaded script"
    );
    let o = Command::new(common::BIN)
        .args(["uninstall", "--yes", "--root", &dir.display().to_string()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", common::text(&o));
}

/// An Access Server with a recording sacli: the wizard, answered with Enter all the way, makes
/// exactly the sacli calls `setup --yes` makes for the same answers.
#[test]
fn the_access_server_wizard_makes_the_calls_setup_yes_makes() {
    let mock = duo_mock::MockDuo::start(duo_mock::MockConfig::default()).unwrap();
    mock.set_push_delay(Duration::from_millis(50));
    let inputs = tempfile::tempdir().unwrap();
    let ca = inputs.path().join("ca.pem");
    mock.write_ca(&ca).unwrap();
    let skey = inputs.path().join("skey");
    std::fs::write(&skey, duo_mock::MOCK_SKEY).unwrap();
    let sandbox = || {
        let d = tempfile::tempdir().unwrap();
        common::install_sacli(d.path());
        d
    };
    let args = |root: &std::path::Path| -> Vec<String> {
        [
            "setup",
            "--target",
            "access-server",
            "--root",
            &root.display().to_string(),
            "--ikey",
            duo_mock::MOCK_IKEY,
            "--skey-file",
            &skey.display().to_string(),
            "--host",
            &mock.host(),
            "--ca-file",
            &ca.display().to_string(),
            "--test-user",
            duo_mock::users::APPROVES,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    // The calls, with the sandbox and the private temporary file named alike.
    let calls = |root: &std::path::Path| -> Vec<String> {
        let log =
            std::fs::read_to_string(root.join("usr/local/openvpn_as/sacli-calls.log")).unwrap();
        log.lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let argv: Vec<String> = v["argv"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| {
                        let a = a.as_str().unwrap();
                        match a.strip_prefix("--value_file=") {
                            Some(_) => "--value_file=FILE".to_string(),
                            None => a.replace(&root.display().to_string(), "ROOT"),
                        }
                    })
                    .collect();
                format!("{} {}", argv.join(" "), v["value_file_mode"])
            })
            .collect()
    };

    let yes_root = sandbox();
    let mut yes = args(yes_root.path());
    yes.push("--yes".into());
    let o = Command::new(common::BIN)
        .args(&yes)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", common::text(&o));

    let tui_root = sandbox();
    let cmd = format!(
        "{} {}; echo EXIT=$?; sleep 120",
        common::BIN,
        args(tui_root.path()).join(" ")
    );
    let t = Tmux::start("ascalls", (80, 24), &cmd, &[]);
    t.wait("1. Detection", 30);
    t.keys(&["Enter", "Enter", "Enter", "Enter"]);
    t.wait("Duo accepted the integration key and secret key", 20);
    t.keys(&["Enter"]);
    t.wait("4. Review", 10);
    t.keys(&["Enter"]);
    t.wait("The post-auth script is loaded", 30);
    t.keys(&["Enter"]);
    t.wait("Duo user", 10);
    t.keys(&["Enter"]);
    t.wait("ALLOWED: alice", 30);
    t.keys(&["Enter"]);
    t.wait("Duo now guards this Access Server", 10);
    t.keys(&["Enter"]);
    let s = t.wait("EXIT=", 20);
    assert!(s.contains("EXIT=0"), "{s}");

    let (y, w) = (calls(yes_root.path()), calls(tui_root.path()));
    assert!(y.iter().any(|c| c.contains("ConfigPut")), "{y:#?}");
    assert_eq!(w, y, "the wizard's sacli calls differ from --yes's");
}
