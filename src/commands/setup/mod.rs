//! `duo-openvpn setup`: the wizard on a terminal, or the same plan from flags with `--yes`.

pub mod access;

use std::time::Instant;

use crate::cli::{SetupArgs, Target, exit};
use crate::setup::answers::{self, AnswerError};
use crate::setup::demo;
use crate::setup::effect::{self, Effect, Runner};
use crate::setup::plan;
use crate::system::detect::{self, Detection};
use crate::system::host::Host;
use crate::system::install;
use crate::system::process::Process;

pub fn run(mut args: SetupArgs, process: &Process) -> u8 {
    let started = Instant::now();
    let demo = if args.demo {
        match demo::Demo::start(process, args.target.unwrap_or(Target::Community)) {
            Ok(d) => Some(d),
            Err(e) => {
                eprintln!("error: {e}");
                return exit::UNAVAILABLE;
            }
        }
    } else {
        None
    };
    // Paths on the managed system are normalised once, here: `..` resolved by name (nothing
    // below the root is reached through a symlink), so a backup is never keyed by a path that
    // names the file itself.
    let norm = |p: &String| crate::system::files::SysPath::normalize(p).to_string();
    args.server_config = args.server_config.as_ref().map(norm);
    args.client_configs = args.client_configs.iter().map(norm).collect();
    let mut skey_env = process.var("DUO_SKEY");
    let host = match &demo {
        Some(d) => {
            args.root = d.dir.clone();
            args.ikey.get_or_insert_with(|| d.ikey().to_string());
            args.host.get_or_insert_with(|| d.duo_host());
            args.ca_file.get_or_insert_with(|| d.ca_file.clone());
            if args.skey_file.is_none() {
                args.skey_file = Some(d.skey_file.clone());
                skey_env = None;
            }
            args.test_user
                .get_or_insert_with(|| demo::DEMO_USER.to_string());
            if args.client_configs.is_empty() && d.target == Target::Community {
                args.client_configs =
                    vec!["/home/alice/alice.ovpn".into(), "/root/bob.ovpn".into()];
            }
            println!(
                "Demo sandbox: {} (a Duo stand-in runs at {})",
                d.dir.display(),
                d.duo_host()
            );
            d.host()
        }
        None => Host::new(&args.root, process),
    };
    let terminal = process.interactive();
    let interactive = terminal && !args.yes && !args.dry_run;
    let mut detection = detect::detect(&host, &args.client_configs);
    if args.no_client_templates {
        // Every front end (wizard, line mode, --yes) offers what detection lists.
        detection.drop_templates();
    }

    let target = match check_target(&args, &detection, &host, interactive) {
        Err(code) => return code,
        Ok(Some(t)) => Some(t),
        // Both products, a person at the terminal: the line mode asks here, the wizard on
        // its first screen.
        Ok(None) if line_mode(&args, &host) => match choose_in_lines(&host) {
            Ok(t) => Some(t),
            Err(code) => return code,
        },
        Ok(None) => None,
    };
    let code = match target {
        Some(Target::AccessServer) if interactive && line_mode(&args, &host) => {
            crate::ui::line::access::run_access(&args, &host, skey_env)
        }
        Some(Target::AccessServer) => access::run(&args, &host, skey_env, terminal, demo.is_some()),
        Some(Target::Community) => community(
            &args,
            host,
            detection,
            skey_env,
            demo.as_ref(),
            interactive,
            terminal,
        ),
        None => match crate::setup::access::detect(&host) {
            Ok(access) => {
                crate::wizard::run_choose(&args, host, detection, access, skey_env, demo.as_ref())
            }
            Err(e) => {
                eprintln!("error: {e}");
                exit::USAGE
            }
        },
    };
    if let Some(d) = &demo {
        println!("\n{}", d.epilogue(code));
        println!("(setup --demo took {})", demo::duration(started.elapsed()));
    }
    code
}

fn community(
    args: &SetupArgs,
    host: Host,
    detection: Detection,
    skey_env: Option<String>,
    demo: Option<&demo::Demo>,
    interactive: bool,
    terminal: bool,
) -> u8 {
    if interactive && line_mode(args, &host) {
        crate::ui::line::community::run(args, host, detection, skey_env, demo)
    } else if interactive {
        crate::wizard::run(args, host, detection, skey_env, demo)
    } else {
        non_interactive(args, host, &detection, skey_env, terminal)
    }
}

/// Prompts in lines instead of the full-screen wizard: `--plain`, `TERM=dumb`, or a terminal
/// narrower than the wizard's 80 columns.
fn line_mode(args: &SetupArgs, host: &Host) -> bool {
    let columns = ratatui::crossterm::terminal::size().ok().map(|(w, _)| w);
    crate::ui::line::wanted(args.plain, &host.process, columns)
}

/// Community, Access Server, both or neither: `Err(exit code)` when setup cannot go on,
/// `Ok(None)` when both are installed and the person at the terminal is to choose.
fn check_target(
    args: &SetupArgs,
    d: &Detection,
    host: &Host,
    interactive: bool,
) -> Result<Option<Target>, u8> {
    let community = d.community() || args.server_config.is_some();
    let target = match (community, d.access_server.is_some(), args.target) {
        (_, _, Some(t)) => t,
        (true, false, None) => Target::Community,
        (false, true, None) => Target::AccessServer,
        (true, true, None) if interactive => return Ok(None),
        (true, true, None) => {
            eprintln!(
                "error: both Community OpenVPN and OpenVPN Access Server ({}) are installed: \
                 choose one with --target community or --target access-server",
                host.display_path(detect::SACLI)
            );
            return Err(exit::USAGE);
        }
        (false, false, None) => {
            eprintln!(
                "error: no OpenVPN found under {}: neither `openvpn` on PATH with a server config in \
                 /etc/openvpn/server/ or /etc/openvpn/, nor Access Server ({}).\n\
                 Next step: install OpenVPN and create a server config (or pass --server-config PATH), \
                 or try everything in a sandbox first: duo-openvpn setup --demo",
                host.root.dir().display(),
                detect::SACLI
            );
            return Err(exit::USAGE);
        }
    };
    if target == Target::AccessServer && d.access_server.is_none() {
        eprintln!(
            "error: --target access-server, but Access Server is not installed ({} is missing)",
            host.display_path(detect::SACLI)
        );
        return Err(exit::USAGE);
    }
    Ok(Some(target))
}

/// The line mode's first question when both products are installed.
fn choose_in_lines(host: &Host) -> Result<Target, u8> {
    crate::ui::line::init(&host.process);
    let choices = [
        "Community OpenVPN (server.conf and our plugin)".to_string(),
        format!(
            "OpenVPN Access Server ({}: our post-auth script)",
            host.display_path(detect::SACLI)
        ),
    ];
    match crate::ui::line::select(
        "Both Community OpenVPN and Access Server are installed. Set up which?",
        &choices,
        0,
        None,
    ) {
        Ok(0) => Ok(Target::Community),
        Ok(_) => Ok(Target::AccessServer),
        Err(_) => {
            println!("Nothing was changed.");
            Err(exit::USAGE)
        }
    }
}

fn non_interactive(
    args: &SetupArgs,
    host: Host,
    detection: &Detection,
    skey_env: Option<String>,
    terminal: bool,
) -> u8 {
    let (answers, notes) = match answers::from_flags(args, &host, detection, skey_env) {
        Ok(a) => a,
        Err(e) => return refuse_answers(e, terminal, ""),
    };
    for n in &notes {
        println!("note: {n}");
    }
    if !args.yes && !args.dry_run {
        eprintln!(
            "error: no terminal to confirm on; run again with --yes to apply, or --dry-run to see the plan"
        );
        return exit::USAGE;
    }
    let plan = match plan::build(&host, detection, &answers, install::can_chown()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    print!("{}", plan.describe());
    let diffs = plan.diffs();
    if !diffs.is_empty() {
        println!("\n{diffs}");
    }
    if args.dry_run {
        println!("(dry run: nothing changed; the credentials were not checked)");
        return exit::OK;
    }
    if plan.is_noop() {
        println!("Already set up: nothing to change.");
    }
    let effects = effect::effects(&plan)
        .into_iter()
        .filter(|e| !(plan.is_noop() && matches!(e, Effect::Restart { .. })))
        .collect();
    apply(&host, &answers.settings, effects)
}

/// Check the credentials with Duo first (nothing is changed with keys Duo refuses), then run
/// `effects` in order through one runner, stopping at the first that fails. Returns the exit code.
pub(crate) fn apply(host: &Host, settings: &duo::DuoSettings, effects: Vec<Effect>) -> u8 {
    let mut runner = match Runner::new(host.clone()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::UNAVAILABLE;
        }
    };
    let mut code = exit::OK;
    let mut spinner = crate::ui::spinner::Spinner::new(
        format!("Checking the credentials with Duo ({})", settings.host),
        host.process.stderr_terminal,
    );
    let ok = runner.run(&Effect::DuoCheck(settings.clone()), &mut |r| {
        spinner.clear();
        code = crate::ui::report::print(&r, code);
    });
    drop(spinner);
    if !ok {
        return code;
    }
    for e in effects {
        let ok = runner.run(&e, &mut |r| code = crate::ui::report::print(&r, code));
        if !ok {
            if code == exit::OK {
                code = exit::USAGE;
            }
            if !matches!(e, Effect::TestPush { .. } | Effect::TestPushWith { .. }) {
                eprintln!(
                    "Stopped. What was done is recorded in {}; `duo-openvpn uninstall` undoes it.",
                    effect::manifest_display(host)
                );
            }
            return code;
        }
    }
    println!(
        "Done. The manifest for uninstall is {}.",
        effect::manifest_display(host)
    );
    code
}

/// Answers that are missing or invalid, each named; setup goes no further.
pub(crate) fn refuse_answers(e: AnswerError, terminal: bool, target: &str) -> u8 {
    for f in e.invalid {
        eprintln!("error: {f}");
    }
    if !e.missing.is_empty() {
        eprintln!(
            "error: {} without these answers{target}:",
            if terminal {
                "setup --yes cannot go on"
            } else {
                "no terminal to ask on, and setup cannot go on"
            }
        );
        for f in e.missing {
            eprintln!("  {f}");
        }
        eprintln!("(run `duo-openvpn setup --help` for every flag)");
    }
    exit::USAGE
}
