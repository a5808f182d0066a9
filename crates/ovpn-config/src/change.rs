//! A change made to a document, recorded so that it can be undone later: on the same bytes
//! exactly, and on a file edited since by finding our line by its content.

use std::fmt;

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
    /// Line `line` (`text` + `eol`) was removed. `after` and `before` are the texts of the lines
    /// around it (none at the start or end of the file): undo puts it back between them, at the
    /// `occurrence` of `occurrences` places where two such lines meet.
    RemovedLine {
        line: usize,
        text: String,
        eol: Eol,
        after: Option<String>,
        before: Option<String>,
        occurrence: usize,
        occurrences: usize,
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
                terminated_previous,
                occurrence,
                occurrences,
                ..
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
                        prev.eol = Eol::None;
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
                after,
                before,
                occurrence,
                occurrences,
            } => {
                let around = (after.as_deref(), before.as_deref());
                let at = reinsertion_index(doc, *line, around, *occurrence, *occurrences);
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

/// The 0-based indexes where a line inserted would sit right after a line reading `after` (or
/// at the start, for none) and right before one reading `before` (or at the end, for none).
pub(crate) fn gaps_between(
    doc: &Document,
    after: Option<&str>,
    before: Option<&str>,
) -> Vec<usize> {
    let n = doc.line_count();
    (0..=n)
        .filter(|&i| match after {
            None => i == 0,
            Some(t) => i > 0 && doc.line_text(i) == Some(t),
        })
        .filter(|&i| match before {
            None => i == n,
            Some(t) => doc.line_text(i + 1) == Some(t),
        })
        .collect()
}

/// Where a removed line goes back (0-based index): between lines reading like its old
/// neighbours (the recorded occurrence when their number is unchanged, else the nearest), else
/// after a line reading like the one it followed or before one reading like the one that
/// followed it, else its old line number. Never inside an inline or `<connection>` block: then
/// after the last top-level option.
fn reinsertion_index(
    doc: &Document,
    line: usize,
    (after, before): (Option<&str>, Option<&str>),
    occurrence: usize,
    occurrences: usize,
) -> usize {
    let hint = (line - 1).min(doc.line_count());
    let nearest = |gaps: Vec<usize>| gaps.into_iter().min_by_key(|&i| i.abs_diff(hint));
    let gaps = gaps_between(doc, after, before);
    let at = if gaps.len() == occurrences && occurrence < gaps.len() {
        gaps[occurrence]
    } else {
        nearest(gaps)
            .or_else(|| after.and_then(|a| nearest(gaps_after(doc, a))))
            .or_else(|| before.and_then(|b| nearest(gaps_before(doc, b))))
            .unwrap_or(hint)
    };
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

fn gaps_after(doc: &Document, text: &str) -> Vec<usize> {
    (1..=doc.line_count())
        .filter(|&l| doc.line_text(l) == Some(text))
        .collect()
}

fn gaps_before(doc: &Document, text: &str) -> Vec<usize> {
    (1..=doc.line_count())
        .filter(|&l| doc.line_text(l) == Some(text))
        .map(|l| l - 1)
        .collect()
}
