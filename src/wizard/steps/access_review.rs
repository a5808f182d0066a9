//! Access Server's review: the exact `sacli` calls, the script's size and hash, what uninstall
//! does. Another post-auth script loaded: its summary, and `c` must give consent to replace it
//! before Enter applies. The plan is computed here: `setup::access::plan` reads nothing.

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use crate::setup::access;
use crate::setup::effect::Effect;
use crate::wizard::cmd::{Cmd, effect_label, go};
use crate::wizard::layout::hanging;
use crate::wizard::model::*;
use crate::wizard::theme::Theme;

/// The plan for the current answers, into the model (or its error).
pub fn replan(m: &mut Model) {
    let answers = m.access_answers(None);
    let Some(a) = &mut m.access else {
        return;
    };
    match access::plan(&a.detection, &answers) {
        Ok(p) => {
            a.plan = Some(p);
            m.plan_error = None;
        }
        Err(e) => {
            a.plan = None;
            m.plan_error = Some(e);
        }
    }
}

pub fn key(m: &mut Model, k: KeyEvent) -> Vec<Cmd> {
    let foreign = m
        .access
        .as_ref()
        .is_some_and(|a| a.detection.foreign().is_some());
    match k.code {
        KeyCode::Down | KeyCode::PageDown | KeyCode::Char('j') => {
            m.scroll = m.scroll.saturating_add(3)
        }
        KeyCode::Up | KeyCode::PageUp | KeyCode::Char('k') => m.scroll = m.scroll.saturating_sub(3),
        KeyCode::Char('c') if foreign => {
            if let Some(a) = &mut m.access {
                a.replace_foreign ^= true;
            }
            m.notice = None;
            replan(m);
        }
        KeyCode::Enter => return apply(m),
        _ => {}
    }
    vec![]
}

fn apply(m: &mut Model) -> Vec<Cmd> {
    let Some(plan) = m.access.as_ref().and_then(|a| a.plan.as_ref()) else {
        return vec![];
    };
    if let Some(why) = &plan.blocked {
        m.notice = Some(Notice::Error(format!("{why}: c gives it")));
        return vec![];
    }
    let Some(install) = plan
        .effects
        .iter()
        .find(|e| matches!(e, Effect::InstallAccessServer(_)))
        .cloned()
    else {
        return vec![];
    };
    m.apply.progress = vec![ProgressLine {
        key: String::new(),
        label: "load the post-auth script (sacli ConfigPut, then sacli start)".into(),
        state: LineState::Running,
    }];
    m.apply.next_effect = 0;
    go(m, Step::Apply);
    m.busy = Busy::Working(effect_label(&install));
    vec![Cmd::Run(install)]
}

pub fn draw(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let w = area.width as usize;
    let Some(a) = &m.access else {
        return;
    };
    let Some(p) = &a.plan else {
        let msg = m
            .plan_error
            .clone()
            .unwrap_or_else(|| "computing the plan…".into());
        f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: false }), area);
        return;
    };
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let mut lines = Vec::new();
    // The review below summarises the loaded script; consent comes first, where Enter looks.
    if a.detection.foreign().is_some() {
        let (mark, style) = if a.replace_foreign {
            ("[x]", t.selected())
        } else {
            ("[ ]", t.warn())
        };
        lines.extend(hanging(
            &format!("{mark} replace the post-auth script loaded now (uninstall puts it back): c"),
            style,
            w,
        ));
        lines.push(Line::raw(""));
    }
    lines.push(Line::styled("Setup will", bold));
    for l in &p.review {
        lines.extend(hanging(&format!("  {l}"), Style::new(), w));
    }
    lines.push(Line::styled("Then", bold));
    lines.push(Line::raw(
        "  a test login through the installed script (you choose the user)",
    ));
    for warning in &p.warnings {
        lines.extend(hanging(&format!("! {warning}"), t.warn(), w));
    }
    f.render_widget(Paragraph::new(lines).scroll((m.scroll, 0)), area);
}
