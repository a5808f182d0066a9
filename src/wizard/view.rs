//! `view(&Model, &mut Frame)`: the step list always on the left, the step on the right, a notice
//! line and the keys at the bottom. Fits 80×24.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::model::*;
use super::steps;
use super::theme::Theme;

use super::widgets::SPIN;

/// Below this width the step list gives its columns to the step: its numbers go in the step's
/// frame.
pub const FULL_STEP_LIST_WIDTH: u16 = 100;
const STEP_LIST_COLUMNS: u16 = 23;

pub fn view(m: &Model, t: &Theme, f: &mut Frame) {
    let area = f.area();
    let [top, middle, notice, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(5),
        Constraint::Length(2),
        Constraint::Length(1),
    ])
    .areas(area);
    let title = format!(
        " duo-openvpn setup{} · root {} ",
        if m.demo { " (demo sandbox)" } else { "" },
        m.root_label
    );
    f.render_widget(Paragraph::new(title).style(t.title()), top);
    // The whole list needs its rows plus a border above and below.
    let full = area.width >= FULL_STEP_LIST_WIDTH && middle.height >= m.steps().len() as u16 + 2;
    let main = if full {
        let [steps, main] =
            Layout::horizontal([Constraint::Length(STEP_LIST_COLUMNS), Constraint::Min(30)])
                .areas(middle);
        step_list(m, t, f, steps);
        main
    } else {
        middle
    };
    let mut block = Block::default().borders(Borders::ALL).title(format!(
        " {}. {} ",
        m.index_of(m.step) + 1,
        m.step.title()
    ));
    if !full {
        block = block.title(step_numbers(m, t).right_aligned());
    }
    let inner = block.inner(main);
    f.render_widget(block, main);
    let access = m.target == Target::AccessServer;
    match m.step {
        Step::Choose => steps::choose::draw(m, t, f, inner),
        Step::Detect if access => steps::access_detect::draw(m, t, f, inner),
        Step::Review if access => steps::access_review::draw(m, t, f, inner),
        Step::Apply if access => steps::access_apply::draw(m, t, f, inner),
        Step::Detect => steps::detect::draw(m, t, f, inner),
        Step::Credentials => steps::credentials::draw(m, t, f, inner),
        Step::Options => steps::options::draw(m, t, f, inner),
        Step::Server => steps::server::draw(m, t, f, inner),
        Step::Clients => steps::clients::draw(m, t, f, inner),
        Step::Review => steps::review::draw(m, t, f, inner),
        Step::Apply => steps::apply::draw(m, t, f, inner),
        Step::Restart => steps::restart::draw(m, t, f, inner),
        Step::TestPush => steps::push::draw(m, t, f, inner),
        Step::Done => steps::done::draw(m, t, f, inner),
    }
    notice_line(m, t, f, notice);
    f.render_widget(Paragraph::new(help_line(m, t)), keys);
    if m.show_help {
        help_popup(m, t, f, middle);
    }
}

fn step_style(m: &Model, t: &Theme, i: usize) -> (&'static str, Style) {
    let current = m.index_of(m.step);
    if i == current {
        ("▸", t.current_step())
    } else if i < current {
        ("✓", t.done_step())
    } else {
        (" ", t.later_step())
    }
}

fn step_list(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let lines: Vec<Line> = m
        .steps()
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (mark, style) = step_style(m, t, i);
            Line::from(vec![
                Span::raw(format!("{mark} {:>2}. ", i + 1)),
                Span::styled(s.title(), style),
            ])
        })
        .collect();
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(" Steps ")),
        area,
    );
}

/// The collapsed step list: " 1 2 3 … " in the step's frame, the current one in its style.
fn step_numbers(m: &Model, t: &Theme) -> Line<'static> {
    let mut spans = vec![Span::raw(" ")];
    for i in 0..m.steps().len() {
        let (_, style) = step_style(m, t, i);
        spans.push(Span::styled(format!("{}", i + 1), style));
        spans.push(Span::raw(" "));
    }
    Line::from(spans)
}

fn notice_line(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let line = match (&m.busy, &m.notice) {
        (Busy::Working(w), _) => Line::from(vec![
            Span::styled(format!(" {} ", SPIN[m.spinner % SPIN.len()]), t.key()),
            Span::raw(format!("{w}…")),
        ]),
        (_, Some(Notice::Info(s))) => {
            Line::from(vec![Span::styled(" ✓ ", t.ok()), Span::raw(s.clone())])
        }
        (_, Some(Notice::Warn(s))) => Line::from(vec![
            Span::styled(" ! ", t.warn()),
            Span::styled(s.clone(), t.warn()),
        ]),
        (_, Some(Notice::Error(s))) => Line::from(vec![
            Span::styled(" ✗ ", t.error()),
            Span::styled(s.clone(), t.error()),
        ]),
        _ => Line::default(),
    };
    f.render_widget(Paragraph::new(line).wrap(Wrap { trim: false }), area);
}

fn keys_for(m: &Model) -> Vec<(&'static str, &'static str)> {
    let access = m.target == Target::AccessServer;
    let foreign = m
        .access
        .as_ref()
        .is_some_and(|a| a.detection.foreign().is_some());
    let mut k: Vec<(&str, &str)> = match m.step {
        Step::Choose => vec![("↑↓", "choose"), ("Enter", "pick")],
        Step::Detect => {
            let mut k = vec![("Enter", "next")];
            if access {
                k.insert(0, ("↑↓", "scroll"));
            }
            if m.choose {
                k.push(("Esc", "back"));
            }
            k
        }
        Step::Credentials => vec![
            ("Tab", "field"),
            ("Enter", "check with Duo"),
            ("Esc", "back"),
        ],
        Step::Options => vec![
            ("↑↓", "row"),
            ("←→", "change"),
            ("Enter", "next"),
            ("Esc", "back"),
        ],
        Step::Server => vec![
            ("↑↓", "config"),
            ("PgUp/PgDn", "scroll"),
            ("Enter", "next"),
            ("Esc", "back"),
        ],
        Step::Clients => vec![
            ("↑↓", "move"),
            ("Space", "toggle"),
            ("a", "all"),
            ("Enter", "next"),
            ("Esc", "back"),
        ],
        Step::Review if access && foreign => vec![
            ("↑↓", "scroll"),
            ("c", "replace the script"),
            ("Enter", "apply"),
            ("Esc", "back"),
        ],
        Step::Review => vec![("↑↓", "scroll"), ("Enter", "apply"), ("Esc", "back")],
        Step::Apply if access && m.apply.applied => vec![("Enter", "test push")],
        Step::Apply if m.apply.applied => vec![("Enter", "restart")],
        Step::Apply => vec![],
        Step::Restart => match m.restart.state {
            RestartState::Failed { .. } => vec![("r", "roll back"), ("Enter", "continue")],
            RestartState::RolledBack(_) => vec![("Enter", "finish")],
            _ => vec![("Enter", "test push")],
        },
        Step::TestPush => match m.push.state {
            PushState::Asking => vec![("Enter", "send push"), ("Tab", "skip")],
            PushState::Running => vec![],
            PushState::Finished { .. } => vec![("Enter", "finish"), ("r", "again")],
        },
        Step::Done => vec![("Enter", "exit")],
    };
    let typing = m.typing();
    if !typing {
        k.push(("?", "help"));
    }
    k.push((if typing { "Ctrl-C" } else { "q" }, "quit"));
    k
}

fn help_line(m: &Model, t: &Theme) -> Line<'static> {
    let mut spans = vec![Span::raw(" ")];
    for (i, (key, what)) in keys_for(m).into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", t.dim()));
        }
        spans.push(Span::styled(key, t.key()));
        spans.push(Span::raw(format!(" {what}")));
    }
    Line::from(spans)
}

fn help_popup(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let w = area.width.min(60);
    let h = area.height.min(14);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    let mut lines = vec![Line::styled("Keys on this screen", t.current_step())];
    for (k, what) in keys_for(m) {
        lines.push(Line::from(vec![
            Span::styled(format!("  {k:<10}"), t.key()),
            Span::raw(what),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::raw("Nothing on the host changes before Apply:"));
    lines.push(Line::raw("quitting before it leaves every file as it was."));
    lines.push(Line::raw("Esc goes back; Ctrl-C leaves at any time."));
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(" Help ")),
        r,
    );
}
