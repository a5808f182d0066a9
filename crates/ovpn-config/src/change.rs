//! A change made to a document, recorded so that it can be undone later: on the same bytes
//! exactly, and on a file edited since by finding our line by its content.

use std::fmt;

use crate::anchor::Anchor;
use crate::document::{Document, Eol, RawLine};
use crate::tokenize;

/// Which setting a change is about, for reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Setting {
    Plugin,
    /// Duo's upstream plugin line, replaced or removed in favour of ours.
    UpstreamPlugin,
    RenegSec,
    AuthUserPass,
    AuthRetry,
    /// `auth-gen-token … external-auth` (session tokens).
    AuthGenToken,
    AuthGenTokenSecret,
    /// `hand-window N`: how long OpenVPN lets a login stay pending.
    HandWindow,
}

/// What happened to the lines. Line numbers are 1-based and describe the document right after
/// this change. Undo finds our line by its content: when several top-level option lines read the
/// same, `occurrence` (0-based) among `occurrences` of them picks ours as long as that count is
/// unchanged, else the one nearest `line`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "kind", rename_all = "kebab-case"))]
pub enum ChangeKind {
    /// `text` was inserted as line `line`, ending with `eol`. When `terminated_previous`, the
    /// line before it was the last of the file and had no newline, and got one.
    AddedLine {
        line: usize,
        text: String,
        eol: Eol,
        terminated_previous: bool,
        occurrence: usize,
        occurrences: usize,
    },
    /// Line `line` read `old` and now reads `new` (its ending is untouched).
    ReplacedLine {
        line: usize,
        old: String,
        new: String,
        occurrence: usize,
        occurrences: usize,
    },
    /// Line `line` (`text` + `eol`) was removed; undo puts it back where `anchor` says.
    RemovedLine {
        line: usize,
        text: String,
        eol: Eol,
        anchor: Anchor,
    },
}

/// One edit and everything needed to reverse it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Change {
    pub setting: Setting,
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub kind: ChangeKind,
}

/// What undoing one change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UndoOutcome {
    Reverted,
    /// Our line is no longer in the file (the admin removed or rewrote it): left as it is.
    NotFound,
    /// Restoring the line would have made the file unreadable to OpenVPN: left as it is.
    Failed(String),
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ChangeKind::AddedLine { line, text, .. } => {
                write!(f, "line {line}: added `{}`", redact(self.setting, text))
            }
            ChangeKind::ReplacedLine { line, old, new, .. } => write!(
                f,
                "line {line}: replaced `{}` with `{}`",
                redact(self.setting, old),
                redact(self.setting, new)
            ),
            ChangeKind::RemovedLine { line, text, .. } => {
                write!(f, "line {line}: removed `{}`", redact(self.setting, text))
            }
        }
    }
}

/// Upstream plugin lines carry Duo's secret key; reports show only the module path.
fn redact(setting: Setting, text: &str) -> String {
    if setting != Setting::UpstreamPlugin {
        return text.trim().to_owned();
    }
    match tokenize::tokenize(text) {
        Ok(t) if t.tokens.len() >= 2 => {
            format!("{} {} …", t.tokens[0].value, t.tokens[1].value)
        }
        _ => "plugin …".to_owned(),
    }
}

impl Change {
    /// Reverses this change. On the document exactly as this change left it, the result is the
    /// document before it, byte for byte. On a document edited since, our line is found by its
    /// content (the recorded line number only breaks ties) among top-level option lines, and
    /// nothing else is touched.
    pub fn undo(&self, doc: &mut Document) -> UndoOutcome {
        let result = match &self.kind {
            ChangeKind::AddedLine {
                line,
                text,
                eol,
                terminated_previous,
                occurrence,
                occurrences,
            } => {
                let Some(at) = find_line(doc, *line, text, *occurrence, *occurrences) else {
                    return UndoOutcome::NotFound;
                };
                doc.edit_lines(|lines| {
                    lines.remove(at - 1);
                    if *terminated_previous
                        && at - 1 == lines.len()
                        && let Some(prev) = lines.last_mut()
                    {
                        unterminate(prev, *eol);
                    }
                })
            }
            ChangeKind::ReplacedLine {
                line,
                old,
                new,
                occurrence,
                occurrences,
            } => {
                let Some(at) = find_line(doc, *line, new, *occurrence, *occurrences) else {
                    return UndoOutcome::NotFound;
                };
                doc.edit_lines(|lines| lines[at - 1].text = old.clone())
            }
            ChangeKind::RemovedLine {
                line,
                text,
                eol,
                anchor,
            } => {
                let at = reinsertion_index(doc, *line, anchor);
                let dominant = doc.dominant_eol();
                doc.edit_lines(|lines| {
                    let mut eol = *eol;
                    if at < lines.len() && eol == Eol::None {
                        eol = dominant;
                    }
                    if at > 0 && lines[at - 1].eol == Eol::None {
                        lines[at - 1].eol = dominant;
                    }
                    lines.insert(
                        at,
                        RawLine {
                            text: text.clone(),
                            eol,
                        },
                    );
                })
            }
        };
        match result {
            Ok(()) => UndoOutcome::Reverted,
            Err(e) => UndoOutcome::Failed(e.to_string()),
        }
    }
}

/// Takes away the line ending `added` gave the last line. The line was read back from the file
/// since: `…\r` given `\n` reads as `…` with CRLF, so the bytes are compared, not the endings.
fn unterminate(line: &mut RawLine, added: Eol) {
    let mut bytes = format!("{}{}", line.text, line.eol.as_str());
    if bytes.ends_with(added.as_str()) {
        bytes.truncate(bytes.len() - added.as_str().len());
    } else {
        bytes.truncate(line.text.len());
    }
    line.text = bytes;
    line.eol = Eol::None;
}

/// Undoes `changes` (as returned by an edit, oldest first) newest first.
pub fn undo_all(doc: &mut Document, changes: &[Change]) -> Vec<(Change, UndoOutcome)> {
    changes
        .iter()
        .rev()
        .map(|c| (c.clone(), c.undo(doc)))
        .collect()
}

/// The top-level option lines reading exactly `text`, in file order.
pub(crate) fn same_text_lines(doc: &Document, text: &str) -> Vec<usize> {
    (1..=doc.line_count())
        .filter(|&l| doc.is_top_level_option(l) && doc.line_text(l) == Some(text))
        .collect()
}

/// The 1-based line holding our option: among the top-level option lines reading `text`, the
/// recorded occurrence when their number is unchanged, else the one nearest the recorded line;
/// failing that, the nearest one with the same option and arguments (re-indented or
/// re-commented by the admin).
fn find_line(
    doc: &Document,
    hint: usize,
    text: &str,
    occurrence: usize,
    occurrences: usize,
) -> Option<usize> {
    let nearest = |matches: Vec<usize>| matches.into_iter().min_by_key(|&l| l.abs_diff(hint));
    let exact = same_text_lines(doc, text);
    if exact.len() == occurrences
        && let Some(&l) = exact.get(occurrence)
    {
        return Some(l);
    }
    if let Some(l) = nearest(exact) {
        return Some(l);
    }
    let wanted = words(text)?;
    let same_words: Vec<usize> = (1..=doc.line_count())
        .filter(|&l| doc.is_top_level_option(l))
        .filter(|&l| doc.line_text(l).and_then(words).as_ref() == Some(&wanted))
        .collect();
    nearest(same_words)
}

fn words(text: &str) -> Option<Vec<String>> {
    let toks = tokenize::tokenize(text).ok()?;
    let mut words: Vec<String> = toks.tokens.into_iter().map(|t| t.value).collect();
    let first = words.first_mut()?;
    *first = tokenize::strip_double_dash(first).to_owned();
    Some(words)
}

/// Where a removed line goes back (0-based index): where its anchor says, unless that is now
/// inside an inline or `<connection>` block, in which case after the last top-level option.
fn reinsertion_index(doc: &Document, line: usize, anchor: &Anchor) -> usize {
    let at = anchor.locate(doc, line - 1);
    let inside_block = doc
        .inline_blocks()
        .iter()
        .any(|b| b.open_line <= at && at < b.close_line);
    if inside_block {
        doc.insertion_point()
    } else {
        at
    }
}
