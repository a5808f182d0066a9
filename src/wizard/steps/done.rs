//! The last step: what now guards the server and how to check or undo it; Enter leaves.

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use crate::wizard::cmd::Cmd;
use crate::wizard::model::*;
use crate::wizard::theme::Theme;

pub fn key(m: &mut Model, k: KeyEvent) -> Vec<Cmd> {
    if k.code == KeyCode::Enter {
        m.quit = true;
        return vec![Cmd::Quit];
    }
    vec![]
}

pub fn draw(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let mut lines = vec![];
    match &m.restart.state {
        RestartState::RolledBack(_) => lines.push(Line::styled(
            "Rolled back: the system is as it was.",
            t.warn(),
        )),
        _ if m.apply.applied && m.target == Target::AccessServer => {
            lines.push(Line::styled("Duo now guards this Access Server.", t.ok()));
            lines.push(Line::raw(""));
            lines.push(Line::raw(if m.options.web_only {
                "Web logins ask Duo after the password; VPN logins do not."
            } else {
                "VPN and web logins ask Duo after the password."
            }));
            lines.push(Line::raw(""));
            lines.push(Line::raw("duo-openvpn status      checks it all again"));
            lines.push(Line::raw(
                "duo-openvpn uninstall   puts back the post-auth script there was",
            ));
        }
        _ if m.apply.applied => {
            lines.push(Line::styled("Duo now guards this OpenVPN server.", t.ok()));
            lines.push(Line::raw(""));
            lines.push(Line::raw(
                "Users log in with their certificate and, as password,",
            ));
            lines.push(Line::raw(
                "nothing or `push` (a push), `phone`, `sms` or a passcode.",
            ));
            lines.push(Line::raw(""));
            lines.push(Line::raw("duo-openvpn status      checks it all again"));
            lines.push(Line::raw(
                "duo-openvpn uninstall   gives back what was there",
            ));
            // The installers' templates: users added from now on get the lines too.
            let notes = m
                .plan
                .as_ref()
                .map(|p| p.template_notes())
                .unwrap_or_default();
            if !notes.is_empty() {
                lines.push(Line::raw(""));
                lines.extend(notes.into_iter().map(|n| Line::raw(capitalised(&n))));
            }
        }
        _ => lines.push(Line::raw("Nothing was changed.")),
    }
    if let PushState::Finished { allowed, .. } = m.push.state {
        lines.push(Line::raw(""));
        lines.push(if allowed {
            Line::styled("The test push was approved.", t.ok())
        } else {
            Line::styled("The test push was refused.", t.error())
        });
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}
