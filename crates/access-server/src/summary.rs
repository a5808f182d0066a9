//! What is shown of a post-auth script found in Access Server: never its text.
//!
//! The script most likely there is Duo's own `duo_openvpn_as.py`, which carries the secret key
//! (`SKEY = '…'`) near the top; any other may hold passwords or tokens. Setup's plan, its refusal
//! and uninstall's output show instead what identifies the script (a recognised name, its size,
//! line count and SHA-256, to compare with a copy the administrator keeps) and the lines that
//! assign a key, secret, token or password, with the value masked, so the administrator knows
//! which credentials it carried.

use std::fmt;

use crate::render::MARKER;

/// Is this post-auth script one we rendered?
pub fn is_ours(script: &str) -> bool {
    script.trim_start().starts_with(MARKER)
}

/// SHA-256 of a script, in lower-case hex.
pub fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// At most this many assignment lines are listed.
const MAX_SECRET_LINES: usize = 12;

/// Name words that mark an assignment as holding a credential (compared in lower case).
const SECRET_WORDS: &[&str] = &[
    "key",
    "secret",
    "token",
    "passw",
    "passcode",
    "pwd",
    "credential",
];

/// A post-auth script, described without its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptSummary {
    /// "Duo's own duo_openvpn_as.py, version 2.8", "duo-openvpn's own post-auth script, …", or
    /// "a post-auth script duo-openvpn does not recognise".
    pub name: String,
    pub bytes: usize,
    pub lines: usize,
    pub sha256: String,
    /// `line 11: SKEY = <value not shown>`, in order.
    pub secret_lines: Vec<String>,
    /// Assignment lines beyond [`MAX_SECRET_LINES`], not listed.
    pub more_secret_lines: usize,
}

impl ScriptSummary {
    pub fn of(script: &str) -> ScriptSummary {
        // Settings sit at the top level (Duo's SKEY, IKEY); assignments inside functions
        // (`self.skey = skey`) come after them when there are too many to list.
        let mut found: Vec<(bool, usize, String)> = script
            .lines()
            .enumerate()
            .filter_map(|(i, line)| {
                let indented = line.starts_with([' ', '\t']);
                masked_assignment(line).map(|m| (indented, i + 1, m))
            })
            .collect();
        found.sort_by_key(|(indented, n, _)| (*indented, *n));
        let more = found.len().saturating_sub(MAX_SECRET_LINES);
        found.truncate(MAX_SECRET_LINES);
        found.sort_by_key(|(_, n, _)| *n);
        let secret_lines = found
            .into_iter()
            .map(|(_, n, m)| format!("line {n}: {m}"))
            .collect();
        ScriptSummary {
            name: recognise(script),
            bytes: script.len(),
            lines: script.lines().count(),
            sha256: sha256_hex(script),
            secret_lines,
            more_secret_lines: more,
        }
    }

    /// The first line: name, size, line count, SHA-256.
    pub fn headline(&self) -> String {
        format!(
            "{}: {} bytes, {} line{}, SHA-256 {}",
            self.name,
            self.bytes,
            self.lines,
            if self.lines == 1 { "" } else { "s" },
            self.sha256
        )
    }

    /// The headline, then one line per credential assignment (values masked).
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![self.headline()];
        if !self.secret_lines.is_empty() {
            out.push("credentials it assigns (values not shown):".into());
            out.extend(self.secret_lines.iter().map(|l| format!("  {l}")));
            if self.more_secret_lines > 0 {
                out.push(format!("  … and {} more", self.more_secret_lines));
            }
        }
        out
    }
}

impl fmt::Display for ScriptSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.lines().join("\n"))
    }
}

fn recognise(script: &str) -> String {
    if is_ours(script) {
        return match assigned_version(script, "DUO_OPENVPN_SCRIPT") {
            Some(v) => format!("duo-openvpn's own post-auth script, version {v}"),
            None => "duo-openvpn's own post-auth script".into(),
        };
    }
    // Duo's script names itself in its header comment, its log prefix and its user agent.
    if script.contains("duo_openvpn_as") || script.contains("Duo OpenVPN_AS") {
        return match assigned_version(script, "__version__") {
            Some(v) => format!("Duo's own duo_openvpn_as.py, version {v}"),
            None => "Duo's own duo_openvpn_as.py (version not found)".into(),
        };
    }
    "a post-auth script duo-openvpn does not recognise".into()
}

/// The value of `NAME = '1.2.3'` when it looks like a version (a secret could not pass: at most
/// 20 characters of digits, letters, `.`, `-`, `+`).
fn assigned_version(script: &str, name: &str) -> Option<String> {
    script.lines().find_map(|l| {
        let rest = l
            .trim()
            .strip_prefix(name)?
            .trim_start()
            .strip_prefix('=')?;
        let v = rest.trim().trim_matches(|c| c == '\'' || c == '"');
        (!v.is_empty()
            && v.len() <= 20
            && v.chars().any(|c| c.is_ascii_digit())
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+')))
        .then(|| v.to_string())
    })
}

/// `SKEY = <value not shown>` when `line` assigns (`=`, `:` of a dict entry or annotation) to
/// a name holding a credential word; `None` otherwise, and for comments.
///
/// Only the name is kept, and only a plain one: identifiers, `.`, a quoted or bracketed key
/// (`params['skey']`, `"password":`), each word at most 32 characters, 48 in all, so that a
/// secret written where a name goes (`SECRETS['<40 characters>'] = 1`) is not shown either.
fn masked_assignment(line: &str) -> Option<String> {
    let t = line.trim();
    if t.starts_with('#') {
        return None;
    }
    let (pos, op) = t.char_indices().find_map(|(i, c)| match c {
        '=' => {
            let next = t[i + 1..].chars().next();
            let prev = t[..i].chars().next_back();
            (next != Some('=') && !matches!(prev, Some('=' | '!' | '<' | '>'))).then_some((i, "="))
        }
        ':' => Some((i, ":")),
        _ => None,
    })?;
    let mut name = t[..pos].trim_end();
    // `a += b`, `a |= b` …: the operator's first character is not part of the name.
    if op == "=" {
        name = name.trim_end_matches(['+', '-', '*', '/', '%', '|', '&', '^']);
    }
    let name = name.trim();
    let plain = !name.is_empty()
        && name.len() <= 48
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']' | '\'' | '"'))
        && name
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .all(|w| w.len() <= 32);
    if !plain {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    if !SECRET_WORDS.iter().any(|w| lower.contains(w)) {
        return None;
    }
    let value = t[pos + op.len()..].trim();
    if value.is_empty() {
        // A `:` opening a block (`if key:`) or a bare annotation assigns nothing.
        return None;
    }
    Some(format!("{name} {op} <value not shown>"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duo_s_script_is_named_and_its_secret_masked() {
        let duo = "#!/usr/bin/env python\n#\n# duo_openvpn_as.py\n#\n\
                   IKEY = 'DIWJ8X6AEYOR5OMC6TQ1'\n\
                   SKEY = 'Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep'\n\
                   HOST = 'api-abc.duosecurity.com'\n\
                   __version__ = '2.8'\n\
                   api = OpenVPNIntegration(IKEY, SKEY, HOST)\n";
        let s = ScriptSummary::of(duo);
        assert_eq!(s.name, "Duo's own duo_openvpn_as.py, version 2.8");
        assert_eq!((s.bytes, s.lines), (duo.len(), 9));
        assert_eq!(s.sha256, sha256_hex(duo));
        assert_eq!(
            s.secret_lines,
            [
                "line 5: IKEY = <value not shown>",
                "line 6: SKEY = <value not shown>"
            ]
        );
        let shown = s.to_string();
        assert!(shown.contains(&s.sha256), "{shown}");
        for secret in [
            "Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep",
            "DIWJ8X6AEYOR5OMC6TQ1",
        ] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn ours_and_unknown_scripts() {
        let ours = "# Generated by duo-openvpn: x\nDUO_OPENVPN_SCRIPT = '0.1.0'\nSKEY = 'abc'\n";
        let s = ScriptSummary::of(ours);
        assert_eq!(s.name, "duo-openvpn's own post-auth script, version 0.1.0");
        assert_eq!(s.secret_lines, ["line 3: SKEY = <value not shown>"]);
        let other = ScriptSummary::of("from pyovpn.plugin import *\n__version__ = 'hunter2'\n");
        assert_eq!(
            other.name,
            "a post-auth script duo-openvpn does not recognise"
        );
        // Not a version: no digit.
        let duo_odd = ScriptSummary::of("# duo_openvpn_as.py\n__version__ = 'topsecret'\n");
        assert_eq!(
            duo_odd.name,
            "Duo's own duo_openvpn_as.py (version not found)"
        );
    }

    #[test]
    fn which_lines_are_masked() {
        let m = |l: &str| masked_assignment(l);
        assert_eq!(m("SKEY='x'").as_deref(), Some("SKEY = <value not shown>"));
        assert_eq!(
            m("    params['password'] = pw").as_deref(),
            Some("params['password'] = <value not shown>")
        );
        assert_eq!(
            m("  \"api_token\": \"abc\",").as_deref(),
            Some("\"api_token\" : <value not shown>")
        );
        assert_eq!(
            m("LDAP_PASSWD: str = 's3cret'").as_deref(),
            Some("LDAP_PASSWD : <value not shown>")
        );
        assert_eq!(
            m("secret_key += 'more'").as_deref(),
            Some("secret_key = <value not shown>")
        );
        for no in [
            "# SKEY = 'commented'",
            "if key == 'x':",
            "for key in keys:",
            "if key:",
            "HOST = 'api.example'",
            "def set_key(k='x'):",
            "SECRETS['Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep'] = 1",
            "x = {'skey': 1}",
        ] {
            let got = m(no);
            assert!(
                got.is_none() || !got.as_deref().unwrap().contains("Zh5e"),
                "{no:?} -> {got:?}"
            );
        }
        assert_eq!(m("x = {'skey': 1}"), None);
        let mut many: String = (0..20)
            .map(|i| format!("    self.token{i} = t\n"))
            .collect();
        many.push_str("SKEY = 'top level'\n");
        let s = ScriptSummary::of(&many);
        assert_eq!((s.secret_lines.len(), s.more_secret_lines), (12, 9));
        assert_eq!(s.secret_lines[0], "line 1: self.token0 = <value not shown>");
        assert_eq!(s.secret_lines[11], "line 21: SKEY = <value not shown>");
        assert!(s.to_string().ends_with("… and 9 more"));
    }
}
