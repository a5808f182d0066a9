//! The real binary in a real terminal: a tmux server of the test's own, a pane of a given size,
//! keys sent one by one, the screen and the whole transcript read back. Every wait is bounded.

use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: String,
    session: String,
}

impl Tmux {
    pub fn start(name: &str, size: (u16, u16), cmd: &str, env: &[(&str, &str)]) -> Tmux {
        assert!(
            Command::new("tmux")
                .arg("-V")
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false),
            "tmux is needed for this test (scripts/test-all installs it)"
        );
        let t = Tmux {
            socket: format!("duo-openvpn-line-{}-{name}", std::process::id()),
            session: name.into(),
        };
        let (w, h) = (size.0.to_string(), size.1.to_string());
        let mut c = Command::new("tmux");
        c.args(["-L", &t.socket, "-f", "/dev/null", "new-session", "-d"]);
        c.args(["-x", &w, "-y", &h, "-s", &t.session]);
        // In the command itself: tmux gives the pane its own TERM, and a login shell its own
        // PATH.
        let mut line = String::from("env");
        for (k, v) in env {
            line.push_str(&format!(" '{k}={v}'"));
        }
        c.arg(format!("{line} sh -c '{}'", cmd.replace('\'', "'\\''")));
        let o = c.output().unwrap();
        assert!(
            o.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let o = Command::new("tmux")
            .args([
                "-L",
                &t.socket,
                "set-option",
                "-g",
                "history-limit",
                "20000",
            ])
            .output()
            .unwrap();
        assert!(o.status.success());
        t
    }

    /// What is on the screen now.
    pub fn screen(&self) -> String {
        self.capture(&[])
    }

    /// Everything printed so far, wrapped lines joined: the transcript a person would copy.
    pub fn transcript(&self) -> String {
        self.capture(&["-S", "-", "-J"])
    }

    /// The screen with its colour and attribute escapes.
    pub fn screen_with_escapes(&self) -> String {
        self.capture(&["-e"])
    }

    fn capture(&self, extra: &[&str]) -> String {
        let mut args = vec![
            "-L",
            &self.socket,
            "capture-pane",
            "-p",
            "-t",
            &self.session,
        ];
        args.extend(extra);
        String::from_utf8_lossy(&Command::new("tmux").args(&args).output().unwrap().stdout)
            .into_owned()
    }

    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            let o = Command::new("tmux")
                .args(["-L", &self.socket, "send-keys", "-t", &self.session, k])
                .output()
                .unwrap();
            assert!(o.status.success());
            std::thread::sleep(Duration::from_millis(80));
        }
    }

    /// Type `text` literally (no key names).
    pub fn type_text(&self, text: &str) {
        let o = Command::new("tmux")
            .args([
                "-L",
                &self.socket,
                "send-keys",
                "-t",
                &self.session,
                "-l",
                text,
            ])
            .output()
            .unwrap();
        assert!(o.status.success());
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Wait (at most `secs`) until the screen shows `text`; the transcript on failure.
    pub fn wait(&self, text: &str, secs: u64) -> String {
        let end = Instant::now() + Duration::from_secs(secs);
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            if Instant::now() > end {
                panic!(
                    "waited {secs}s for {text:?}; the transcript:\n{}",
                    self.transcript()
                );
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
