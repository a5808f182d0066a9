//! `duo-openvpn test USER`: a live Duo login with the outcome, for administrators.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use duo::login::{self, Allowed, Denied, Outcome};
use duo::{Client, Config, Error, Factor, LoginRequest, PreauthResponse, Progress};

use crate::cli::{TestArgs, exit};
use crate::system::process::Process;
use crate::system::root::{CONFIG_PATH, Root};
use crate::ui::spinner::Spinner;

pub fn run(args: TestArgs, process: &Process) -> u8 {
    let path = args
        .config
        .clone()
        .unwrap_or_else(|| Root::new(&args.root).path(CONFIG_PATH));
    let config = match Config::load(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let factor = match factor(&args.factor, process) {
        Ok(f) => f,
        Err(m) => {
            eprintln!("error: {m}");
            return exit::USAGE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit::UNAVAILABLE;
        }
    };
    let tty = process.stderr_terminal;
    runtime.block_on(live_test(config, path, args, factor, tty))
}

/// `--factor`: a passcode must not travel in argv, where every local user can read it.
fn factor(arg: &str, process: &Process) -> Result<Factor, String> {
    if arg.eq_ignore_ascii_case("passcode") {
        return read_passcode(process).map(Factor::Passcode);
    }
    match Factor::parse(arg) {
        Factor::Passcode(_) => Err(format!(
            "--factor must be auto, push, phone, sms (optionally numbered, like push2) or passcode; \
             a passcode on the command line is visible to every user of this machine, so use \
             --factor passcode and type it, or set DUO_PASSCODE (got a value of {} characters)",
            arg.chars().count()
        )),
        f => Ok(f),
    }
}

fn read_passcode(process: &Process) -> Result<String, String> {
    if let Some(p) = process.var("DUO_PASSCODE") {
        return Ok(p.trim().to_string());
    }
    if !process.stdin_terminal {
        return Err(
            "--factor passcode needs a terminal to type the passcode, or DUO_PASSCODE set".into(),
        );
    }
    if process.stderr_terminal {
        // The line mode's masked prompt: `*` per character typed, nothing of it afterwards.
        crate::ui::line::init(process);
        return match crate::ui::line::password(
            "Duo passcode:",
            Some("from Duo Mobile or a hardware token; Esc cancels"),
            |s| {
                if s.is_empty() {
                    Err("type the passcode (Esc cancels)".into())
                } else {
                    Ok(())
                }
            },
            None,
            false,
        ) {
            Ok(Some(p)) => Ok(p),
            Ok(None) | Err(crate::ui::line::Stop::Quit) => Err("no passcode typed".into()),
            Err(crate::ui::line::Stop::Failed(e)) => Err(e),
        };
    }
    // Standard error is not the terminal (redirected): no prompt to draw there, so the line is
    // read with echo off, as before.
    eprint!("Duo passcode: ");
    let _ = std::io::stderr().flush();
    let line = crate::system::terminal::read_line_hidden()
        .map_err(|e| format!("cannot read the passcode: {e}"))?;
    eprintln!();
    let line = line.trim().to_string();
    if line.is_empty() {
        Err("no passcode typed".into())
    } else {
        Ok(line)
    }
}

async fn live_test(config: Config, path: PathBuf, args: TestArgs, factor: Factor, tty: bool) -> u8 {
    let client = match Client::new(&config.duo) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            return exit::USAGE;
        }
    };
    let request = LoginRequest {
        username: args.user.clone(),
        factor,
        ipaddr: args.ipaddr.map(|ip| ip.to_string()),
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut spinner = Spinner::new(
        format!(
            "Asking Duo ({}) about {}",
            config.duo.host, request.username
        ),
        tty,
    );
    let deadline = config.duo.timeout;
    let mut on_progress = move |p| {
        let _ = tx.send(p);
    };
    let login = login::login(&client, &request, deadline, &mut on_progress);
    tokio::pin!(login);
    let mut ticker = tokio::time::interval(Duration::from_millis(120));
    let outcome = loop {
        tokio::select! {
            outcome = &mut login => break outcome,
            Some(p) = rx.recv() => match p {
                Progress::Preauth(pre) => {
                    spinner.clear();
                    print_preauth(&request.username, &pre);
                }
                Progress::Sent { factor, device } => {
                    spinner.set(match device {
                        _ if factor == "passcode" => "Checking the passcode".to_string(),
                        Some(d) => format!("Sent {factor} to {d}, waiting for the answer"),
                        None => format!("Sent {factor} to the default device, waiting for the answer"),
                    });
                }
                Progress::Status(s) => spinner.set(if s.status_msg.is_empty() { s.status } else { s.status_msg }),
            },
            _ = ticker.tick() => spinner.tick(),
        }
    };
    let elapsed = spinner.elapsed();
    spinner.clear();
    drop(spinner);
    report(
        &client,
        &request.username,
        &outcome,
        elapsed,
        config.duo.failmode,
    )
    .await
}

fn print_preauth(user: &str, pre: &PreauthResponse) {
    let state = match pre.result {
        duo::PreauthResult::Auth => "needs a second factor",
        duo::PreauthResult::Allow => "bypasses Duo",
        duo::PreauthResult::Deny => "is refused",
        duo::PreauthResult::Enroll => "is not enrolled",
    };
    println!("Duo user {user:?} {state}: {}", pre.status_msg);
    for (i, d) in pre.devices.iter().enumerate() {
        let caps: Vec<&str> = d
            .capabilities
            .iter()
            .map(|c| {
                if c == "mobile_otp" {
                    "passcode"
                } else {
                    c.as_str()
                }
            })
            .filter(|c| *c != "auto")
            .collect();
        let caps = if caps.is_empty() {
            "passcodes".to_string()
        } else {
            caps.join(", ")
        };
        println!("  {}. {} ({}: {caps})", i + 1, d.label(), d.kind);
    }
}

async fn report(
    client: &Client,
    user: &str,
    outcome: &Outcome,
    elapsed: Duration,
    failmode: duo::Failmode,
) -> u8 {
    let secs = format!("{:.1}s", elapsed.as_secs_f64());
    match outcome {
        Outcome::Allowed(Allowed::Approved { status_msg }) => {
            println!("ALLOWED: {user} approved after {secs} ({status_msg})");
            exit::OK
        }
        Outcome::Allowed(Allowed::Bypass { status_msg }) => {
            println!("ALLOWED: {user} bypasses Duo ({status_msg})");
            exit::OK
        }
        Outcome::Denied(Denied::NotEnrolled { url }) => {
            println!("DENIED: {user} is not enrolled in Duo");
            if let Some(u) = url {
                println!("  Enrollment link: {u}");
            }
            exit::DENIED
        }
        Outcome::Denied(_) => {
            println!("DENIED: {user}: {} (after {secs})", outcome.user_reason());
            exit::DENIED
        }
        Outcome::Failed(e @ Error::Credentials { .. }) => {
            eprintln!("error: {e}");
            if let Ok(skew) = client.clock_skew().await
                && skew.abs() > 60
            {
                eprintln!(
                    "  This machine's clock is {skew:+} s off Duo's: correct the time (NTP) and try again."
                );
            }
            exit::USAGE
        }
        Outcome::Failed(e) => {
            eprintln!("error: {e}");
            exit::UNAVAILABLE
        }
        Outcome::Unavailable(e) => {
            eprintln!("error: {e}");
            eprintln!(
                "  With failmode {:?}, VPN logins would now be {}.",
                failmode.as_str(),
                if failmode == duo::Failmode::Safe {
                    "let in without Duo"
                } else {
                    "refused"
                }
            );
            exit::UNAVAILABLE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passcodes_are_refused_in_argv_without_echoing_them() {
        let p = Process::new(["duo-openvpn"], [("DUO_PASSCODE", " 654321\n")]);
        let e = factor("123456", &p).unwrap_err();
        assert!(!e.contains("123456"), "{e}");
        assert_eq!(factor("push2", &p).unwrap(), Factor::Push(Some(2)));
        assert_eq!(factor("auto", &p).unwrap(), Factor::Auto);
        // The passcode comes from the injected environment, never from argv.
        assert_eq!(
            factor("passcode", &p).unwrap(),
            Factor::Passcode("654321".into())
        );
        let none = Process::new(["duo-openvpn"], std::iter::empty::<(&str, &str)>());
        assert!(
            factor("passcode", &none)
                .unwrap_err()
                .contains("needs a terminal")
        );
    }
}
