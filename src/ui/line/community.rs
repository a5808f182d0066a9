//! Community OpenVPN in the line mode: the wizard's steps (detection, credentials checked live,
//! options, server config, client profiles, review, apply, restart, test push, done) as prompts.
//! The answers are the engine's `Answers`, the plan `plan::build`'s, the effects
//! `effect::effects`'s, run by one `Runner`: what `--yes` and the TUI run too.

use duo::config::Secret;
use duo::{DuoSettings, Failmode, UsernameFrom};

use super::{
    Asked, Credentials, Stop, ask_failmode, ask_test_user, confirm, heading, multi_select,
    run_effect, select,
};
use crate::cli::{SetupArgs, UsernameFromArg, exit};
use crate::setup::answers::{self, read_skey};
use crate::setup::demo::Demo;
use crate::setup::effect::{self, Effect, Report, Runner};
use crate::setup::plan::{self, Answers, Plan, PluginSource, find_plugin_so};
use crate::system::detect::{self, ClientProfile, Detection};
use crate::system::host::Host;
use crate::system::install;

/// The line-mode setup for Community OpenVPN; the exit code (as `--yes` gives it).
pub fn run(
    args: &SetupArgs,
    host: Host,
    detection: Detection,
    skey_env: Option<String>,
    demo: Option<&Demo>,
) -> u8 {
    super::init(&host.process);
    let mut s = match Session::new(args, host, detection, skey_env, demo.is_some()) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match s.flow() {
        Ok(()) => s.code,
        Err(Stop::Quit) if s.changed => {
            println!(
                "Stopped. What was done is recorded in {}; `duo-openvpn uninstall` undoes it.",
                effect::manifest_display(&s.host)
            );
            s.code
        }
        Err(Stop::Quit) => {
            println!("Nothing was changed.");
            s.code
        }
        Err(Stop::Failed(e)) => {
            eprintln!("error: {e}");
            if s.changed {
                eprintln!(
                    "What was done is recorded in {}; `duo-openvpn uninstall` undoes it.",
                    effect::manifest_display(&s.host)
                );
            } else {
                eprintln!("Nothing was changed.");
            }
            exit::USAGE
        }
    }
}

/// The detection summary, as the wizard's first screen shows it.
pub fn detection_lines(d: &Detection) -> Vec<String> {
    let mut out = Vec::new();
    match &d.openvpn {
        Some(o) => {
            out.push(format!("OpenVPN: {} (Community)", o.version()));
            out.push(format!("  {}", o.notes()));
        }
        None => out.push("OpenVPN: not found on PATH".into()),
    }
    out.push(format!(
        "Access Server: {}",
        if d.access_server.is_some() {
            "installed (not handled here: --target access-server)"
        } else {
            "no"
        }
    ));
    out.push(format!("Server configs ({}):", d.servers.len()));
    for s in &d.servers {
        out.push(format!("  {}", s.path));
        out.push(format!(
            "    {} {}, runs as {}:{}{}",
            s.unit.as_deref().unwrap_or("(no unit)"),
            s.state,
            s.user.as_deref().unwrap_or("root"),
            s.group.as_deref().unwrap_or("root"),
            if s.ours {
                ", Duo already set up"
            } else if s.upstream_duo.is_some() {
                ", Duo's old plugin"
            } else {
                ""
            }
        ));
    }
    if d.servers.is_empty() {
        out.push("  none: nothing to set up".into());
    }
    out.push(format!("Client profiles ({}):", d.clients.len()));
    for c in &d.clients {
        out.push(format!("  {}", client_label(c)));
    }
    for u in &d.unreadable {
        out.push(format!("  unreadable: {}: {}", u.path, u.reason));
    }
    out
}

fn client_label(c: &ClientProfile) -> String {
    format!(
        "{}{}{}{}",
        c.path,
        c.template
            .map(|t| format!(" (template of {t})"))
            .unwrap_or_default(),
        if c.ready { " (ready)" } else { "" },
        if c.foreign.is_some() {
            " (another user's folder)"
        } else {
            ""
        }
    )
}

/// The profiles ticked at first: those named with --client-config and the installers'
/// templates (as `--yes` edits them), else (as the wizard does) every one not set up yet and
/// not in a folder another user controls.
pub fn preselected(args: &SetupArgs, host: &Host, d: &Detection) -> Vec<usize> {
    if !args.client_configs.is_empty() {
        let mut wanted: Vec<String> = args
            .client_configs
            .iter()
            .flat_map(|c| detect::client_paths(host, c))
            .collect();
        // --no-client-templates took them out of the detection already.
        wanted.extend(answers::templates(d, &wanted));
        return (0..d.clients.len())
            .filter(|i| wanted.contains(&d.clients[*i].path))
            .collect();
    }
    (0..d.clients.len())
        .filter(|i| !d.clients[*i].ready && d.clients[*i].foreign.is_none())
        .collect()
}

struct Session<'a> {
    args: &'a SetupArgs,
    host: Host,
    detection: Detection,
    runner: Runner,
    plugin_so: PluginSource,
    creds: Credentials,
    server_index: usize,
    failmode: Failmode,
    username_from: UsernameFrom,
    clients: Vec<String>,
    /// The exit code so far.
    code: u8,
    /// Something on the system was changed (the manifest records it).
    changed: bool,
    /// Said after the detection summary.
    notes: Vec<String>,
}

impl<'a> Session<'a> {
    fn new(
        args: &'a SetupArgs,
        host: Host,
        mut detection: Detection,
        skey_env: Option<String>,
        demo: bool,
    ) -> Result<Session<'a>, u8> {
        // A server config outside the usual places (--server-config) is offered too.
        if let Some(p) = &args.server_config
            && !detection.servers.iter().any(|s| &s.path == p)
        {
            match detect::read_doc(&host, p) {
                Ok(doc) if doc.is_server() => {
                    let s = detect::server_config_of(&host, p, &doc);
                    detection.servers.push(s);
                }
                Ok(doc) => {
                    eprintln!(
                        "error: --server-config {p}: {}, not a server config",
                        doc.role()
                    );
                    return Err(exit::USAGE);
                }
                Err(e) => {
                    eprintln!("error: --server-config {p}: {e}");
                    return Err(exit::USAGE);
                }
            }
        }
        let plugin_so = match find_plugin_so(args.plugin_so.clone(), &host.process) {
            Some(p) if crate::system::files::is_input_file(&p) => PluginSource::File(p),
            Some(p) => {
                eprintln!("error: --plugin-so {}: no such file", p.display());
                return Err(exit::USAGE);
            }
            None if demo => PluginSource::Placeholder,
            None => {
                eprintln!(
                    "error: libduo_openvpn_plugin.so was not found next to this binary: \
                     give it with --plugin-so PATH (build it with \
                     `cargo build --release -p duo-openvpn-plugin`)"
                );
                return Err(exit::USAGE);
            }
        };
        let skey = match read_skey(args.skey_file.as_ref(), skey_env) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return Err(exit::USAGE);
            }
        };
        let runner = Runner::new(host.clone()).map_err(|e| {
            eprintln!("error: {e}");
            exit::UNAVAILABLE
        })?;
        let server_index = args
            .server_config
            .as_ref()
            .and_then(|p| detection.servers.iter().position(|s| &s.path == p))
            .unwrap_or(0);
        let mut s = Session {
            args,
            runner,
            plugin_so,
            creds: Credentials::from_flags(args, skey),
            server_index,
            failmode: answers::failmode(args.failmode),
            username_from: UsernameFrom::default(),
            clients: Vec::new(),
            code: exit::OK,
            changed: false,
            notes: Vec::new(),
            detection,
            host,
        };
        s.username_from = s.default_username_from();
        s.take_upstream_credentials();
        Ok(s)
    }

    fn default_username_from(&self) -> UsernameFrom {
        match self.args.username_from {
            Some(UsernameFromArg::CommonName) => UsernameFrom::CommonName,
            Some(UsernameFromArg::Username) => UsernameFrom::Username,
            None => self
                .detection
                .servers
                .get(self.server_index)
                .map(|s| plan::identity_default(s).0)
                .unwrap_or_default(),
        }
    }

    /// Duo's own plugin on the server config: its keys fill what the flags left out (they
    /// move into duo.toml).
    fn take_upstream_credentials(&mut self) {
        let Some(server) = self
            .detection
            .servers
            .get(self.server_index)
            .filter(|s| s.upstream_duo.is_some())
        else {
            return;
        };
        let path = server.path.clone();
        let creds = detect::read_doc(&self.host, &path)
            .ok()
            .and_then(|d| d.upstream_duo().into_iter().find_map(|u| u.credentials));
        if let Some(c) = creds {
            let k = &mut self.creds;
            if k.ikey.is_empty() {
                k.ikey = c.ikey.clone();
            }
            if k.skey.is_none() {
                k.skey = Some(Secret::new(c.skey.clone()));
            }
            if k.host.is_empty() {
                k.host = c.host.clone();
            }
            if k.proxy.is_none() {
                k.proxy = c.proxy_url();
            }
            self.notes.push(format!(
                "{path}: Duo's own plugin found; its keys are offered and move into duo.toml"
            ));
        }
    }

    fn flow(&mut self) -> Asked<()> {
        heading("1. Detection");
        for l in detection_lines(&self.detection) {
            println!("{l}");
        }
        for n in &self.notes {
            println!("note: {n}");
        }
        if self.detection.servers.is_empty() {
            eprintln!("error: no OpenVPN server config was found: nothing to set up");
            self.code = exit::USAGE;
            return Ok(());
        }
        heading("2. Credentials");
        let settings = self.creds.ask(self.failmode, &mut self.runner)?;
        heading("3. Options");
        self.options()?;
        heading("4. Server config");
        let Some(preview) = self.server()? else {
            self.code = exit::USAGE;
            return Ok(());
        };
        heading("5. Client profiles");
        self.clients(&preview)?;
        heading("6. Review");
        let answers = self.answers(&settings, false);
        let plan = match plan::build(&self.host, &self.detection, &answers, install::can_chown()) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("error: {e}");
                self.code = exit::USAGE;
                return Ok(());
            }
        };
        self.review(&plan);
        if !confirm(
            "Apply these changes?",
            false,
            Some("y applies, n (or Enter) stops"),
        )? {
            println!("Nothing was changed.");
            return Ok(());
        }
        heading("7. Apply");
        if !self.apply(&plan) {
            return Ok(());
        }
        heading("8. Restart");
        if !self.restart(&plan)? {
            return Ok(());
        }
        heading("9. Test push");
        self.test_push()?;
        heading("10. Done");
        self.done(&plan);
        Ok(())
    }

    fn options(&mut self) -> Asked<()> {
        self.failmode = ask_failmode(self.failmode)?;
        if let Some(s) = self.detection.servers.get(self.server_index) {
            let (_, why) = plan::identity_default(s);
            println!(
                "From {}: {}",
                s.path,
                why.unwrap_or_else(|| {
                    "certificates identify people: the common name is the Duo user".into()
                })
            );
        }
        let sources = [
            "common_name: the client certificate's common name".to_string(),
            "username: the user name typed at login".to_string(),
        ];
        let i = select(
            "The Duo user is:",
            &sources,
            usize::from(self.username_from == UsernameFrom::Username),
            None,
        )?;
        self.username_from = if i == 1 {
            UsernameFrom::Username
        } else {
            UsernameFrom::CommonName
        };
        Ok(())
    }

    fn answers(&self, settings: &DuoSettings, preview: bool) -> Answers {
        let server = self.detection.servers.get(self.server_index);
        let mut settings = settings.clone();
        settings.failmode = self.failmode;
        settings.autopush = self.args.autopush;
        settings.verified_push = self.args.verified_push;
        Answers {
            settings,
            username_from: self.username_from,
            server_config: server.map(|s| s.path.clone()).unwrap_or_default(),
            client_configs: if preview {
                self.detection
                    .clients
                    .iter()
                    .map(|c| c.path.clone())
                    .collect()
            } else {
                self.clients.clone()
            },
            restart: !self.args.no_restart,
            test_user: None,
            plugin_so: self.plugin_so.clone(),
            migrate_upstream: server.is_some_and(|s| s.upstream_duo.is_some()),
            session_tokens: self.args.session_tokens.then(|| {
                self.args
                    .session_lifetime
                    .unwrap_or(plan::SESSION_LIFETIME_SECS)
            }),
        }
    }

    /// Choose the server config (when there are several) and show its diff; the plan with every
    /// detected profile, for the profiles' diffs. `None` when no plan can be made.
    fn server(&mut self) -> Asked<Option<Plan>> {
        let settings = self.placeholder_settings();
        loop {
            let servers = &self.detection.servers;
            if servers.len() > 1 {
                let choices: Vec<String> = servers
                    .iter()
                    .map(|s| format!("{} ({})", s.path, s.unit.as_deref().unwrap_or("no unit")))
                    .collect();
                self.server_index =
                    select("Server config to edit:", &choices, self.server_index, None)?;
            } else {
                println!("Server config: {}", servers[0].path);
            }
            let answers = self.answers(&settings, true);
            match plan::build(&self.host, &self.detection, &answers, install::can_chown()) {
                Ok(p) => {
                    match p.edits.iter().find(|e| e.server) {
                        Some(e) if e.changed() => {
                            print!("{}", e.diff());
                            for w in p.warnings.iter().filter(|w| w.starts_with(&e.path)) {
                                println!("warning: {w}");
                            }
                        }
                        Some(e) => println!("{}: already set up, nothing to change", e.path),
                        None => {}
                    }
                    return Ok(Some(p));
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    if self.detection.servers.len() == 1 {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// The diffs need only the answers' shape, not the keys: the preview never leaves here.
    fn placeholder_settings(&self) -> DuoSettings {
        let k = &self.creds;
        let mut s = DuoSettings::new(
            k.ikey.clone(),
            k.skey.clone().unwrap_or_default(),
            k.host.clone(),
        );
        s.ca_file = k.ca_file.clone();
        s.proxy = k.proxy.clone();
        s
    }

    fn clients(&mut self, preview: &Plan) -> Asked<()> {
        let d = &self.detection;
        if d.clients.is_empty() {
            println!("No client profile found (edit yours by hand: see the review).");
            return Ok(());
        }
        for c in d.clients.iter().filter(|c| c.foreign.is_some()) {
            println!(
                "note: {}: {}: not selected unless you choose it",
                c.path,
                c.foreign.as_deref().unwrap_or_default()
            );
        }
        let labels: Vec<String> = d.clients.iter().map(client_label).collect();
        let start = preselected(self.args, &self.host, d);
        let chosen = multi_select("Client profiles to edit:", &labels, &start, None)?;
        self.clients = chosen.iter().map(|i| d.clients[*i].path.clone()).collect();
        for path in &self.clients {
            match preview.edits.iter().find(|e| &e.path == path) {
                Some(e) if e.changed() => print!("{}", e.diff()),
                Some(_) => println!("{path}: already set up, nothing to change"),
                None => {}
            }
        }
        Ok(())
    }

    fn review(&self, plan: &Plan) {
        print!("{}", plan.describe());
        let config = plan
            .installs
            .iter()
            .find(|i| i.dest == crate::system::root::CONFIG_PATH);
        if let (Some(i), Some(s)) = (config, self.detection.servers.get(self.server_index))
            && let Some(g) = &i.group
            && let Some(note) = plan::shared_group_note(g, &s.path)
        {
            println!("warning: {note}");
        }
    }

    /// The plan's files, one effect after the other; `false` when one failed.
    fn apply(&mut self, plan: &Plan) -> bool {
        if plan.is_noop() {
            println!("Already set up: nothing to change.");
        }
        let files: Vec<Effect> = effect::effects(plan)
            .into_iter()
            .filter(|e| matches!(e, Effect::InstallFile(_) | Effect::EditConfigs(_)))
            .collect();
        for e in &files {
            self.changed = true;
            let (ok, code) = run_effect(&mut self.runner, e, self.code);
            self.code = code;
            if !ok {
                if self.code == exit::OK {
                    self.code = exit::USAGE;
                }
                eprintln!(
                    "Stopped. What was done is recorded in {}; `duo-openvpn uninstall` undoes it.",
                    effect::manifest_display(&self.host)
                );
                return false;
            }
        }
        println!("All files in place.");
        true
    }

    /// Restart the service (unless nothing changed or no unit); after a failed restart, offer
    /// to roll back. `false` when setup ends here.
    fn restart(&mut self, plan: &Plan) -> Asked<bool> {
        let unit = match &plan.restart {
            Some(_) if plan.is_noop() => {
                println!("No restart: nothing changed.");
                return Ok(true);
            }
            Some(u) => u.clone(),
            None => {
                println!("No restart (--no-restart, or no unit for this config).");
                return Ok(true);
            }
        };
        println!("Restarting {unit}…");
        let (ok, code) = run_effect(&mut self.runner, &Effect::Restart { unit }, self.code);
        self.code = code;
        if ok {
            println!("OpenVPN now asks Duo at every login.");
            return Ok(true);
        }
        if confirm(
            "Roll everything back now?",
            true,
            Some("n keeps the changes (`duo-openvpn uninstall --yes` rolls back later)"),
        )? {
            let (_, code) = run_effect(&mut self.runner, &Effect::Rollback, self.code);
            self.code = code.max(exit::UNAVAILABLE);
            self.changed = false;
            println!("Rolled back: the system is as it was.");
        }
        Ok(false)
    }

    fn test_push(&mut self) -> Asked<()> {
        println!("A live login through the installed configuration.");
        let mut user = self.args.test_user.clone().unwrap_or_default();
        loop {
            let Some(u) = ask_test_user("Duo user for a test push:", &user)? else {
                println!("No test push.");
                return Ok(());
            };
            user = u;
            let e = Effect::TestPush { user: user.clone() };
            let mut refused = false;
            let mut code = self.code;
            self.runner.run(&e, &mut |r| {
                refused |= matches!(
                    r,
                    Report::PushDone { allowed: false, .. } | Report::Failed(_)
                );
                code = super::print_report(&r, code);
            });
            if !refused || !confirm("Try another test push?", false, None)? {
                self.code = code;
                return Ok(());
            }
        }
    }

    fn done(&self, plan: &Plan) {
        println!("Duo now guards this OpenVPN server.");
        for n in plan.template_notes() {
            println!("{n}.");
        }
        println!("Users log in with their certificate and, as password,");
        println!("nothing or `push` (a push), `phone`, `sms` or a passcode.");
        println!("  duo-openvpn status      checks it all again");
        println!("  duo-openvpn uninstall   gives back what was there");
        println!(
            "The manifest for uninstall is {}.",
            effect::manifest_display(&self.host)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use crate::system::process::Process;
    use clap::Parser;

    fn args(extra: &[&str]) -> SetupArgs {
        let argv = ["duo-openvpn", "setup"]
            .into_iter()
            .chain(extra.iter().copied());
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Setup(a) => *a,
            _ => unreachable!(),
        }
    }

    fn profile(path: &str, ready: bool, foreign: bool, template: bool) -> ClientProfile {
        ClientProfile {
            path: path.into(),
            ready,
            foreign: foreign.then(|| "/home/eve is owned by user eve (uid 1000)".into()),
            template: template.then_some("Nyr's openvpn-install"),
        }
    }

    #[test]
    fn profiles_are_ticked_as_the_wizard_and_yes_tick_them() {
        let root = tempfile::tempdir().unwrap();
        let host = Host::new(
            root.path(),
            &Process::new(["duo-openvpn"], Vec::<(&str, &str)>::new()),
        );
        let d = Detection {
            clients: vec![
                profile("/root/new.ovpn", false, false, false),
                profile("/root/ready.ovpn", true, false, false),
                profile("/home/eve/eve.ovpn", false, true, false),
                profile("/etc/openvpn/server/client-common.txt", false, false, true),
            ],
            ..Detection::default()
        };
        // The wizard's rule: not set up yet, not in another user's folder.
        assert_eq!(preselected(&args(&[]), &host, &d), vec![0, 3]);
        // Named profiles only, and the installer's template, as --yes edits them.
        assert_eq!(
            preselected(&args(&["--client-config", "/home/eve/eve.ovpn"]), &host, &d),
            vec![2, 3]
        );
        assert_eq!(
            client_label(&d.clients[3]),
            "/etc/openvpn/server/client-common.txt (template of Nyr's openvpn-install)"
        );
        assert_eq!(
            client_label(&d.clients[2]),
            "/home/eve/eve.ovpn (another user's folder)"
        );
    }
}
