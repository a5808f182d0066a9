//! Answers from flags (`--yes`, `--dry-run`, no terminal): every missing one is listed at once.

use std::path::PathBuf;

use duo::config::{Secret, check_host, check_ikey, check_proxy, check_skey};
use duo::{DuoSettings, Failmode, UsernameFrom};

use super::plan::{Answers, PluginSource, find_plugin_so, identity_default};
use crate::cli::{FailmodeArg, SetupArgs, UsernameFromArg};
use crate::system::detect::{self, Detection};
use crate::system::files::SysPath;
use crate::system::host::Host;
use crate::system::tree::Kind;

/// The Duo answers as given (flags, the wizard's fields, Duo's old plugin line), before they
/// are checked: the one way every front end turns them into [`DuoSettings`].
#[derive(Debug, Clone)]
pub struct DuoFields {
    pub ikey: Option<String>,
    /// The secret key as [`read_skey`] (or the wizard's masked field) gave it.
    pub skey: Result<Option<Secret>, String>,
    pub host: Option<String>,
    pub proxy: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub failmode: Failmode,
}

/// `--failmode`: secure unless safe is asked for.
pub fn failmode(arg: Option<FailmodeArg>) -> Failmode {
    match arg {
        Some(FailmodeArg::Safe) => Failmode::Safe,
        _ => Failmode::Secure,
    }
}

/// Checks every Duo answer, adding what is missing and what is wrong (named by its flag) to
/// the lists; the settings when nothing is.
pub fn duo_settings(
    f: DuoFields,
    missing: &mut Vec<String>,
    invalid: &mut Vec<String>,
) -> Option<DuoSettings> {
    let before = (missing.len(), invalid.len());
    match &f.ikey {
        None => missing.push("--ikey IKEY".into()),
        Some(k) => {
            if let Err(m) = check_ikey(k) {
                invalid.push(format!("--ikey: {m}"));
            }
        }
    }
    let skey = match f.skey {
        Ok(Some(s)) => Some(s),
        Ok(None) => {
            missing.push("--skey-file PATH (or DUO_SKEY in the environment)".into());
            None
        }
        Err(e) => {
            invalid.push(e);
            None
        }
    };
    match &f.host {
        None => missing.push("--host HOST".into()),
        Some(h) => {
            if let Err(m) = check_host(h) {
                invalid.push(format!("--host: {m}"));
            }
        }
    }
    if let Some(p) = &f.proxy
        && let Err(m) = check_proxy(p)
    {
        invalid.push(format!("--proxy: {m}"));
    }
    if let Some(ca) = &f.ca_file
        && !crate::system::files::is_input_file(ca)
    {
        invalid.push(format!("--ca-file {}: no such file", ca.display()));
    }
    if (missing.len(), invalid.len()) != before {
        return None;
    }
    let mut s = DuoSettings::new(
        f.ikey.unwrap_or_default(),
        skey.unwrap_or_default(),
        f.host.unwrap_or_default(),
    );
    s.ca_file = f.ca_file;
    s.proxy = f.proxy;
    s.failmode = f.failmode;
    Some(s)
}

/// What went wrong collecting answers from flags.
#[derive(Debug, PartialEq, Eq)]
/// Everything wrong with the flags at once, so one run lists all of it (exit 2).
pub struct AnswerError {
    /// Flags that must be given.
    pub missing: Vec<String>,
    /// Values that are wrong, each named with its flag.
    pub invalid: Vec<String>,
}

/// The secret key: `--skey-file` or `DUO_SKEY`; never a flag value.
pub fn read_skey(file: Option<&PathBuf>, env: Option<String>) -> Result<Option<Secret>, String> {
    if let Some(p) = file {
        let text = duo::config::read_input_string(p)
            .map_err(|e| format!("--skey-file {}: cannot read: {e}", p.display()))?;
        let skey = text.trim().to_string();
        check_skey(&skey)
            .map_err(|m| format!("--skey-file {}: the secret key {m}", p.display()))?;
        return Ok(Some(Secret::new(skey)));
    }
    match env {
        Some(v) => {
            let skey = v.trim().to_string();
            check_skey(&skey).map_err(|m| format!("DUO_SKEY: the secret key {m}"))?;
            Ok(Some(Secret::new(skey)))
        }
        None => Ok(None),
    }
}

pub fn from_flags(
    args: &SetupArgs,
    host: &Host,
    detection: &Detection,
    skey_env: Option<String>,
) -> Result<(Answers, Vec<String>), AnswerError> {
    let mut missing = Vec::new();
    let mut invalid = Vec::new();
    let mut notes = Vec::new();

    // The server config first: an upstream Duo line can supply the credentials.
    let server = match &args.server_config {
        Some(p) => match detection.servers.iter().find(|s| &s.path == p) {
            Some(s) => Some(s.clone()),
            None => match detect::read_doc(host, p) {
                Ok(doc) if doc.is_server() => Some(detect::server_config_of(host, p, &doc)),
                Ok(doc) => {
                    invalid.push(format!(
                        "--server-config {p}: {}, not a server config",
                        doc.role()
                    ));
                    None
                }
                Err(e) => {
                    invalid.push(format!("--server-config {p}: {e}"));
                    None
                }
            },
        },
        None => match detection.servers.as_slice() {
            [only] => Some(only.clone()),
            [] => {
                missing.push(
                    "--server-config PATH (no OpenVPN server config found under /etc/openvpn)"
                        .into(),
                );
                None
            }
            many => {
                let names: Vec<&str> = many.iter().map(|s| s.path.as_str()).collect();
                missing.push(format!(
                    "--server-config PATH (found several: {})",
                    names.join(", ")
                ));
                None
            }
        },
    };
    let upstream = server
        .as_ref()
        .and_then(|s| s.upstream_duo.map(|l| (s.path.clone(), l)))
        .and_then(|(p, _)| {
            detect::read_doc(host, &p)
                .ok()
                .and_then(|d| d.upstream_duo().into_iter().find_map(|u| u.credentials))
        });
    if let (Some(s), Some(_)) = (&server, &upstream) {
        notes.push(format!(
            "{}: Duo's own plugin found; its credentials are used where no flag gives them",
            s.path
        ));
    }

    // Flags first; Duo's old plugin line fills what they leave out.
    let skey = read_skey(args.skey_file.as_ref(), skey_env)
        .map(|s| s.or_else(|| upstream.as_ref().map(|u| Secret::new(u.skey.clone()))));
    let settings = duo_settings(
        DuoFields {
            ikey: args
                .ikey
                .clone()
                .or_else(|| upstream.as_ref().map(|u| u.ikey.clone())),
            skey,
            host: args
                .host
                .clone()
                .or_else(|| upstream.as_ref().map(|u| u.host.clone())),
            proxy: args
                .proxy
                .clone()
                .or_else(|| upstream.as_ref().and_then(|u| u.proxy_url())),
            ca_file: args.ca_file.clone(),
            failmode: failmode(args.failmode),
        },
        &mut missing,
        &mut invalid,
    );
    let mut clients = Vec::new();
    for c in &args.client_configs {
        let paths = detect::client_paths(host, c);
        if paths.is_empty() {
            invalid.push(format!(
                "--client-config {c}: no .ovpn file in this directory"
            ));
        }
        for p in paths {
            let tree = host.root.tree();
            let found = crate::system::files::resolve(&tree, &SysPath::normalize(&p))
                .and_then(|r| tree.entry(&r.target));
            if let Err(e) = &found {
                invalid.push(format!("--client-config {e:#}"));
            } else if !matches!(found, Ok(Some(e)) if e.kind == Kind::File) {
                invalid.push(format!(
                    "--client-config {p}: no such file under {}",
                    host.root.dir().display()
                ));
            } else if !clients.contains(&p) {
                clients.push(p);
            }
        }
    }
    if !args.no_client_templates {
        clients.extend(templates(detection, &clients));
    }
    let plugin_so = match find_plugin_so(args.plugin_so.clone(), &host.process) {
        Some(p) if crate::system::files::is_input_file(&p) => PluginSource::File(p),
        Some(p) => {
            invalid.push(format!("--plugin-so {}: no such file", p.display()));
            PluginSource::Placeholder
        }
        None if args.demo => PluginSource::Placeholder,
        None => {
            missing.push(
                "--plugin-so PATH (libduo_openvpn_plugin.so was not found next to this binary; \
                 build it with `cargo build --release -p duo-openvpn-plugin`)"
                    .into(),
            );
            PluginSource::Placeholder
        }
    };

    let session_tokens = args.session_tokens.then(|| {
        args.session_lifetime
            .unwrap_or(super::plan::SESSION_LIFETIME_SECS)
    });
    if let Some(lifetime) = session_tokens {
        // external-auth (the plugin told each token's state) and the secret file came in 2.5.
        match &detection.openvpn {
            Some(v) if v.major == 2 && v.minor < 5 => invalid.push(format!(
                "--session-tokens: OpenVPN {} has no `auth-gen-token … external-auth` (2.5 or newer)",
                v.version()
            )),
            _ => {}
        }
        if lifetime < 60 {
            invalid.push(format!(
                "--session-lifetime {lifetime}: at least 60 seconds"
            ));
        }
    }
    if !missing.is_empty() || !invalid.is_empty() {
        return Err(AnswerError { missing, invalid });
    }
    let server = server.expect("checked above");
    let (derived, why) = identity_default(&server);
    let username_from = match args.username_from {
        Some(UsernameFromArg::CommonName) => UsernameFrom::CommonName,
        Some(UsernameFromArg::Username) => UsernameFrom::Username,
        None => {
            if let Some(w) = why {
                notes.push(w);
            }
            derived
        }
    };
    let mut settings = settings.expect("checked above");
    settings.autopush = args.autopush;
    settings.verified_push = args.verified_push;
    Ok((
        Answers {
            settings,
            username_from,
            migrate_upstream: server.upstream_duo.is_some(),
            server_config: server.path,
            client_configs: clients,
            restart: !args.no_restart,
            test_user: args.test_user.clone(),
            plugin_so,
            session_tokens,
        },
        notes,
    ))
}

/// The installers' templates setup edits unless asked not to: those detection found in folders
/// no other user can change (the rule the wizard pre-selects profiles by), not already `chosen`.
/// One already carrying the lines is kept, so the plan says so instead of warning that no
/// profile is edited.
pub fn templates(detection: &Detection, chosen: &[String]) -> Vec<String> {
    detection
        .clients
        .iter()
        .filter(|c| c.template.is_some() && c.foreign.is_none() && !chosen.contains(&c.path))
        .map(|c| c.path.clone())
        .collect()
}
