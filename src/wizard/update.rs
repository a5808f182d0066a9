//! `update(&mut Model, Event) -> Vec<Cmd>`: pure. Whatever touches the host or Duo comes back as
//! a [`Cmd`] for the run loop (effects go to the worker's runner; plans are built by the loop) and
//! its result returns as an [`Event`].

use duo::DuoSettings;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::model::*;
use super::steps;
use crate::setup::access::AccessAnswers;
use crate::setup::effect::{Effect, Report};
use crate::setup::plan::{Answers, Plan};

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

#[derive(Debug, Clone)]
pub enum Cmd {
    Run(Effect),
    /// Build the plan from the current answers (`preview`: with every detected client profile).
    Plan {
        preview: bool,
        answers: Box<Answers>,
    },
    Quit,
}

#[cfg(test)]
pub fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

impl Model {
    pub fn settings(&self) -> DuoSettings {
        let mut s = DuoSettings::new(
            self.creds.ikey.value.trim(),
            duo::config::Secret::new(self.creds.skey.value.trim()),
            self.creds.host.value.trim(),
        );
        s.ca_file = self.creds.ca_file.clone();
        s.proxy = self.creds.proxy.clone();
        s.failmode = self.options.failmode;
        s
    }

    pub fn answers(&self, preview: bool) -> Answers {
        let server = self.server();
        Answers {
            settings: self.settings(),
            username_from: self.options.username_from,
            server_config: server.map(|s| s.path.clone()).unwrap_or_default(),
            client_configs: if preview {
                self.detection
                    .clients
                    .iter()
                    .map(|c| c.path.clone())
                    .collect()
            } else {
                self.selected_clients()
            },
            restart: self.restart.wanted,
            test_user: None,
            plugin_so: self.plugin_so.clone(),
            session_tokens: self.session_tokens,
            migrate_upstream: server.is_some_and(|s| s.upstream_duo.is_some()),
        }
    }

    /// Access Server's answers; `test_user`: with the live test through the installed script.
    pub fn access_answers(&self, test_user: Option<String>) -> AccessAnswers {
        AccessAnswers {
            autopush: self.options.autopush,
            web_only: self.options.web_only,
            replace_foreign: self.access.as_ref().is_some_and(|a| a.replace_foreign),
            test_user,
            ..AccessAnswers::new(self.settings())
        }
    }

    pub(super) fn plan_cmd(&self, preview: bool) -> Cmd {
        Cmd::Plan {
            preview,
            answers: Box::new(self.answers(preview)),
        }
    }
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

pub(super) fn go(m: &mut Model, step: Step) {
    m.step = step;
    m.scroll = 0;
    if !matches!(m.notice, Some(Notice::Warn(_)) | Some(Notice::Info(_))) || step != Step::Options {
        m.notice = None;
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

pub fn effect_label(e: &Effect) -> String {
    match e {
        Effect::InstallFile(i) => format!("install {} ({:04o})", i.dest, i.mode),
        Effect::EditConfigs(v) if v.len() == 1 => format!("edit {}", v[0].path),
        Effect::EditConfigs(v) => format!("edit {} configs", v.len()),
        Effect::Restart { unit } => format!("restart {unit}"),
        Effect::TestPush { user } | Effect::TestPushWith { user, .. } => {
            format!("test push to {user}")
        }
        Effect::InstallAccessServer(_) => "install the Access Server post-auth script".into(),
        Effect::TestAccessServer { user, .. } => {
            format!("test login for {user} through the installed script")
        }
        Effect::DuoCheck(_) => "check the credentials".into(),
        Effect::Rollback => "roll back".into(),
    }
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
