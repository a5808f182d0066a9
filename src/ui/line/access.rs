//! OpenVPN Access Server in the line mode: detection, credentials checked live, options
//! (AUTOPUSH, Duo for VPN and web or web only, failmode), the review with consent to replace
//! another post-auth script, apply, a live test through the installed script, done. The plan is
//! `setup::access::plan`'s, so the `sacli` calls are those `--yes` makes for the same answers.

use duo::config::Secret;

use super::{
    Asked, Credentials, Stop, ask_failmode, ask_test_user, confirm, heading, run_effect, select,
};
use crate::cli::{SetupArgs, exit};
use crate::setup::access::{self, AccessAnswers, AccessDetection};
use crate::setup::answers::{self, read_skey};
use crate::setup::effect::{self, Effect, Runner};
use crate::system::host::Host;

/// The line-mode setup for Access Server; the exit code (as `--yes` gives it).
pub fn run_access(args: &SetupArgs, host: &Host, skey_env: Option<String>) -> u8 {
    super::init(&host.process);
    let detection = match access::detect(host) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let skey = match read_skey(args.skey_file.as_ref(), skey_env) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let mut runner = match Runner::new(host.clone()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::UNAVAILABLE;
        }
    };
    let mut s = Session {
        args,
        host,
        detection: &detection,
        creds: Credentials::from_flags(args, skey),
        code: exit::OK,
        changed: false,
    };
    match s.flow(&mut runner) {
        Ok(()) => s.code,
        Err(Stop::Quit) if s.changed => {
            println!(
                "Stopped. What was done is recorded in {}; `duo-openvpn uninstall` undoes it.",
                effect::manifest_display(host)
            );
            s.code
        }
        Err(Stop::Quit) => {
            println!("Nothing was changed.");
            s.code
        }
        Err(Stop::Failed(e)) => {
            eprintln!("error: {e}");
            if !s.changed {
                eprintln!("Nothing was changed.");
            }
            exit::USAGE
        }
    }
}

struct Session<'a> {
    args: &'a SetupArgs,
    host: &'a Host,
    detection: &'a AccessDetection,
    creds: Credentials,
    code: u8,
    changed: bool,
}

impl Session<'_> {
    fn flow(&mut self, runner: &mut Runner) -> Asked<()> {
        heading("1. Detection");
        let mut found = self.detection.lines().into_iter();
        if let Some(first) = found.next() {
            println!("{first}:");
        }
        for l in found {
            println!("  {l}");
        }
        for w in self.detection.inspection.warnings() {
            println!("warning: {w}");
        }
        heading("2. Credentials");
        let settings = self
            .creds
            .ask(answers::failmode(self.args.failmode), runner)?;
        heading("3. Options");
        let autopush = confirm(
            "Push at once (AUTOPUSH)?",
            self.args.autopush,
            Some(
                "y: a push to the user's phone without asking; n: the user chooses push, phone, sms or a passcode",
            ),
        )?;
        let scopes = [
            "VPN and web: Duo at every VPN connection and web login".to_string(),
            "web only: Duo at web logins; VPN connections skip it".to_string(),
        ];
        let web_only = select(
            "Ask for Duo on:",
            &scopes,
            usize::from(self.args.skip_duo_for_vpn),
            None,
        )? == 1;
        let failmode = ask_failmode(settings.failmode)?;
        let mut settings = settings;
        settings.failmode = failmode;
        let mut answers = AccessAnswers {
            autopush,
            web_only,
            replace_foreign: self.args.replace_post_auth_script,
            ..AccessAnswers::new(settings)
        };
        heading("4. Review");
        if let Some(summary) = self.detection.foreign() {
            println!("Access Server runs another post-auth script now, and it runs only one:");
            for l in &summary {
                println!("  {l}");
            }
            if !answers.replace_foreign {
                answers.replace_foreign = confirm(
                    "Replace it with duo-openvpn's? (uninstall puts it back)",
                    false,
                    None,
                )?;
            }
            if !answers.replace_foreign {
                println!("Nothing was changed: the other script stays.");
                return Ok(());
            }
        }
        let plan = access::plan(self.detection, &answers).map_err(Stop::Failed)?;
        println!("Setup will:");
        for l in &plan.review {
            println!("  {l}");
        }
        for w in &plan.warnings {
            println!("warning: {w}");
        }
        if let Some(b) = &plan.blocked {
            return Err(Stop::Failed(b.clone()));
        }
        if !confirm(
            "Apply these changes?",
            false,
            Some("y applies, n (or Enter) stops"),
        )? {
            println!("Nothing was changed.");
            return Ok(());
        }
        heading("5. Apply");
        for e in &plan.effects {
            self.changed = true;
            let (ok, code) = run_effect(runner, e, self.code);
            self.code = code;
            if !ok {
                if self.code == exit::OK {
                    self.code = exit::USAGE;
                }
                eprintln!(
                    "Stopped. What was done is recorded in {}; `duo-openvpn uninstall` undoes it.",
                    effect::manifest_display(self.host)
                );
                return Ok(());
            }
        }
        heading("6. Test");
        self.test(runner, &answers)?;
        heading("7. Done");
        println!(
            "Duo now guards this Access Server ({}).",
            if answers.web_only {
                "web logins"
            } else {
                "VPN connections and web logins"
            }
        );
        println!("  duo-openvpn status      checks it all again");
        println!("  duo-openvpn uninstall   gives back what was there");
        println!(
            "The manifest for uninstall is {}.",
            effect::manifest_display(self.host)
        );
        Ok(())
    }

    /// A live login through the installed script, for the user named (Enter alone skips),
    /// answering its challenge with a push: the engine's own test effect.
    fn test(&mut self, runner: &mut Runner, answers: &AccessAnswers) -> Asked<()> {
        println!(
            "A live {} login through the installed post-auth script, run the way Access Server runs it.",
            if answers.web_only { "web" } else { "VPN" }
        );
        let mut user = self.args.test_user.clone().unwrap_or_default();
        loop {
            let Some(u) = ask_test_user("Duo user for the test:", &user)? else {
                println!("No test.");
                return Ok(());
            };
            user = u;
            let with_user = AccessAnswers {
                test_user: Some(user.clone()),
                test_answer: Secret::new("push"),
                ..answers.clone()
            };
            let plan = access::plan(self.detection, &with_user).map_err(Stop::Failed)?;
            let Some(test @ Effect::TestAccessServer { .. }) = plan.effects.last() else {
                return Err(Stop::Failed("the plan holds no test".into()));
            };
            let (ok, code) = run_effect(runner, test, self.code);
            if ok || !confirm("Try the test again?", false, None)? {
                self.code = code;
                return Ok(());
            }
        }
    }
}
