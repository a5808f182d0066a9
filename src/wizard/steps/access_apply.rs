//! Access Server's apply: the post-auth script loaded through `sacli` (one effect), then on to
//! the test login.

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use crate::wizard::cmd::{Cmd, go};
use crate::wizard::model::*;
use crate::wizard::theme::Theme;

pub fn key(m: &mut Model, k: KeyEvent) -> Vec<Cmd> {
    if k.code == KeyCode::Enter && m.apply.applied {
        go(m, Step::TestPush);
        m.push.state = PushState::Asking;
    }
    vec![]
}

/// The worker finished the install (`applied` only if it went through: a failure was reported).
pub fn finished(m: &mut Model) -> Vec<Cmd> {
    let failed = m
        .apply
        .progress
        .iter()
        .any(|l| l.state == LineState::Failed);
    if !failed {
        m.apply.applied = true;
        m.notice = Some(Notice::Info(
            "The post-auth script is loaded. Enter tests it with a live login.".into(),
        ));
    }
    vec![]
}

pub fn draw(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let mut lines = super::apply::progress_lines(m, t);
    lines.push(Line::raw(""));
    if m.apply.applied {
        lines.push(Line::styled(
            "Access Server now runs Duo's check after every login.",
            t.ok(),
        ));
        lines.push(Line::raw(
            "`duo-openvpn uninstall` puts back what was loaded before.",
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
