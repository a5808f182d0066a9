//! The line mode: setup's steps as prompts one after another (the `inquire` crate), for serial
//! consoles, screen readers and copy-paste transcripts. Nothing is drawn full-screen: each
//! prompt is one line, answered prompts stay in the scrollback as `? Question: answer`.
//!
//! Chosen with `setup --plain`, `TERM=dumb`, or a terminal narrower than 80 columns (the TUI
//! needs 80). `test --factor passcode` and `uninstall` ask with the same prompts.

pub mod access;
pub mod community;

use inquire::error::InquireError;
use inquire::ui::RenderConfig;
use inquire::validator::Validation;
use inquire::{Confirm, MultiSelect, Password, PasswordDisplayMode, Select, Text};

use std::path::PathBuf;

use duo::config::{Secret, check_host, check_ikey, check_skey};
use duo::{DuoSettings, Failmode};

use crate::cli::{SetupArgs, exit};
use crate::setup::answers::{self, DuoFields};
use crate::setup::effect::{Effect, Report, Runner};
use crate::system::process::Process;

/// The narrowest terminal the TUI wizard is laid out for.
pub const TUI_MIN_COLUMNS: u16 = 80;

/// Setup asks in lines instead of the full-screen wizard: asked for, a terminal that cannot
/// place the cursor (`TERM=dumb`), or one too narrow for the wizard's layout.
pub fn wanted(plain: bool, process: &Process, columns: Option<u16>) -> bool {
    plain || process.term_is_dumb() || columns.is_some_and(|c| c < TUI_MIN_COLUMNS)
}

/// Why the prompts ended early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Esc or Ctrl-C.
    Quit,
    /// The terminal could not be used (the message says why).
    Failed(String),
}

pub type Asked<T> = Result<T, Stop>;

fn stopped(e: InquireError) -> Stop {
    match e {
        InquireError::OperationCanceled | InquireError::OperationInterrupted => Stop::Quit,
        e => Stop::Failed(format!("cannot ask on this terminal: {e}")),
    }
}

/// Plain prompts (no colour, ASCII marks) where colour would be noise: `NO_COLOR`, or a dumb
/// terminal (a serial console, a screen reader's transcript). Call once before asking.
pub fn init(process: &Process) {
    let config = if process.flag("NO_COLOR") || process.term_is_dumb() {
        RenderConfig::empty()
    } else {
        RenderConfig::default_colored()
    };
    inquire::set_global_render_config(config);
}

/// The engine's checkers (`check_ikey`, `check_host`…): the problem, said for people.
pub type Check = fn(&str) -> Result<(), String>;

/// A checker as inquire's validator: the message is shown under the prompt, which asks again.
fn validator(
    check: Check,
) -> impl Fn(&str) -> Result<Validation, inquire::CustomUserError> + Clone {
    move |s: &str| {
        Ok(match check(s.trim()) {
            Ok(()) => Validation::Valid,
            Err(m) => Validation::Invalid(m.into()),
        })
    }
}

fn any(_: &str) -> Result<(), String> {
    Ok(())
}

/// One line of text, pre-filled with `initial` (editable), trimmed; `check` refuses an answer
/// with a message and asks again.
pub fn text(label: &str, initial: &str, help: Option<&str>, check: Option<Check>) -> Asked<String> {
    let mut t = Text::new(label)
        .with_initial_value(initial)
        .with_validator(validator(check.unwrap_or(any)));
    if let Some(h) = help {
        t = t.with_help_message(h);
    }
    t.prompt().map(|s| s.trim().to_string()).map_err(stopped)
}

/// A secret, echoed as `*` while typed and never afterwards; the answered line shows only
/// how long it is when `show_length`. An empty answer is allowed only when `keep` says what
/// it keeps (an answer already given by a file or the environment).
pub fn password(
    label: &str,
    help: Option<&str>,
    check: Check,
    keep: Option<&str>,
    show_length: bool,
) -> Asked<Option<String>> {
    let keeping = keep.is_some();
    fn with_length(s: &str) -> String {
        match s.trim().chars().count() {
            0 => "(kept: the one already given)".to_string(),
            n => format!("******** ({n} characters)"),
        }
    }
    fn hidden(s: &str) -> String {
        if s.trim().is_empty() {
            "(kept: the one already given)".to_string()
        } else {
            "********".to_string()
        }
    }
    let formatter: &dyn Fn(&str) -> String = if show_length { &with_length } else { &hidden };
    let help = match (help, keep) {
        (Some(h), Some(k)) => Some(format!("{h}; Enter alone keeps {k}")),
        (None, Some(k)) => Some(format!("Enter alone keeps {k}")),
        (h, None) => h.map(str::to_string),
    };
    let mut p = Password::new(label)
        .with_display_mode(PasswordDisplayMode::Masked)
        .without_confirmation()
        .with_formatter(formatter)
        .with_validator(move |s: &str| {
            Ok(match (s.trim().is_empty(), keeping) {
                (true, true) => Validation::Valid,
                _ => match check(s.trim()) {
                    Ok(()) => Validation::Valid,
                    Err(m) => Validation::Invalid(m.into()),
                },
            })
        });
    if let Some(h) = &help {
        p = p.with_help_message(h);
    }
    let s = p.prompt().map_err(stopped)?;
    let s = s.trim().to_string();
    Ok((!s.is_empty()).then_some(s))
}

/// One of `choices` (shown as labels), starting on `start`; the index chosen.
pub fn select(label: &str, choices: &[String], start: usize, help: Option<&str>) -> Asked<usize> {
    let mut s = Select::new(label, choices.to_vec())
        .with_starting_cursor(start.min(choices.len().saturating_sub(1)))
        .with_page_size(choices.len().clamp(1, 10))
        .without_filtering()
        .with_help_message(help.unwrap_or("↑↓ to move, Enter to choose"));
    s = s.with_vim_mode(false);
    s.raw_prompt().map(|o| o.index).map_err(stopped)
}

/// Any of `choices`, those in `selected` ticked at first; the indices chosen, in order.
pub fn multi_select(
    label: &str,
    choices: &[String],
    selected: &[usize],
    help: Option<&str>,
) -> Asked<Vec<usize>> {
    MultiSelect::new(label, choices.to_vec())
        .with_default(selected)
        .with_page_size(choices.len().clamp(1, 10))
        .without_filtering()
        .with_help_message(help.unwrap_or("↑↓ to move, Space to tick or untick, Enter to go on"))
        .raw_prompt()
        .map(|v| v.into_iter().map(|o| o.index).collect())
        .map_err(stopped)
}

/// Yes or no, `default` on Enter alone.
pub fn confirm(label: &str, default: bool, help: Option<&str>) -> Asked<bool> {
    let mut c = Confirm::new(label).with_default(default);
    if let Some(h) = help {
        c = c.with_help_message(h);
    }
    c.prompt().map_err(stopped)
}

/// The Duo answers as the prompts hold them, pre-filled from the flags (and the demo).
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub ikey: String,
    /// From --skey-file or DUO_SKEY, or typed.
    pub skey: Option<Secret>,
    pub host: String,
    pub proxy: Option<String>,
    pub ca_file: Option<PathBuf>,
}

impl Credentials {
    pub fn from_flags(args: &SetupArgs, skey: Option<Secret>) -> Credentials {
        Credentials {
            ikey: args.ikey.clone().unwrap_or_default(),
            skey,
            host: args.host.clone().unwrap_or_default(),
            proxy: args.proxy.clone(),
            ca_file: args.ca_file.clone(),
        }
    }

    /// Ask for the keys, then check them live with Duo (`Effect::DuoCheck` through the
    /// runner); a refusal asks again. The settings Duo accepted, built by the engine's
    /// `answers::duo_settings` as for `--yes`.
    pub fn ask(&mut self, failmode: Failmode, runner: &mut Runner) -> Asked<DuoSettings> {
        println!(
            "From the Duo Admin Panel: Applications → OpenVPN. The keys are checked live with Duo."
        );
        loop {
            self.ikey = text("Integration key:", &self.ikey, None, Some(check_ikey))?;
            let kept = self.skey.as_ref().map(|s| {
                format!(
                    "the one already given ({} characters)",
                    s.expose().chars().count()
                )
            });
            if let Some(typed) = password("Secret key:", None, check_skey, kept.as_deref(), true)? {
                self.skey = Some(Secret::new(typed));
            }
            self.host = text(
                "API hostname:",
                &self.host,
                Some("api-xxxxxxxx.duosecurity.com"),
                Some(check_host),
            )?;
            let (mut missing, mut invalid) = (Vec::new(), Vec::new());
            let settings = answers::duo_settings(
                DuoFields {
                    ikey: Some(self.ikey.clone()),
                    skey: Ok(self.skey.clone()),
                    host: Some(self.host.clone()),
                    proxy: self.proxy.clone(),
                    ca_file: self.ca_file.clone(),
                    failmode,
                },
                &mut missing,
                &mut invalid,
            );
            let Some(settings) = settings else {
                // Only the flags the prompts do not ask for (--proxy, --ca-file) get here:
                // asking again cannot mend them.
                return Err(Stop::Failed(
                    missing
                        .into_iter()
                        .chain(invalid)
                        .collect::<Vec<_>>()
                        .join("; "),
                ));
            };
            if let Some(ca) = &self.ca_file {
                println!("CA file: {}", ca.display());
            }
            if let Some(p) = &self.proxy {
                println!("Proxy: {}", duo::config::redact_userinfo(p));
            }
            println!("Checking the credentials with Duo ({})…", settings.host);
            let mut accepted = false;
            // A refusal is no exit code here: the prompts ask again.
            runner.run(&Effect::DuoCheck(settings.clone()), &mut |r| {
                accepted = matches!(r, Report::Checked { .. });
                print_report(&r, exit::OK);
            });
            if accepted {
                return Ok(settings);
            }
            println!("Type the keys again (Esc quits).");
        }
    }
}

/// Duo's failmode, as the options step asks it.
pub fn ask_failmode(current: Failmode) -> Asked<Failmode> {
    let choices = [
        "secure: refuse logins while Duo cannot be reached".to_string(),
        "safe: let users in without Duo while it cannot be reached (logged)".to_string(),
    ];
    let i = select(
        "When Duo is down:",
        &choices,
        usize::from(current == Failmode::Safe),
        None,
    )?;
    Ok(if i == 1 {
        Failmode::Safe
    } else {
        Failmode::Secure
    })
}

/// A step's title, numbered as the wizard's step list numbers it.
pub fn heading(title: &str) {
    println!("\n== {title} ==");
}

/// What a report says, as the lines `--yes` prints.
pub use crate::ui::report::print as print_report;

/// Run one effect through the runner, printing its reports; `(ok, exit code so far)`.
pub fn run_effect(runner: &mut Runner, e: &Effect, code: u8) -> (bool, u8) {
    let mut code = code;
    let ok = runner.run(e, &mut |r| code = print_report(&r, code));
    (ok, code)
}

/// The test's user name, `start` pre-filled; `None` when the administrator skips the test
/// (Enter alone, or Esc: everything is in place by then, so Esc does not stop setup).
pub fn ask_test_user(label: &str, start: &str) -> Asked<Option<String>> {
    let user = match text(
        label,
        start,
        Some("Enter alone (or Esc) skips the test"),
        None,
    ) {
        Err(Stop::Quit) => String::new(),
        answer => answer?,
    };
    Ok((!user.is_empty()).then_some(user))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(vars: &[(&str, &str)]) -> Process {
        Process::new(["duo-openvpn"], vars.iter().copied())
    }

    #[test]
    fn plain_dumb_or_narrow_chooses_the_line_mode() {
        let xterm = process(&[("TERM", "xterm-256color")]);
        assert!(!wanted(false, &xterm, Some(80)));
        assert!(!wanted(false, &xterm, None));
        assert!(wanted(true, &xterm, Some(200)));
        assert!(wanted(false, &xterm, Some(79)));
        assert!(wanted(false, &process(&[("TERM", "dumb")]), Some(120)));
        assert!(!wanted(false, &process(&[]), Some(120)));
    }

    #[test]
    fn validators_check_the_trimmed_answer() {
        let v = validator(duo::config::check_ikey);
        assert!(matches!(v(" DIMOCK0000000000000A "), Ok(Validation::Valid)));
        assert!(matches!(v("nope"), Ok(Validation::Invalid(_))));
    }
}
