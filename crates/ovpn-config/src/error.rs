use std::fmt;

use crate::tokenize::TokenizeError;

/// Why a file is not an OpenVPN config we can edit, and on which 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub kind: ParseErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// A NUL byte: a binary file, or a config saved as UTF-16.
    Nul,
    /// Not UTF-8 (a binary file, or text in a legacy encoding).
    InvalidUtf8,
    /// OpenVPN itself would reject this line.
    Tokenize(TokenizeError),
    /// `<name>` opened on this line and no `</name>` follows.
    UnterminatedBlock { name: String },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: ", self.line)?;
        match &self.kind {
            ParseErrorKind::Nul => {
                f.write_str("NUL byte: this is a binary file, not an OpenVPN config")
            }
            ParseErrorKind::InvalidUtf8 => f.write_str(
                "not valid UTF-8: this looks like a binary file or a non-UTF-8 encoding",
            ),
            ParseErrorKind::Tokenize(e) => write!(f, "OpenVPN would reject this line: {e}"),
            ParseErrorKind::UnterminatedBlock { name } => match name.strip_prefix('/') {
                // OpenVPN reads a stray `</ca>` as the start of a block named `/ca`.
                Some(closed) => write!(
                    f,
                    "`</{closed}>` closes an inline block that was never opened"
                ),
                None => write!(
                    f,
                    "inline block `<{name}>` opened here is never closed (no `</{name}>` line follows)"
                ),
            },
        }
    }
}

impl std::error::Error for ParseError {}

/// Something OpenVPN may read differently from what the file seems to say; not an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// At least 255 bytes: OpenVPN reads lines into a 256-byte buffer, complains, and reads the
    /// rest of the line as a line of its own.
    LongLine { line: usize, bytes: usize },
    /// More than 16 tokens: OpenVPN ignores the rest of the line.
    TooManyTokens { line: usize },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::LongLine { line, bytes } => write!(
                f,
                "line {line}: {bytes} bytes long; OpenVPN reads at most 255 bytes of a line and \
                 treats the rest as another line"
            ),
            Warning::TooManyTokens { line } => write!(
                f,
                "line {line}: more than 16 words; OpenVPN ignores everything after the 16th"
            ),
        }
    }
}
