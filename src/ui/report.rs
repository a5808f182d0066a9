//! A report from the setup engine as plain lines on stdout and stderr: `setup --yes` and the
//! line mode print every effect's outcome this way.

use crate::setup::effect::Report;

/// Print one report line; returns the exit code so far (see `Report::exit_code`).
pub fn print(r: &Report, code: u8) -> u8 {
    print_lines(r);
    r.exit_code(code)
}

fn print_lines(r: &Report) {
    match r {
        Report::Checked { skew } => {
            println!("Duo accepted the integration key and secret key.");
            if let Some(s) = skew.filter(|s| s.abs() > 60) {
                println!(
                    "warning: this machine's clock is {s:+} s off Duo's; Duo refuses requests dated more than a few minutes off: fix the time (NTP)."
                );
            }
        }
        Report::CheckFailed { message, skew, .. } => {
            eprintln!("error: {message}");
            if let Some(s) = skew.filter(|s| s.abs() > 60) {
                eprintln!(
                    "  This machine's clock is {s:+} s off Duo's: correct the time (NTP) and try again."
                );
            }
            eprintln!("Nothing was changed.");
        }
        Report::Wrote { path, changed } => {
            println!("{} {path}", if *changed { "wrote" } else { "unchanged" });
        }
        Report::Restarted { unit, state } => {
            println!("restarted {unit}: {state}");
        }
        Report::RestartFailed { unit, message, log } => {
            eprintln!("error: restarting {unit} failed: {message}");
            for l in log {
                eprintln!("  | {l}");
            }
            eprintln!("  `duo-openvpn uninstall --yes` rolls everything back.");
        }
        Report::Push(s) => {
            println!("test push: {s}");
        }
        Report::PushDone {
            allowed,
            summary,
            secs,
        } => {
            if *allowed {
                println!("test push: ALLOWED: {summary} ({secs:.1}s)");
            } else {
                eprintln!("test push: REFUSED: {summary} ({secs:.1}s)");
                eprintln!("The changes are in place; the test login was refused.");
            }
        }
        Report::RolledBack(lines) => {
            for l in lines {
                println!("{l}");
            }
        }
        Report::Failed(e) => {
            eprintln!("error: {e}");
        }
    }
}
