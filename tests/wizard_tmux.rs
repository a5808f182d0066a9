//! The real binary in a real terminal: tmux at 80×24, keystroke by keystroke through the whole
//! `setup --demo` wizard, asserting on the screen. Every wait is bounded.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
    session: String,
}

impl Tmux {
    fn start(name: &str, cmd: &str, env: &[(&str, &str)]) -> Tmux {
        assert!(
            Command::new("tmux")
                .arg("-V")
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false),
            "tmux is needed for this test (scripts/test-all installs it)"
        );
        let t = Tmux {
            socket: format!("duo-openvpn-test-{}-{name}", std::process::id()),
            session: name.into(),
        };
        let mut c = Command::new("tmux");
        c.args([
            "-L",
            &t.socket,
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            "80",
            "-y",
            "24",
            "-s",
            &t.session,
        ]);
        for (k, v) in env {
            c.args(["-e", &format!("{k}={v}")]);
        }
        c.arg(cmd);
        let o = c.output().unwrap();
        assert!(
            o.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        t
    }

    fn screen(&self, escapes: bool) -> String {
        let mut args = vec![
            "-L",
            &self.socket,
            "capture-pane",
            "-p",
            "-t",
            &self.session,
        ];
        if escapes {
            args.push("-e");
        }
        String::from_utf8_lossy(&Command::new("tmux").args(&args).output().unwrap().stdout)
            .into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            let o = Command::new("tmux")
                .args(["-L", &self.socket, "send-keys", "-t", &self.session, k])
                .output()
                .unwrap();
            assert!(o.status.success());
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    /// Wait (at most `secs`) until the screen shows `text`; the screen on failure.
    fn wait(&self, text: &str, secs: u64) -> String {
        let end = Instant::now() + Duration::from_secs(secs);
        loop {
            let s = self.screen(false);
            if s.contains(text) {
                return s;
            }
            if Instant::now() > end {
                panic!("waited {secs}s for {text:?}; the screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

#[test]
fn the_whole_demo_wizard_keystroke_by_keystroke() {
    let started = Instant::now();
    let cmd = format!("{} setup --demo; echo EXIT=$?; sleep 120", common::BIN);
    let t = Tmux::start("demo", &cmd, &[]);
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
    let t = Tmux::start("nocolor", &cmd, &[("NO_COLOR", "1")]);
    t.wait("1. Detection", 30);
    t.keys(&["Enter"]);
    t.wait("Integration key", 10);
    let styled = t.screen(true);
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
