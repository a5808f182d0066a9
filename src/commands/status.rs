//! `duo-openvpn status`: what is installed where, is the config valid, does the plugin line point
//! at the installed plugin, does Duo answer and accept the credentials, the clock skew.
//! Exit 0 healthy, 2 configuration problems, 3 Duo unreachable.

use duo::{Client, Config};
use serde_json::json;

use crate::cli::{StatusArgs, exit};
use crate::setup::plan::PLUGIN_PATH;
use crate::system::detect::read_doc;
use crate::system::host::Host;
use crate::system::receipt::{MANIFEST_PATH, Manifest};
use crate::system::root::CONFIG_PATH;
use crate::system::service;

#[derive(Debug, Default)]
struct Status {
    manifest: Option<String>,
    plugin: Option<String>,
    config: Option<String>,
    config_error: Option<String>,
    servers: Vec<(String, bool, Option<String>)>,
    access_server: Option<String>,
    problems: Vec<String>,
    duo: Option<String>,
    duo_error: Option<(String, bool)>,
    skew: Option<i64>,
    /// Worth knowing, not unhealthy (a shared group that may read duo.toml).
    notes: Vec<String>,
}

/// duo.toml's `hand_window_secs` against the server's `hand-window`: the plugin answers a little
/// before duo.toml's figure, so a server that ends logins sooner refuses some silently (a
/// problem), and one that waits longer only means logins are cut shorter than they could be.
fn hand_window_check(s: &mut Status, path: &str, doc: &ovpn_config::Document, ours: u64) {
    let server = doc
        .hand_window()
        .unwrap_or(duo::config::OPENVPN_HAND_WINDOW_SECS);
    let said = match doc.hand_window() {
        Some(n) => format!("hand-window {n}"),
        None => format!("no hand-window (OpenVPN's default {server})"),
    };
    if server < ours {
        s.problems.push(format!(
            "{path}: {said}, but duo.toml's hand_window_secs is {ours}: OpenVPN ends a login \
             the plugin still waits for; set both to the same figure (setup writes them)"
        ));
    } else if server > ours {
        s.notes.push(format!(
            "{path}: {said}, duo.toml's hand_window_secs {ours}: logins are cut at the smaller; \
             set both to the same figure"
        ));
    }
}

pub fn run(args: StatusArgs, process: &crate::system::process::Process) -> u8 {
    let mut host = Host::new(&args.root, process);
    let mut s = Status::default();
    let manifest = Manifest::load(&host).unwrap_or_else(|e| {
        s.problems.push(e);
        None
    });
    if let Some(m) = &manifest {
        if let Some(d) = &m.bin_dir {
            host = host.with_path_first(std::path::Path::new(d));
        }
        s.manifest = Some(host.display_path(MANIFEST_PATH));
    }
    let access = manifest.as_ref().and_then(|m| m.access_server.clone());
    let community = manifest
        .as_ref()
        .is_none_or(|m| !m.installed.is_empty() || !m.edited.is_empty());
    if let Some(r) = &access {
        let sacli = access_server::SacliCommand::new(&r.sacli);
        match access_server::inspect(&sacli) {
            Ok(i) if i.current_is_ours() => {
                s.access_server = Some(format!(
                    "our post-auth script is installed ({})",
                    r.sacli.display()
                ))
            }
            Ok(_) => s
                .problems
                .push("Access Server: our post-auth script is no longer installed".into()),
            Err(e) => s.problems.push(format!("Access Server: {e}")),
        }
    }
    let plugin = host.path(PLUGIN_PATH);
    let installed = host
        .root
        .tree()
        .entry(&crate::system::files::SysPath::normalize(PLUGIN_PATH))
        .is_ok_and(|e| e.is_some_and(|e| e.kind == crate::system::tree::Kind::File));
    if !community {
        // Access Server only: no plugin and no duo.toml on this system.
    } else if installed {
        s.plugin = Some(plugin.display().to_string());
    } else {
        s.problems
            .push(format!("{}: the plugin is not installed", plugin.display()));
    }
    let cfg_path = host.path(CONFIG_PATH);
    let config = if !community {
        None
    } else {
        match Config::load(&cfg_path) {
            Ok(c) => {
                s.config = Some(cfg_path.display().to_string());
                Some(c)
            }
            Err(e) => {
                s.config_error = Some(e.to_string());
                s.problems.push(e.to_string());
                None
            }
        }
    };
    // The server configs setup edited (or none when there is no manifest).
    let wanted_argv = [
        host.display_path(PLUGIN_PATH),
        host.display_path(CONFIG_PATH),
    ];
    for e in manifest.iter().flat_map(|m| m.edited.iter()) {
        let Ok(doc) = read_doc(&host, &e.path) else {
            continue;
        };
        if !doc.is_server() {
            continue;
        }
        let ok = doc.plugins().iter().any(|p| p.argv == wanted_argv);
        let unit =
            service::unit_for(&e.path).map(|u| format!("{u}: {}", service::state(&host, &u)));
        if !ok {
            s.problems.push(format!(
                "{}: no plugin line loading {} with {}",
                e.path, wanted_argv[0], wanted_argv[1]
            ));
        }
        if let Some(note) = doc
            .group()
            .and_then(|g| crate::setup::plan::shared_group_note(g, &e.path))
        {
            s.notes.push(note);
        }
        if let Some(c) = &config {
            hand_window_check(&mut s, &e.path, &doc, c.duo.hand_window.as_secs());
        }
        s.servers.push((e.path.clone(), ok, unit));
    }
    if manifest.is_none() {
        s.problems.push(format!(
            "{}: not set up (no manifest)",
            host.display_path(MANIFEST_PATH)
        ));
    }
    if let Some(c) = &config {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            match Client::new(&c.duo) {
                Err(e) => s.duo_error = Some((e.to_string(), false)),
                Ok(client) => {
                    s.skew = client.clock_skew().await.ok();
                    match client.check().await {
                        Ok(_) => {
                            s.duo = Some(format!(
                                "{} answers and accepts the credentials",
                                c.duo.host
                            ))
                        }
                        Err(e) => s.duo_error = Some((e.to_string(), e.is_outage())),
                    }
                }
            }
        });
    }
    let code = if s.duo_error.as_ref().is_some_and(|(_, outage)| *outage) {
        exit::UNAVAILABLE
    } else if !s.problems.is_empty() || s.duo_error.is_some() {
        exit::USAGE
    } else {
        exit::OK
    };
    if args.json {
        let v = json!({
            "healthy": code == exit::OK,
            "exit_code": code,
            "manifest": s.manifest,
            "plugin": s.plugin,
            "config": s.config,
            "config_error": s.config_error,
            "access_server": s.access_server,
            "servers": s.servers.iter().map(|(p, ok, u)| json!({"path": p, "plugin_line_ok": ok, "unit": u})).collect::<Vec<_>>(),
            "duo": {"ok": s.duo.is_some(), "error": s.duo_error.as_ref().map(|e| &e.0), "clock_skew_secs": s.skew},
            "problems": s.problems,
            "notes": s.notes,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return code;
    }
    let show =
        |label: &str, v: &Option<String>| println!("{label:<10} {}", v.as_deref().unwrap_or("-"));
    show("manifest", &s.manifest);
    show("plugin", &s.plugin);
    show("config", &s.config);
    if let Some(a) = &s.access_server {
        println!("{:<10} {a}", "access");
    }
    for (p, ok, u) in &s.servers {
        println!(
            "{:<10} {p}: plugin line {}{}",
            "server",
            if *ok { "ok" } else { "MISSING" },
            u.as_ref().map(|u| format!("; {u}")).unwrap_or_default()
        );
    }
    match (&s.duo, &s.duo_error) {
        (Some(m), _) => println!("{:<10} {m}", "duo"),
        (_, Some((e, _))) => println!("{:<10} {e}", "duo"),
        _ => {}
    }
    if let Some(sk) = s.skew {
        println!(
            "{:<10} {sk:+} s{}",
            "skew",
            if sk.abs() > 60 {
                " (too far off: fix the time with NTP)"
            } else {
                ""
            }
        );
    }
    for n in &s.notes {
        println!("note: {n}");
    }
    for p in &s.problems {
        println!("problem: {p}");
    }
    println!(
        "{}",
        if code == exit::OK {
            "healthy"
        } else {
            "NOT healthy"
        }
    );
    code
}
