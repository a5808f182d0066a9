//! `/etc/duo-openvpn/duo.toml`: the one configuration model the CLI, the wizard and the plugin share.
//!
//! Read with spans so that every error names the file, the line and the key; written with
//! `toml_edit` so an administrator's comments and layout survive.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml_edit::{Document, DocumentMut, Item, Table, value};

/// The template a fresh `duo.toml` starts from.
pub const TEMPLATE: &str = include_str!("../../../assets/duo.toml.template");

pub const DEFAULT_TIMEOUT_SECS: u64 = 60;
/// The `hand-window` setup writes into server.conf and each client profile: Duo's push timeout
/// (60 s) and some typing. With it the plugin's cap (see the plugin's `deadline` module) is
/// [`DEFAULT_TIMEOUT_SECS`], so the default login is not cut short.
pub const DEFAULT_HAND_WINDOW_SECS: u64 = 75;
/// OpenVPN's own default `hand-window`, assumed when duo.toml does not say: a duo.toml written
/// before the key existed sits next to a server.conf without `hand-window`.
pub const OPENVPN_HAND_WINDOW_SECS: u64 = 60;
/// The `hand_window_secs` accepted: below 30 s a push could not be answered; above 15 minutes
/// a stalled handshake holds its slot for no login that would still be waited for.
pub const HAND_WINDOW_RANGE: std::ops::RangeInclusive<u64> = 30..=900;

/// The environment variables the tool reads secrets from: `DUO_SKEY` (setup's secret key) and
/// `DUO_PASSCODE` (`test --factor passcode`). No child process (systemctl, journalctl,
/// `openvpn --version`, sacli) needs them, and a child's environment is readable by anything
/// running as the same user for as long as it lives (`/proc/PID/environ`).
pub const SECRET_ENV_VARS: &[&str] = &["DUO_SKEY", "DUO_PASSCODE"];

/// Remove [`SECRET_ENV_VARS`] from what `cmd` passes on: call it on every child the tool starts.
pub fn scrub_secret_env(cmd: &mut std::process::Command) -> &mut std::process::Command {
    for v in SECRET_ENV_VARS {
        cmd.env_remove(v);
    }
    cmd
}

/// The largest input file read whole: `duo.toml`, a secret-key file, a CA bundle. Real ones are
/// a few kilobytes (Duo's 15 pinned roots are 25 KB); without a bound, a wrong path (a disk
/// image, a log) is read into memory in full before being refused as not TOML or not PEM.
pub const MAX_INPUT_BYTES: u64 = 4 * 1024 * 1024;

/// Read a whole input file, refusing one larger than [`MAX_INPUT_BYTES`] before reading it
/// (its size from the open handle) and while reading (a file that grows, a device or a pipe,
/// which report no size). The error says the size and the limit; callers add the path.
pub fn read_input(path: &Path) -> std::io::Result<Vec<u8>> {
    read_input_up_to(path, MAX_INPUT_BYTES)
}

/// [`read_input`] with another limit (a plugin library to install is tens of MB in a debug
/// build).
pub fn read_input_up_to(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let too_big = |size: &str| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{size}, over the limit of {} MiB for an input file",
                limit / (1024 * 1024)
            ),
        )
    };
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    if size > limit {
        return Err(too_big(&format!("{size} bytes")));
    }
    let mut buf = Vec::with_capacity(size as usize);
    file.take(limit + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        return Err(too_big("more than that"));
    }
    Ok(buf)
}

/// [`read_input`], as UTF-8 text.
pub fn read_input_string(path: &Path) -> std::io::Result<String> {
    String::from_utf8(read_input(path)?).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        )
    })
}

/// What happens to a login when Duo cannot answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Failmode {
    /// Refuse the login.
    #[default]
    Secure,
    /// Let the user in, and say so in the log.
    Safe,
}

impl Failmode {
    pub fn as_str(self) -> &'static str {
        match self {
            Failmode::Secure => "secure",
            Failmode::Safe => "safe",
        }
    }

    pub fn parse(s: &str) -> Option<Failmode> {
        match s {
            "secure" => Some(Failmode::Secure),
            "safe" => Some(Failmode::Safe),
            _ => None,
        }
    }
}

/// Which OpenVPN identity is the Duo user name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UsernameFrom {
    #[default]
    CommonName,
    Username,
}

impl UsernameFrom {
    pub fn as_str(self) -> &'static str {
        match self {
            UsernameFrom::CommonName => "common_name",
            UsernameFrom::Username => "username",
        }
    }

    pub fn parse(s: &str) -> Option<UsernameFrom> {
        match s {
            "common_name" => Some(UsernameFrom::CommonName),
            "username" => Some(UsernameFrom::Username),
            _ => None,
        }
    }
}

/// A secret that never prints.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // Best effort: overwrite the bytes before the allocation is released.
        let bytes = unsafe { self.0.as_bytes_mut() };
        for b in bytes.iter_mut() {
            unsafe { std::ptr::write_volatile(b, 0) };
        }
    }
}

/// The `[duo]` table: everything the Duo client needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuoSettings {
    pub ikey: String,
    pub skey: Secret,
    /// API hostname, possibly with `:port`.
    pub host: String,
    pub ca_file: Option<PathBuf>,
    pub proxy: Option<String>,
    pub failmode: Failmode,
    /// Upper bound for one whole login.
    pub timeout: Duration,
    /// OpenVPN's `hand-window` on the server and the clients (setup writes both): a pending
    /// login ends there, so the plugin answers a little before it.
    pub hand_window: Duration,
    /// A client that could be asked for its factor (CR_TEXT) gets a push at once instead, as
    /// Access Server's `AUTOPUSH`.
    pub autopush: bool,
    /// Verified Duo Push: preauth says the client can show a code, and the user types the code
    /// Duo shows into Duo Mobile. Never together with `autopush`.
    pub verified_push: bool,
}

impl DuoSettings {
    pub fn new(ikey: impl Into<String>, skey: Secret, host: impl Into<String>) -> DuoSettings {
        DuoSettings {
            ikey: ikey.into(),
            skey,
            host: host.into(),
            ca_file: None,
            proxy: None,
            failmode: Failmode::Secure,
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS),
            // Only setup, which writes `hand-window` into the OpenVPN configs, raises it.
            hand_window: Duration::from_secs(OPENVPN_HAND_WINDOW_SECS),
            autopush: false,
            verified_push: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub duo: DuoSettings,
    pub username_from: UsernameFrom,
}

/// A configuration problem, down to the file, line and key. Never carries the secret key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: Option<PathBuf>,
    pub line: Option<usize>,
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.path {
            write!(f, "{}", p.display())?;
            if let Some(l) = self.line {
                write!(f, ":{l}")?;
            }
            f.write_str(": ")?;
        } else if let Some(l) = self.line {
            write!(f, "line {l}: ")?;
        }
        if let Some(k) = &self.key {
            write!(f, "{k}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Validate an integration key: Duo issues 20 upper-case letters and digits starting with `DI`.
///
/// The value is not echoed: with the two keys swapped it would be the secret key.
pub fn check_ikey(ikey: &str) -> Result<(), String> {
    if ikey.len() != 20
        || !ikey.starts_with("DI")
        || !ikey
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return Err(format!(
            "expected 20 upper-case letters and digits starting with DI ({} characters given)",
            ikey.chars().count()
        ));
    }
    Ok(())
}

/// Validate a secret key without ever echoing it: Duo issues 40 letters and digits.
pub fn check_skey(skey: &str) -> Result<(), String> {
    let n = skey.chars().count();
    if n != 40 || !skey.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!(
            "expected 40 letters and digits, got {n} characters{}",
            if skey.trim() != skey {
                " (with surrounding whitespace)"
            } else {
                ""
            }
        ));
    }
    Ok(())
}

/// Validate an API hostname: a bare host name with an optional port, no scheme or path.
pub fn check_host(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err(
            "is empty; expected the API hostname, like api-xxxxxxxx.duosecurity.com".into(),
        );
    }
    if host.contains("://") || host.contains('/') {
        return Err(format!(
            "{host:?} must be a bare host name (no https://, no path)"
        ));
    }
    let (name, port) = match host.rsplit_once(':') {
        Some((n, p)) => (n, Some(p)),
        None => (host, None),
    };
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err(format!("{host:?} is not a host name"));
    }
    if let Some(p) = port {
        if p.parse::<u16>().map(|p| p == 0).unwrap_or(true) {
            return Err(format!("{host:?} has an invalid port {p:?}"));
        }
    }
    Ok(())
}

/// Validate a proxy URL: `http://[user:pass@]host:port`.
pub fn check_proxy(proxy: &str) -> Result<(), String> {
    let rest = proxy.strip_prefix("http://").ok_or_else(|| {
        format!(
            "{:?} must start with http:// (an HTTP CONNECT proxy)",
            redact_userinfo(proxy)
        )
    })?;
    let hostport = rest
        .rsplit('@')
        .next()
        .unwrap_or(rest)
        .trim_end_matches('/');
    match hostport.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && p.parse::<u16>().is_ok() => Ok(()),
        _ => Err(format!(
            "{:?} must name a host and a port",
            redact_userinfo(proxy)
        )),
    }
}

/// A proxy URL with any password replaced, for messages.
pub fn redact_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}***@{}", &url[..s + 3], &url[at + 1..]),
        _ => url.to_string(),
    }
}

impl Config {
    /// Read and validate a `duo.toml`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = read_input_string(path).map_err(|e| ConfigError {
            path: Some(path.to_path_buf()),
            line: None,
            key: None,
            message: format!("cannot read: {e}"),
        })?;
        Config::parse(&text).map_err(|mut e| {
            e.path = Some(path.to_path_buf());
            e
        })
    }

    /// Parse and validate the text of a `duo.toml`.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let line_of = |span: Option<std::ops::Range<usize>>| {
            span.map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
        };
        let doc = Document::parse(text.to_string()).map_err(|e| ConfigError {
            path: None,
            line: line_of(e.span()),
            key: None,
            message: format!("not valid TOML: {}", e.message()),
        })?;
        let root = doc.as_table();
        let err = |item: Option<&Item>, key: &str, message: String| ConfigError {
            path: None,
            line: line_of(item.and_then(|i| i.span())),
            key: Some(key.to_string()),
            message,
        };

        let table = |name: &str| -> Result<Option<&Table>, ConfigError> {
            match root.get(name) {
                None => Ok(None),
                Some(Item::Table(t)) => Ok(Some(t)),
                Some(other) => Err(err(Some(other), name, "must be a table".into())),
            }
        };
        let duo =
            table("duo")?.ok_or_else(|| err(None, "duo", "the [duo] table is missing".into()))?;
        let known_duo = [
            "ikey",
            "skey",
            "host",
            "ca_file",
            "proxy",
            "failmode",
            "timeout_secs",
            "hand_window_secs",
            "autopush",
            "verified_push",
        ];
        let known_openvpn = ["username_from"];
        for (t, name, known) in [
            (Some(duo), "duo", &known_duo[..]),
            (table("openvpn")?, "openvpn", &known_openvpn[..]),
        ] {
            for (k, item) in t.into_iter().flat_map(|t| t.iter()) {
                if !known.contains(&k) {
                    return Err(err(
                        Some(item),
                        &format!("{name}.{k}"),
                        format!("unknown key (known: {})", known.join(", ")),
                    ));
                }
            }
        }
        for (k, item) in root.iter() {
            if k != "duo" && k != "openvpn" {
                return Err(err(
                    Some(item),
                    k,
                    "unknown table (known: duo, openvpn)".into(),
                ));
            }
        }

        let string = |t: &Table, tname: &str, key: &str| -> Result<Option<String>, ConfigError> {
            match t.get(key) {
                None => Ok(None),
                Some(item) => item.as_str().map(|s| Some(s.to_string())).ok_or_else(|| {
                    err(
                        Some(item),
                        &format!("{tname}.{key}"),
                        "must be a string".into(),
                    )
                }),
            }
        };
        let required =
            |key: &str, check: fn(&str) -> Result<(), String>| -> Result<String, ConfigError> {
                let full = format!("duo.{key}");
                let v = string(duo, "duo", key)?
                    .ok_or_else(|| err(None, &full, "is missing".into()))?;
                check(&v).map_err(|m| err(duo.get(key), &full, m))?;
                Ok(v)
            };
        let ikey = required("ikey", check_ikey)?;
        let skey = Secret::new(required("skey", check_skey)?);
        let host = required("host", check_host)?;
        let ca_file = string(duo, "duo", "ca_file")?.map(PathBuf::from);
        if let Some(p) = &ca_file {
            if !p.is_absolute() {
                return Err(err(
                    duo.get("ca_file"),
                    "duo.ca_file",
                    format!("{} must be an absolute path", p.display()),
                ));
            }
        }
        let proxy = string(duo, "duo", "proxy")?.filter(|p| !p.is_empty());
        if let Some(p) = &proxy {
            check_proxy(p).map_err(|m| err(duo.get("proxy"), "duo.proxy", m))?;
        }
        let failmode = match string(duo, "duo", "failmode")? {
            None => Failmode::default(),
            Some(s) => Failmode::parse(&s).ok_or_else(|| {
                err(
                    duo.get("failmode"),
                    "duo.failmode",
                    format!("{s:?} is neither \"secure\" nor \"safe\""),
                )
            })?,
        };
        let timeout = match duo.get("timeout_secs") {
            None => Duration::from_secs(DEFAULT_TIMEOUT_SECS),
            Some(item) => match item.as_integer() {
                Some(n) if (5..=3600).contains(&n) => Duration::from_secs(n as u64),
                _ => {
                    return Err(err(
                        Some(item),
                        "duo.timeout_secs",
                        "must be a whole number of seconds from 5 to 3600".into(),
                    ));
                }
            },
        };
        let hand_window = match duo.get("hand_window_secs") {
            None => Duration::from_secs(OPENVPN_HAND_WINDOW_SECS),
            Some(item) => match item.as_integer() {
                Some(n) if n >= 0 && HAND_WINDOW_RANGE.contains(&(n as u64)) => {
                    Duration::from_secs(n as u64)
                }
                _ => {
                    return Err(err(
                        Some(item),
                        "duo.hand_window_secs",
                        format!(
                            "must be a whole number of seconds from {} to {} \
                             (OpenVPN's hand-window, as in server.conf)",
                            HAND_WINDOW_RANGE.start(),
                            HAND_WINDOW_RANGE.end()
                        ),
                    ));
                }
            },
        };
        let autopush = match duo.get("autopush") {
            None => false,
            Some(item) => item
                .as_bool()
                .ok_or_else(|| err(Some(item), "duo.autopush", "must be true or false".into()))?,
        };
        let verified_push = match duo.get("verified_push") {
            None => false,
            Some(item) => item.as_bool().ok_or_else(|| {
                err(
                    Some(item),
                    "duo.verified_push",
                    "must be true or false".into(),
                )
            })?,
        };
        if verified_push && autopush {
            return Err(err(
                duo.get("verified_push"),
                "duo.verified_push",
                "cannot be combined with autopush: the user has to see the code before the \
                 push, as Duo's own clients require"
                    .into(),
            ));
        }
        let username_from = match table("openvpn")?
            .map(|t| string(t, "openvpn", "username_from"))
            .transpose()?
            .flatten()
        {
            None => UsernameFrom::default(),
            Some(s) => UsernameFrom::parse(&s).ok_or_else(|| {
                err(
                    table("openvpn")
                        .ok()
                        .flatten()
                        .and_then(|t| t.get("username_from")),
                    "openvpn.username_from",
                    format!("{s:?} is neither \"common_name\" nor \"username\""),
                )
            })?,
        };
        Ok(Config {
            duo: DuoSettings {
                ikey,
                skey,
                host,
                ca_file,
                proxy,
                failmode,
                timeout,
                hand_window,
                autopush,
                verified_push,
            },
            username_from,
        })
    }

    /// Render this configuration into `existing` (or the template), keeping comments and
    /// every key it does not own.
    pub fn render(&self, existing: Option<&str>) -> Result<String, ConfigError> {
        let mut doc: DocumentMut =
            existing
                .unwrap_or(TEMPLATE)
                .parse()
                .map_err(|e: toml_edit::TomlError| ConfigError {
                    path: None,
                    line: None,
                    key: None,
                    message: format!("not valid TOML: {}", e.message()),
                })?;
        let d = &self.duo;
        let duo = doc.entry("duo").or_insert(toml_edit::table());
        set(duo, "ikey", Some(value(&d.ikey)));
        set(duo, "skey", Some(value(d.skey.expose())));
        set(duo, "host", Some(value(&d.host)));
        set(
            duo,
            "ca_file",
            d.ca_file.as_ref().map(|p| value(p.display().to_string())),
        );
        set(duo, "proxy", d.proxy.as_ref().map(value));
        set(duo, "failmode", Some(value(d.failmode.as_str())));
        set(duo, "timeout_secs", Some(value(d.timeout.as_secs() as i64)));
        // Absent means OpenVPN's default, so a file without it keeps its bytes.
        let openvpn_default = d.hand_window == Duration::from_secs(OPENVPN_HAND_WINDOW_SECS);
        set(
            duo,
            "hand_window_secs",
            (!openvpn_default).then(|| value(d.hand_window.as_secs() as i64)),
        );
        // Written only when on, so a file without it renders as before.
        set(duo, "autopush", d.autopush.then(|| value(true)));
        set(duo, "verified_push", d.verified_push.then(|| value(true)));
        let ovpn = doc.entry("openvpn").or_insert(toml_edit::table());
        set(
            ovpn,
            "username_from",
            Some(value(self.username_from.as_str())),
        );
        Ok(doc.to_string())
    }
}

/// Set or remove a key, keeping the decoration (comments) of a value that is replaced.
fn set(table: &mut Item, key: &str, new: Option<Item>) {
    let Some(t) = table.as_table_mut() else {
        return;
    };
    match (t.get_mut(key), new) {
        (Some(Item::Value(old)), Some(Item::Value(mut v))) => {
            *v.decor_mut() = old.decor().clone();
            *old = v;
        }
        (_, Some(v)) => {
            t.insert(key, v);
        }
        (_, None) => {
            t.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IKEY: &str = "DIWJ8X6AEYOR5OMC6TQ1";
    const SKEY: &str = "Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep";

    fn good() -> String {
        format!(
            "# mine\n[duo]\nikey = \"{IKEY}\"\nskey = \"{SKEY}\"\nhost = \"api-abc.duosecurity.com\"\n"
        )
    }

    #[test]
    fn hand_window() {
        let absent = Config::parse(&good()).unwrap();
        assert_eq!(
            absent.duo.hand_window,
            Duration::from_secs(60),
            "OpenVPN's default"
        );
        assert!(
            !absent
                .render(Some(&good()))
                .unwrap()
                .contains("hand_window")
        );
        let set = Config::parse(&(good() + "hand_window_secs = 120\n")).unwrap();
        assert_eq!(set.duo.hand_window, Duration::from_secs(120));
        let text = set.render(None).unwrap();
        assert!(text.contains("\nhand_window_secs = 120\n"), "{text}");
        assert_eq!(
            Config::parse(&text).unwrap().duo.hand_window,
            set.duo.hand_window
        );
        // What setup writes, from the template with its comment.
        let mut fresh = DuoSettings::new(IKEY, Secret::new(SKEY), "api-abc.duosecurity.com");
        assert_eq!(fresh.hand_window.as_secs(), OPENVPN_HAND_WINDOW_SECS);
        fresh.hand_window = Duration::from_secs(DEFAULT_HAND_WINDOW_SECS);
        let rendered = Config {
            duo: fresh,
            username_from: UsernameFrom::default(),
        }
        .render(None)
        .unwrap();
        assert!(rendered.contains("# OpenVPN's hand-window"), "{rendered}");
        assert!(rendered.contains("\nhand_window_secs = 75\n"), "{rendered}");
        for bad in ["29", "901", "-1", "\"75\"", "7.5"] {
            let e = Config::parse(&format!("{}hand_window_secs = {bad}\n", good())).unwrap_err();
            assert_eq!(e.key.as_deref(), Some("duo.hand_window_secs"), "{bad}");
            assert_eq!(e.line, Some(6), "{bad}");
            assert!(e.to_string().contains("from 30 to 900"), "{bad}: {e}");
        }
        for ok in [30, 900] {
            let c = Config::parse(&format!("{}hand_window_secs = {ok}\n", good())).unwrap();
            assert_eq!(c.duo.hand_window.as_secs(), ok);
        }
    }

    #[test]
    fn verified_push() {
        let c = Config::parse(&good()).unwrap();
        assert!(!c.duo.verified_push, "off unless asked for");
        assert!(!c.render(Some(&good())).unwrap().contains("verified_push"));
        let on = Config::parse(&(good() + "verified_push = true\n")).unwrap();
        assert!(on.duo.verified_push);
        let text = on.render(None).unwrap();
        assert!(Config::parse(&text).unwrap().duo.verified_push, "{text}");
        let e = Config::parse(&(good() + "verified_push = 1\n")).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("duo.verified_push"));
        let e = Config::parse(&(good() + "autopush = true\nverified_push = true\n")).unwrap_err();
        assert_eq!(
            (e.key.as_deref(), e.line),
            (Some("duo.verified_push"), Some(7))
        );
        assert!(
            e.to_string().contains("cannot be combined with autopush"),
            "{e}"
        );
    }

    #[test]
    fn autopush() {
        let c = Config::parse(&good()).unwrap();
        assert!(!c.duo.autopush, "off unless asked for");
        // Off renders without the key, so an existing file keeps its bytes.
        assert!(!c.render(Some(&good())).unwrap().contains("autopush"));
        let on = Config::parse(&(good() + "autopush = true\n")).unwrap();
        assert!(on.duo.autopush);
        let text = on.render(None).unwrap();
        assert!(Config::parse(&text).unwrap().duo.autopush, "{text}");
        let e = Config::parse(&(good() + "autopush = \"yes\"\n")).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("duo.autopush"));
        assert_eq!(e.line, Some(6));
        assert!(e.to_string().contains("true or false"), "{e}");
    }

    #[test]
    fn a_huge_config_is_refused_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("duo.toml");
        // Sparse: 300 MB long, no disk used; reading it whole would allocate 300 MB.
        std::fs::File::create(&path)
            .unwrap()
            .set_len(300_000_000)
            .unwrap();
        let e = Config::load(&path).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}: ", path.display())), "{e}");
        assert!(e.contains("300000000 bytes") && e.contains("4 MiB"), "{e}");

        let exact = dir.path().join("exact");
        std::fs::File::create(&exact)
            .unwrap()
            .set_len(MAX_INPUT_BYTES)
            .unwrap();
        assert_eq!(read_input(&exact).unwrap().len() as u64, MAX_INPUT_BYTES);
        std::fs::File::options()
            .write(true)
            .open(&exact)
            .unwrap()
            .set_len(MAX_INPUT_BYTES + 1)
            .unwrap();
        assert!(read_input(&exact).is_err());
        // A device reports no size: the bound holds while reading.
        let e = read_input(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(e.contains("4 MiB"), "{e}");
        let e = read_input_string(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
    }

    #[test]
    fn secret_variables_do_not_reach_children() {
        let mut c = std::process::Command::new("env");
        c.env("DUO_SKEY", "s")
            .env("DUO_PASSCODE", "1")
            .env("KEEP", "k");
        scrub_secret_env(&mut c);
        let out = String::from_utf8(c.output().unwrap().stdout).unwrap();
        assert!(out.contains("KEEP=k"), "{out}");
        assert!(
            !out.contains("DUO_SKEY") && !out.contains("DUO_PASSCODE"),
            "{out}"
        );
    }

    #[test]
    fn defaults() {
        let c = Config::parse(&good()).unwrap();
        assert_eq!(c.duo.failmode, Failmode::Secure);
        assert_eq!(c.duo.timeout, Duration::from_secs(60));
        assert_eq!(c.username_from, UsernameFrom::CommonName);
        assert!(!format!("{c:?}").contains(SKEY));
    }

    #[test]
    fn errors_name_line_and_key_and_never_the_secret() {
        let text = good().replace(SKEY, "short-secret-value");
        let e = Config::parse(&text).unwrap_err();
        assert_eq!((e.line, e.key.as_deref()), (Some(4), Some("duo.skey")));
        assert!(!e.to_string().contains("short-secret-value"), "{e}");

        let e = Config::parse(&format!("{}failmode = \"open\"\n", good())).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 6: duo.failmode: \"open\" is neither \"secure\" nor \"safe\""
        );

        let e = Config::parse(&format!("{}timeout_secs = \"60\"\n", good())).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("duo.timeout_secs"));

        let e = Config::parse(&format!("{}tiemout_secs = 6\n", good())).unwrap_err();
        assert!(
            e.to_string().contains("duo.tiemout_secs: unknown key"),
            "{e}"
        );

        let e = Config::parse("[duo]\nikey = \"x\"\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 2: duo.ikey: expected 20 upper-case letters and digits starting with DI (1 characters given)"
        );

        let e = Config::parse("[duo\n").unwrap_err();
        assert!(e.to_string().starts_with("line 1: not valid TOML"), "{e}");

        let e =
            Config::parse(&good().replace("api-abc.duosecurity.com", "https://x/")).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("duo.host"));
    }

    #[test]
    fn hosts_and_proxies() {
        assert!(check_host("api-abc.duosecurity.com").is_ok());
        assert!(check_host("localhost:8443").is_ok());
        assert!(check_host("localhost:0").is_err());
        assert!(check_host("").is_err());
        assert!(check_proxy("http://proxy:3128").is_ok());
        assert!(check_proxy("http://u:p@proxy:3128").is_ok());
        let e = check_proxy("socks5://u:hunter2@proxy:1080").unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn render_keeps_comments_and_round_trips() {
        let mut c = Config::parse(&good()).unwrap();
        c.duo.failmode = Failmode::Safe;
        c.duo.proxy = Some("http://proxy:3128".into());
        c.username_from = UsernameFrom::Username;
        let text = c.render(Some(&good())).unwrap();
        assert!(text.starts_with("# mine\n"));
        assert_eq!(Config::parse(&text).unwrap(), c);

        let fresh = c.render(None).unwrap();
        assert!(fresh.contains("never world-readable"));
        assert_eq!(Config::parse(&fresh).unwrap(), c);
        c.duo.proxy = None;
        let again = Config::parse(&c.render(Some(&fresh)).unwrap()).unwrap();
        assert_eq!(again.duo.proxy, None);
    }
}
