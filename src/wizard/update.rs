//! `update(&mut Model, Event) -> Vec<Cmd>`: pure. Whatever touches the host or Duo comes back as
//! a [`Cmd`] for the run loop (effects go to the worker's runner; plans are built by the loop) and
//! its result returns as an [`Event`].

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

pub use super::cmd::{Cmd, effect_label, go};
use super::model::*;
use super::steps;
use crate::setup::effect::Report;
use crate::setup::plan::Plan;

#[derive(Debug)]
pub enum Event {
    Key(KeyEvent),
    /// A report from the effect the worker is running.
    Report(Report),
    /// The worker finished an effect; `ok`: what follows may run.
    EffectDone(bool),
    Planned {
        preview: bool,
        result: Result<Plan, String>,
    },
    Tick,
}

#[cfg(test)]
pub fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn update(m: &mut Model, event: Event) -> Vec<Cmd> {
    match event {
        Event::Tick => {
            m.spinner = m.spinner.wrapping_add(1);
            vec![]
        }
        Event::Key(k) if k.kind != KeyEventKind::Release => on_key(m, k),
        Event::Key(_) => vec![],
        Event::Report(r) => on_report(m, r),
        Event::EffectDone(ok) => on_effect_done(m, ok),
        Event::Planned { preview, result } => {
            match result {
                Ok(p) => {
                    m.plan_error = None;
                    if preview {
                        m.preview = Some(p);
                    } else {
                        m.plan = Some(p);
                    }
                }
                Err(e) => {
                    m.plan_error = Some(e.clone());
                    m.notice = Some(Notice::Error(e));
                }
            }
            vec![]
        }
    }
}

/// The keys every step shares; the rest go to the step's own `key`.
fn on_key(m: &mut Model, k: KeyEvent) -> Vec<Cmd> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && matches!(k.code, KeyCode::Char('c')) {
        m.quit = true;
        return vec![Cmd::Quit];
    }
    if m.is_busy() {
        return vec![];
    }
    if !m.typing() {
        match k.code {
            KeyCode::Char('q') => {
                m.quit = true;
                return vec![Cmd::Quit];
            }
            KeyCode::Char('?') => {
                m.show_help = !m.show_help;
                return vec![];
            }
            _ => {}
        }
    }
    if k.code == KeyCode::Esc {
        if m.show_help {
            m.show_help = false;
            return vec![];
        }
        return back(m);
    }
    let access = m.target == Target::AccessServer;
    match m.step {
        Step::Choose => steps::choose::key(m, k),
        Step::Detect if access => steps::access_detect::key(m, k),
        Step::Detect => steps::detect::key(m, k),
        Step::Credentials => steps::credentials::key(m, k),
        Step::Options => steps::options::key(m, k),
        Step::Server => steps::server::key(m, k),
        Step::Clients => steps::clients::key(m, k),
        Step::Review if access => steps::access_review::key(m, k),
        Step::Review => steps::review::key(m, k),
        Step::Apply if access => steps::access_apply::key(m, k),
        Step::Apply => steps::apply::key(m, k),
        Step::Restart => steps::restart::key(m, k),
        Step::TestPush => steps::push::key(m, k),
        Step::Done => steps::done::key(m, k),
    }
}

/// Esc: one step back, up to the review; from the apply on, what is done is done.
fn back(m: &mut Model) -> Vec<Cmd> {
    let i = m.index_of(m.step);
    if i == 0 || i > m.index_of(Step::Review) {
        return vec![];
    }
    let prev = m.prev_step();
    go(m, prev);
    if prev == Step::Server || prev == Step::Clients {
        return vec![m.plan_cmd(true)];
    }
    vec![]
}

fn on_report(m: &mut Model, r: Report) -> Vec<Cmd> {
    // Refused credentials are not an exit code here: the wizard asks again.
    let code = r.exit_code(m.exit_code);
    match r {
        Report::Checked { skew } => {
            m.creds.checked = true;
            m.creds.skew = skew;
            m.notice = Some(match skew.filter(|s| s.abs() > 60) {
                Some(s) => Notice::Warn(format!(
                    "Duo accepted the keys, but this clock is {s:+} s off Duo's: fix the time (NTP)"
                )),
                None => Notice::Info("Duo accepted the integration key and secret key".into()),
            });
            m.step = Step::Options;
        }
        Report::CheckFailed { message, skew, .. } => {
            let hint = skew
                .filter(|s| s.abs() > 60)
                .map(|s| format!(" (this clock is {s:+} s off Duo's: fix the time)"))
                .unwrap_or_default();
            m.notice = Some(Notice::Error(format!("{message}{hint}")));
        }
        Report::Wrote { changed, path } => {
            // Access Server's one line is the script's install, whatever the report calls it.
            let access = m.target == Target::AccessServer;
            if let Some(l) = m
                .apply
                .progress
                .iter_mut()
                .find(|l| l.key == path || (access && l.state == LineState::Running))
            {
                l.state = if changed {
                    LineState::Done
                } else {
                    LineState::Unchanged
                };
            }
        }
        Report::Failed(e) => {
            if m.step == Step::Apply {
                for l in m
                    .apply
                    .progress
                    .iter_mut()
                    .filter(|l| l.state == LineState::Running)
                {
                    l.state = LineState::Failed;
                }
            }
            m.notice = Some(Notice::Error(e));
            m.exit_code = code;
        }
        Report::Restarted { state, .. } => m.restart.state = RestartState::Ok(state),
        Report::RestartFailed { message, log, .. } => {
            m.restart.state = RestartState::Failed { message, log };
            m.exit_code = code;
        }
        Report::RolledBack(lines) => {
            m.restart.state = RestartState::RolledBack(lines);
        }
        Report::Push(line) => m.push.log.push(line),
        Report::PushDone {
            allowed,
            summary,
            secs,
        } => {
            m.exit_code = code;
            m.push.state = PushState::Finished {
                allowed,
                summary,
                secs,
            };
        }
    }
    vec![]
}

fn on_effect_done(m: &mut Model, ok: bool) -> Vec<Cmd> {
    m.busy = Busy::Idle;
    if m.step == Step::Apply && !m.apply.applied {
        if !ok {
            return vec![];
        }
        if m.target == Target::AccessServer {
            return steps::access_apply::finished(m);
        }
        m.apply.next_effect += 1;
        return steps::apply::start_next(m);
    }
    if m.step == Step::Restart && matches!(m.restart.state, RestartState::RolledBack(_)) {
        m.exit_code = crate::cli::exit::UNAVAILABLE;
    }
    vec![]
}
