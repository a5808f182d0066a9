//! Step 2: the integration key, secret key and API hostname, checked live with Duo. The same
//! screen for Community and Access Server.

use duo::config::{check_host, check_ikey, check_skey};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::setup::effect::Effect;
use crate::wizard::cmd::Cmd;
use crate::wizard::layout::{KEY_WIDTH, kv, shorten_middle};
use crate::wizard::model::*;
use crate::wizard::theme::Theme;

pub fn key(m: &mut Model, k: KeyEvent) -> Vec<Cmd> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    let c = &mut m.creds;
    let field = c.field_mut(c.focus);
    match k.code {
        KeyCode::Char('u') if ctrl => field.value.clear(),
        KeyCode::Char(ch) if !ctrl => field.value.push(ch),
        KeyCode::Backspace => {
            field.value.pop();
        }
        KeyCode::Tab | KeyCode::Down => c.focus = c.focus.next(),
        KeyCode::BackTab | KeyCode::Up => c.focus = c.focus.prev(),
        KeyCode::Enter if c.focus != CredField::Host => c.focus = c.focus.next(),
        KeyCode::Enter => return check(m),
        _ => {}
    }
    vec![]
}

/// Names the first malformed field, else asks Duo (the report moves on to the options).
fn check(m: &mut Model) -> Vec<Cmd> {
    let c = &m.creds;
    let host = c.host.value.trim().to_string();
    let problems: Vec<String> = [
        check_ikey(c.ikey.value.trim())
            .err()
            .map(|e| format!("Integration key: {e}")),
        check_skey(c.skey.value.trim())
            .err()
            .map(|e| format!("Secret key: {e}")),
        check_host(c.host.value.trim())
            .err()
            .map(|e| format!("API hostname: {e}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if let Some(p) = problems.first() {
        m.notice = Some(Notice::Error(p.clone()));
        return vec![];
    }
    m.notice = None;
    m.busy = Busy::Working(format!("Checking the keys with Duo ({host})"));
    vec![Cmd::Run(Effect::DuoCheck(m.settings()))]
}

pub fn draw(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let w = area.width as usize;
    let app = match m.target {
        Target::Community => "OpenVPN",
        Target::AccessServer => "OpenVPN Access Server",
    };
    let mut lines = vec![
        Line::raw(format!("From the Duo Admin Panel: Applications → {app}.")),
        Line::raw("The keys are checked live with Duo (/auth/v2/check)."),
        Line::raw(""),
    ];
    for fld in CredField::ALL {
        let focused = m.creds.focus == fld;
        let cursor = if focused && !m.is_busy() { "▏" } else { "" };
        lines.push(Line::from(vec![
            Span::styled(
                format!("{}{:<16}", if focused { "▸ " } else { "  " }, fld.label()),
                if focused {
                    t.current_step()
                } else {
                    Style::new()
                },
            ),
            Span::styled(
                format!("{}{cursor}", m.creds.field(fld).shown()),
                if focused { t.selected() } else { Style::new() },
            ),
        ]));
        lines.push(Line::raw(""));
    }
    if let Some(ca) = &m.creds.ca_file {
        let shown = shorten_middle(&ca.display().to_string(), w.saturating_sub(KEY_WIDTH));
        lines.extend(kv(t, "CA file", shown, w));
    }
    if let Some(p) = &m.creds.proxy {
        lines.extend(kv(t, "Proxy", duo::config::redact_userinfo(p), w));
    }
    if m.creds.checked {
        lines.push(Line::styled("✓ accepted by Duo", t.ok()));
    }
    f.render_widget(Paragraph::new(lines), area);
}
