//! Step 6 (Community): every file installed and edited, then the restart and the test push;
//! Enter applies.

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Text};
use ratatui::widgets::{Paragraph, Wrap};

use crate::wizard::cmd::{Cmd, go};
use crate::wizard::layout::hanging;
use crate::wizard::model::*;
use crate::wizard::theme::Theme;

pub fn key(m: &mut Model, k: KeyEvent) -> Vec<Cmd> {
    match k.code {
        KeyCode::Down | KeyCode::PageDown | KeyCode::Char('j') => {
            m.scroll = m.scroll.saturating_add(3)
        }
        KeyCode::Up | KeyCode::PageUp | KeyCode::Char('k') => m.scroll = m.scroll.saturating_sub(3),
        KeyCode::Enter => {
            if let Some(plan) = &m.plan {
                let mut lines: Vec<ProgressLine> = plan
                    .installs
                    .iter()
                    .map(|i| ProgressLine {
                        key: i.dest.clone(),
                        label: format!("install {} ({:04o})", i.dest, i.mode),
                        state: LineState::Pending,
                    })
                    .collect();
                lines.extend(plan.edits.iter().map(|e| ProgressLine {
                    key: e.path.clone(),
                    label: format!("edit {}", e.path),
                    state: LineState::Pending,
                }));
                m.apply.progress = lines;
                m.apply.next_effect = 0;
                go(m, Step::Apply);
                return super::apply::start_next(m);
            }
        }
        _ => {}
    }
    vec![]
}

pub fn draw(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let Some(p) = &m.plan else {
        let msg = m
            .plan_error
            .clone()
            .unwrap_or_else(|| "computing the plan…".into());
        f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: false }), area);
        return;
    };
    let w = area.width as usize;
    let mut lines = vec![Line::styled(
        "Installed (owner, mode)",
        Style::new().add_modifier(Modifier::BOLD),
    )];
    for i in &p.installs {
        lines.push(Line::raw(format!(
            "  {} {} {:04o}",
            i.dest,
            i.owner(),
            i.mode
        )));
        lines.push(Line::styled(
            format!(
                "    {}{}",
                i.what,
                if i.changed() { "" } else { " (unchanged)" }
            ),
            t.dim(),
        ));
        if i.dest == crate::system::root::CONFIG_PATH
            && let (Some(g), Some(s)) = (&i.group, m.server())
            && let Some(note) = crate::setup::plan::shared_group_note(g, &s.path)
        {
            lines.extend(hanging(&format!("    ! {note}"), t.warn(), w));
        }
    }
    lines.push(Line::styled(
        "Edited (backup kept, undone by uninstall)",
        Style::new().add_modifier(Modifier::BOLD),
    ));
    for e in &p.edits {
        if e.changed() {
            lines.push(Line::raw(format!("  {}", e.path)));
            for c in &e.changes {
                lines.extend(hanging(&format!("    {c}"), t.dim(), w));
            }
        } else {
            lines.push(Line::raw(format!("  {} (unchanged)", e.path)));
        }
    }
    lines.push(Line::styled(
        "Then",
        Style::new().add_modifier(Modifier::BOLD),
    ));
    lines.push(Line::raw(match &p.restart {
        Some(u) => format!("  restart {u}"),
        None => "  no restart".into(),
    }));
    lines.push(Line::raw("  a test push (you choose the user)"));
    for warning in &p.warnings {
        lines.extend(hanging(&format!("! {warning}"), t.warn(), w));
    }
    f.render_widget(
        Paragraph::new(Text::from(lines))
            .wrap(Wrap { trim: false })
            .scroll((m.scroll, 0)),
        area,
    );
}
