//! The setup wizard: Elm-style. [`model`] is the state, [`update`] turns events into state and
//! commands, [`view`] draws. The run loop is generic over the ratatui backend so tests draw into
//! `TestBackend`; effects run on a worker thread that owns the one [`Runner`] and come back as
//! events.

pub mod cmd;
pub mod layout;
pub mod model;
pub mod steps;
pub mod theme;
pub mod update;
pub mod view;
pub mod widgets;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::Backend;

use crate::cli::{SetupArgs, UsernameFromArg, exit};
use crate::setup::access::AccessDetection;
use crate::setup::answers::read_skey;
use crate::setup::demo::Demo;
use crate::setup::effect::{Effect, Runner};
use crate::setup::plan::{self, PluginSource, find_plugin_so};
use crate::system::detect::{self, Detection};
use crate::system::host::Host;
use crate::system::install;
use model::{Model, Step};
use theme::Theme;
use update::{Cmd, Event, update};

/// The model as the flags (and the demo) pre-fill it.
pub fn initial_model(
    args: &SetupArgs,
    host: &Host,
    mut detection: Detection,
    skey_env: Option<String>,
    demo: bool,
) -> Model {
    if let Some(p) = &args.server_config
        && !detection.servers.iter().any(|s| &s.path == p)
        && let Ok(doc) = detect::read_doc(host, p)
        && doc.is_server()
    {
        detection
            .servers
            .push(detect::server_config_of(host, p, &doc));
    }
    let plugin_so = match find_plugin_so(args.plugin_so.clone(), &host.process) {
        Some(p) => PluginSource::File(p),
        None if demo => PluginSource::Placeholder,
        None => PluginSource::File(PathBuf::from(
            "libduo_openvpn_plugin.so (not found next to duo-openvpn: use --plugin-so)",
        )),
    };
    let root_label = host.root.dir().display().to_string();
    let mut m = Model::new(detection, root_label, plugin_so);
    m.demo = demo;
    m.creds.ikey.value = args.ikey.clone().unwrap_or_default();
    m.creds.host.value = args.host.clone().unwrap_or_default();
    if let Ok(Some(s)) = read_skey(args.skey_file.as_ref(), skey_env) {
        m.creds.skey.value = s.expose().to_string();
    }
    m.creds.ca_file = args.ca_file.clone();
    m.creds.proxy = args.proxy.clone();
    m.options.failmode = crate::setup::answers::failmode(args.failmode);
    m.options.autopush = args.autopush;
    m.options.verified_push = args.verified_push;
    m.session_tokens = args.session_tokens.then(|| {
        args.session_lifetime
            .unwrap_or(crate::setup::plan::SESSION_LIFETIME_SECS)
    });
    if let Some(p) = &args.server_config
        && let Some(i) = m.detection.servers.iter().position(|s| &s.path == p)
    {
        m.server_index = i;
    }
    if let Some(s) = m.server() {
        m.options.username_from = plan::identity_default(s).0;
    }
    match args.username_from {
        Some(UsernameFromArg::CommonName) => {
            m.options.username_from = duo::UsernameFrom::CommonName
        }
        Some(UsernameFromArg::Username) => m.options.username_from = duo::UsernameFrom::Username,
        None => {}
    }
    if !args.client_configs.is_empty() {
        let wanted: Vec<String> = args
            .client_configs
            .iter()
            .flat_map(|c| detect::client_paths(host, c))
            .collect();
        for (i, c) in m.detection.clients.iter().enumerate() {
            m.clients.selected[i] = wanted.contains(&c.path);
        }
    }
    // Duo's own plugin: its credentials are offered (they move into duo.toml).
    let upstream = m
        .server()
        .filter(|s| s.upstream_duo.is_some())
        .map(|s| s.path.clone());
    if let Some(path) = upstream {
        let creds = detect::read_doc(host, &path)
            .ok()
            .and_then(|d| d.upstream_duo().into_iter().find_map(|u| u.credentials));
        if let Some(c) = creds {
            if m.creds.ikey.value.is_empty() {
                m.creds.ikey.value = c.ikey.clone();
            }
            if m.creds.skey.value.is_empty() {
                m.creds.skey.value = c.skey.clone();
            }
            if m.creds.host.value.is_empty() {
                m.creds.host.value = c.host.clone();
            }
            if m.creds.proxy.is_none() {
                m.creds.proxy = c.proxy_url();
            }
            m.notice = Some(model::Notice::Info(format!(
                "{path}: Duo's own plugin found; its keys are filled in and move into duo.toml"
            )));
        }
    }
    m.restart.wanted = !args.no_restart;
    m.push.user.value = args.test_user.clone().unwrap_or_default();
    // Start on the first screen that still needs an answer? No: the detection summary first.
    m
}

/// The run loop: draw, wait for an event (or a tick), update, execute the commands.
pub fn run_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    m: &mut Model,
    theme: &Theme,
    events: &Receiver<Event>,
    exec: &mut dyn FnMut(Cmd) -> Vec<Event>,
) -> Result<(), B::Error> {
    loop {
        terminal.draw(|f| view::view(m, theme, f))?;
        if m.quit {
            return Ok(());
        }
        let first = match events.recv_timeout(Duration::from_millis(120)) {
            Ok(e) => e,
            Err(RecvTimeoutError::Timeout) => Event::Tick,
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        };
        let mut queue = VecDeque::from([first]);
        while let Some(e) = queue.pop_front() {
            for cmd in update(m, e) {
                queue.extend(exec(cmd));
            }
        }
    }
}

/// Executes commands: effects go to the worker; plans are built here (they only read files).
pub struct Executor {
    pub host: Host,
    pub detection: Detection,
    pub effects: Sender<Effect>,
}

impl Executor {
    pub fn exec(&mut self, cmd: Cmd) -> Vec<Event> {
        match cmd {
            Cmd::Run(e) => {
                let _ = self.effects.send(e);
                vec![]
            }
            Cmd::Plan { preview, answers } => {
                let result =
                    plan::build(&self.host, &self.detection, &answers, install::can_chown());
                vec![Event::Planned { preview, result }]
            }
            Cmd::Quit => vec![],
        }
    }
}

/// The worker: owns the runner, runs one effect at a time, reports back as events.
pub fn spawn_worker(host: Host, events: Sender<Event>) -> Result<Sender<Effect>, String> {
    let mut runner = Runner::new(host)?;
    let (tx, rx) = mpsc::channel::<Effect>();
    std::thread::Builder::new()
        .name("setup-worker".into())
        .spawn(move || {
            for effect in rx {
                let ev = events.clone();
                let ok = runner.run(&effect, &mut |r| {
                    let _ = ev.send(Event::Report(r));
                });
                if events.send(Event::EffectDone(ok)).is_err() {
                    break;
                }
            }
        })
        .map_err(|e| format!("cannot start the worker: {e}"))?;
    Ok(tx)
}

/// The Community wizard.
pub fn run(
    args: &SetupArgs,
    host: Host,
    detection: Detection,
    skey_env: Option<String>,
    demo: Option<&Demo>,
) -> u8 {
    let m = initial_model(args, &host, detection, skey_env, demo.is_some());
    run_model(m, host)
}

/// The Access Server wizard (`access`: what `setup::access::detect` found).
pub fn run_access(
    args: &SetupArgs,
    host: &Host,
    access: AccessDetection,
    skey_env: Option<String>,
    demo: bool,
) -> u8 {
    let m = initial_model(args, host, Detection::default(), skey_env, demo);
    run_model(with_access_flags(m, args, access, false), host.clone())
}

/// Both products are installed: the wizard's first screen chooses which one to set up.
pub fn run_choose(
    args: &SetupArgs,
    host: Host,
    detection: Detection,
    access: AccessDetection,
    skey_env: Option<String>,
    demo: Option<&Demo>,
) -> u8 {
    let m = initial_model(args, &host, detection, skey_env, demo.is_some());
    run_model(with_access_flags(m, args, access, true), host)
}

/// The model for Access Server, with its flags (`--autopush`, `--skip-duo-for-vpn`,
/// `--replace-post-auth-script`).
pub fn with_access_flags(
    m: Model,
    args: &SetupArgs,
    access: AccessDetection,
    choose: bool,
) -> Model {
    let mut m = m.with_access(access, choose);
    m.options.autopush = args.autopush;
    m.options.web_only = args.skip_duo_for_vpn;
    if let Some(a) = &mut m.access {
        a.replace_foreign = args.replace_post_auth_script;
    }
    m
}

fn run_model(mut m: Model, host: Host) -> u8 {
    let theme = Theme::from_process(&host.process);
    let (tx, rx) = mpsc::channel::<Event>();
    let effects = match spawn_worker(host.clone(), tx.clone()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::UNAVAILABLE;
        }
    };
    let mut executor = Executor {
        host: host.clone(),
        detection: m.detection.clone(),
        effects,
    };
    if theme.no_color {
        // crossterm's own NO_COLOR handling would reset REVERSED/BOLD along with the colours.
        ratatui::crossterm::style::force_color_output(true);
    }
    let mut terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot use the terminal ({e}); run with --yes and flags instead");
            return exit::USAGE;
        }
    };
    // Keys (and resizes) from the terminal.
    let keys = tx.clone();
    std::thread::spawn(move || {
        use ratatui::crossterm::event::{self, Event as CEvent};
        while let Ok(e) = event::read() {
            let sent = match e {
                CEvent::Key(k) => keys.send(Event::Key(k)),
                CEvent::Resize(..) => keys.send(Event::Tick),
                _ => Ok(()),
            };
            if sent.is_err() {
                break;
            }
        }
    });
    let result = run_loop(&mut terminal, &mut m, &theme, &rx, &mut |c| {
        executor.exec(c)
    });
    ratatui::restore();
    if let Err(e) = result {
        eprintln!("error: terminal: {e}");
        return exit::UNAVAILABLE;
    }
    print_outcome(&m, &host);
    m.exit_code
}

/// What stays on the screen after the wizard.
fn print_outcome(m: &Model, host: &Host) {
    if !m.apply.applied {
        if m.step < Step::Apply {
            println!("Nothing was changed.");
        }
        return;
    }
    match (m.target, &m.plan, &m.access) {
        (model::Target::Community, Some(p), _) => print!("{}", p.describe()),
        (model::Target::AccessServer, _, Some(a)) => {
            println!("Access Server: the duo-openvpn post-auth script is loaded.");
            for l in a.plan.iter().flat_map(|p| &p.review) {
                println!("  {l}");
            }
        }
        _ => {}
    }
    if let model::PushState::Finished {
        allowed,
        summary,
        secs,
    } = &m.push.state
    {
        println!(
            "test push: {}: {summary} ({secs:.1}s)",
            if *allowed { "ALLOWED" } else { "REFUSED" }
        );
    }
    println!(
        "The manifest for uninstall is {}.",
        crate::setup::effect::manifest_display(host)
    );
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_access;
