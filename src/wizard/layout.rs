//! Text that fits the pane it is drawn in (80×24 and up): key/value rows that put the value on
//! its own line rather than break a word, paths shortened from the middle, diff lines wrapped
//! with a marker on their continuation rows. Widths count chars: the wizard's text is ASCII
//! plus a few one-column symbols (▸ ✓ • ↪ …).

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::theme::Theme;

/// Starts every continuation row of a wrapped diff line.
pub const CONTINUED: char = '↪';
/// Width of the key column of [`kv`] rows.
pub const KEY_WIDTH: usize = 14;

fn width(s: &str) -> usize {
    s.chars().count()
}

/// `s` in at most `max` columns, cut from the middle: a path keeps its first directories and its
/// file name (`/etc/openvpn/…/ca.pem`), anything else its two ends.
pub fn shorten_middle(s: &str, max: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    if n <= max {
        return s.to_string();
    }
    if max <= 1 {
        return "…".chars().take(max).collect();
    }
    let slashes: Vec<usize> = (0..n).filter(|i| chars[*i] == '/').collect();
    if let Some(&last) = slashes.last() {
        let tail = n - last;
        if tail < max {
            // The room left for the leading directories, ended at a slash.
            let room = max - 1 - tail;
            let head = slashes
                .iter()
                .map(|p| p + 1)
                .filter(|e| *e <= room && *e <= last)
                .max()
                .unwrap_or(0);
            // Whole directories before the file name, with what room is left.
            let left = room - head;
            let start = slashes
                .iter()
                .copied()
                .filter(|p| *p >= head && n - *p <= tail + left)
                .min()
                .unwrap_or(last);
            let mut out: String = chars[..head].iter().collect();
            out.push('…');
            out.extend(&chars[start..]);
            return out;
        }
    }
    let left = max / 2;
    let right = max - 1 - left;
    let mut out: String = chars[..left].iter().collect();
    out.push('…');
    out.extend(&chars[n - right..]);
    out
}

/// Words into rows of at most `max` columns; a word longer than a row is cut.
pub fn wrap_words(text: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut rows = Vec::new();
    let mut row = String::new();
    for word in text.split(' ') {
        let mut word = word.to_string();
        loop {
            let sep = usize::from(!row.is_empty());
            if width(&row) + sep + width(&word) <= max {
                if sep == 1 {
                    row.push(' ');
                }
                row.push_str(&word);
                break;
            }
            if !row.is_empty() {
                rows.push(std::mem::take(&mut row));
                continue;
            }
            let cut: String = word.chars().take(max).collect();
            word = word.chars().skip(max).collect();
            rows.push(cut);
        }
    }
    if !row.is_empty() || rows.is_empty() {
        rows.push(row);
    }
    rows
}

/// `parts` joined by `sep`, a new row (starting with `indent`) before a part that would not
/// fit: a row never ends inside a part it could have held whole.
pub fn join_fit(first: &str, parts: &[String], sep: &str, indent: &str, max: usize) -> Vec<String> {
    let mut rows = Vec::new();
    let mut row = first.to_string();
    let mut empty = true;
    for p in parts {
        let joined = if empty {
            format!("{row}{p}")
        } else {
            format!("{row}{sep}{p}")
        };
        if width(&joined) <= max || empty {
            row = joined;
        } else {
            rows.push(std::mem::take(&mut row));
            row = format!("{indent}{p}");
        }
        empty = false;
    }
    rows.push(row);
    rows
}

/// A key/value row; a value that does not fit beside its key goes on the next rows, indented,
/// broken between words.
pub fn kv(t: &Theme, k: &str, v: impl Into<String>, max: usize) -> Vec<Line<'static>> {
    let v = v.into();
    if KEY_WIDTH + width(&v) <= max {
        return vec![Line::from(vec![
            Span::styled(format!("{k:<KEY_WIDTH$}"), t.dim()),
            Span::raw(v),
        ])];
    }
    let indent = if k.is_empty() { KEY_WIDTH } else { 2 };
    let mut lines = Vec::new();
    if !k.is_empty() {
        lines.push(Line::styled(k.to_string(), t.dim()));
    }
    for row in wrap_words(&v, max.saturating_sub(indent)) {
        lines.push(Line::raw(format!("{}{row}", " ".repeat(indent))));
    }
    lines
}

/// One line cut into rows of `max` columns, each row after the first starting with
/// [`CONTINUED`]: a diff keeps every character of a long line and shows where it goes on.
/// A row breaks after a space when there is one in its last third, else at the column.
pub fn wrap_marked(text: &str, max: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= max || max < 2 {
        return vec![text.to_string()];
    }
    let mut rows = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let room = if rows.is_empty() { max } else { max - 1 };
        let mut end = (at + room).min(chars.len());
        if end < chars.len()
            && let Some(space) = (at + room * 2 / 3..end).rev().find(|i| chars[*i] == ' ')
        {
            end = space + 1;
        }
        let mut row = if rows.is_empty() {
            String::new()
        } else {
            String::from(CONTINUED)
        };
        row.extend(&chars[at..end]);
        rows.push(row);
        at = end;
    }
    rows
}

/// `text` broken between words into rows of `max` columns, the rows after the first indented
/// like the first (its leading spaces), all in `style`.
pub fn hanging(text: &str, style: Style, max: usize) -> Vec<Line<'static>> {
    let indent = text.len() - text.trim_start_matches(' ').len();
    let pad = " ".repeat(indent + 2);
    wrap_words(
        text.trim_start_matches(' '),
        max.saturating_sub(indent + 2).max(8),
    )
    .into_iter()
    .enumerate()
    .map(|(i, row)| {
        let lead = if i == 0 { &pad[..indent] } else { &pad[..] };
        Line::styled(format!("{lead}{row}"), style)
    })
    .collect()
}

/// Every row of `text` wrapped by [`wrap_marked`], each in its line's style.
pub fn wrapped_lines(styled: Vec<(String, Style)>, max: usize) -> Vec<Line<'static>> {
    styled
        .into_iter()
        .flat_map(|(text, style)| {
            wrap_marked(&text, max)
                .into_iter()
                .map(move |row| Line::styled(row, style))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_middle_keeps_short_text_whole() {
        assert_eq!(shorten_middle("/etc/ca.pem", 11), "/etc/ca.pem");
        assert_eq!(shorten_middle("", 0), "");
    }

    #[test]
    fn shorten_middle_keeps_leading_directories_and_the_file_name() {
        let p = "/etc/openvpn/duo/certificates/for/the/api/ca.pem";
        let s = shorten_middle(p, 22);
        assert_eq!(s, "/etc/openvpn/…/ca.pem");
        assert!(s.chars().count() <= 22);
        assert_eq!(shorten_middle(p, 13), "/etc/…/ca.pem");
        assert_eq!(shorten_middle(p, 12), "/…/ca.pem");
        assert_eq!(shorten_middle(p, 8), "…/ca.pem");
    }

    #[test]
    fn shorten_middle_cuts_anything_else_in_the_middle() {
        // The file name alone is too long: both ends of the text.
        let s = shorten_middle("/a/a-very-long-file-name-for-a-ca.pem", 11);
        assert_eq!(s, "/a/a-…a.pem");
        assert_eq!(shorten_middle("abcdefghij", 5), "ab…ij");
        assert_eq!(shorten_middle("abcdefghij", 1), "…");
        assert_eq!(shorten_middle("abcdefghij", 0), "");
        for w in 0..12 {
            assert!(
                shorten_middle("/x/y/zzzzzz/q.pem", w).chars().count() <= w,
                "{w}"
            );
        }
    }

    #[test]
    fn shorten_middle_uses_the_room_left_for_the_last_directories() {
        let p = "/etc/openvpn/duo/certificates/issued-by-the-corporate-proxy/for-the-api/ca.pem";
        assert_eq!(
            shorten_middle(p, 50),
            "/etc/openvpn/duo/certificates/…/for-the-api/ca.pem"
        );
    }

    #[test]
    fn hanging_rows_keep_the_first_rows_indent_and_two_more() {
        let rows: Vec<String> =
            hanging("    ! a note that is long enough to wrap", Style::new(), 24)
                .iter()
                .map(|l| l.to_string())
                .collect();
        assert_eq!(
            rows,
            ["    ! a note that is", "      long enough to", "      wrap"]
        );
    }

    #[test]
    fn wrap_words_breaks_between_words() {
        assert_eq!(
            wrap_words("plugin structver 5: failure reasons shown", 20),
            ["plugin structver 5:", "failure reasons", "shown"]
        );
        assert_eq!(wrap_words("abcdefgh", 3), ["abc", "def", "gh"]);
    }

    #[test]
    fn join_fit_moves_a_whole_part_to_the_next_row() {
        let parts = [
            "runs as nobody:nogroup".to_string(),
            "Duo already set up".to_string(),
        ];
        assert_eq!(
            join_fit("    unit active · ", &parts, " · ", "    ", 40),
            [
                "    unit active · runs as nobody:nogroup",
                "    Duo already set up"
            ]
        );
    }

    #[test]
    fn kv_puts_a_long_value_on_its_own_rows() {
        let t = Theme { no_color: true };
        let text = |l: &[Line]| l.iter().map(|l| l.to_string()).collect::<Vec<_>>();
        assert_eq!(
            text(&kv(&t, "CA file", "/etc/ca.pem", 40)),
            ["CA file       /etc/ca.pem"]
        );
        assert_eq!(
            text(&kv(
                &t,
                "Proxy",
                "http://proxy.example.com:3128 via the corporate gateway",
                40
            )),
            [
                "Proxy",
                "  http://proxy.example.com:3128 via the",
                "  corporate gateway"
            ]
        );
    }

    #[test]
    fn wrap_marked_keeps_every_character_and_marks_continuations() {
        let line = "+plugin /usr/lib/duo-openvpn/libduo_openvpn_plugin.so";
        let rows = wrap_marked(line, 20);
        assert!(rows.iter().all(|r| r.chars().count() <= 20), "{rows:?}");
        assert!(
            rows[1..].iter().all(|r| r.starts_with(CONTINUED)),
            "{rows:?}"
        );
        let joined: String = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                if i == 0 {
                    r.clone()
                } else {
                    r.chars().skip(1).collect()
                }
            })
            .collect();
        assert_eq!(joined, line);
        assert_eq!(wrap_marked("short", 20), ["short"]);
        // A space near the end of a row: the break comes after it.
        assert_eq!(
            wrap_marked("+plugin /usr/lib/x.so '/etc/duo.toml'", 24),
            ["+plugin /usr/lib/x.so ", "↪'/etc/duo.toml'"]
        );
    }
}
