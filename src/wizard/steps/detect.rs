//! Step 1: what detection found; Enter goes on when there is a server config to set up.

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use crate::wizard::cmd::{Cmd, go};
use crate::wizard::layout::{join_fit, kv, shorten_middle};
use crate::wizard::model::*;
use crate::wizard::theme::Theme;

pub fn key(m: &mut Model, k: KeyEvent) -> Vec<Cmd> {
    if k.code == KeyCode::Enter {
        if m.detection.servers.is_empty() {
            m.notice = Some(Notice::Error(
                "no OpenVPN server config was found: nothing to set up (q quits)".into(),
            ));
        } else {
            let next = m.next_step();
            go(m, next);
        }
    }
    vec![]
}

pub fn draw(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let w = area.width as usize;
    let d = &m.detection;
    let mut lines = Vec::new();
    match &d.openvpn {
        Some(o) => {
            lines.extend(kv(t, "OpenVPN", format!("{} (Community)", o.version()), w));
            lines.extend(kv(t, "", o.notes().to_string(), w));
        }
        None => lines.extend(kv(t, "OpenVPN", "not found on PATH", w)),
    }
    lines.extend(kv(
        t,
        "Access Server",
        if d.access_server.is_some() {
            "installed (not handled here)"
        } else {
            "no"
        },
        w,
    ));
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        format!("Server configs ({})", d.servers.len()),
        Style::new().add_modifier(Modifier::BOLD),
    ));
    for s in &d.servers {
        lines.push(Line::raw(format!("  {}", shorten_middle(&s.path, w - 2))));
        let mut parts = vec![
            format!("{} {}", s.unit.as_deref().unwrap_or("(no unit)"), s.state),
            format!(
                "runs as {}:{}",
                s.user.as_deref().unwrap_or("root"),
                s.group.as_deref().unwrap_or("root")
            ),
        ];
        if s.ours {
            parts.push("Duo already set up".into());
        } else if s.upstream_duo.is_some() {
            parts.push("Duo's old plugin".into());
        }
        for row in join_fit("    ", &parts, " · ", "    ", w) {
            lines.push(Line::styled(row, t.dim()));
        }
    }
    if d.servers.is_empty() {
        lines.push(Line::styled("  none: nothing to set up", t.error()));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        format!("Client profiles ({})", d.clients.len()),
        Style::new().add_modifier(Modifier::BOLD),
    ));
    for c in d.clients.iter().take(5) {
        let ready = if c.ready { " (ready)" } else { "" };
        lines.push(Line::raw(format!(
            "  {}{ready}",
            shorten_middle(&c.path, w.saturating_sub(2 + ready.len()))
        )));
    }
    if d.clients.len() > 5 {
        lines.push(Line::styled(
            format!("  … and {} more", d.clients.len() - 5),
            t.dim(),
        ));
    }
    for u in &d.unreadable {
        lines.push(Line::styled(
            format!("  unreadable: {}: {}", u.path, u.reason),
            t.warn(),
        ));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}
