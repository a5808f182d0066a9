//! Step 5 (Community): which client profiles get `auth-user-pass`, and each one's diff.

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
    let n = m.detection.clients.len();
    let c = &mut m.clients;
    match k.code {
        KeyCode::Up if c.cursor > 0 => {
            c.cursor -= 1;
            m.scroll = 0;
        }
        KeyCode::Down if c.cursor + 1 < n => {
            c.cursor += 1;
            m.scroll = 0;
        }
        KeyCode::Char(' ') if n > 0 => c.selected[c.cursor] ^= true,
        KeyCode::Char('a') => {
            let all = c.selected.iter().all(|s| *s);
            c.selected.iter_mut().for_each(|s| *s = !all);
        }
        KeyCode::PageDown | KeyCode::Char('j') => m.scroll = m.scroll.saturating_add(5),
        KeyCode::PageUp | KeyCode::Char('k') => m.scroll = m.scroll.saturating_sub(5),
        KeyCode::Enter => {
            let next = m.next_step();
            go(m, next);
            m.plan = None;
            return vec![m.plan_cmd(false)];
        }
        _ => {}
    }
    vec![]
}

pub fn draw(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let w = area.width as usize;
    let n = m.detection.clients.len() as u16;
    let [list, rest] =
        Layout::vertical([Constraint::Length(n.clamp(1, 5) + 1), Constraint::Min(3)]).areas(area);
    let mut lines: Vec<Line> = m
        .detection
        .clients
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let notes = format!(
                "{}{}{}",
                c.template
                    .map(|who| format!(" (template of {who})"))
                    .unwrap_or_default(),
                if c.ready { " (ready)" } else { "" },
                if c.foreign.is_some() {
                    " (another user's folder)"
                } else {
                    ""
                }
            );
            let room = w.saturating_sub(4 + notes.chars().count());
            let text = format!(
                "[{}] {}{notes}",
                if m.clients.selected[i] { "x" } else { " " },
                shorten_middle(&c.path, room.max(12)),
            );
            if i == m.clients.cursor {
                Line::styled(text, t.selected())
            } else {
                Line::raw(text)
            }
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::styled(
            "No client profile found (edit yours by hand: see the review).",
            t.dim(),
        ));
    }
    let first = (m.clients.cursor as u16).saturating_sub(4);
    f.render_widget(Paragraph::new(lines).scroll((first, 0)), list);
    let current = m.detection.clients.get(m.clients.cursor);
    let mut rows = match (&m.preview, current) {
        (Some(p), Some(c)) => match p.edits.iter().find(|e| e.path == c.path) {
            Some(e) if e.changed() => diff_rows(t, &e.diff()),
            Some(_) => vec![("already set up: nothing to change".into(), t.ok())],
            None => vec![],
        },
        (None, Some(_)) => vec![("computing the changes…".into(), t.dim())],
        _ => vec![],
    };
    if let Some(why) = current.and_then(|c| c.foreign.as_ref()) {
        rows.insert(
            0,
            (
                format!("! {why}: not selected unless you choose it"),
                t.warn(),
            ),
        );
    }
    f.render_widget(
        Paragraph::new(wrapped_lines(rows, w)).scroll((m.scroll, 0)),
        rest,
    );
}
