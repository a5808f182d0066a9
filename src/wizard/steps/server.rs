//! Step 4 (Community): which server config, and its diff.

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::wizard::cmd::{Cmd, go};
use crate::wizard::layout::{shorten_middle, wrapped_lines};
use crate::wizard::model::*;
use crate::wizard::theme::Theme;
use crate::wizard::widgets::diff_rows;

pub fn key(m: &mut Model, k: KeyEvent) -> Vec<Cmd> {
    let n = m.detection.servers.len();
    match k.code {
        KeyCode::Up if m.server_index > 0 => {
            m.server_index -= 1;
            m.scroll = 0;
            return vec![m.plan_cmd(true)];
        }
        KeyCode::Down if m.server_index + 1 < n => {
            m.server_index += 1;
            m.scroll = 0;
            return vec![m.plan_cmd(true)];
        }
        KeyCode::PageDown | KeyCode::Char('j') => m.scroll = m.scroll.saturating_add(5),
        KeyCode::PageUp | KeyCode::Char('k') => m.scroll = m.scroll.saturating_sub(5),
        KeyCode::Enter if m.plan_error.is_none() => {
            let next = m.next_step();
            go(m, next);
        }
        _ => {}
    }
    vec![]
}

pub fn draw(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let w = area.width as usize;
    let n = m.detection.servers.len() as u16;
    let [list, rest] =
        Layout::vertical([Constraint::Length(n.min(4) + 1), Constraint::Min(3)]).areas(area);
    let mut lines: Vec<Line> = m
        .detection
        .servers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let on = i == m.server_index;
            let unit = format!(" ({})", s.unit.as_deref().unwrap_or("no unit"));
            let room = w.saturating_sub(4 + unit.chars().count());
            let text = format!(
                "{} {}{unit}",
                if on { "(•)" } else { "( )" },
                shorten_middle(&s.path, room.max(12)),
            );
            if on {
                Line::styled(text, t.selected())
            } else {
                Line::raw(text)
            }
        })
        .collect();
    lines.push(Line::raw(""));
    f.render_widget(Paragraph::new(lines), list);
    let body = match (&m.preview, &m.plan_error) {
        (_, Some(e)) => vec![Line::styled(e.clone(), t.error())],
        (Some(p), _) => match p.edits.iter().find(|e| e.server) {
            Some(e) if e.changed() => {
                let mut rows = diff_rows(t, &e.diff());
                for warning in &p.warnings {
                    if warning.starts_with(&e.path) {
                        rows.push((format!("! {warning}"), t.warn()));
                    }
                }
                wrapped_lines(rows, w)
            }
            Some(e) => vec![Line::styled(
                format!("{}: already set up, nothing to change", e.path),
                t.ok(),
            )],
            None => vec![],
        },
        (None, None) => vec![Line::styled("computing the changes…", t.dim())],
    };
    f.render_widget(Paragraph::new(body).scroll((m.scroll, 0)), rest);
}
