//! Access Server's detection: what `sacli` said (version, authentication module, TOTP MFA,
//! the post-auth script loaded now, summarised: it may hold someone else's secret key).

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::wizard::cmd::{Cmd, go};
use crate::wizard::layout::{KEY_WIDTH, hanging, kv, shorten_middle};
use crate::wizard::model::*;
use crate::wizard::theme::Theme;

pub fn key(m: &mut Model, k: KeyEvent) -> Vec<Cmd> {
    match k.code {
        KeyCode::Enter => {
            let next = m.next_step();
            go(m, next);
        }
        KeyCode::PageDown | KeyCode::Char('j') | KeyCode::Down => {
            m.scroll = m.scroll.saturating_add(3)
        }
        KeyCode::PageUp | KeyCode::Char('k') | KeyCode::Up => m.scroll = m.scroll.saturating_sub(3),
        _ => {}
    }
    vec![]
}

pub fn draw(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let Some(a) = &m.access else {
        return;
    };
    let w = area.width as usize;
    let i = &a.detection.inspection;
    let mut lines = Vec::new();
    lines.extend(kv(
        t,
        "Access Server",
        i.version
            .clone()
            .unwrap_or_else(|| "(version unknown)".into()),
        w,
    ));
    lines.extend(kv(
        t,
        "sacli",
        shorten_middle(&a.detection.sacli, w.saturating_sub(KEY_WIDTH)),
        w,
    ));
    lines.extend(kv(
        t,
        "Auth module",
        i.auth_type
            .clone()
            .unwrap_or_else(|| "(not set: local)".into()),
        w,
    ));
    let totp = i.totp_mfa || i.totp_autologin;
    lines.push(Line::from(vec![
        ratatui::text::Span::styled(format!("{:<KEY_WIDTH$}", "TOTP MFA"), t.dim()),
        if totp {
            ratatui::text::Span::styled("ON", t.warn())
        } else {
            ratatui::text::Span::raw("off")
        },
    ]));
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Post-auth script",
        Style::new().add_modifier(Modifier::BOLD),
    ));
    match (&i.current_script, a.detection.foreign()) {
        (None, _) => lines.push(Line::raw("  none loaded")),
        (Some(_), None) => lines.push(Line::raw("  duo-openvpn's, from an earlier setup")),
        (Some(_), Some(summary)) => {
            lines.push(Line::styled(
                "  ANOTHER one is loaded (the review asks before replacing it):",
                t.warn(),
            ));
            for l in summary {
                lines.extend(hanging(&format!("    {l}"), Style::new(), w));
            }
        }
    }
    for warning in i.warnings() {
        lines.push(Line::raw(""));
        lines.extend(hanging(&format!("! {warning}"), t.warn(), w));
    }
    f.render_widget(Paragraph::new(lines).scroll((m.scroll, 0)), area);
}
