//! The test push: a Duo user name typed, Enter sends it through what was installed, the
//! reports and the result shown. The same screen for Community and Access Server.

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::setup::effect::Effect;
use crate::wizard::cmd::{Cmd, go};
use crate::wizard::model::*;
use crate::wizard::theme::Theme;

pub fn key(m: &mut Model, k: KeyEvent) -> Vec<Cmd> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    match &m.push.state {
        PushState::Asking => match k.code {
            KeyCode::Char(c) if !ctrl => m.push.user.value.push(c),
            KeyCode::Backspace => {
                m.push.user.value.pop();
            }
            KeyCode::Tab => go(m, Step::Done),
            KeyCode::Enter => return send(m),
            _ => {}
        },
        PushState::Running => {}
        PushState::Finished { .. } => match k.code {
            KeyCode::Enter => go(m, Step::Done),
            KeyCode::Char('r') => {
                m.push.state = PushState::Asking;
                m.push.log.clear();
            }
            _ => {}
        },
    }
    vec![]
}

fn send(m: &mut Model) -> Vec<Cmd> {
    let user = m.push.user.value.trim().to_string();
    if user.is_empty() {
        m.notice = Some(Notice::Error(
            "type a Duo user name (Tab skips the test push)".into(),
        ));
        return vec![];
    }
    m.push.state = PushState::Running;
    m.push.log.clear();
    m.notice = None;
    m.busy = Busy::Working(format!("Asking Duo about {user}"));
    vec![Cmd::Run(m.test_effect(user))]
}

impl Model {
    /// The test the target runs: a push through the plugin, or a login through the post-auth
    /// script Access Server loaded.
    fn test_effect(&self, user: String) -> Effect {
        let Some(a) = self
            .access
            .as_ref()
            .filter(|_| self.target == Target::AccessServer)
        else {
            return Effect::TestPush { user };
        };
        // The engine's own test effect for these answers, so the wizard tests what `--yes` would.
        crate::setup::access::plan(&a.detection, &self.access_answers(Some(user.clone())))
            .ok()
            .and_then(|p| {
                p.effects
                    .into_iter()
                    .find(|e| matches!(e, Effect::TestAccessServer { .. }))
            })
            .unwrap_or(Effect::TestAccessServer {
                user,
                answer: duo::config::Secret::new("push"),
                web: self.options.web_only,
            })
    }
}

pub fn draw(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let asking = m.push.state == PushState::Asking;
    let mut lines = vec![
        Line::raw(match m.target {
            Target::Community => "A live login through the installed configuration.",
            Target::AccessServer if m.options.web_only => {
                "A live web login through the installed post-auth script."
            }
            Target::AccessServer => "A live VPN login through the installed post-auth script.",
        }),
        Line::raw(""),
        Line::from(vec![
            Span::styled("▸ Duo user       ", t.current_step()),
            Span::styled(
                format!("{}{}", m.push.user.value, if asking { "▏" } else { "" }),
                if asking { t.selected() } else { Style::new() },
            ),
        ]),
        Line::raw(""),
    ];
    for l in &m.push.log {
        lines.push(Line::styled(format!("  {l}"), t.dim()));
    }
    if let PushState::Finished {
        allowed,
        summary,
        secs,
    } = &m.push.state
    {
        lines.push(Line::raw(""));
        lines.push(if *allowed {
            Line::styled(format!("✓ ALLOWED: {summary} ({secs:.1}s)"), t.ok())
        } else {
            Line::styled(format!("✗ REFUSED: {summary} ({secs:.1}s)"), t.error())
        });
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}
