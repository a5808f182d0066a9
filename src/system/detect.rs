//! What is on the managed system: Community OpenVPN (its version, server configs, their units and
//! the user/group they drop to), OpenVPN Access Server, and client profiles.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ovpn_config::{Document, IdentityHint, PluginKind, PluginLineStyle, Role};

use super::files::{self, SysPath};
use super::host::Host;
use super::service;
use super::tree::Kind;

pub use super::root::SACLI;

/// `openvpn --version`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenVpn {
    pub major: u32,
    pub minor: u32,
    /// The first line of `openvpn --version`.
    pub banner: String,
}

impl OpenVpn {
    pub fn parse(output: &str) -> Option<OpenVpn> {
        let line = output.lines().find(|l| l.starts_with("OpenVPN "))?;
        let ver = line.split_whitespace().nth(1)?;
        let mut parts = ver.split(|c: char| !c.is_ascii_digit());
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some(OpenVpn {
            major,
            minor,
            banner: line.trim().to_string(),
        })
    }

    pub fn version(&self) -> String {
        format!("{}.{}", self.major, self.minor)
    }

    pub fn supported(&self) -> bool {
        self.major == 2 && (3..=6).contains(&self.minor)
    }

    /// 2.3 takes the bare `plugin PATH ARG` form; 2.4+ the quoted one Duo documents.
    pub fn plugin_style(&self) -> PluginLineStyle {
        if self.major == 2 && self.minor <= 3 {
            PluginLineStyle::Bare
        } else {
            PluginLineStyle::Quoted
        }
    }

    /// What this version means for the plugin, one line.
    pub fn notes(&self) -> &'static str {
        match (self.major, self.minor) {
            (2, 3) => "plugin structver 2: no failure reasons shown to users; bare plugin line",
            (2, 4) => "plugin structver 3-5: no failure reasons shown to users",
            (2, 5) => "plugin structver 5: no failure reasons shown to users",
            (2, 6) => "plugin structver 5: failure reasons shown to users",
            _ => "not a version this tool supports (2.3 to 2.6)",
        }
    }
}

/// A config under /etc/openvpn that OpenVPN runs as a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// The system path (`/etc/openvpn/server/server.conf`).
    pub path: String,
    pub unit: Option<String>,
    /// `systemctl is-active` for the unit.
    pub state: String,
    pub user: Option<String>,
    pub group: Option<String>,
    pub identity: IdentityHint,
    /// Other `plugin` lines (path as written).
    pub other_plugins: Vec<String>,
    /// `auth-user-pass-verify` scripts.
    pub auth_scripts: Vec<String>,
    /// Line of Duo's upstream plugin, when loaded.
    pub upstream_duo: Option<usize>,
    /// Our plugin is already loaded.
    pub ours: bool,
    /// `config` includes (their options are not seen here).
    pub includes: Vec<String>,
}

/// A config file that could not be read or parsed, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientProfile {
    pub path: String,
    /// Already has `auth-user-pass`, `auth-retry interact` and `reneg-sec 0`.
    pub ready: bool,
    /// A folder on the way that another user owns or may write ("/home/eve is owned by user
    /// eve (uid 1000)"): shown, not pre-selected. Edited, when chosen, through handles, so a
    /// folder swapped for a symlink meanwhile cannot redirect the write.
    pub foreign: Option<String>,
    /// The installer whose template for new profiles this is ("Nyr's openvpn-install"): every
    /// profile it makes from now on starts as a copy of this file.
    pub template: Option<&'static str>,
}

/// The templates the popular installers make every new profile from, and whose they are. Each
/// holds plain client directives; the installer appends the inline keys when it makes a profile.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("/etc/openvpn/server/client-common.txt", NYR),
    // Nyr's before the 2.4 directory layout (2019).
    ("/etc/openvpn/client-common.txt", NYR),
    ("/etc/openvpn/server/client-template.txt", ANGRISTAN),
    // angristan's before the 2.4 directory layout (December 2025).
    ("/etc/openvpn/client-template.txt", ANGRISTAN),
    ("/etc/openvpn/easy-rsa/pki/Default.txt", PIVPN),
];
pub const NYR: &str = "Nyr's openvpn-install";
pub const ANGRISTAN: &str = "angristan's openvpn-install";
pub const PIVPN: &str = "PiVPN";

/// The installer whose template `path` (a system path) is.
pub fn template_of(path: &str) -> Option<&'static str> {
    TEMPLATES.iter().find(|(p, _)| *p == path).map(|(_, w)| *w)
}

/// One config as detection read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub bytes: Vec<u8>,
    /// The file itself, when the path leads through symlinks.
    pub target: Option<String>,
    /// The links followed, `link -> target as written`.
    pub links: Vec<String>,
}

/// Every config detection read, once: the plan is computed from these bytes rather than a
/// second read, and applying it checks that each file still holds them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot(BTreeMap<String, Read>);

impl Snapshot {
    pub fn get(&self, path: &str) -> Option<&Read> {
        self.0.get(path)
    }

    /// Reads `path` through the file layer (once: a second call returns the first read).
    pub fn read(&mut self, host: &Host, path: &str) -> Result<&Read, String> {
        if !self.0.contains_key(path) {
            let (r, bytes, _) = files::read_config(&host.root.tree(), &SysPath::normalize(path))
                .map_err(|e| format!("{e:#}"))?;
            let read = Read {
                target: (r.target != r.path).then(|| r.target.to_string()),
                links: r
                    .links
                    .iter()
                    .map(|(l, t)| format!("{l} -> {}", t.display()))
                    .collect(),
                bytes,
            };
            self.0.insert(path.to_string(), read);
        }
        Ok(&self.0[path])
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Detection {
    /// `openvpn --version`, when `openvpn` is on PATH.
    pub openvpn: Option<OpenVpn>,
    pub servers: Vec<ServerConfig>,
    pub unreadable: Vec<Unreadable>,
    /// sacli under the root.
    pub access_server: Option<String>,
    pub clients: Vec<ClientProfile>,
    /// What was read of each config above.
    pub snapshot: Snapshot,
}

impl Detection {
    pub fn community(&self) -> bool {
        self.openvpn.is_some() || !self.servers.is_empty()
    }

    /// `setup --no-client-templates`: the installers' templates are neither offered nor edited.
    pub fn drop_templates(&mut self) {
        self.clients.retain(|c| c.template.is_none());
    }
}

/// Everything, under the host's root.
pub fn detect(host: &Host, extra_client_paths: &[String]) -> Detection {
    let openvpn = host
        .run("openvpn", &["--version"])
        .and_then(|r| OpenVpn::parse(&format!("{}{}", r.stdout, r.stderr)));
    let mut d = Detection {
        openvpn,
        access_server: host.sacli().map(|p| match p.strip_prefix(host.root.dir()) {
            Ok(inside) => format!("/{}", inside.display()),
            Err(_) => p.display().to_string(),
        }),
        ..Detection::default()
    };
    for dir in ["/etc/openvpn/server", "/etc/openvpn"] {
        for path in list(host, dir, &["conf"]) {
            match snapshot_doc(host, &mut d.snapshot, &path) {
                Ok(doc) if doc.role() == Role::Server => {
                    d.servers.push(server_config_of(host, &path, &doc))
                }
                Ok(_) => {}
                Err(reason) => d.unreadable.push(Unreadable { path, reason }),
            }
        }
    }
    let mut dirs: Vec<String> = [
        "/etc/openvpn/client",
        "/etc/openvpn/clients",
        "/etc/openvpn/client-configs/files",
        "/root",
        "/root/ovpns",
        "/root/client-configs/files",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for home in list_dirs(host, "/home") {
        dirs.push(home.clone());
        dirs.push(format!("{home}/ovpns"));
        dirs.push(format!("{home}/client-configs/files"));
    }
    // Templates first: they decide every profile made later.
    let mut files: Vec<String> = TEMPLATES
        .iter()
        .map(|(p, _)| p.to_string())
        .filter(|p| exists(host, p))
        .collect();
    for dir in &dirs {
        files.extend(list(host, dir, &["ovpn", "conf"]));
    }
    for extra in extra_client_paths {
        files.extend(client_paths(host, extra));
    }
    for path in files {
        if d.clients.iter().any(|c| c.path == path) {
            continue;
        }
        let template = template_of(&path);
        match snapshot_doc(host, &mut d.snapshot, &path) {
            // A template is a client profile without its keys, whatever it says of its role.
            Ok(doc)
                if doc.role() == Role::Client
                    || (template.is_some() && doc.role() == Role::Unknown) =>
            {
                let ready = doc.auth_user_pass().is_some()
                    && doc.auth_retry() == Some("interact")
                    && doc.reneg_sec().is_some_and(|r| r.max == "0");
                let foreign = super::files::foreign_folder(
                    &host.root.tree(),
                    &super::files::SysPath::normalize(&path),
                );
                d.clients.push(ClientProfile {
                    path,
                    ready,
                    foreign,
                    template,
                });
            }
            Ok(_) => {}
            Err(reason) => d.unreadable.push(Unreadable { path, reason }),
        }
    }
    d
}

/// A `--client-config` value: a file, or a directory meaning every `.ovpn` in it.
pub fn client_paths(host: &Host, given: &str) -> Vec<String> {
    let tree = host.root.tree();
    let is_dir = files::resolve(&tree, &SysPath::normalize(given))
        .and_then(|r| tree.entry(&r.target))
        .is_ok_and(|e| e.is_some_and(|e| e.kind == Kind::Dir));
    if is_dir {
        list(host, given, &["ovpn"])
    } else {
        vec![given.to_string()]
    }
}

/// What setup needs to know about the server config at `path` (a system path).
pub fn server_config_of(host: &Host, path: &str, doc: &Document) -> ServerConfig {
    let unit = service::unit_for(path);
    let state = unit
        .as_deref()
        .map(|u| service::state(host, u))
        .unwrap_or_else(|| "unknown".into());
    let plugins = doc.plugins();
    ServerConfig {
        path: path.to_string(),
        state,
        unit,
        user: doc.user().map(str::to_string),
        group: doc.group().map(str::to_string),
        identity: doc.identity_hint(),
        other_plugins: plugins
            .iter()
            .filter(|p| p.kind == PluginKind::Other)
            .map(|p| p.path.clone())
            .collect(),
        auth_scripts: doc
            .auth_user_pass_verify()
            .iter()
            .map(|d| d.args.join(" "))
            .collect(),
        upstream_duo: plugins
            .iter()
            .find(|p| p.kind == PluginKind::UpstreamDuo)
            .map(|p| p.line),
        ours: plugins.iter().any(|p| p.kind == PluginKind::Ours),
        includes: doc.config_includes().into_iter().map(|i| i.path).collect(),
    }
}

/// A config read into the snapshot and parsed; the error is the reason only (the caller names
/// the file).
fn snapshot_doc(host: &Host, snapshot: &mut Snapshot, path: &str) -> Result<Document, String> {
    let read = snapshot.read(host, path).map_err(|e| {
        let prefix = format!("{}: ", SysPath::normalize(path));
        e.strip_prefix(&prefix).map(str::to_string).unwrap_or(e)
    })?;
    Document::from_bytes(&read.bytes).map_err(|e| e.to_string())
}

/// Read and parse a config given by its system path (not one detection read); the error is
/// the reason only, the caller names the file.
pub fn read_doc(host: &Host, path: &str) -> Result<Document, String> {
    snapshot_doc(host, &mut Snapshot::default(), path)
}

/// Files directly in the system directory `dir` with one of `exts`, as system paths, sorted.
/// Listed through the file layer: a folder reached through a symlink is not listed, and a
/// file that is a symlink is listed (its link is resolved, or refused, when it is read).
fn list(host: &Host, dir: &str, exts: &[&str]) -> Vec<String> {
    entries(host, dir, |k| matches!(k, Kind::File | Kind::Symlink))
        .into_iter()
        .filter(|n| {
            Path::new(n)
                .extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| exts.contains(&x))
        })
        .map(|n| join(dir, &n))
        .collect()
}

/// A file (or a symlink, resolved when it is read) at the system path `path`.
fn exists(host: &Host, path: &str) -> bool {
    host.root
        .tree()
        .entry(&SysPath::normalize(path))
        .is_ok_and(|e| e.is_some_and(|e| matches!(e.kind, Kind::File | Kind::Symlink)))
}

fn list_dirs(host: &Host, dir: &str) -> Vec<String> {
    entries(host, dir, |k| k == Kind::Dir)
        .into_iter()
        .map(|n| join(dir, &n))
        .collect()
}

/// The names in `dir` whose kind passes `keep`, sorted; none when it cannot be listed.
fn entries(host: &Host, dir: &str, keep: impl Fn(Kind) -> bool) -> Vec<String> {
    let Ok(d) = host.root.tree().open_dir(&SysPath::normalize(dir)) else {
        return Vec::new();
    };
    d.names()
        .unwrap_or_default()
        .into_iter()
        .filter(|n| d.entry(n).ok().flatten().is_some_and(|e| keep(e.kind)))
        .filter_map(|n| n.into_string().ok())
        .collect()
}

fn join(dir: &str, name: &str) -> String {
    PathBuf::from(dir).join(name).display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        let v = OpenVpn::parse(
            "OpenVPN 2.6.14 x86_64-pc-linux-gnu [SSL (OpenSSL)]\nlibrary versions: …\n",
        )
        .unwrap();
        assert_eq!((v.major, v.minor, v.supported()), (2, 6, true));
        assert_eq!(v.plugin_style(), PluginLineStyle::Quoted);
        let v = OpenVpn::parse("OpenVPN 2.3.18 x86_64-redhat-linux-gnu").unwrap();
        assert_eq!(v.plugin_style(), PluginLineStyle::Bare);
        assert_eq!(
            OpenVpn::parse("OpenVPN 2.5_git x86").unwrap().version(),
            "2.5"
        );
        assert!(!OpenVpn::parse("OpenVPN 2.2.1 x").unwrap().supported());
        assert_eq!(OpenVpn::parse("bash: openvpn: not found"), None);
    }
}

#[cfg(test)]
mod sandbox_tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn put(root: &Path, sys: &str, text: &str, mode: u32) {
        let p = root.join(sys.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn servers_units_states_identities_and_client_folders() {
        let root = tempfile::tempdir().unwrap();
        let bin = tempfile::tempdir().unwrap();
        let r = root.path();
        put(
            bin.path(),
            "/openvpn",
            "#!/bin/sh\necho 'OpenVPN 2.4.12 x86_64-pc-linux-gnu'\n",
            0o755,
        );
        put(
            bin.path(),
            "/systemctl",
            "#!/bin/sh\ncase \"$2\" in openvpn@office) echo failed ;; *) echo active ;; esac\n",
            0o755,
        );
        put(
            r,
            "/etc/openvpn/server/main.conf",
            "server 10.8.0.0 255.255.255.0\nuser nobody\ngroup nogroup\n",
            0o644,
        );
        put(
            r,
            "/etc/openvpn/office.conf",
            "mode server\ntls-server\nduplicate-cn\nplugin /usr/lib/openvpn/auth-pam.so login\n",
            0o644,
        );
        put(r, "/etc/openvpn/client.conf", "client\nremote x\n", 0o644);
        put(
            r,
            "/etc/openvpn/broken.conf",
            "server 10.8.0.0 255.255.255.0\n<ca>\nnever closed\n",
            0o644,
        );
        put(r, "/home/ann/ovpns/ann.ovpn", "client\nremote x\n", 0o600);
        put(
            r,
            "/root/ready.ovpn",
            "client\nauth-user-pass\nauth-retry interact\nreneg-sec 0\n",
            0o600,
        );
        put(r, "/root/notes.txt", "client\n", 0o600);
        put(r, "/srv/extra/pc.ovpn", "client\n", 0o600);
        put(
            r,
            "/usr/local/openvpn_as/scripts/sacli",
            "#!/bin/sh\n",
            0o755,
        );
        let host = Host::new(r, &crate::system::process::Process::os()).with_path_first(bin.path());
        let d = detect(&host, &["/srv/extra".into()]);
        assert_eq!(d.openvpn.as_ref().map(|o| o.version()), Some("2.4".into()));
        assert_eq!(d.access_server.as_deref(), Some(SACLI));
        let names: Vec<(&str, Option<&str>, &str)> = d
            .servers
            .iter()
            .map(|s| (s.path.as_str(), s.unit.as_deref(), s.state.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                (
                    "/etc/openvpn/server/main.conf",
                    Some("openvpn-server@main"),
                    "active"
                ),
                ("/etc/openvpn/office.conf", Some("openvpn@office"), "failed"),
            ]
        );
        assert_eq!(d.servers[0].group.as_deref(), Some("nogroup"));
        assert_eq!(d.servers[1].identity, IdentityHint::SharedCommonNames);
        assert_eq!(d.servers[1].other_plugins, ["/usr/lib/openvpn/auth-pam.so"]);
        assert_eq!(d.unreadable.len(), 1, "{:?}", d.unreadable);
        assert!(
            d.unreadable[0].path.ends_with("broken.conf")
                && d.unreadable[0].reason.contains("line"),
            "{:?}",
            d.unreadable
        );
        let clients: Vec<(&str, bool)> = d
            .clients
            .iter()
            .map(|c| (c.path.as_str(), c.ready))
            .collect();
        assert_eq!(
            clients,
            [
                ("/root/ready.ovpn", true),
                ("/home/ann/ovpns/ann.ovpn", false),
                ("/srv/extra/pc.ovpn", false)
            ]
        );
    }

    #[test]
    fn installer_templates_are_client_profiles_named_by_their_installer() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        put(
            r,
            "/etc/openvpn/server/server.conf",
            "server 10.8.0.0 255.255.255.0\n",
            0o644,
        );
        put(
            r,
            "/etc/openvpn/server/client-common.txt",
            "client\ndev tun\nremote 203.0.113.10 1194\n",
            0o644,
        );
        // Trimmed of its `client` line: still the template profiles are made from.
        put(
            r,
            "/etc/openvpn/easy-rsa/pki/Default.txt",
            "dev tun\nremote 203.0.113.10 1194\nauth-user-pass\nauth-retry interact\nreneg-sec 0\n",
            0o644,
        );
        // Not a template of any installer, and a "template" that is a server: neither listed.
        put(r, "/etc/openvpn/server/notes.txt", "client\n", 0o644);
        put(
            r,
            "/etc/openvpn/client-template.txt",
            "server 10.9.0.0 255.255.255.0\n",
            0o644,
        );
        put(r, "/root/alice.ovpn", "client\n", 0o600);
        let group_writable = r.join("etc/openvpn/server");
        let host = Host::new(r, &crate::system::process::Process::os());
        let d = detect(&host, &[]);
        let clients: Vec<(&str, Option<&str>, bool)> = d
            .clients
            .iter()
            .map(|c| (c.path.as_str(), c.template, c.ready))
            .collect();
        assert_eq!(
            clients,
            [
                ("/etc/openvpn/server/client-common.txt", Some(NYR), false),
                ("/etc/openvpn/easy-rsa/pki/Default.txt", Some(PIVPN), true),
                ("/root/alice.ovpn", None, false),
            ]
        );
        assert!(d.clients.iter().all(|c| c.foreign.is_none()), "{d:?}");

        // In a folder another user can change: still listed, marked foreign (not pre-selected).
        std::fs::set_permissions(&group_writable, std::fs::Permissions::from_mode(0o777)).unwrap();
        let d = detect(&host, &[]);
        let nyr = d.clients.iter().find(|c| c.template == Some(NYR)).unwrap();
        assert!(
            nyr.foreign
                .as_deref()
                .is_some_and(|f| f.contains("/etc/openvpn/server")),
            "{nyr:?}"
        );
    }
}
