//! `setup` for OpenVPN Access Server: the engine's plan (`setup::access`) from flags with
//! `--yes`, or the wizard on a terminal. Either way the same effects run through the same runner
//! (recorded in the same manifest).

use crate::cli::{SetupArgs, exit};
use crate::setup::access::{self, AccessAnswers};
use crate::system::host::Host;

pub fn run(
    args: &SetupArgs,
    host: &Host,
    skey_env: Option<String>,
    terminal: bool,
    demo: bool,
) -> u8 {
    if terminal && !args.yes && !args.dry_run {
        let detection = match access::detect(host) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::USAGE;
            }
        };
        return crate::wizard::run_access(args, host, detection, skey_env, demo);
    }
    non_interactive(args, host, skey_env, terminal)
}

fn non_interactive(args: &SetupArgs, host: &Host, skey_env: Option<String>, terminal: bool) -> u8 {
    let answers = match AccessAnswers::from_flags(args, skey_env) {
        Ok(a) => a,
        Err(e) => return super::refuse_answers(e, terminal, " (Access Server)"),
    };
    if !args.yes && !args.dry_run {
        eprintln!(
            "error: no terminal to confirm on; run again with --yes to apply, or --dry-run to see the plan"
        );
        return exit::USAGE;
    }
    let detection = match access::detect(host) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let plan = match access::plan(&detection, &answers) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let mut found = detection.lines().into_iter();
    if let Some(first) = found.next() {
        println!("{first}:");
    }
    for l in found {
        println!("  {l}");
    }
    println!("Setup will:");
    for l in &plan.review {
        println!("  {l}");
    }
    for w in &plan.warnings {
        println!("warning: {w}");
    }
    if let Some(b) = &plan.blocked {
        eprintln!(
            "error: {b}. It is\n  {}\nRun again with --replace-post-auth-script to replace it.",
            detection.foreign().unwrap_or_default().join("\n  ")
        );
        return exit::USAGE;
    }
    if args.dry_run {
        println!("(dry run: nothing changed; the credentials were not checked)");
        return exit::OK;
    }
    super::apply(host, &answers.settings, plan.effects)
}
