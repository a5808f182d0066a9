//! The document: every byte of the file, plus what OpenVPN makes of each line.
//!
//! Lines are split on `\n` only, as `fgets` does; a `\r` right before it is kept as the line's
//! ending so CRLF files are rewritten as CRLF, line by line. Rendering is the concatenation of the
//! BOM and every line's text and ending, so a parsed document renders to its input exactly.

use std::fmt;

use crate::error::{ParseError, ParseErrorKind, Warning};
use crate::tokenize::{self, Token};

const BOM: &str = "\u{feff}";

/// How one line ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Eol {
    Lf,
    CrLf,
    /// The last line of a file that does not end with a newline.
    None,
}

impl Eol {
    pub fn as_str(self) -> &'static str {
        match self {
            Eol::Lf => "\n",
            Eol::CrLf => "\r\n",
            Eol::None => "",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawLine {
    pub text: String,
    pub eol: Eol,
}

/// Where a directive sits: at the top of the file or inside a `<connection>` block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    TopLevel,
    /// Inside the `<connection>` block opened on this 1-based line.
    Connection {
        open_line: usize,
    },
}

/// One option as OpenVPN sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// The option name, `--` prefix removed.
    pub name: String,
    /// The arguments, unquoted and unescaped (at most 15: OpenVPN drops tokens after the 16th).
    pub args: Vec<String>,
    /// 1-based line number.
    pub line: usize,
    pub scope: Scope,
    /// An inline block (`<ca>…</ca>`): OpenVPN reads it as the option with its body as the value.
    /// `args` is empty; the body is [`Document::inline_body`].
    pub inline: bool,
    pub(crate) tokens: Vec<Token>,
}

impl Directive {
    /// The first argument, if any.
    pub fn arg(&self, i: usize) -> Option<&str> {
        self.args.get(i).map(String::as_str)
    }

    /// Byte range of the raw argument text in the line (from the first argument's first byte to
    /// the last one's last), for edits that keep indentation and trailing comments.
    pub(crate) fn args_span(&self) -> Option<(usize, usize)> {
        match (self.tokens.get(1), self.tokens.last()) {
            (Some(first), Some(last)) => Some((first.start, last.end)),
            _ => None,
        }
    }

    /// Byte offset where the name token starts (the line's indentation ends there).
    pub(crate) fn indent_len(&self) -> usize {
        self.tokens.first().map_or(0, |t| t.start)
    }
}

/// An inline block `<name>` … `</name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineBlock {
    pub name: String,
    /// 1-based lines of the opening and closing tags; the body is the lines in between.
    pub open_line: usize,
    pub close_line: usize,
    pub scope: Scope,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineKind {
    /// Blank, whitespace or comment only.
    Empty,
    Option,
    BlockOpen,
    BlockBody,
    BlockClose,
}

/// A parsed OpenVPN config file that keeps every byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    bom: bool,
    lines: Vec<RawLine>,
    kinds: Vec<LineKind>,
    directives: Vec<Directive>,
    blocks: Vec<InlineBlock>,
    warnings: Vec<Warning>,
}

impl Document {
    /// Parses a config. Fails on what makes OpenVPN refuse the file (a line it cannot tokenize, an
    /// inline block that is never closed) and on NUL bytes.
    ///
    /// Lines longer than OpenVPN's 256-byte buffer and lines with more than 16 tokens are not
    /// errors but [`Document::warnings`]: OpenVPN's own handling of them changed between versions
    /// (2.3 split such lines silently), and a long comment line is harmless in practice.
    pub fn parse(text: &str) -> Result<Document, ParseError> {
        if let Some(pos) = text.bytes().position(|b| b == 0) {
            return Err(ParseError {
                line: line_of(text.as_bytes(), pos),
                kind: ParseErrorKind::Nul,
            });
        }
        let (bom, body) = match text.strip_prefix(BOM) {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let lines = split_lines(body);
        Document::from_lines(bom, lines)
    }

    /// Parses raw file content: like [`Document::parse`], and also rejects content that is not
    /// UTF-8 (a binary file, or a Latin-1 comment), naming the line.
    pub fn from_bytes(bytes: &[u8]) -> Result<Document, ParseError> {
        if let Some(pos) = bytes.iter().position(|&b| b == 0) {
            return Err(ParseError {
                line: line_of(bytes, pos),
                kind: ParseErrorKind::Nul,
            });
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => Document::parse(text),
            Err(e) => Err(ParseError {
                line: line_of(bytes, e.valid_up_to()),
                kind: ParseErrorKind::InvalidUtf8,
            }),
        }
    }

    pub(crate) fn from_lines(bom: bool, lines: Vec<RawLine>) -> Result<Document, ParseError> {
        let mut doc = Document {
            bom,
            lines,
            kinds: Vec::new(),
            directives: Vec::new(),
            blocks: Vec::new(),
            warnings: Vec::new(),
        };
        doc.kinds = vec![LineKind::Empty; doc.lines.len()];
        doc.classify(0, doc.lines.len(), Scope::TopLevel)?;
        Ok(doc)
    }

    /// The exact bytes of the document.
    pub fn render(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }

    /// Every option, in file order, inline blocks and options inside `<connection>` included.
    pub fn directives(&self) -> &[Directive] {
        &self.directives
    }

    /// Top-level options named `name` (after `--` removal), in file order.
    pub fn find<'a, 'n>(
        &'a self,
        name: &'n str,
    ) -> impl Iterator<Item = &'a Directive> + use<'a, 'n> {
        self.directives
            .iter()
            .filter(move |d| d.scope == Scope::TopLevel && d.name == name)
    }

    /// The top-level option that takes effect when an option is given more than once (the last).
    pub fn last(&self, name: &str) -> Option<&Directive> {
        self.find(name).last()
    }

    /// Is `name` present at the top level (as an option or an inline block)?
    pub fn has(&self, name: &str) -> bool {
        self.find(name).next().is_some()
    }

    pub fn inline_blocks(&self) -> &[InlineBlock] {
        &self.blocks
    }

    /// The verbatim body of an inline block: the lines between the tags, endings included.
    pub fn inline_body(&self, block: &InlineBlock) -> String {
        self.lines[block.open_line..block.close_line - 1]
            .iter()
            .map(|l| format!("{}{}", l.text, l.eol.as_str()))
            .collect()
    }

    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    pub fn has_bom(&self) -> bool {
        self.bom
    }

    pub fn line_count(&self) -> usize {
        self.lines.len()
    }

    /// The text of a 1-based line, without its ending.
    pub fn line_text(&self, line: usize) -> Option<&str> {
        line.checked_sub(1)
            .and_then(|i| self.lines.get(i))
            .map(|l| l.text.as_str())
    }

    pub fn line_eol(&self, line: usize) -> Option<Eol> {
        line.checked_sub(1)
            .and_then(|i| self.lines.get(i))
            .map(|l| l.eol)
    }

    /// The ending new lines get: the more common of LF and CRLF in this file (LF on a tie or
    /// when no line has an ending).
    pub fn dominant_eol(&self) -> Eol {
        let crlf = self.lines.iter().filter(|l| l.eol == Eol::CrLf).count();
        let lf = self.lines.iter().filter(|l| l.eol == Eol::Lf).count();
        if crlf > lf { Eol::CrLf } else { Eol::Lf }
    }

    /// Is this 1-based line a top-level option line (not a comment, not part of an inline block)?
    pub(crate) fn is_top_level_option(&self, line: usize) -> bool {
        self.directive_at(line)
            .is_some_and(|d| d.scope == Scope::TopLevel && !d.inline)
    }

    pub(crate) fn directive_at(&self, line: usize) -> Option<&Directive> {
        let i = line.checked_sub(1)?;
        if self.kinds.get(i) != Some(&LineKind::Option)
            && self.kinds.get(i) != Some(&LineKind::BlockOpen)
        {
            return None;
        }
        self.directives.iter().find(|d| d.line == line)
    }

    /// The 1-based line after which new top-level options go: the last top-level option line, or
    /// the end of the file when there is none.
    pub(crate) fn insertion_point(&self) -> usize {
        self.directives
            .iter()
            .filter(|d| d.scope == Scope::TopLevel && !d.inline)
            .map(|d| d.line)
            .max()
            .unwrap_or(self.lines.len())
    }

    pub(crate) fn raw_lines(&self) -> &[RawLine] {
        &self.lines
    }

    /// Applies `f` to the lines and re-reads the result from its bytes, so the model is always
    /// what parsing the written file gives (a final `…\r` given a `\n` becomes a CRLF line); the
    /// document is left unchanged when the result does not parse.
    pub(crate) fn edit_lines(
        &mut self,
        f: impl FnOnce(&mut Vec<RawLine>),
    ) -> Result<(), ParseError> {
        let mut edited = self.clone();
        f(&mut edited.lines);
        *self = Document::parse(&edited.to_string())?;
        Ok(())
    }

    fn classify(&mut self, from: usize, to: usize, scope: Scope) -> Result<(), ParseError> {
        let mut i = from;
        while i < to {
            let raw = &self.lines[i];
            let text_for_openvpn = format!("{}{}", raw.text, raw.eol.as_str());
            let line_no = i + 1;
            if text_for_openvpn.len() >= 255 {
                self.warnings.push(Warning::LongLine {
                    line: line_no,
                    bytes: text_for_openvpn.len(),
                });
            }
            let toks = tokenize::tokenize(&text_for_openvpn).map_err(|e| ParseError {
                line: line_no,
                kind: ParseErrorKind::Tokenize(e),
            })?;
            if toks.truncated {
                self.warnings.push(Warning::TooManyTokens { line: line_no });
            }
            if toks.tokens.is_empty() {
                self.kinds[i] = LineKind::Empty;
                i += 1;
                continue;
            }
            let name = tokenize::strip_double_dash(&toks.tokens[0].value).to_owned();
            let block_name = (toks.tokens.len() == 1 && name.len() >= 2)
                .then(|| name.strip_prefix('<').and_then(|n| n.strip_suffix('>')))
                .flatten()
                .map(str::to_owned);
            let Some(block_name) = block_name else {
                let args = toks.tokens[1..].iter().map(|t| t.value.clone()).collect();
                self.kinds[i] = LineKind::Option;
                self.directives.push(Directive {
                    name,
                    args,
                    line: line_no,
                    scope,
                    inline: false,
                    tokens: toks.tokens,
                });
                i += 1;
                continue;
            };
            let close_tag = format!("</{block_name}>");
            let close = (i + 1..to).find(|&j| {
                self.lines[j]
                    .text
                    .trim_start_matches(|c: char| c.is_ascii() && tokenize::is_space(c as u8))
                    .starts_with(&close_tag)
            });
            let Some(close) = close else {
                return Err(ParseError {
                    line: line_no,
                    kind: ParseErrorKind::UnterminatedBlock { name: block_name },
                });
            };
            self.kinds[i] = LineKind::BlockOpen;
            self.kinds[close] = LineKind::BlockClose;
            self.directives.push(Directive {
                name: block_name.clone(),
                args: Vec::new(),
                line: line_no,
                scope,
                inline: true,
                tokens: toks.tokens,
            });
            self.blocks.push(InlineBlock {
                name: block_name.clone(),
                open_line: line_no,
                close_line: close + 1,
                scope,
            });
            // `<connection>` holds options, read again by OpenVPN as a config of its own; any
            // other block is opaque data.
            if block_name == "connection" && scope == Scope::TopLevel {
                self.classify(i + 1, close, Scope::Connection { open_line: line_no })?;
            } else {
                for k in &mut self.kinds[i + 1..close] {
                    *k = LineKind::BlockBody;
                }
            }
            i = close + 1;
        }
        Ok(())
    }
}

impl fmt::Display for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.bom {
            f.write_str(BOM)?;
        }
        for line in &self.lines {
            f.write_str(&line.text)?;
            f.write_str(line.eol.as_str())?;
        }
        Ok(())
    }
}

fn split_lines(text: &str) -> Vec<RawLine> {
    let mut lines = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.find('\n') {
            Some(nl) => {
                let line = &rest[..nl];
                let (text, eol) = match line.strip_suffix('\r') {
                    Some(t) => (t, Eol::CrLf),
                    None => (line, Eol::Lf),
                };
                lines.push(RawLine {
                    text: text.to_owned(),
                    eol,
                });
                rest = &rest[nl + 1..];
            }
            None => {
                lines.push(RawLine {
                    text: rest.to_owned(),
                    eol: Eol::None,
                });
                rest = "";
            }
        }
    }
    lines
}

fn line_of(bytes: &[u8], pos: usize) -> usize {
    bytes[..pos].iter().filter(|&&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_shapes() {
        for text in [
            "",
            "\n",
            "dev tun",
            "dev tun\n",
            "dev tun\r\nproto udp\n",
            "\u{feff}client\r\n",
            "a\r",
            "\r\n\r\n",
            "<ca>\nXX\n</ca>",
            "  \t ; comment\n# c\n\n",
        ] {
            let doc = Document::parse(text).unwrap();
            assert_eq!(doc.to_string(), text);
        }
    }

    #[test]
    fn inline_blocks_and_connection() {
        let text = "client\n<ca>\n# not a comment\n  </ca> trailing\n<connection>\nremote a 1194\n<http-proxy-user-pass>\nu\np\n</http-proxy-user-pass>\n</connection>\nremote b\n";
        let doc = Document::parse(text).unwrap();
        let names: Vec<(&str, usize, bool)> = doc
            .directives()
            .iter()
            .map(|d| (d.name.as_str(), d.line, d.inline))
            .collect();
        assert_eq!(
            names,
            [
                ("client", 1, false),
                ("ca", 2, true),
                ("connection", 5, true),
                ("remote", 6, false),
                ("http-proxy-user-pass", 7, true),
                ("remote", 12, false),
            ]
        );
        assert_eq!(
            doc.directives()[3].scope,
            Scope::Connection { open_line: 5 }
        );
        assert_eq!(doc.find("remote").count(), 1);
        let ca = &doc.inline_blocks()[0];
        assert_eq!((ca.open_line, ca.close_line), (2, 4));
        assert_eq!(doc.inline_body(ca), "# not a comment\n");
    }

    #[test]
    fn errors_name_the_line() {
        let e = Document::parse("client\n<ca>\nxx\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.to_string().contains("line 2"), "{e}");
        assert!(e.to_string().contains("</ca>"), "{e}");
        let e = Document::parse("dev tun\nca C:\\x\\ca.crt\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = Document::from_bytes(b"dev tun\nproto \xff\n").unwrap_err();
        assert_eq!((e.line, e.kind.clone()), (2, ParseErrorKind::InvalidUtf8));
        let e = Document::from_bytes(b"a\nb\nc\0d").unwrap_err();
        assert_eq!((e.line, e.kind.clone()), (3, ParseErrorKind::Nul));
        let e = Document::parse("</ca>\n").unwrap_err();
        assert!(e.to_string().contains("never opened"), "{e}");
    }

    #[test]
    fn bom_and_dashes() {
        let doc = Document::parse("\u{feff}--client\n--dev tun\r\n").unwrap();
        assert!(doc.has_bom());
        assert!(doc.has("client"));
        assert_eq!(doc.last("dev").unwrap().args, ["tun"]);
        assert_eq!(doc.dominant_eol(), Eol::Lf);
    }

    #[test]
    fn long_lines_warn() {
        let text = format!("# {}\ndev tun\n", "x".repeat(300));
        let doc = Document::parse(&text).unwrap();
        assert!(matches!(
            doc.warnings(),
            [Warning::LongLine { line: 1, .. }]
        ));
    }
}
