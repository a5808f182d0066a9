//! A config as it may be shown to a person or a log: setup's diffs are printed by `--yes` and
//! `--dry-run` (often into configuration-management logs), drawn by the wizard and by
//! `uninstall --dry-run`, and three lines of context around an edit are enough to carry the end
//! of a private key (one 64-character line is a whole Ed25519 key). So the body of every inline
//! block that holds a secret becomes one line saying what is hidden, and the secret key on Duo's
//! own plugin line becomes `<secret key>`.
//!
//! This works line by line on raw text, not on a [`Document`](crate::Document): it must also
//! mask what does not parse (a block cut off before its closing tag is masked to the end of the
//! text), and it errs on the side of hiding: opening tags are recognised whatever their case and
//! wherever they are (inside `<connection>` blocks too), and a block ends only where OpenVPN ends
//! it, at its closing tag spelled exactly as it was opened (`<KEY>` … `</KEY>`), else at the end.

use std::ops::Range;

use crate::query::{UPSTREAM_PLUGIN_FILE_NAME, file_name, plugin_argv};
use crate::tokenize;

/// What stands in for Duo's secret key on its plugin line.
pub const MASKED_SECRET_KEY: &str = "<secret key>";

/// The inline blocks whose body is a secret, and how to name what is hidden.
const SECRET_BLOCKS: &[(&str, &str)] = &[
    ("key", "the private key"),
    ("tls-auth", "the tls-auth key"),
    ("tls-crypt", "the tls-crypt key"),
    ("tls-crypt-v2", "the tls-crypt-v2 key"),
    ("secret", "the static key"),
    ("pkcs12", "the PKCS#12 bundle"),
    ("auth-user-pass", "the user name and password"),
    ("http-proxy-user-pass", "the proxy user name and password"),
    ("auth-gen-token-secret", "the token secret"),
];

/// What the body of inline block `name` holds, when it is a secret (`"the tls-crypt key"`).
/// Case-insensitive: OpenVPN refuses `<KEY>`, but a file that says it still holds a key.
pub fn secret_block_label(name: &str) -> Option<&'static str> {
    SECRET_BLOCKS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, label)| label)
}

/// A masked text and where each of its lines came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Masked {
    /// The text to show: every line as it was, except secret block bodies (one line each) and
    /// Duo's plugin line (its secret key masked). Line endings are kept.
    pub text: String,
    /// For each line of `text` (0-based), the 0-based lines of the original it stands for.
    origin: Vec<Range<usize>>,
    original_lines: usize,
    /// How many secret block bodies were hidden.
    pub hidden_blocks: usize,
}

impl Masked {
    /// The lines of the original that masked lines `masked` (0-based, end exclusive) stand for,
    /// so a diff of masked texts can name the lines of the real file. An empty range maps to an
    /// empty range at the matching place.
    pub fn original_lines(&self, masked: Range<usize>) -> Range<usize> {
        let at = |i: usize| self.origin.get(i).map_or(self.original_lines, |r| r.start);
        if masked.start >= masked.end {
            let p = at(masked.start);
            return p..p;
        }
        let end = self
            .origin
            .get(masked.end - 1)
            .map_or(self.original_lines, |r| r.end);
        at(masked.start)..end
    }

    /// Lines in the original text.
    pub fn original_line_count(&self) -> usize {
        self.original_lines
    }
}

/// Masks the secrets in a config's text (see the module documentation).
pub fn mask_secrets(text: &str) -> Masked {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out = Masked {
        text: String::with_capacity(text.len()),
        origin: Vec::with_capacity(lines.len()),
        original_lines: lines.len(),
        hidden_blocks: 0,
    };
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let Some((name, label)) = secret_block_open(line, i == 0) else {
            out.text.push_str(&mask_upstream_plugin(line));
            out.origin.push(i..i + 1);
            i += 1;
            continue;
        };
        out.text.push_str(line);
        out.origin.push(i..i + 1);
        let body = i + 1;
        let close = (body..lines.len()).find(|&j| closes(lines[j], &name));
        let end = close.unwrap_or(lines.len());
        if end > body {
            let n = end - body;
            let eol = line_ending(lines[end - 1]);
            out.text.push_str(&format!(
                "[… {n} line{} of {label}, not shown …]{eol}",
                if n == 1 { "" } else { "s" }
            ));
            out.origin.push(body..end);
            out.hidden_blocks += 1;
        }
        i = end;
    }
    out
}

/// `Some((name as written, label))` when `line` opens a secret inline block: its only token is
/// `<name>` (after OpenVPN's `--` removal), as OpenVPN reads a block's opening tag.
fn secret_block_open(line: &str, first: bool) -> Option<(String, &'static str)> {
    let line = if first {
        line.strip_prefix('\u{feff}').unwrap_or(line)
    } else {
        line
    };
    let tag = match tokenize::tokenize(line) {
        Ok(t) if t.tokens.len() == 1 => t.tokens[0].value.clone(),
        Ok(_) => return None,
        // OpenVPN would refuse this line; when it reads like a tag, hide what follows anyway.
        Err(_) => {
            let mut words = line.split_ascii_whitespace();
            match (words.next(), words.next()) {
                (Some(w), None) => w.to_owned(),
                _ => return None,
            }
        }
    };
    let name = tokenize::strip_double_dash(&tag)
        .strip_prefix('<')?
        .strip_suffix('>')?;
    let label = secret_block_label(name)?;
    Some((name.to_owned(), label))
}

/// Does `line` close block `name`? As in OpenVPN (and [`Document`](crate::Document)): leading
/// blanks allowed, the tag spelled as it was opened; a `</KEY>` inside a `<key>` block is data.
fn closes(line: &str, name: &str) -> bool {
    line.trim_start_matches(|c: char| c.is_ascii() && tokenize::is_space(c as u8))
        .starts_with(&format!("</{name}>"))
}

fn line_ending(line: &str) -> &'static str {
    if line.ends_with("\r\n") {
        "\r\n"
    } else if line.ends_with('\n') {
        "\n"
    } else {
        ""
    }
}

/// Duo's own plugin takes its secret key as an argument (`plugin …/duo_openvpn.so IKEY SKEY
/// HOST`): the key is masked where it is written; when it cannot be found as written (escaped
/// or quoted oddly) every argument after the module path is.
fn mask_upstream_plugin(line: &str) -> String {
    let Ok(toks) = tokenize::tokenize(line) else {
        return line.to_owned();
    };
    let t = &toks.tokens;
    if t.len() < 3
        || tokenize::strip_double_dash(&t[0].value) != "plugin"
        || file_name(&t[1].value) != UPSTREAM_PLUGIN_FILE_NAME
    {
        return line.to_owned();
    }
    let args: Vec<String> = t[1..].iter().map(|t| t.value.clone()).collect();
    let argv = plugin_argv(&args);
    let (head, rest) = line.split_at(t[1].end);
    let args_end = t[t.len() - 1].end - t[1].end;
    let (args_text, tail) = rest.split_at(args_end);
    match argv.get(2) {
        Some(skey) if !skey.is_empty() && args_text.contains(skey.as_str()) => {
            format!(
                "{head}{}{tail}",
                args_text.replace(skey.as_str(), MASKED_SECRET_KEY)
            )
        }
        _ => format!("{head} …{tail}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIKeyBodyLineThatIsSecret0000000000000000000\n-----END PRIVATE KEY-----\n";

    fn profile_with(tail: &str) -> String {
        format!("client\nremote vpn.example.com 1194\n<ca>\nPUBLIC CA\n</ca>\n{tail}")
    }

    #[test]
    fn a_key_block_is_one_line_and_the_tags_stay() {
        let text = profile_with(&format!("<key>\n{KEY}</key>\n"));
        let m = mask_secrets(&text);
        assert!(!m.text.contains("KeyBodyLine"), "{}", m.text);
        assert!(!m.text.contains("PRIVATE KEY"), "{}", m.text);
        assert!(m.text.ends_with(
            "PUBLIC CA\n</ca>\n<key>\n[… 3 lines of the private key, not shown …]\n</key>\n"
        ));
        assert_eq!(m.hidden_blocks, 1);
        // Public blocks are shown.
        assert!(m.text.contains("PUBLIC CA"));
    }

    #[test]
    fn every_secret_block_is_named() {
        for (name, label) in SECRET_BLOCKS {
            let text = format!("dev tun\n<{name}>\nsecret line 1\nsecret line 2\n</{name}>\n");
            let m = mask_secrets(&text);
            assert!(!m.text.contains("secret line"), "{name}: {}", m.text);
            assert!(
                m.text
                    .contains(&format!("[… 2 lines of {label}, not shown …]")),
                "{name}: {}",
                m.text
            );
        }
        for public in [
            "ca",
            "cert",
            "extra-certs",
            "dh",
            "crl-verify",
            "peer-fingerprint",
        ] {
            let text = format!("<{public}>\nPUBLIC\n</{public}>\n");
            assert_eq!(mask_secrets(&text).text, text);
        }
    }

    #[test]
    fn crlf_is_kept_and_masked() {
        let text = "client\r\n<tls-crypt>\r\nAAAA\r\nBBBB\r\n</tls-crypt>\r\nverb 3\r\n";
        let m = mask_secrets(text);
        assert_eq!(
            m.text,
            "client\r\n<tls-crypt>\r\n[… 2 lines of the tls-crypt key, not shown …]\r\n</tls-crypt>\r\nverb 3\r\n"
        );
    }

    #[test]
    fn uppercase_indented_dashed_and_commented_tags() {
        for (open, close) in [
            ("<KEY>", "</KEY>"),
            ("<Key>", "</Key>"),
            ("  <tls-auth>", "   </tls-auth>"),
            ("<TLS-CRYPT>", "\t</TLS-CRYPT>"),
            ("--<secret>", "</secret>"),
            ("<pkcs12> # inline", "</pkcs12>"),
            ("\"<key>\"", "</key>"),
        ] {
            let text = format!("{open}\nHIDDEN\n{close}\nverb 3\n");
            let m = mask_secrets(&text);
            assert!(!m.text.contains("HIDDEN"), "{open}: {}", m.text);
            assert!(m.text.ends_with("verb 3\n"), "{open}: {}", m.text);
        }
        // A BOM before the first tag.
        let m = mask_secrets("\u{feff}<key>\nHIDDEN\n</key>\n");
        assert!(!m.text.contains("HIDDEN"), "{}", m.text);
        // A closing tag spelled otherwise does not close the block (OpenVPN reads it as data):
        // masked to the next real one.
        let m = mask_secrets("<key>\nA\n</KEY>\nHIDDEN\n</key>\nverb 3\n");
        assert!(
            !m.text.contains("HIDDEN") && !m.text.contains("</KEY>"),
            "{}",
            m.text
        );
        assert!(m.text.contains("3 lines of the private key"), "{}", m.text);
        let m = mask_secrets("<Key>\nHIDDEN\n</key>\nverb 3\n");
        assert!(
            m.text
                .ends_with("[… 3 lines of the private key, not shown …]\n"),
            "{}",
            m.text
        );
        // Not a tag: more than one token.
        let text = "<key> extra\nshown\n";
        assert_eq!(mask_secrets(text).text, text);
    }

    #[test]
    fn inside_connection_blocks() {
        let text = concat!(
            "client\n<connection>\nremote a 1194\nhttp-proxy p 3128 auto\n",
            "<http-proxy-user-pass>\nproxyuser\nproxypass\n</http-proxy-user-pass>\n",
            "<auth-user-pass>\nvpnuser\nvpnpass\n</auth-user-pass>\n",
            "</connection>\n<connection>\nremote b\n</connection>\nverb 3\n"
        );
        let m = mask_secrets(text);
        for s in ["proxyuser", "proxypass", "vpnuser", "vpnpass"] {
            assert!(!m.text.contains(s), "{s}: {}", m.text);
        }
        assert!(m.text.contains(
            "<http-proxy-user-pass>\n[… 2 lines of the proxy user name and password, not shown …]\n</http-proxy-user-pass>\n"
        ));
        assert!(m.text.contains("remote a 1194\n") && m.text.contains("remote b\n"));
        assert!(m.text.ends_with("</connection>\nverb 3\n"));
        assert_eq!(m.hidden_blocks, 2);
    }

    #[test]
    fn a_cut_block_is_masked_to_the_end() {
        let text = "client\n<key>\nAAAA\nBBBB";
        let m = mask_secrets(text);
        assert_eq!(
            m.text,
            "client\n<key>\n[… 2 lines of the private key, not shown …]"
        );
        // A closing tag of another block does not end a secret one.
        let text = "<tls-auth>\nAAAA\n</ca>\nBBBB\n";
        let m = mask_secrets(text);
        assert!(
            !m.text.contains("AAAA") && !m.text.contains("BBBB"),
            "{}",
            m.text
        );
        assert!(m.text.contains("3 lines of the tls-auth key"), "{}", m.text);
    }

    #[test]
    fn empty_block_and_single_line() {
        let text = "<key>\n</key>\n";
        assert_eq!(mask_secrets(text).text, text);
        let m = mask_secrets("<secret>\nX\n</secret>\n");
        assert!(m.text.contains("[… 1 line of the static key, not shown …]"));
    }

    #[test]
    fn line_origins_map_back_to_the_file() {
        let text = "a\n<key>\n1\n2\n3\n</key>\nb\n";
        let m = mask_secrets(text);
        // a, <key>, marker, </key>, b
        assert_eq!(m.text.lines().count(), 5);
        assert_eq!(m.original_lines(0..1), 0..1);
        assert_eq!(m.original_lines(2..3), 2..5);
        assert_eq!(m.original_lines(1..5), 1..7);
        assert_eq!(m.original_lines(4..4), 6..6);
        assert_eq!(m.original_lines(5..5), 7..7);
        assert_eq!(m.original_line_count(), 7);
    }

    #[test]
    fn duo_plugin_secret_key() {
        let skey = "Upstream0Secret0Key000000000000000000000";
        for line in [
            format!(
                "plugin /opt/duo/duo_openvpn.so 'DIXXXXXXXXXXXXXXXXXX {skey} api-1.duosecurity.com'\n"
            ),
            format!(
                "plugin /opt/duo/duo_openvpn.so DIXXXXXXXXXXXXXXXXXX {skey} api-1.duosecurity.com proxy 3128\n"
            ),
        ] {
            let m = mask_secrets(&line);
            assert!(!m.text.contains(skey), "{}", m.text);
            assert!(
                m.text.contains("DIXXXXXXXXXXXXXXXXXX <secret key> api-1"),
                "{}",
                m.text
            );
        }
        // Escaped so that the raw text does not hold the value: every argument is masked.
        let m = mask_secrets("plugin /opt/duo/duo_openvpn.so DI Sec\\ ret0key h # c\n");
        assert_eq!(m.text, "plugin /opt/duo/duo_openvpn.so … # c\n");
        // Other plugins are shown as they are.
        let other = "plugin /usr/lib/x.so 'a b c'\n";
        assert_eq!(mask_secrets(other).text, other);
    }

    #[test]
    fn text_without_secrets_is_unchanged() {
        for text in [
            "",
            "\n",
            "dev tun",
            "client\r\nremote a\r\n<ca>\r\nX\r\n</ca>",
        ] {
            let m = mask_secrets(text);
            assert_eq!(m.text, text);
            assert_eq!(m.hidden_blocks, 0);
        }
    }
}
