//! Where a removed line stood, told by its neighbours, so that undo can put it back in a file
//! edited since (lines added above it shift every line number).

use crate::document::Document;

/// The neighbours of a removed line and, for each way of matching them, which of the matching
/// places it was and how many there were right after the removal.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Anchor {
    /// The text of the line it followed; none when it was the first line.
    pub after: Option<String>,
    /// The text of the line that followed it; none when it was the last line.
    pub before: Option<String>,
    /// (occurrence, of how many) among places between two such lines,
    pub both: (usize, usize),
    /// … among places after a line reading `after`,
    pub after_only: (usize, usize),
    /// … among places before a line reading `before`.
    pub before_only: (usize, usize),
}

/// Candidate places (0-based insertion indexes: index `i` puts a line right after 1-based line
/// `i`), by how strictly they match.
fn places(doc: &Document, after: Option<&str>, before: Option<&str>) -> [Vec<usize>; 3] {
    let n = doc.line_count();
    let reads = |l: usize, t: &str| doc.line_text(l) == Some(t);
    let after_ok = |i: usize| match after {
        None => i == 0,
        Some(t) => i > 0 && reads(i, t),
    };
    let before_ok = |i: usize| match before {
        None => i == n,
        Some(t) => reads(i + 1, t),
    };
    let all = 0..=n;
    // A one-sided match on the start or the end of the file says nothing: there is always
    // exactly one such place, which would outvote the real neighbour.
    [
        all.clone()
            .filter(|&i| after_ok(i) && before_ok(i))
            .collect(),
        match after {
            Some(_) => all.clone().filter(|&i| after_ok(i)).collect(),
            None => Vec::new(),
        },
        match before {
            Some(_) => all.filter(|&i| before_ok(i)).collect(),
            None => Vec::new(),
        },
    ]
}

fn rank(places: &[usize], at: usize) -> (usize, usize) {
    (
        places.iter().position(|&i| i == at).unwrap_or(0),
        places.len(),
    )
}

impl Anchor {
    /// Describes insertion index `at` of `doc` (the document right after the removal).
    pub(crate) fn record(doc: &Document, at: usize) -> Anchor {
        let after = (at > 0)
            .then(|| doc.line_text(at))
            .flatten()
            .map(str::to_owned);
        let before = doc.line_text(at + 1).map(str::to_owned);
        let [both, after_only, before_only] = places(doc, after.as_deref(), before.as_deref());
        Anchor {
            both: rank(&both, at),
            after_only: rank(&after_only, at),
            before_only: rank(&before_only, at),
            after,
            before,
        }
    }

    /// The insertion index that matches best: the recorded occurrence among places matching as
    /// strictly as possible while their number is unchanged, else the place nearest `hint`
    /// among the strictest matches, else `hint`.
    pub(crate) fn locate(&self, doc: &Document, hint: usize) -> usize {
        let found = places(doc, self.after.as_deref(), self.before.as_deref());
        let recorded = [self.both, self.after_only, self.before_only];
        for (places, (occurrence, count)) in found.iter().zip(recorded) {
            if places.len() == count
                && let Some(&i) = places.get(occurrence)
            {
                return i;
            }
        }
        found
            .iter()
            .find_map(|places| places.iter().copied().min_by_key(|&i| i.abs_diff(hint)))
            .unwrap_or(hint.min(doc.line_count()))
    }
}
