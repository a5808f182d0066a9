//! `update(&mut Model, Event) -> Vec<Cmd>`: pure. Whatever touches the host or Duo comes back as
//! a [`Cmd`] for the run loop (effects go to the worker's runner; plans are built by the loop) and
//! its result returns as an [`Event`].

use duo::config::{check_host, check_ikey, check_skey};
use duo::{DuoSettings, Failmode, UsernameFrom};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::model::*;
use crate::setup::effect::{Effect, Report, effects};
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
            self.ikey.value.trim(),
            duo::config::Secret::new(self.skey.value.trim()),
            self.host.value.trim(),
        );
        s.ca_file = self.ca_file.clone();
        s.proxy = self.proxy.clone();
        s.failmode = self.failmode;
        s
    }

    pub fn answers(&self, preview: bool) -> Answers {
        let server = self.server();
        Answers {
            settings: self.settings(),
            username_from: self.username_from,
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
            restart: self.restart,
            test_user: None,
            plugin_so: self.plugin_so.clone(),
            session_tokens: self.session_tokens,
            migrate_upstream: server.is_some_and(|s| s.upstream_duo.is_some()),
        }
    }

    fn plan_cmd(&self, preview: bool) -> Cmd {
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

fn on_key(m: &mut Model, k: KeyEvent) -> Vec<Cmd> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && matches!(k.code, KeyCode::Char('c')) {
        m.quit = true;
        return vec![Cmd::Quit];
    }
    if m.is_busy() {
        return vec![];
    }
    let typing = matches!(m.step, Step::Credentials)
        || (m.step == Step::TestPush && m.push == PushState::Asking);
    if !typing {
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
    match m.step {
        Step::Detect => {
            if k.code == KeyCode::Enter {
                if m.detection.servers.is_empty() {
                    m.notice = Some(Notice::Error(
                        "no OpenVPN server config was found: nothing to set up (q quits)".into(),
                    ));
                } else {
                    go(m, Step::Credentials);
                }
            }
            vec![]
        }
        Step::Credentials => credentials_key(m, k),
        Step::Options => {
            match k.code {
                KeyCode::Up | KeyCode::Down | KeyCode::Tab => {
                    m.option_row = 1 - m.option_row.min(1)
                }
                KeyCode::Left | KeyCode::Right | KeyCode::Char(' ') => {
                    if m.option_row == 0 {
                        m.failmode = if m.failmode == Failmode::Secure {
                            Failmode::Safe
                        } else {
                            Failmode::Secure
                        };
                    } else {
                        m.username_from = if m.username_from == UsernameFrom::CommonName {
                            UsernameFrom::Username
                        } else {
                            UsernameFrom::CommonName
                        };
                    }
                }
                KeyCode::Enter => {
                    go(m, Step::Server);
                    return vec![m.plan_cmd(true)];
                }
                _ => {}
            }
            vec![]
        }
        Step::Server => {
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
                KeyCode::Enter if m.plan_error.is_none() => go(m, Step::Clients),
                _ => {}
            }
            vec![]
        }
        Step::Clients => {
            let n = m.detection.clients.len();
            match k.code {
                KeyCode::Up if m.client_cursor > 0 => {
                    m.client_cursor -= 1;
                    m.scroll = 0;
                }
                KeyCode::Down if m.client_cursor + 1 < n => {
                    m.client_cursor += 1;
                    m.scroll = 0;
                }
                KeyCode::Char(' ') if n > 0 => m.client_selected[m.client_cursor] ^= true,
                KeyCode::Char('a') => {
                    let all = m.client_selected.iter().all(|s| *s);
                    m.client_selected.iter_mut().for_each(|s| *s = !all);
                }
                KeyCode::PageDown | KeyCode::Char('j') => m.scroll = m.scroll.saturating_add(5),
                KeyCode::PageUp | KeyCode::Char('k') => m.scroll = m.scroll.saturating_sub(5),
                KeyCode::Enter => {
                    go(m, Step::Review);
                    m.plan = None;
                    return vec![m.plan_cmd(false)];
                }
                _ => {}
            }
            vec![]
        }
        Step::Review => {
            match k.code {
                KeyCode::Down | KeyCode::PageDown | KeyCode::Char('j') => {
                    m.scroll = m.scroll.saturating_add(3)
                }
                KeyCode::Up | KeyCode::PageUp | KeyCode::Char('k') => {
                    m.scroll = m.scroll.saturating_sub(3)
                }
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
                        m.progress = lines;
                        m.next_effect = 0;
                        go(m, Step::Apply);
                        return start_next(m);
                    }
                }
                _ => {}
            }
            vec![]
        }
        Step::Apply => {
            if k.code == KeyCode::Enter && m.applied {
                return start_restart(m);
            }
            vec![]
        }
        Step::Restart => {
            match (&m.restart_state, k.code) {
                (RestartState::Failed { .. }, KeyCode::Char('r')) => {
                    m.busy = Busy::Working("Rolling back".into());
                    return vec![Cmd::Run(Effect::Rollback)];
                }
                (RestartState::RolledBack(_), KeyCode::Enter) => go(m, Step::Done),
                (_, KeyCode::Enter) => {
                    go(m, Step::TestPush);
                    m.push = PushState::Asking;
                }
                _ => {}
            }
            vec![]
        }
        Step::TestPush => match &m.push {
            PushState::Asking => {
                match k.code {
                    KeyCode::Char(c) if !ctrl => m.test_user.value.push(c),
                    KeyCode::Backspace => {
                        m.test_user.value.pop();
                    }
                    KeyCode::Tab => go(m, Step::Done),
                    KeyCode::Enter => {
                        let user = m.test_user.value.trim().to_string();
                        if user.is_empty() {
                            m.notice = Some(Notice::Error(
                                "type a Duo user name (Tab skips the test push)".into(),
                            ));
                        } else {
                            m.push = PushState::Running;
                            m.push_log.clear();
                            m.notice = None;
                            m.busy = Busy::Working(format!("Asking Duo about {user}"));
                            return vec![Cmd::Run(Effect::TestPush { user })];
                        }
                    }
                    _ => {}
                }
                vec![]
            }
            PushState::Running => vec![],
            PushState::Finished { .. } => {
                match k.code {
                    KeyCode::Enter => go(m, Step::Done),
                    KeyCode::Char('r') => {
                        m.push = PushState::Asking;
                        m.push_log.clear();
                    }
                    _ => {}
                }
                vec![]
            }
        },
        Step::Done => {
            if k.code == KeyCode::Enter {
                m.quit = true;
                return vec![Cmd::Quit];
            }
            vec![]
        }
    }
}

fn credentials_key(m: &mut Model, k: KeyEvent) -> Vec<Cmd> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    let field = match m.focus {
        0 => &mut m.ikey,
        1 => &mut m.skey,
        _ => &mut m.host,
    };
    match k.code {
        KeyCode::Char('u') if ctrl => field.value.clear(),
        KeyCode::Char(c) if !ctrl => field.value.push(c),
        KeyCode::Backspace => {
            field.value.pop();
        }
        KeyCode::Tab | KeyCode::Down => m.focus = (m.focus + 1) % 3,
        KeyCode::BackTab | KeyCode::Up => m.focus = (m.focus + 2) % 3,
        KeyCode::Enter if m.focus < 2 => m.focus += 1,
        KeyCode::Enter => {
            let problems: Vec<String> = [
                check_ikey(m.ikey.value.trim())
                    .err()
                    .map(|e| format!("Integration key: {e}")),
                check_skey(m.skey.value.trim())
                    .err()
                    .map(|e| format!("Secret key: {e}")),
                check_host(m.host.value.trim())
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
            m.busy = Busy::Working(format!(
                "Checking the keys with Duo ({})",
                m.host.value.trim()
            ));
            return vec![Cmd::Run(Effect::DuoCheck(m.settings()))];
        }
        _ => {}
    }
    vec![]
}

fn go(m: &mut Model, step: Step) {
    m.step = step;
    m.scroll = 0;
    if !matches!(m.notice, Some(Notice::Warn(_)) | Some(Notice::Info(_))) || step != Step::Options {
        m.notice = None;
    }
}

fn back(m: &mut Model) -> Vec<Cmd> {
    let prev = match m.step {
        Step::Credentials => Step::Detect,
        Step::Options => Step::Credentials,
        Step::Server => Step::Options,
        Step::Clients => Step::Server,
        Step::Review => Step::Clients,
        _ => return vec![],
    };
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

fn file_effects(m: &Model) -> Vec<Effect> {
    m.plan
        .as_ref()
        .map(|p| {
            effects(p)
                .into_iter()
                .filter(|e| matches!(e, Effect::InstallFile(_) | Effect::EditConfigs(_)))
                .collect()
        })
        .unwrap_or_default()
}

fn start_next(m: &mut Model) -> Vec<Cmd> {
    let files = file_effects(m);
    match files.get(m.next_effect) {
        Some(e) => {
            let keys: Vec<String> = match e {
                Effect::InstallFile(i) => vec![i.dest.clone()],
                Effect::EditConfigs(v) => v.iter().map(|f| f.path.clone()).collect(),
                _ => vec![],
            };
            for l in m.progress.iter_mut().filter(|l| keys.contains(&l.key)) {
                l.state = LineState::Running;
            }
            m.busy = Busy::Working(effect_label(e));
            vec![Cmd::Run(e.clone())]
        }
        None => {
            m.applied = true;
            m.busy = Busy::Idle;
            m.notice = Some(Notice::Info(
                "Every file is in place. Enter restarts the service.".into(),
            ));
            vec![]
        }
    }
}

fn start_restart(m: &mut Model) -> Vec<Cmd> {
    go(m, Step::Restart);
    let unit = m.plan.as_ref().and_then(|p| p.restart.clone());
    match unit {
        Some(unit) => {
            m.restart_state = RestartState::Running;
            m.busy = Busy::Working(format!("Restarting {unit}"));
            vec![Cmd::Run(Effect::Restart { unit })]
        }
        None => {
            m.restart_state = RestartState::Skipped;
            vec![]
        }
    }
}

fn on_report(m: &mut Model, r: Report) -> Vec<Cmd> {
    // Refused credentials are not an exit code here: the wizard asks again.
    let code = r.exit_code(m.exit_code);
    match r {
        Report::Checked { skew } => {
            m.checked = true;
            m.skew = skew;
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
            if let Some(l) = m.progress.iter_mut().find(|l| l.key == path) {
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
        Report::Restarted { state, .. } => m.restart_state = RestartState::Ok(state),
        Report::RestartFailed { message, log, .. } => {
            m.restart_state = RestartState::Failed { message, log };
            m.exit_code = code;
        }
        Report::RolledBack(lines) => {
            m.restart_state = RestartState::RolledBack(lines);
        }
        Report::Push(line) => m.push_log.push(line),
        Report::PushDone {
            allowed,
            summary,
            secs,
        } => {
            m.exit_code = code;
            m.push = PushState::Finished {
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
    if m.step == Step::Apply && !m.applied {
        if !ok {
            return vec![];
        }
        m.next_effect += 1;
        return start_next(m);
    }
    if m.step == Step::Restart && matches!(m.restart_state, RestartState::RolledBack(_)) {
        m.exit_code = crate::cli::exit::UNAVAILABLE;
    }
    vec![]
}
