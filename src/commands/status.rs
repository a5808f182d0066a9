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
    /// The plugin's last login lines in the servers' journals.
    logins: Vec<LoginLine>,
}

/// How many of the plugin's latest lines `status` reads from each server's journal.
const JOURNAL_LINES: usize = 2000;

/// One login as the plugin logs it: `allowed: …; user "alice" from 192.0.2.7, factor push;
/// 1.2 s; factor asked via CR_TEXT; client OpenVPN_GUI_11, sso openurl,webauth,crtext`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LoginLine {
    user: String,
    /// `password field`, `CR_TEXT` or `CRV1`.
    asked: String,
    /// `IV_GUI_VER`, or `unknown`.
    client: String,
    /// `IV_SSO` lists `crtext`: the client could have been asked for its factor.
    crtext: bool,
}

fn parse_login(line: &str) -> Option<LoginLine> {
    let rest = &line[line.find("duo-openvpn: ")? + "duo-openvpn: ".len()..];
    let (head, tail) = rest.rsplit_once("; factor asked via ")?;
    let (asked, client) = tail.split_once("; client ")?;
    let (client, sso) = client.split_once(", sso ")?;
    // The name is quoted and escaped as Rust's `{:?}` does; `" from ` ends it.
    let quoted = &head[head.find("; user \"")? + "; user ".len()..];
    let user = quoted[..quoted.find("\" from ")? + 1].to_string();
    let user = serde_json::from_str::<String>(&user).unwrap_or(user);
    Some(LoginLine {
        user,
        asked: asked.to_string(),
        client: client.to_string(),
        crtext: sso.split(',').any(|m| m.trim() == "crtext"),
    })
}

/// `24 in the journal: 10 via CR_TEXT, 12 via the password field, 2 via CRV1`.
fn logins_summary(logins: &[LoginLine]) -> String {
    let count = |how: &str| logins.iter().filter(|l| l.asked == how).count();
    format!(
        "{} in the journal: {} via CR_TEXT, {} via the password field, {} via CRV1 (verified push)",
        logins.len(),
        count("CR_TEXT"),
        count("password field"),
        count("CRV1")
    )
}

/// Each client program that cannot show a CR_TEXT prompt, with (up to five of) its users.
fn without_crtext(logins: &[LoginLine]) -> Vec<(String, Vec<String>)> {
    let mut by_client: Vec<(String, Vec<String>)> = Vec::new();
    for l in logins.iter().filter(|l| !l.crtext) {
        let at = match by_client.iter().position(|(c, _)| *c == l.client) {
            Some(i) => i,
            None => {
                by_client.push((l.client.clone(), Vec::new()));
                by_client.len() - 1
            }
        };
        let users = &mut by_client[at].1;
        if !users.contains(&l.user) {
            users.push(l.user.clone());
        }
    }
    by_client
}

fn users_shown(users: &[String]) -> String {
    let mut s = users
        .iter()
        .take(5)
        .map(|u| format!("{u:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    if users.len() > 5 {
        s.push_str(&format!(" and {} more", users.len() - 5));
    }
    s
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
        if let Some(u) = service::unit_for(&e.path) {
            s.logins.extend(
                service::last_log_lines(&host, &u, JOURNAL_LINES)
                    .iter()
                    .filter_map(|l| parse_login(l)),
            );
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
            "logins": {
                "total": s.logins.len(),
                "cr_text": s.logins.iter().filter(|l| l.asked == "CR_TEXT").count(),
                "password_field": s.logins.iter().filter(|l| l.asked == "password field").count(),
                "crv1": s.logins.iter().filter(|l| l.asked == "CRV1").count(),
                "clients_without_crtext": without_crtext(&s.logins)
                    .iter()
                    .map(|(c, u)| json!({"client": c, "users": u}))
                    .collect::<Vec<_>>(),
            },
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
    if !s.logins.is_empty() {
        println!("{:<10} {}", "logins", logins_summary(&s.logins));
        for (client, users) in without_crtext(&s.logins) {
            println!(
                "{:<10} client {client} cannot be asked for the factor (no crtext in IV_SSO): {}",
                "",
                users_shown(&users)
            );
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_lines_from_the_journal() {
        let l = parse_login(
            "PLUGIN duo-openvpn: allowed: Success. Logging you in...; user \"alice\" from \
             192.0.2.7, factor push via CR_TEXT; 3.1 s; factor asked via CR_TEXT; client \
             OpenVPN_GUI_11, sso openurl,webauth,crtext",
        )
        .unwrap();
        assert_eq!(
            l,
            LoginLine {
                user: "alice".into(),
                asked: "CR_TEXT".into(),
                client: "OpenVPN_GUI_11".into(),
                crtext: true,
            }
        );
        let l = parse_login(
            "duo-openvpn: denied: Duo push denied; user \"bob \\\"b\\\"; x\" from unknown \
             address, factor auto; 0.4 s; factor asked via password field; client unknown, sso none",
        )
        .unwrap();
        assert_eq!((l.user.as_str(), l.crtext), ("bob \"b\"; x", false));
        assert_eq!(l.asked, "password field");
        // Lines of other kinds, and older lines without the part.
        for other in [
            "PLUGIN duo-openvpn: duo-openvpn-plugin 0.1.0 ready in 2.6.14: Duo host x",
            "PLUGIN duo-openvpn: allowed: x; user \"a\" from 1.2.3.4, factor push; 1.0 s",
            "MULTI: Learn: 10.8.0.2 -> alice/127.0.0.1:1194",
        ] {
            assert_eq!(parse_login(other), None, "{other}");
        }
        let all = [
            ("alice", "CR_TEXT", "OpenVPN_GUI_11", true),
            ("bob", "password field", "unknown", false),
            ("carol", "password field", "unknown", false),
            ("bob", "password field", "unknown", false),
            ("dave", "CRV1", "tunnelblick", false),
        ]
        .map(|(u, a, c, t)| LoginLine {
            user: u.into(),
            asked: a.into(),
            client: c.into(),
            crtext: t,
        });
        assert_eq!(
            logins_summary(&all),
            "5 in the journal: 1 via CR_TEXT, 3 via the password field, 1 via CRV1 (verified push)"
        );
        assert_eq!(
            without_crtext(&all),
            vec![
                ("unknown".into(), vec!["bob".into(), "carol".into()]),
                ("tunnelblick".into(), vec!["dave".into()]),
            ]
        );
        let many: Vec<String> = (1..=7).map(|i| format!("u{i}")).collect();
        assert_eq!(
            users_shown(&many),
            "\"u1\", \"u2\", \"u3\", \"u4\", \"u5\" and 2 more"
        );
    }
}
