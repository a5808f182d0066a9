//! Step 8 (Community): the service restarted, or its journal and a rollback on failure.

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::setup::effect::Effect;
use crate::wizard::cmd::{Cmd, go};
use crate::wizard::layout::wrapped_lines;
use crate::wizard::model::*;
use crate::wizard::theme::Theme;

pub fn key(m: &mut Model, k: KeyEvent) -> Vec<Cmd> {
    match (&m.restart.state, k.code) {
        (RestartState::Failed { .. }, KeyCode::Char('r')) => {
            m.busy = Busy::Working("Rolling back".into());
            return vec![Cmd::Run(Effect::Rollback)];
        }
        (RestartState::RolledBack(_), KeyCode::Enter) => go(m, Step::Done),
        (_, KeyCode::Enter) => {
            go(m, Step::TestPush);
            m.push.state = PushState::Asking;
        }
        _ => {}
    }
    vec![]
}

/// After the apply: restart the plan's unit, if it has one.
pub fn start(m: &mut Model) -> Vec<Cmd> {
    go(m, Step::Restart);
    let unit = m.plan.as_ref().and_then(|p| p.restart.clone());
    match unit {
        Some(unit) => {
            m.restart.state = RestartState::Running;
            m.busy = Busy::Working(format!("Restarting {unit}"));
            vec![Cmd::Run(Effect::Restart { unit })]
        }
        None => {
            m.restart.state = RestartState::Skipped;
            vec![]
        }
    }
}

pub fn draw(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let unit = m
        .plan
        .as_ref()
        .and_then(|p| p.restart.clone())
        .unwrap_or_default();
    let lines: Vec<Line> = match &m.restart.state {
        RestartState::NotRun | RestartState::Running => {
            vec![Line::raw(format!("Restarting {unit}…"))]
        }
        RestartState::Skipped => vec![Line::raw(
            "No restart (--no-restart, or no unit for this config).",
        )],
        RestartState::Ok(state) => vec![
            Line::from(vec![
                Span::styled("✓ ", t.ok()),
                Span::raw(format!("{unit} is {state}")),
            ]),
            Line::raw(""),
            Line::raw("OpenVPN now asks Duo at every login."),
        ],
        RestartState::Failed { message, log } => {
            let mut v = vec![
                Line::styled(format!("✗ {message}"), t.error()),
                Line::styled(format!("Last lines of journalctl -u {unit}:"), t.dim()),
            ];
            let last = log.iter().rev().take(12).rev();
            v.extend(wrapped_lines(
                last.map(|l| (format!("  {l}"), Style::new())).collect(),
                area.width as usize,
            ));
            v.push(Line::raw(""));
            v.push(Line::raw(
                "r rolls everything back; Enter keeps the changes.",
            ));
            v
        }
        RestartState::RolledBack(done) => {
            let mut v = vec![Line::styled("Rolled back:", t.ok())];
            v.extend(done.iter().map(|l| Line::raw(format!("  {l}"))));
            v
        }
    };
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}
