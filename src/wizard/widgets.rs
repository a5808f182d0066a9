//! Small pieces the step screens draw with: a row of radio choices, a diff as styled rows, the
//! mark of a progress line.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::model::LineState;
use super::theme::Theme;

/// The frames of the busy marker.
pub const SPIN: [&str; 4] = ["-", "\\", "|", "/"];

pub fn radio(t: &Theme, focused: bool, label: &str, choices: &[(&str, bool)]) -> Line<'static> {
    let mut spans = vec![Span::styled(
        format!("{}{label:<18}", if focused { "▸ " } else { "  " }),
        if focused {
            t.current_step()
        } else {
            Style::new()
        },
    )];
    for (c, on) in choices {
        let text = format!("{} {c}  ", if *on { "(•)" } else { "( )" });
        spans.push(if *on && focused {
            Span::styled(text, t.selected())
        } else {
            Span::raw(text)
        });
    }
    Line::from(spans)
}

/// A diff's lines with their styles, for [`super::layout::wrapped_lines`].
pub fn diff_rows(t: &Theme, diff: &str) -> Vec<(String, Style)> {
    diff.lines()
        .map(|l| {
            // A masked secret block (ovpn_config::mask_secrets) reads as a note, not as data.
            let style = if l.starts_with("+++")
                || l.starts_with("---")
                || (l.starts_with(' ') && l.ends_with(", not shown …]"))
            {
                t.dim()
            } else if l.starts_with('+') {
                t.added()
            } else if l.starts_with('-') {
                t.removed()
            } else if l.starts_with("@@") {
                t.key()
            } else {
                Style::new()
            };
            (l.to_string(), style)
        })
        .collect()
}

pub fn state_mark(t: &Theme, s: LineState, spin: usize) -> Span<'static> {
    match s {
        LineState::Pending => Span::styled(" · ", t.dim()),
        LineState::Running => Span::styled(format!(" {} ", SPIN[spin % SPIN.len()]), t.key()),
        LineState::Done => Span::styled(" ✓ ", t.ok()),
        LineState::Unchanged => Span::styled(" = ", t.dim()),
        LineState::Failed => Span::styled(" ✗ ", t.error()),
    }
}
