//! Step 7: the plan's files, one effect at a time, each line's state as the runner reports it.

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::setup::effect::{Effect, effects};
use crate::wizard::cmd::{Cmd, effect_label};
use crate::wizard::model::*;
use crate::wizard::theme::Theme;
use crate::wizard::widgets::state_mark;

pub fn key(m: &mut Model, k: KeyEvent) -> Vec<Cmd> {
    if k.code == KeyCode::Enter && m.apply.applied {
        return super::restart::start(m);
    }
    vec![]
}

fn file_effects(m: &Model) -> Vec<Effect> {
    m.plan
        .as_ref()
        .map(|p| {
            effects(p)
                .into_iter()
                .filter(|e| matches!(e, Effect::InstallFile(_) | Effect::EditConfigs(_)))
                .collect()
        })
        .unwrap_or_default()
}

/// Sends the next file effect, or marks the apply done when none is left.
pub fn start_next(m: &mut Model) -> Vec<Cmd> {
    let files = file_effects(m);
    match files.get(m.apply.next_effect) {
        Some(e) => {
            let keys: Vec<String> = match e {
                Effect::InstallFile(i) => vec![i.dest.clone()],
                Effect::EditConfigs(v) => v.iter().map(|f| f.path.clone()).collect(),
                _ => vec![],
            };
            for l in m
                .apply
                .progress
                .iter_mut()
                .filter(|l| keys.contains(&l.key))
            {
                l.state = LineState::Running;
            }
            m.busy = Busy::Working(effect_label(e));
            vec![Cmd::Run(e.clone())]
        }
        None => {
            m.apply.applied = true;
            m.busy = Busy::Idle;
            m.notice = Some(Notice::Info(
                "Every file is in place. Enter restarts the service.".into(),
            ));
            vec![]
        }
    }
}

/// One line per effect, marked with where it stands (Community and Access Server alike).
pub fn progress_lines(m: &Model, t: &Theme) -> Vec<Line<'static>> {
    m.apply
        .progress
        .iter()
        .map(|l| {
            Line::from(vec![
                state_mark(t, l.state, m.spinner),
                Span::raw(l.label.clone()),
            ])
        })
        .collect()
}

pub fn draw(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let mut lines = progress_lines(m, t);
    lines.push(Line::raw(""));
    if m.apply.applied {
        lines.push(Line::styled(
            "All files in place (= already right).",
            t.ok(),
        ));
    } else if m
        .apply
        .progress
        .iter()
        .any(|l| l.state == LineState::Failed)
    {
        lines.push(Line::styled(
            "Stopped. `duo-openvpn uninstall` undoes what was done.",
            t.error(),
        ));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}
