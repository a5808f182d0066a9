//! What setup needs to know about a config: client or server, plugins, scripts, includes, and
//! which identity Duo should see.

use crate::document::{Directive, Document};
use crate::tokenize;

/// The file name of our plugin; a `plugin` line loading a file of this name is ours.
pub const PLUGIN_FILE_NAME: &str = "libduo_openvpn_plugin.so";
/// The file name of Duo's own (C + Python) OpenVPN plugin.
pub const UPSTREAM_PLUGIN_FILE_NAME: &str = "duo_openvpn.so";

/// Which side of a connection a config is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `client`, or `tls-client` with `pull`.
    Client,
    /// `server`, `server-bridge`, `mode server` or `tls-server`.
    Server,
    /// Both kinds of option: not something OpenVPN can run; never edited.
    Both,
    /// Neither (a static-key point-to-point config, or one whose options live in `config` includes).
    Unknown,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Client => "a client profile",
            Role::Server => "a server config",
            Role::Both => "a config with both client and server options",
            Role::Unknown => "neither a client profile nor a server config",
        })
    }
}

/// Who a `plugin` line loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginKind {
    Ours,
    UpstreamDuo,
    Other,
}

/// A `plugin` line and the argv OpenVPN hands the plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plugin {
    pub line: usize,
    /// The module path as written (`argv[0]`).
    pub path: String,
    /// What the plugin receives as argv, the path first (see [`plugin_argv`]).
    pub argv: Vec<String>,
    pub kind: PluginKind,
}

/// A `config` include.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    pub line: usize,
    /// As written; a relative path is relative to OpenVPN's working directory.
    pub path: String,
}

/// The `reneg-sec` that takes effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenegSec {
    pub line: usize,
    pub max: String,
    /// The 2.5+ second argument.
    pub min: Option<String>,
}

/// Whose name Duo should be asked about (see DESIGN "What setup changes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityHint {
    /// Certificates identify people: use the common name.
    CommonName,
    /// `verify-client-cert none|optional` or `username-as-common-name`: the typed user name is
    /// the identity.
    Username,
    /// `duplicate-cn`: certificate names are shared; warn and propose the typed user name.
    SharedCommonNames,
}

/// The argv OpenVPN builds from `plugin` arguments (`make_extended_arg_array`, misc.c): with
/// exactly one argument after the path, that argument is tokenized again (so `'A B C'` gives
/// three); with more, they are copied as they are.
pub fn plugin_argv(args: &[String]) -> Vec<String> {
    match args {
        [path, single] => {
            let mut argv = vec![path.clone()];
            // OpenVPN only warns when the second pass fails and passes no arguments.
            if let Ok(toks) = tokenize::tokenize(single) {
                argv.extend(
                    toks.tokens
                        .into_iter()
                        .take(tokenize::MAX_TOKENS)
                        .map(|t| t.value),
                );
            }
            argv
        }
        _ => args.to_vec(),
    }
}

pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn plugin_kind(path: &str) -> PluginKind {
    match file_name(path) {
        PLUGIN_FILE_NAME => PluginKind::Ours,
        UPSTREAM_PLUGIN_FILE_NAME => PluginKind::UpstreamDuo,
        _ => PluginKind::Other,
    }
}

impl Document {
    pub fn is_client(&self) -> bool {
        self.has("client") || (self.has("tls-client") && self.has("pull"))
    }

    pub fn is_server(&self) -> bool {
        self.has("server")
            || self.has("server-bridge")
            || self.has("tls-server")
            || self.last("mode").and_then(|d| d.arg(0)) == Some("server")
    }

    pub fn role(&self) -> Role {
        match (self.is_client(), self.is_server()) {
            (true, true) => Role::Both,
            (true, false) => Role::Client,
            (false, true) => Role::Server,
            (false, false) => Role::Unknown,
        }
    }

    /// Every `plugin` line, in the order OpenVPN calls them.
    pub fn plugins(&self) -> Vec<Plugin> {
        self.find("plugin")
            .filter(|d| !d.inline && !d.args.is_empty())
            .map(|d| Plugin {
                line: d.line,
                path: d.args[0].clone(),
                argv: plugin_argv(&d.args),
                kind: plugin_kind(&d.args[0]),
            })
            .collect()
    }

    /// `auth-user-pass-verify` scripts.
    pub fn auth_user_pass_verify(&self) -> Vec<&Directive> {
        self.find("auth-user-pass-verify").collect()
    }

    /// `config` includes: options in them are invisible to this document.
    pub fn config_includes(&self) -> Vec<Include> {
        self.find("config")
            .filter_map(|d| {
                Some(Include {
                    line: d.line,
                    path: d.arg(0)?.to_owned(),
                })
            })
            .collect()
    }

    pub fn user(&self) -> Option<&str> {
        self.last("user").and_then(|d| d.arg(0))
    }

    pub fn group(&self) -> Option<&str> {
        self.last("group").and_then(|d| d.arg(0))
    }

    /// `none`, `optional` or `require` as written (absent means `require`).
    pub fn verify_client_cert(&self) -> Option<&str> {
        self.last("verify-client-cert").and_then(|d| d.arg(0))
    }

    pub fn username_as_common_name(&self) -> bool {
        self.has("username-as-common-name")
    }

    pub fn duplicate_cn(&self) -> bool {
        self.has("duplicate-cn")
    }

    pub fn reneg_sec(&self) -> Option<RenegSec> {
        let d = self.last("reneg-sec")?;
        Some(RenegSec {
            line: d.line,
            max: d.arg(0)?.to_owned(),
            min: d.arg(1).map(str::to_owned),
        })
    }

    /// The `hand-window` that takes effect, in seconds, when it is a number (OpenVPN's
    /// default 60 applies when this is `None` and no line says otherwise).
    pub fn hand_window(&self) -> Option<u64> {
        self.last("hand-window")?.arg(0)?.parse().ok()
    }

    /// `auth-user-pass`, as an option or an inline block.
    pub fn auth_user_pass(&self) -> Option<&Directive> {
        self.last("auth-user-pass")
    }

    pub fn auth_retry(&self) -> Option<&str> {
        self.last("auth-retry").and_then(|d| d.arg(0))
    }

    pub fn identity_hint(&self) -> IdentityHint {
        if self.username_as_common_name()
            || matches!(self.verify_client_cert(), Some("none" | "optional"))
        {
            IdentityHint::Username
        } else if self.duplicate_cn() {
            IdentityHint::SharedCommonNames
        } else {
            IdentityHint::CommonName
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Document {
        Document::parse(text).unwrap()
    }

    #[test]
    fn roles() {
        assert_eq!(doc("client\n").role(), Role::Client);
        assert_eq!(doc("tls-client\npull\n").role(), Role::Client);
        assert_eq!(doc("tls-client\n").role(), Role::Unknown);
        assert_eq!(doc("server 10.8.0.0 255.255.255.0\n").role(), Role::Server);
        assert_eq!(doc("mode server\ntls-server\n").role(), Role::Server);
        assert_eq!(doc("mode p2p\n").role(), Role::Unknown);
        assert_eq!(doc("--server-bridge\n").role(), Role::Server);
        assert_eq!(
            doc("client\nserver 10.8.0.0 255.255.255.0\n").role(),
            Role::Both
        );
        assert_eq!(doc("# client\n").role(), Role::Unknown);
        assert_eq!(
            doc("<connection>\nclient\n</connection>\n").role(),
            Role::Unknown
        );
    }

    #[test]
    fn plugin_arguments() {
        let d = doc(concat!(
            "plugin /opt/duo/duo_openvpn.so 'IKEY SKEY api-x.duosecurity.com'\n",
            "plugin duo_openvpn.so IKEY SKEY HOST\n",
            "plugin /usr/lib/libduo_openvpn_plugin.so \"'/etc/duo openvpn/duo.toml'\"\n",
            "plugin /usr/lib/openvpn/openvpn-plugin-auth-pam.so login\n",
        ));
        let p = d.plugins();
        assert_eq!(p.len(), 4);
        assert_eq!(p[0].argv[1..], ["IKEY", "SKEY", "api-x.duosecurity.com"]);
        assert_eq!(p[0].kind, PluginKind::UpstreamDuo);
        assert_eq!(p[1].argv[1..], ["IKEY", "SKEY", "HOST"]);
        assert_eq!(p[2].argv[1..], ["/etc/duo openvpn/duo.toml"]);
        assert_eq!(p[2].kind, PluginKind::Ours);
        assert_eq!(p[3].kind, PluginKind::Other);
    }

    #[test]
    fn lookups() {
        let d = doc(concat!(
            "user nobody\ngroup nogroup\nconfig 'extra options.conf'\n",
            "reneg-sec 3600 600\nverify-client-cert optional\nduplicate-cn\n",
            "auth-user-pass-verify /etc/openvpn/check.sh via-file\n",
        ));
        assert_eq!(d.user(), Some("nobody"));
        assert_eq!(d.group(), Some("nogroup"));
        assert_eq!(d.config_includes()[0].path, "extra options.conf");
        assert_eq!(
            d.reneg_sec(),
            Some(RenegSec {
                line: 4,
                max: "3600".into(),
                min: Some("600".into())
            })
        );
        assert_eq!(d.identity_hint(), IdentityHint::Username);
        assert_eq!(d.auth_user_pass_verify()[0].line, 7);
        assert_eq!(
            doc("duplicate-cn\n").identity_hint(),
            IdentityHint::SharedCommonNames
        );
        assert_eq!(doc("dev tun\n").identity_hint(), IdentityHint::CommonName);
        assert!(
            doc("<auth-user-pass>\nu\np\n</auth-user-pass>\n")
                .auth_user_pass()
                .is_some()
        );
    }
}
