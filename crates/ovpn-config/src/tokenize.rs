//! OpenVPN's `parse_line` (options.c), byte for byte, plus the inverse: quoting a value so that
//! `parse_line` gives it back.
//!
//! The state machine is kept in the shape of the C original on purpose: its corner cases (a
//! backslash before a newline, `"a"b` being two tokens, a `#` after a backslash still starting a
//! comment) are what OpenVPN really does, and a "cleaner" tokenizer would disagree with it.

use std::fmt;

/// `OPTION_PARM_SIZE` (options.h): a longer parameter is an error.
pub const MAX_PARAM_BYTES: usize = 256;
/// `MAX_PARMS` (options.h): tokens after the sixteenth are silently dropped by OpenVPN.
pub const MAX_TOKENS: usize = 16;

/// One token: its value after quotes and escapes are removed, and where its raw text sits in the
/// line (byte offsets, end exclusive; quotes and a leading backslash included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub value: String,
    pub start: usize,
    pub end: usize,
}

/// What `parse_line` made of one line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tokens {
    pub tokens: Vec<Token>,
    /// Byte offset of the `#` or `;` that ended the line, if one did.
    pub comment_at: Option<usize>,
    /// More than [`MAX_TOKENS`] tokens: OpenVPN ignores the rest of the line.
    pub truncated: bool,
}

/// Why OpenVPN rejects a line (each of these stops OpenVPN from starting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenizeError {
    /// A backslash outside single quotes followed by anything but `\`, `"` or whitespace.
    BadBackslash {
        at: usize,
    },
    UnclosedDoubleQuote,
    UnclosedSingleQuote,
    /// The line ends inside an unquoted token (a backslash right before the end of the file).
    ResidualState,
    ParameterTooLong,
}

impl fmt::Display for TokenizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenizeError::BadBackslash { .. } => f.write_str(
                "bad backslash ('\\') usage: outside single quotes only \\\\, \\\" and \\<space> are allowed \
                 (write Windows paths with double backslashes)",
            ),
            TokenizeError::UnclosedDoubleQuote => f.write_str("no closing quotation (\")"),
            TokenizeError::UnclosedSingleQuote => f.write_str("no closing single quotation (')"),
            TokenizeError::ResidualState => {
                f.write_str("the line ends in the middle of a token (a trailing backslash)")
            }
            TokenizeError::ParameterTooLong => write!(
                f,
                "a parameter is too long ({MAX_PARAM_BYTES} bytes max)"
            ),
        }
    }
}

impl std::error::Error for TokenizeError {}

/// C's `isspace` in the "C" locale, plus the terminating NUL as `space()` in options.c does.
pub(crate) fn is_space(b: u8) -> bool {
    matches!(b, 0 | b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Initial,
    Quoted,
    Unquoted,
    SingleQuoted,
}

/// Tokenizes one line as OpenVPN does. `line` is what `fgets` hands OpenVPN: the line including its
/// `\n` (or `\r\n`) when it has one, which matters for a trailing backslash.
pub fn tokenize(line: &str) -> Result<Tokens, TokenizeError> {
    let bytes = line.as_bytes();
    let mut out = Tokens::default();
    let mut state = State::Initial;
    let mut backslash = false;
    let mut backslash_at = 0;
    let mut parm: Vec<u8> = Vec::new();
    let mut start = 0;

    // The C loop also runs once for the terminating NUL.
    for i in 0..=bytes.len() {
        let input = bytes.get(i).copied().unwrap_or(0);
        let mut emit: u8 = 0;
        if !backslash && input == b'\\' && state != State::SingleQuoted {
            backslash = true;
            backslash_at = i;
        } else {
            let mut done = false;
            match state {
                State::Initial => {
                    if !is_space(input) {
                        if input == b';' || input == b'#' {
                            out.comment_at = Some(i);
                            break;
                        }
                        start = if backslash { backslash_at } else { i };
                        if !backslash && input == b'"' {
                            state = State::Quoted;
                        } else if !backslash && input == b'\'' {
                            state = State::SingleQuoted;
                        } else {
                            emit = input;
                            state = State::Unquoted;
                        }
                    }
                }
                State::Unquoted => {
                    if !backslash && is_space(input) {
                        done = true;
                    } else {
                        emit = input;
                    }
                }
                State::Quoted => {
                    if !backslash && input == b'"' {
                        done = true;
                    } else {
                        emit = input;
                    }
                }
                State::SingleQuoted => {
                    if input == b'\'' {
                        done = true;
                    } else {
                        emit = input;
                    }
                }
            }
            if done {
                let end = if state == State::Unquoted { i } else { i + 1 };
                // Only ASCII bytes were dropped from valid UTF-8, so this cannot fail.
                let value = String::from_utf8(std::mem::take(&mut parm))
                    .expect("removing ASCII bytes keeps UTF-8 valid");
                out.tokens.push(Token { value, start, end });
                state = State::Initial;
                emit = 0;
            }
            if backslash && emit != 0 && !(emit == b'\\' || emit == b'"' || is_space(emit)) {
                return Err(TokenizeError::BadBackslash { at: backslash_at });
            }
            backslash = false;
        }
        if emit != 0 {
            if parm.len() >= MAX_PARAM_BYTES {
                return Err(TokenizeError::ParameterTooLong);
            }
            parm.push(emit);
        }
        if out.tokens.len() >= MAX_TOKENS {
            let rest = bytes.get(i + 1..).unwrap_or_default();
            out.truncated = rest
                .iter()
                .find(|&&b| !is_space(b))
                .is_some_and(|&b| b != b'#' && b != b';');
            return Ok(out);
        }
    }
    match state {
        State::Initial => Ok(out),
        State::Quoted => Err(TokenizeError::UnclosedDoubleQuote),
        State::SingleQuoted => Err(TokenizeError::UnclosedSingleQuote),
        State::Unquoted => Err(TokenizeError::ResidualState),
    }
}

/// Why a value cannot be written into a config line at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuoteError {
    /// OpenVPN reads a config line by line and stops a string at NUL, so these cannot be encoded.
    NewlineOrNul,
}

impl fmt::Display for QuoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value containing a newline or NUL cannot be written into an OpenVPN config")
    }
}

impl std::error::Error for QuoteError {}

fn bare_ok(value: &str) -> bool {
    !value.is_empty()
        && !value.starts_with(['#', ';'])
        && !value
            .bytes()
            .any(|b| is_space(b) || matches!(b, b'"' | b'\'' | b'\\'))
}

/// The shortest spelling of `value` that `parse_line` reads back as exactly one token `value`:
/// bare when possible, else `'…'`, else `"…"` with `\\` and `\"` escapes.
pub fn quote(value: &str) -> Result<String, QuoteError> {
    if value.bytes().any(|b| b == b'\n' || b == b'\0') {
        return Err(QuoteError::NewlineOrNul);
    }
    if bare_ok(value) {
        return Ok(value.to_owned());
    }
    if !value.contains('\'') {
        return Ok(format!("'{value}'"));
    }
    Ok(double_quote(value))
}

/// `value` in single quotes when possible (no `'` inside), else in double quotes; never bare.
pub fn quote_always(value: &str) -> Result<String, QuoteError> {
    if value.bytes().any(|b| b == b'\n' || b == b'\0') {
        return Err(QuoteError::NewlineOrNul);
    }
    if !value.contains('\'') {
        return Ok(format!("'{value}'"));
    }
    Ok(double_quote(value))
}

fn double_quote(value: &str) -> String {
    let mut s = String::with_capacity(value.len() + 2);
    s.push('"');
    for c in value.chars() {
        if c == '\\' || c == '"' {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
    s
}

/// OpenVPN strips a leading `--` from the option name (`bypass_doubledash`), but only when
/// something follows it.
pub fn strip_double_dash(name: &str) -> &str {
    if name.len() >= 3 && name.starts_with("--") {
        &name[2..]
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(line: &str) -> Vec<String> {
        tokenize(line)
            .unwrap()
            .tokens
            .into_iter()
            .map(|t| t.value)
            .collect()
    }

    #[test]
    fn plain_and_comments() {
        assert_eq!(values("dev tun\n"), ["dev", "tun"]);
        assert_eq!(values("  proto udp # trailing\n"), ["proto", "udp"]);
        assert_eq!(values("; whole line\n"), Vec::<String>::new());
        assert_eq!(values("foo#bar baz;x\n"), ["foo#bar", "baz;x"]);
        assert_eq!(values("a \"#\" b\n"), ["a", "#", "b"]);
        assert_eq!(tokenize("x # c").unwrap().comment_at, Some(2));
        // A backslash does not protect a comment sign at the start of a token.
        assert_eq!(values("a \\#b\n"), ["a"]);
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(values("a 'b c' \"d e\"\n"), ["a", "b c", "d e"]);
        assert_eq!(values("a 'x\\y'\n"), ["a", "x\\y"]);
        assert_eq!(values("a \"x\\\\y\\\"z\"\n"), ["a", "x\\y\"z"]);
        assert_eq!(values("a b\\ c\n"), ["a", "b c"]);
        assert_eq!(values("\"a\"b\n"), ["a", "b"]);
        assert_eq!(values("a\"b\n"), ["a\"b"]);
        assert_eq!(values("a ''\n"), ["a", ""]);
        // \r is whitespace, so CRLF lines parse.
        assert_eq!(values("dev tun\r\n"), ["dev", "tun"]);
        // A trailing backslash escapes the newline itself.
        assert_eq!(values("a b\\\n"), ["a", "b\n"]);
    }

    #[test]
    fn spans_cover_raw_text() {
        let line = "  reneg-sec  \"36\"00 '6 0'  # x\n";
        let t = tokenize(line).unwrap();
        let raw: Vec<&str> = t.tokens.iter().map(|t| &line[t.start..t.end]).collect();
        assert_eq!(raw, ["reneg-sec", "\"36\"", "00", "'6 0'"]);
        let line = "a \\\"b\n";
        let t = tokenize(line).unwrap();
        assert_eq!(&line[t.tokens[1].start..t.tokens[1].end], "\\\"b");
        assert_eq!(t.tokens[1].value, "\"b");
    }

    #[test]
    fn errors() {
        assert!(matches!(
            tokenize("ca C:\\keys\\ca.crt\n"),
            Err(TokenizeError::BadBackslash { at: 5 })
        ));
        assert_eq!(tokenize("a \"b\n"), Err(TokenizeError::UnclosedDoubleQuote));
        assert_eq!(tokenize("a 'b\n"), Err(TokenizeError::UnclosedSingleQuote));
        assert_eq!(tokenize("a b\\"), Err(TokenizeError::ResidualState));
        let long = format!("a {}\n", "x".repeat(300));
        assert_eq!(tokenize(&long), Err(TokenizeError::ParameterTooLong));
    }

    #[test]
    fn sixteen_tokens_then_ignored() {
        let line = format!(
            "{} 'unclosed\n",
            (0..16).map(|i| i.to_string()).collect::<Vec<_>>().join(" ")
        );
        let t = tokenize(&line).unwrap();
        assert_eq!(t.tokens.len(), 16);
        assert!(t.truncated);
        let line = (0..16).map(|i| i.to_string()).collect::<Vec<_>>().join(" ") + "\n";
        assert!(!tokenize(&line).unwrap().truncated);
    }

    #[test]
    fn quote_round_trips() {
        for v in [
            "plain",
            "/etc/duo openvpn/duo.toml",
            "it's",
            "back\\slash",
            "#hash",
            ";semi",
            "",
            "q\"uote and 'single'",
        ] {
            let q = quote(v).unwrap();
            assert_eq!(values(&format!("x {q}\n")), ["x", v], "{q}");
            let q = quote_always(v).unwrap();
            assert_eq!(values(&format!("x {q}\n")), ["x", v], "{q}");
        }
        assert_eq!(quote("a\nb"), Err(QuoteError::NewlineOrNul));
    }

    #[test]
    fn double_dash() {
        assert_eq!(strip_double_dash("--dev"), "dev");
        assert_eq!(strip_double_dash("--"), "--");
        assert_eq!(strip_double_dash("--x"), "x");
        assert_eq!(strip_double_dash("dev"), "dev");
    }
}
