//! Before detection, when both Community OpenVPN and Access Server are installed: which one
//! to set up. The step list follows the row under the cursor.

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use crate::wizard::cmd::{Cmd, go};
use crate::wizard::layout::hanging;
use crate::wizard::model::*;
use crate::wizard::theme::Theme;

pub fn key(m: &mut Model, k: KeyEvent) -> Vec<Cmd> {
    match k.code {
        KeyCode::Up | KeyCode::Down | KeyCode::Tab | KeyCode::BackTab => {
            let other = match m.target {
                Target::Community => Target::AccessServer,
                Target::AccessServer => Target::Community,
            };
            m.set_target(other);
        }
        KeyCode::Enter => go(m, Step::Detect),
        _ => {}
    }
    vec![]
}

fn label(m: &Model, target: Target) -> String {
    match target {
        Target::Community => {
            let version = m
                .detection
                .openvpn
                .as_ref()
                .map(|o| format!(" {}", o.version()))
                .unwrap_or_default();
            let servers = match m.detection.servers.len() {
                1 => "1 server config".to_string(),
                n => format!("{n} server configs"),
            };
            format!("OpenVPN Community{version}: the plugin, {servers}")
        }
        Target::AccessServer => {
            let version = m
                .access
                .as_ref()
                .and_then(|a| a.detection.inspection.version.clone())
                .map(|v| format!(" {v}"))
                .unwrap_or_default();
            format!("OpenVPN Access Server{version}: a post-auth script, through sacli")
        }
    }
}

pub fn draw(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let w = area.width as usize;
    let mut lines = vec![
        Line::raw("Both are installed here. Which one does Duo guard?"),
        Line::raw(""),
    ];
    for target in [Target::Community, Target::AccessServer] {
        let on = m.target == target;
        let text = format!("{} {}", if on { "(•)" } else { "( )" }, label(m, target));
        lines.extend(hanging(
            &text,
            if on { t.selected() } else { Style::new() },
            w,
        ));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Run setup again for the other one (or use --target).",
        t.dim(),
    ));
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}
