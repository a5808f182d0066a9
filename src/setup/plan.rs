//! The plan: from the answers (credentials, options, the server config, the client profiles) to
//! every change setup will make, as values. The wizard's review screen, `--dry-run` and the
//! runner all read the same plan, so what is shown is what is done.

use std::path::PathBuf;

use duo::{Config, DuoSettings, Failmode, UsernameFrom};
use ovpn_config::{
    Change, Document, EditError, IdentityHint, PluginLineStyle, ServerSetup, SessionTokens,
};

use crate::system::detect::{Detection, Read, ServerConfig, Snapshot, read_doc, template_of};
use crate::system::files::{self, SysPath};
use crate::system::host::Host;
use crate::system::process::Process;
use crate::system::root::CONFIG_PATH;

/// Where the plugin is installed on the managed system.
pub const PLUGIN_PATH: &str = "/usr/lib/duo-openvpn/libduo_openvpn_plugin.so";
/// Where a CA file given with `--ca-file` is copied.
pub const CA_PATH: &str = "/etc/duo-openvpn/ca.pem";

/// Everything setup needs to know, however it was asked (wizard or flags).
#[derive(Debug, Clone)]
pub struct Answers {
    pub settings: DuoSettings,
    pub username_from: UsernameFrom,
    /// System path of the server config.
    pub server_config: String,
    /// System paths of the client profiles to edit.
    pub client_configs: Vec<String>,
    pub restart: bool,
    pub test_user: Option<String>,
    /// The plugin library to install.
    pub plugin_so: PluginSource,
    /// Replace Duo's upstream plugin line (its credentials moved into duo.toml).
    pub migrate_upstream: bool,
    /// Session tokens lasting this many seconds, instead of `reneg-sec 0`.
    pub session_tokens: Option<u64>,
}

/// Where the session-token secret goes (`auth-gen-token-secret`).
pub const TOKEN_KEY_PATH: &str = "/etc/duo-openvpn/auth-token.key";

/// The default lifetime of a session token: a working day.
pub const SESSION_LIFETIME_SECS: u64 = 12 * 3600;

/// A new `auth-gen-token-secret` file, as `openvpn --genkey auth-token` writes it: 128 random
/// bytes (OpenVPN's `struct key`), base64 in 64-column lines, PEM-armoured.
fn new_token_key() -> Result<Vec<u8>, String> {
    use base64::Engine;
    let mut key = [0u8; 128];
    let mut got = 0;
    while got < key.len() {
        // The system call, not glibc's getrandom() (glibc 2.25): the packages are linked for
        // glibc 2.17 (packaging/build-packages), where that symbol does not exist.
        // SAFETY: the pointer and length describe the unfilled rest of `key`.
        let n = unsafe {
            libc::syscall(
                libc::SYS_getrandom,
                key[got..].as_mut_ptr(),
                key.len() - got,
                0u32,
            )
        };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(format!(
                "cannot get random bytes for the session-token secret: {e}"
            ));
        }
        got += n as usize;
    }
    let b64 = base64::engine::general_purpose::STANDARD.encode(key);
    let mut pem = String::from("-----BEGIN OpenVPN auth-token server key-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END OpenVPN auth-token server key-----\n");
    Ok(pem.into_bytes())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginSource {
    File(PathBuf),
    /// Not built (the demo from `cargo run`): a placeholder is installed and the user is told.
    Placeholder,
}

/// A config file edited in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEdit {
    /// System path.
    pub path: String,
    /// The file itself, when `path` leads through symlinks (resolved once, here, and edited
    /// there through handles that follow no link).
    pub target: Option<String>,
    /// The links followed, `link -> target as written`, for the review.
    pub links: Vec<String>,
    pub server: bool,
    /// The installer whose template for new profiles this file is.
    pub template: Option<&'static str>,
    pub before: Vec<u8>,
    pub after: Vec<u8>,
    pub changes: Vec<Change>,
}

impl FileEdit {
    pub fn changed(&self) -> bool {
        self.before != self.after
    }

    /// A unified diff (3 lines of context) with the system path in the headers, secrets masked
    /// (see [`unified`]). Duo's own plugin line carries the secret key in its arguments:
    /// migrating it removes that line, and the diff (printed by --yes and --dry-run, often into
    /// configuration-management logs) shows it masked.
    pub fn diff(&self) -> String {
        let mut text = unified(&self.path, &self.before, &self.after);
        for secret in upstream_secrets(&self.before) {
            text = text.replace(&secret, "<secret key>");
        }
        text
    }
}

/// The secret keys on Duo's own plugin lines (the second argument).
fn upstream_secrets(config: &[u8]) -> Vec<String> {
    Document::from_bytes(config)
        .map(|doc| {
            doc.upstream_duo()
                .into_iter()
                .filter_map(|u| u.args.get(1).cloned())
                // A real secret key is 40 characters; a short word is not masked everywhere.
                .filter(|s| s.len() >= 8)
                .collect()
        })
        .unwrap_or_default()
}

/// A unified diff of two versions of a config, for people and logs, never for `patch`: both
/// versions are masked first (ovpn_config::mask_secrets: each secret inline block's body is one
/// line saying what is hidden), so context lines near a key show no part of it. Hunk headers
/// give the real file's line numbers; a hunk holding a masked block thus shows fewer lines than
/// its header counts.
pub fn unified(path: &str, before: &[u8], after: &[u8]) -> String {
    let a = ovpn_config::mask_secrets(&String::from_utf8_lossy(before));
    let b = ovpn_config::mask_secrets(&String::from_utf8_lossy(after));
    let diff = similar::TextDiff::from_lines(a.text.as_str(), b.text.as_str());
    let mut out = String::new();
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        let (Some(first), Some(last)) = (hunk.ops().first(), hunk.ops().last()) else {
            continue;
        };
        if out.is_empty() {
            out.push_str(&format!("--- a{path}\n+++ b{path}\n"));
        }
        let old = a.original_lines(first.old_range().start..last.old_range().end);
        let new = b.original_lines(first.new_range().start..last.new_range().end);
        let text = hunk.to_string();
        let body = text.split_once('\n').map_or("", |(_, body)| body);
        out.push_str(&format!(
            "@@ -{} +{} @@\n{body}",
            hunk_range(old),
            hunk_range(new)
        ));
    }
    out
}

/// A hunk header's range as `diff -u` writes it (1-based; an empty range names the line before).
fn hunk_range(r: std::ops::Range<usize>) -> String {
    match r.len() {
        0 => format!("{},0", r.start),
        1 => format!("{}", r.start + 1),
        n => format!("{},{n}", r.start + 1),
    }
}

/// A file setup puts in place (plugin, duo.toml, CA).
#[derive(Clone, PartialEq, Eq)]
pub struct Install {
    /// System path.
    pub dest: String,
    pub what: &'static str,
    pub content: Vec<u8>,
    pub mode: u32,
    /// Owner root, this group (`None`: root).
    pub group: Option<String>,
    /// What is there now.
    pub existing: Option<Vec<u8>>,
    /// Holds the secret key: never shown.
    pub secret: bool,
    /// The source is this very file (the packaged plugin, with `--root /`): nothing is written,
    /// backed up or recorded, so uninstall leaves it to the package.
    pub in_place: bool,
}

impl std::fmt::Debug for Install {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Install")
            .field("dest", &self.dest)
            .field("what", &self.what)
            .field("bytes", &self.content.len())
            .field("mode", &format_args!("{:o}", self.mode))
            .field("group", &self.group)
            .field("in_place", &self.in_place)
            .finish()
    }
}

impl Install {
    pub fn changed(&self) -> bool {
        self.existing.as_deref() != Some(&self.content[..])
    }

    pub fn owner(&self) -> String {
        format!("root:{}", self.group.as_deref().unwrap_or("root"))
    }

    pub fn describe(&self) -> String {
        let state = match (&self.existing, self.changed()) {
            _ if self.in_place => "in place, left to the package",
            (None, _) => "new",
            (Some(_), true) => "replaced",
            (Some(_), false) => "unchanged",
        };
        format!(
            "{} ({}, {} {:04o}, {state})",
            self.dest,
            self.what,
            self.owner(),
            self.mode
        )
    }
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub installs: Vec<Install>,
    pub edits: Vec<FileEdit>,
    /// The unit to restart.
    pub restart: Option<String>,
    pub test_user: Option<String>,
    /// Things the administrator should know (shown on the review screen and by `--yes`).
    pub warnings: Vec<String>,
}

impl Plan {
    /// Nothing to write: setup has run before with the same answers.
    pub fn is_noop(&self) -> bool {
        !self.installs.iter().any(Install::changed) && !self.edits.iter().any(FileEdit::changed)
    }

    /// Every diff, concatenated.
    pub fn diffs(&self) -> String {
        self.edits
            .iter()
            .filter(|e| e.changed())
            .map(FileEdit::diff)
            .collect()
    }

    /// For the done screen: one line per installer template this plan edits, saying the
    /// profiles that installer makes from now on carry the lines.
    pub fn template_notes(&self) -> Vec<String> {
        self.edits
            .iter()
            .filter(|e| e.changed())
            .filter_map(|e| {
                e.template.map(|t| {
                    format!(
                        "profiles {t} makes from now on carry the client lines (its template {} \
                         was edited)",
                        e.path
                    )
                })
            })
            .collect()
    }

    /// The plan as text: what `--dry-run` prints and `--yes` shows before applying.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        s.push_str("Files installed:\n");
        for i in &self.installs {
            s.push_str(&format!("  {}\n", i.describe()));
        }
        s.push_str(
            "Files edited (a backup of each is kept, and the manifest records every change):\n",
        );
        for e in &self.edits {
            if e.changed() {
                s.push_str(&format!(
                    "  {} ({} change{})\n",
                    e.path,
                    e.changes.len(),
                    plural(e.changes.len())
                ));
                if let Some(t) = e.template {
                    s.push_str(&format!(
                        "    template of {t}: profiles made from now on carry the lines\n"
                    ));
                }
                for c in &e.changes {
                    s.push_str(&format!("    {c}\n"));
                }
            } else if let Some(t) = e.template {
                s.push_str(&format!(
                    "  {} (template of {t}: already carries the lines, unchanged)\n",
                    e.path
                ));
            } else {
                s.push_str(&format!("  {} (already set up, unchanged)\n", e.path));
            }
        }
        match &self.restart {
            Some(_) if self.is_noop() => s.push_str("Service restarted: none (nothing changes)\n"),
            Some(u) => s.push_str(&format!("Service restarted: {u}\n")),
            None => {
                s.push_str("Service restarted: none (--no-restart, or no unit for this config)\n")
            }
        }
        if let Some(u) = &self.test_user {
            s.push_str(&format!("Test push: {u}\n"));
        }
        for w in &self.warnings {
            s.push_str(&format!("warning: {w}\n"));
        }
        s
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// What the server config says about the Duo identity, and the default it implies.
pub fn identity_default(server: &ServerConfig) -> (UsernameFrom, Option<String>) {
    match server.identity {
        IdentityHint::CommonName => (UsernameFrom::CommonName, None),
        IdentityHint::Username => (
            UsernameFrom::Username,
            Some(
                "the server accepts clients without a certificate name of their own \
                 (verify-client-cert or username-as-common-name): the typed user name is the Duo user"
                    .into(),
            ),
        ),
        IdentityHint::SharedCommonNames => (
            UsernameFrom::Username,
            Some(
                "duplicate-cn: several people share a certificate name, so the typed user name is \
                 proposed as the Duo user"
                    .into(),
            ),
        ),
    }
}

/// Warnings about a server config: other auth plugins or scripts, includes.
pub fn server_warnings(server: &ServerConfig) -> Vec<String> {
    let mut w = Vec::new();
    for p in &server.other_plugins {
        w.push(format!(
            "{}: another plugin also checks logins ({p}); only one plugin may defer a login",
            server.path
        ));
    }
    for s in &server.auth_scripts {
        w.push(format!(
            "{}: auth-user-pass-verify {s} also checks logins",
            server.path
        ));
    }
    for i in &server.includes {
        w.push(format!(
            "{}: options in the included file {i} are not checked",
            server.path
        ));
    }
    if let Some(line) = server.upstream_duo {
        w.push(format!(
            "{}:{line}: Duo's own plugin (duo_openvpn.so) is replaced by ours; its credentials move into {CONFIG_PATH}",
            server.path
        ));
    }
    w
}

/// Groups that several daemons run as: any of them may read a file of that group.
const SHARED_GROUPS: &[&str] = &["nogroup", "nobody", "nfsnobody"];

/// duo.toml is `root:<the server's group>` 0640 (OpenVPN re-opens the plugin after SIGHUP as
/// that group). When the group is one other daemons share, say so and how to give OpenVPN a
/// group of its own. `server_config` is the system path of the config with the `group` line.
pub fn shared_group_note(group: &str, server_config: &str) -> Option<String> {
    SHARED_GROUPS.contains(&group).then(|| {
        format!(
            "{group} is a group other daemons share, and each of them can read {CONFIG_PATH} \
             (root:{group} 0640, the Duo secret key): give OpenVPN a group of its own: \
             `groupadd --system openvpn`, `group openvpn` in {server_config}, \
             `chgrp openvpn {CONFIG_PATH}`, then restart OpenVPN"
        )
    })
}

/// The plugin `.so` to install: `--plugin-so`/`DUO_OPENVPN_PLUGIN_SO`, else next to this binary.
pub fn find_plugin_so(given: Option<PathBuf>, process: &Process) -> Option<PathBuf> {
    if let Some(p) = given.or_else(|| process.var_os("DUO_OPENVPN_PLUGIN_SO").map(PathBuf::from)) {
        return Some(p);
    }
    let exe = process.current_exe.as_ref()?;
    let dir = exe.parent()?;
    [
        dir.join("libduo_openvpn_plugin.so"),
        dir.join("../libduo_openvpn_plugin.so"),
        // Where the package put it: then installed unchanged, and left in place by uninstall.
        PathBuf::from(PLUGIN_PATH),
    ]
    .into_iter()
    .find(|p| files::is_input_file(p))
}

pub const PLACEHOLDER_SO: &[u8] = b"# placeholder: the plugin library was not built.\n\
# Build it with `cargo build --release -p duo-openvpn-plugin` and run setup again.\n";

/// Compute the plan. Reads files under the root; writes nothing. Errors name the file (and line).
pub fn build(
    host: &Host,
    detection: &Detection,
    answers: &Answers,
    can_chown: bool,
) -> Result<Plan, String> {
    let server = detection
        .servers
        .iter()
        .find(|s| s.path == answers.server_config)
        .cloned()
        .map(Ok)
        .unwrap_or_else(|| {
            // A server config outside the usual places (--server-config): read it now.
            let doc = read_doc(host, &answers.server_config)
                .map_err(|e| format!("{}: {e}", answers.server_config))?;
            if !doc.is_server() {
                return Err(format!(
                    "{}: {}, not a server config",
                    answers.server_config,
                    doc.role()
                ));
            }
            Ok(crate::system::detect::server_config_of(
                host,
                &answers.server_config,
                &doc,
            ))
        })?;
    let mut warnings = server_warnings(&server);
    if !detection.openvpn.as_ref().is_some_and(|o| o.supported()) {
        match &detection.openvpn {
            Some(o) => warnings.push(format!(
                "OpenVPN {} is not a version this tool supports (2.3 to 2.6)",
                o.version()
            )),
            None => warnings
                .push("openvpn was not found on PATH; the plugin line uses the 2.4+ form".into()),
        }
    }
    let style = detection
        .openvpn
        .as_ref()
        .map(|o| o.plugin_style())
        .unwrap_or(PluginLineStyle::Quoted);
    if !can_chown {
        warnings.push(
            "not running as root: installed files keep the current user as owner (sandbox only)"
                .into(),
        );
    }

    // Files installed.
    let mut installs = Vec::new();
    let plugin_in_place = matches!(&answers.plugin_so,
        PluginSource::File(p) if files::same_file(p, &host.path(PLUGIN_PATH)));
    let plugin = match &answers.plugin_so {
        PluginSource::File(p) => files::read_input(p, crate::system::tree::MAX_INSTALLED_BYTES)
            .map_err(|e| format!("{e:#} (the plugin library)"))?,
        PluginSource::Placeholder => {
            warnings.push(format!(
                "the plugin library was not built: a placeholder is installed at {PLUGIN_PATH} (build it with `cargo build --release -p duo-openvpn-plugin`)"
            ));
            PLACEHOLDER_SO.to_vec()
        }
    };
    installs.push(Install {
        in_place: plugin_in_place,
        ..install(
            host,
            PLUGIN_PATH,
            "OpenVPN plugin",
            plugin,
            0o644,
            None,
            false,
        )
    });
    let mut settings = answers.settings.clone();
    // OpenVPN ends a pending login after hand-window: ours, or the server's own when larger
    // (kept), and duo.toml carries the same figure so that the plugin answers before it.
    let hand_window = read_doc(host, &server.path)
        .ok()
        .and_then(|d| d.hand_window())
        .unwrap_or(0)
        .clamp(
            duo::config::DEFAULT_HAND_WINDOW_SECS,
            *duo::config::HAND_WINDOW_RANGE.end(),
        );
    settings.hand_window = std::time::Duration::from_secs(hand_window);
    let group = server.group.clone();
    if let Some(ca) = &answers.settings.ca_file {
        let pem = duo::config::read_input(ca)
            .map_err(|e| format!("{}: cannot read the CA file: {e}", ca.display()))?;
        installs.push(install(
            host,
            CA_PATH,
            "CA for Duo's API",
            pem,
            0o644,
            None,
            false,
        ));
        settings.ca_file = Some(host.path(CA_PATH));
    }
    let config = Config {
        duo: settings.clone(),
        username_from: answers.username_from,
    };
    let existing =
        read_managed(host, CONFIG_PATH)?.map(|b| String::from_utf8_lossy(&b).into_owned());
    let rendered = config
        .render(existing.as_deref())
        .map_err(|e| format!("{}: {e}", host.display_path(CONFIG_PATH)))?;
    installs.push(install(
        host,
        CONFIG_PATH,
        "Duo configuration",
        rendered.into_bytes(),
        0o640,
        group.clone(),
        true,
    ));
    if answers.session_tokens.is_some() {
        // Kept when there is one: a new secret would end every session.
        let key = match read_managed(host, TOKEN_KEY_PATH)? {
            Some(k) => k,
            None => new_token_key()?,
        };
        // root:<OpenVPN's group> 0640, as duo.toml: OpenVPN reads it again after a SIGHUP,
        // by then as its unprivileged user.
        installs.push(install(
            host,
            TOKEN_KEY_PATH,
            "session-token secret",
            key,
            0o640,
            group,
            true,
        ));
    }

    // Files edited.
    let mut edits = Vec::new();
    let server_setup = ServerSetup {
        plugin_path: host.display_path(PLUGIN_PATH),
        config_path: host.display_path(CONFIG_PATH),
        style,
        migrate_upstream: answers.migrate_upstream,
        allow_unknown_role: false,
        session_tokens: answers.session_tokens.map(|lifetime_secs| SessionTokens {
            lifetime_secs,
            secret_path: host.display_path(TOKEN_KEY_PATH),
        }),
    };
    edits.push(edit(
        host,
        &detection.snapshot,
        &server.path,
        true,
        |doc| {
            let mut changes = ovpn_config::ensure_server(doc, &server_setup)?;
            changes.extend(ovpn_config::ensure_hand_window(doc, hand_window)?);
            Ok(changes)
        },
    )?);
    for c in &answers.client_configs {
        let template = template_of(c);
        let mut e = edit(host, &detection.snapshot, c, false, |doc| {
            // A template need not say `client`: the installer's profiles made from it do.
            let mut changes = ovpn_config::ensure_client_with(
                doc,
                template.is_some(),
                answers.session_tokens.is_some(),
            )?;
            // The client gives up waiting for its login after its own hand-window.
            changes.extend(ovpn_config::ensure_hand_window(doc, hand_window)?);
            Ok(changes)
        })?;
        e.template = template;
        edits.push(e);
    }
    for e in &edits {
        if let Some(t) = &e.target {
            warnings.push(format!(
                "{} is a symlink ({}): {t} is edited",
                e.path,
                e.links.join(", ")
            ));
        }
    }
    if answers.client_configs.is_empty() {
        warnings.push(
            format!("no client profile edited: each client needs auth-user-pass, auth-retry interact, reneg-sec 0 and hand-window {hand_window}"),
        );
    } else if answers
        .client_configs
        .iter()
        .all(|c| template_of(c).is_some())
    {
        warnings.push(format!(
            "only the installer's template is edited: profiles made before now still need \
             auth-user-pass, auth-retry interact, reneg-sec 0 and hand-window {hand_window} \
             (--client-config PATH)"
        ));
    }
    if answers.settings.failmode == Failmode::Safe {
        warnings.push(
            "failmode safe: when Duo cannot be reached, users get in with their certificate alone"
                .into(),
        );
    }
    let restart = if answers.restart {
        server.unit.clone()
    } else {
        None
    };
    Ok(Plan {
        installs,
        edits,
        restart,
        test_user: answers.test_user.clone(),
        warnings,
    })
}

fn install(
    host: &Host,
    dest: &str,
    what: &'static str,
    content: Vec<u8>,
    mode: u32,
    group: Option<String>,
    secret: bool,
) -> Install {
    Install {
        dest: dest.into(),
        what,
        existing: read_managed(host, dest).ok().flatten(),
        content,
        mode,
        group,
        secret,
        in_place: false,
    }
}

/// Whether two paths name the same file (through symlinks), as the packaged plugin does when
/// it is both what setup installs and where (`--root /`).
/// An installed file as it is now (`None`: nothing there), through the file layer.
fn read_managed(host: &Host, path: &str) -> Result<Option<Vec<u8>>, String> {
    host.root
        .tree()
        .read_opt_up_to(
            &SysPath::normalize(path),
            crate::system::tree::MAX_INSTALLED_BYTES,
        )
        .map(|o| o.map(|(b, _)| b))
        .map_err(|e| format!("{e:#}"))
}

fn edit(
    host: &Host,
    snapshot: &Snapshot,
    path: &str,
    server: bool,
    f: impl FnOnce(&mut Document) -> Result<Vec<Change>, EditError>,
) -> Result<FileEdit, String> {
    // What detection read, else (a file it did not look at) read now through the file layer,
    // which resolves an administrator's symlink once and refuses one in a folder another user
    // could change.
    let read = match snapshot.get(path) {
        Some(r) => r.clone(),
        None => Snapshot::default().read(host, path)?.clone(),
    };
    let Read {
        bytes: before,
        target,
        links,
    } = read;
    let mut doc = Document::from_bytes(&before).map_err(|e| format!("{path}: {e}"))?;
    let changes = f(&mut doc).map_err(|e| format!("{path}: {e}"))?;
    let after = doc.render();
    Ok(FileEdit {
        path: path.into(),
        target,
        links,
        server,
        template: None,
        before,
        after,
        changes,
    })
}

#[cfg(test)]
mod tests {
    use super::{FileEdit, Plan, unified};

    #[test]
    fn a_template_is_named_as_one_in_the_plan_and_the_done_notes() {
        let edit = |path: &str, template, after: &str| FileEdit {
            path: path.into(),
            target: None,
            links: Vec::new(),
            server: false,
            template,
            before: b"client\n".to_vec(),
            after: after.as_bytes().to_vec(),
            changes: Vec::new(),
        };
        let plan = Plan {
            installs: Vec::new(),
            edits: vec![
                edit(
                    "/etc/openvpn/server/client-common.txt",
                    Some("Nyr's openvpn-install"),
                    "client\nauth-user-pass\n",
                ),
                edit(
                    "/etc/openvpn/easy-rsa/pki/Default.txt",
                    Some("PiVPN"),
                    "client\n",
                ),
                edit("/root/a.ovpn", None, "client\nauth-user-pass\n"),
            ],
            restart: None,
            test_user: None,
            warnings: Vec::new(),
        };
        let d = plan.describe();
        assert!(
            d.contains(
                "  /etc/openvpn/server/client-common.txt (0 changes)\n    template of Nyr's \
                 openvpn-install: profiles made from now on carry the lines\n"
            ),
            "{d}"
        );
        assert!(
            d.contains(
                "  /etc/openvpn/easy-rsa/pki/Default.txt (template of PiVPN: already carries \
                 the lines, unchanged)\n"
            ),
            "{d}"
        );
        assert!(d.contains("  /root/a.ovpn (0 changes)\n"), "{d}");
        assert_eq!(
            plan.template_notes(),
            [
                "profiles Nyr's openvpn-install makes from now on carry the client lines (its \
                 template /etc/openvpn/server/client-common.txt was edited)"
            ]
        );
    }

    #[test]
    fn diff_context_never_shows_a_key_and_headers_name_real_lines() {
        let before = "client\n<ca>\nPUBLIC\n</ca>\nremote a\n<key>\nK1\nK2\nK3\nK4\nK5\n</key>\n";
        let after = before.replace("remote a\n", "remote a\nauth-user-pass\n");
        let d = unified("/p.ovpn", before.as_bytes(), after.as_bytes());
        assert_eq!(
            d,
            "--- a/p.ovpn\n+++ b/p.ovpn\n@@ -3,10 +3,11 @@\n PUBLIC\n </ca>\n remote a\n+auth-user-pass\n <key>\n [… 5 lines of the private key, not shown …]\n </key>\n"
        );
        // After the block, the line numbers are the file's, not the masked text's.
        let before = "<tls-crypt>\nT1\nT2\nT3\nT4\n</tls-crypt>\na\nb\nc\nd\ne\n";
        let after = before.replace("e\n", "e\nreneg-sec 0\n");
        let d = unified("/s.conf", before.as_bytes(), after.as_bytes());
        assert!(
            d.contains("@@ -9,3 +9,4 @@\n c\n d\n e\n+reneg-sec 0\n"),
            "{d}"
        );
        assert_eq!(unified("/x", b"same\n", b"same\n"), "");
    }
}
