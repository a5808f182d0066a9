//! The live test on Access Server: the post-auth script Access Server has loaded, run once by
//! `python3` through our driver (`assets/access-server/try_post_auth.py`) the way Access Server
//! runs it: compiled from its text, called with a login, called again with the answer when it
//! challenges. The script (it holds the secret key) and the answer (maybe a passcode) reach
//! python on stdin, never in argv or the environment.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

use duo::config::Secret;

use super::host::Host;

const DRIVER: &str = include_str!("../../assets/access-server/try_post_auth.py");

/// One step of the test, as the driver reported it.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A line the script printed (Access Server's log).
    Log(String),
    /// The challenge a VPN client would show its user.
    Challenge(String),
}

/// How the script decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub succeeded: bool,
    /// For the server log.
    pub reason: String,
    /// What the user would be shown.
    pub client_reason: String,
}

/// Run `script` for `user` (a web login when `web`), answering a challenge with `answer`.
pub fn try_script(
    host: &Host,
    script: &str,
    user: &str,
    answer: &Secret,
    web: bool,
    on_step: &mut dyn FnMut(Step),
) -> Result<Decision, String> {
    let python = host
        .which("python3")
        .ok_or("python3 is not on PATH: the installed post-auth script cannot be tried")?;
    let mut cmd = Command::new(&python);
    duo::config::scrub_secret_env(&mut cmd);
    let mut child = cmd
        // -I: no PYTHON* variables, no user site-packages, nothing from the current directory.
        .args(["-I", "-c", DRIVER])
        .env("PATH", &host.path_env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: cannot start: {e}", python.display()))?;
    let request = serde_json::json!({
        "script": script,
        "username": user,
        "answer": answer.expose(),
        "vpn": !web,
    });
    {
        let mut stdin = child.stdin.take().expect("piped");
        stdin
            .write_all(request.to_string().as_bytes())
            .map_err(|e| format!("{}: cannot hand over the script: {e}", python.display()))?;
    }
    let stderr = child.stderr.take().expect("piped");
    let errors = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = BufReader::new(stderr)
            .take(64 * 1024)
            .read_to_string(&mut s);
        s
    });
    let mut decision = None;
    for line in BufReader::new(child.stdout.take().expect("piped")).lines() {
        let Ok(line) = line else { break };
        let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let text = |k: &str| event[k].as_str().unwrap_or_default().to_string();
        match event["event"].as_str() {
            Some("log") => on_step(Step::Log(text("line"))),
            Some("challenge") => on_step(Step::Challenge(text("text"))),
            Some("result") => {
                decision = Some(Decision {
                    succeeded: event["status"] == "SUCCEED",
                    reason: text("reason"),
                    client_reason: text("client_reason"),
                })
            }
            _ => {}
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("{}: {e}", python.display()))?;
    let errors = errors.join().unwrap_or_default();
    match decision {
        Some(d) => Ok(d),
        None => Err(format!(
            "the installed post-auth script did not finish ({status}): {}",
            errors.lines().last().unwrap_or("no output")
        )),
    }
}
