//! `view(&Model, &mut Frame)`: the step list always on the left, the step on the right, a notice
//! line and the keys at the bottom. Fits 80×24.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::model::*;
use super::theme::Theme;
use duo::{Failmode, UsernameFrom};

const SPIN: [&str; 4] = ["-", "\\", "|", "/"];

pub fn view(m: &Model, t: &Theme, f: &mut Frame) {
    let area = f.area();
    let [top, middle, notice, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(5),
        Constraint::Length(2),
        Constraint::Length(1),
    ])
    .areas(area);
    let title = format!(
        " duo-openvpn setup{} · root {} ",
        if m.demo { " (demo sandbox)" } else { "" },
        m.root_label
    );
    f.render_widget(Paragraph::new(title).style(t.title()), top);
    let [steps, main] =
        Layout::horizontal([Constraint::Length(23), Constraint::Min(30)]).areas(middle);
    step_list(m, t, f, steps);
    let block = Block::default().borders(Borders::ALL).title(format!(
        " {}. {} ",
        m.step.index() + 1,
        m.step.title()
    ));
    let inner = block.inner(main);
    f.render_widget(block, main);
    match m.step {
        Step::Detect => detect(m, t, f, inner),
        Step::Credentials => credentials(m, t, f, inner),
        Step::Options => options(m, t, f, inner),
        Step::Server => server(m, t, f, inner),
        Step::Clients => clients(m, t, f, inner),
        Step::Review => review(m, t, f, inner),
        Step::Apply => apply(m, t, f, inner),
        Step::Restart => restart(m, t, f, inner),
        Step::TestPush => push(m, t, f, inner),
        Step::Done => done(m, t, f, inner),
    }
    notice_line(m, t, f, notice);
    f.render_widget(Paragraph::new(help_line(m, t)), keys);
    if m.show_help {
        help_popup(m, t, f, middle);
    }
}

fn step_list(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let lines: Vec<Line> = Step::ALL
        .iter()
        .map(|s| {
            let (mark, style) = if *s == m.step {
                ("▸", t.current_step())
            } else if *s < m.step {
                ("✓", t.done_step())
            } else {
                (" ", t.later_step())
            };
            Line::from(vec![
                Span::raw(format!("{mark} {:>2}. ", s.index() + 1)),
                Span::styled(s.title(), style),
            ])
        })
        .collect();
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(" Steps ")),
        area,
    );
}

fn notice_line(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let line = match (&m.busy, &m.notice) {
        (Busy::Working(w), _) => Line::from(vec![
            Span::styled(format!(" {} ", SPIN[m.spinner % SPIN.len()]), t.key()),
            Span::raw(format!("{w}…")),
        ]),
        (_, Some(Notice::Info(s))) => {
            Line::from(vec![Span::styled(" ✓ ", t.ok()), Span::raw(s.clone())])
        }
        (_, Some(Notice::Warn(s))) => Line::from(vec![
            Span::styled(" ! ", t.warn()),
            Span::styled(s.clone(), t.warn()),
        ]),
        (_, Some(Notice::Error(s))) => Line::from(vec![
            Span::styled(" ✗ ", t.error()),
            Span::styled(s.clone(), t.error()),
        ]),
        _ => Line::default(),
    };
    f.render_widget(Paragraph::new(line).wrap(Wrap { trim: false }), area);
}

fn keys_for(m: &Model) -> Vec<(&'static str, &'static str)> {
    let mut k: Vec<(&str, &str)> = match m.step {
        Step::Detect => vec![("Enter", "next")],
        Step::Credentials => vec![
            ("Tab", "field"),
            ("Enter", "check with Duo"),
            ("Esc", "back"),
        ],
        Step::Options => vec![
            ("↑↓", "row"),
            ("←→", "change"),
            ("Enter", "next"),
            ("Esc", "back"),
        ],
        Step::Server => vec![
            ("↑↓", "config"),
            ("PgUp/PgDn", "scroll"),
            ("Enter", "next"),
            ("Esc", "back"),
        ],
        Step::Clients => vec![
            ("↑↓", "move"),
            ("Space", "toggle"),
            ("a", "all"),
            ("Enter", "next"),
            ("Esc", "back"),
        ],
        Step::Review => vec![("↑↓", "scroll"), ("Enter", "apply"), ("Esc", "back")],
        Step::Apply if m.applied => vec![("Enter", "restart")],
        Step::Apply => vec![],
        Step::Restart => match m.restart_state {
            RestartState::Failed { .. } => vec![("r", "roll back"), ("Enter", "continue")],
            RestartState::RolledBack(_) => vec![("Enter", "finish")],
            _ => vec![("Enter", "test push")],
        },
        Step::TestPush => match m.push {
            PushState::Asking => vec![("Enter", "send push"), ("Tab", "skip")],
            PushState::Running => vec![],
            PushState::Finished { .. } => vec![("Enter", "finish"), ("r", "again")],
        },
        Step::Done => vec![("Enter", "exit")],
    };
    let typing =
        m.step == Step::Credentials || (m.step == Step::TestPush && m.push == PushState::Asking);
    if !typing {
        k.push(("?", "help"));
    }
    k.push((if typing { "Ctrl-C" } else { "q" }, "quit"));
    k
}

fn help_line(m: &Model, t: &Theme) -> Line<'static> {
    let mut spans = vec![Span::raw(" ")];
    for (i, (key, what)) in keys_for(m).into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", t.dim()));
        }
        spans.push(Span::styled(key, t.key()));
        spans.push(Span::raw(format!(" {what}")));
    }
    Line::from(spans)
}

fn help_popup(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let w = area.width.min(60);
    let h = area.height.min(14);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    let mut lines = vec![Line::styled("Keys on this screen", t.current_step())];
    for (k, what) in keys_for(m) {
        lines.push(Line::from(vec![
            Span::styled(format!("  {k:<10}"), t.key()),
            Span::raw(what),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::raw("Nothing on the host changes before Apply:"));
    lines.push(Line::raw("quitting before it leaves every file as it was."));
    lines.push(Line::raw("Esc goes back; Ctrl-C leaves at any time."));
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(" Help ")),
        r,
    );
}

fn kv(t: &Theme, k: &str, v: impl Into<String>) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{k:<14}"), t.dim()),
        Span::raw(v.into()),
    ])
}

fn detect(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let d = &m.detection;
    let mut lines = Vec::new();
    match &d.openvpn {
        Some(o) => {
            lines.push(kv(t, "OpenVPN", format!("{} (Community)", o.version())));
            lines.push(kv(t, "", o.notes().to_string()));
        }
        None => lines.push(kv(t, "OpenVPN", "not found on PATH")),
    }
    lines.push(kv(
        t,
        "Access Server",
        if d.access_server.is_some() {
            "installed (not handled here)"
        } else {
            "no"
        },
    ));
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        format!("Server configs ({})", d.servers.len()),
        Style::new().add_modifier(Modifier::BOLD),
    ));
    for s in &d.servers {
        lines.push(Line::raw(format!("  {}", s.path)));
        lines.push(Line::styled(
            format!(
                "    {} {} · runs as {}:{}{}",
                s.unit.as_deref().unwrap_or("(no unit)"),
                s.state,
                s.user.as_deref().unwrap_or("root"),
                s.group.as_deref().unwrap_or("root"),
                if s.ours {
                    " · Duo already set up"
                } else if s.upstream_duo.is_some() {
                    " · Duo's old plugin"
                } else {
                    ""
                }
            ),
            t.dim(),
        ));
    }
    if d.servers.is_empty() {
        lines.push(Line::styled("  none: nothing to set up", t.error()));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        format!("Client profiles ({})", d.clients.len()),
        Style::new().add_modifier(Modifier::BOLD),
    ));
    for c in d.clients.iter().take(5) {
        lines.push(Line::raw(format!(
            "  {}{}",
            c.path,
            if c.ready { " (ready)" } else { "" }
        )));
    }
    if d.clients.len() > 5 {
        lines.push(Line::styled(
            format!("  … and {} more", d.clients.len() - 5),
            t.dim(),
        ));
    }
    for u in &d.unreadable {
        lines.push(Line::styled(
            format!("  unreadable: {}: {}", u.path, u.reason),
            t.warn(),
        ));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

fn credentials(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let mut lines = vec![
        Line::raw("From the Duo Admin Panel: Applications → OpenVPN."),
        Line::raw("The keys are checked live with Duo (/auth/v2/check)."),
        Line::raw(""),
    ];
    for (i, (label, field)) in [
        ("Integration key", &m.ikey),
        ("Secret key", &m.skey),
        ("API hostname", &m.host),
    ]
    .iter()
    .enumerate()
    {
        let focused = m.focus == i;
        let cursor = if focused && !m.is_busy() { "▏" } else { "" };
        lines.push(Line::from(vec![
            Span::styled(
                format!("{}{label:<16}", if focused { "▸ " } else { "  " }),
                if focused {
                    t.current_step()
                } else {
                    Style::new()
                },
            ),
            Span::styled(
                format!("{}{cursor}", field.shown()),
                if focused { t.selected() } else { Style::new() },
            ),
        ]));
        lines.push(Line::raw(""));
    }
    if let Some(ca) = &m.ca_file {
        lines.push(kv(t, "CA file", ca.display().to_string()));
    }
    if let Some(p) = &m.proxy {
        lines.push(kv(t, "Proxy", duo::config::redact_userinfo(p)));
    }
    if m.checked {
        lines.push(Line::styled("✓ accepted by Duo", t.ok()));
    }
    f.render_widget(Paragraph::new(lines), area);
}

fn radio(t: &Theme, focused: bool, label: &str, choices: &[(&str, bool)]) -> Line<'static> {
    let mut spans = vec![Span::styled(
        format!("{}{label:<18}", if focused { "▸ " } else { "  " }),
        if focused {
            t.current_step()
        } else {
            Style::new()
        },
    )];
    for (c, on) in choices {
        let text = format!("{} {c}  ", if *on { "(•)" } else { "( )" });
        spans.push(if *on && focused {
            Span::styled(text, t.selected())
        } else {
            Span::raw(text)
        });
    }
    Line::from(spans)
}

fn options(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let mut lines = vec![
        radio(
            t,
            m.option_row == 0,
            "When Duo is down",
            &[
                ("secure", m.failmode == Failmode::Secure),
                ("safe", m.failmode == Failmode::Safe),
            ],
        ),
        Line::styled(
            if m.failmode == Failmode::Secure {
                "    refuse logins while Duo cannot be reached"
            } else {
                "    let users in on their certificate alone (logged)"
            },
            t.dim(),
        ),
        Line::raw(""),
        radio(
            t,
            m.option_row == 1,
            "Duo user is the",
            &[
                ("common_name", m.username_from == UsernameFrom::CommonName),
                ("username", m.username_from == UsernameFrom::Username),
            ],
        ),
        Line::styled(
            if m.username_from == UsernameFrom::CommonName {
                "    the client certificate's common name"
            } else {
                "    the user name typed at login"
            },
            t.dim(),
        ),
        Line::raw(""),
    ];
    if let Some(s) = m.server() {
        let (_, why) = crate::setup::plan::identity_default(s);
        lines.push(Line::styled(format!("From {}:", s.path), t.dim()));
        lines.push(Line::raw(why.unwrap_or_else(|| {
            "certificates identify people: the common name is the Duo user".into()
        })));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

fn diff_text(t: &Theme, diff: &str) -> Vec<Line<'static>> {
    diff.lines()
        .map(|l| {
            // A masked secret block (ovpn_config::mask_secrets) reads as a note, not as data.
            let style = if l.starts_with("+++")
                || l.starts_with("---")
                || (l.starts_with(' ') && l.ends_with(", not shown …]"))
            {
                t.dim()
            } else if l.starts_with('+') {
                t.added()
            } else if l.starts_with('-') {
                t.removed()
            } else if l.starts_with("@@") {
                t.key()
            } else {
                Style::new()
            };
            Line::styled(l.to_string(), style)
        })
        .collect()
}

fn server(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
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
            let text = format!(
                "{} {} ({})",
                if on { "(•)" } else { "( )" },
                s.path,
                s.unit.as_deref().unwrap_or("no unit")
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
                let mut v = diff_text(t, &e.diff());
                for w in &p.warnings {
                    if w.starts_with(&e.path) {
                        v.push(Line::styled(format!("! {w}"), t.warn()));
                    }
                }
                v
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

fn clients(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let n = m.detection.clients.len() as u16;
    let [list, rest] =
        Layout::vertical([Constraint::Length(n.clamp(1, 5) + 1), Constraint::Min(3)]).areas(area);
    let mut lines: Vec<Line> = m
        .detection
        .clients
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let text = format!(
                "[{}] {}{}{}",
                if m.client_selected[i] { "x" } else { " " },
                c.path,
                if c.ready { " (ready)" } else { "" },
                if c.foreign.is_some() {
                    " (another user's folder)"
                } else {
                    ""
                }
            );
            if i == m.client_cursor {
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
    let first = (m.client_cursor as u16).saturating_sub(4);
    f.render_widget(Paragraph::new(lines).scroll((first, 0)), list);
    let mut body = match (&m.preview, m.detection.clients.get(m.client_cursor)) {
        (Some(p), Some(c)) => match p.edits.iter().find(|e| e.path == c.path) {
            Some(e) if e.changed() => diff_text(t, &e.diff()),
            Some(_) => vec![Line::styled("already set up: nothing to change", t.ok())],
            None => vec![],
        },
        (None, Some(_)) => vec![Line::styled("computing the changes…", t.dim())],
        _ => vec![],
    };
    if let Some(why) = m
        .detection
        .clients
        .get(m.client_cursor)
        .and_then(|c| c.foreign.as_ref())
    {
        body.insert(
            0,
            Line::styled(
                format!("! {why}: not selected unless you choose it"),
                t.warn(),
            ),
        );
    }
    f.render_widget(Paragraph::new(body).scroll((m.scroll, 0)), rest);
}

fn review(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let Some(p) = &m.plan else {
        let msg = m
            .plan_error
            .clone()
            .unwrap_or_else(|| "computing the plan…".into());
        f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: false }), area);
        return;
    };
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
            lines.push(Line::styled(format!("    ! {note}"), t.warn()));
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
                lines.push(Line::styled(format!("    {c}"), t.dim()));
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
    for w in &p.warnings {
        lines.push(Line::styled(format!("! {w}"), t.warn()));
    }
    f.render_widget(
        Paragraph::new(Text::from(lines))
            .wrap(Wrap { trim: false })
            .scroll((m.scroll, 0)),
        area,
    );
}

fn state_mark(t: &Theme, s: LineState, spin: usize) -> Span<'static> {
    match s {
        LineState::Pending => Span::styled(" · ", t.dim()),
        LineState::Running => Span::styled(format!(" {} ", SPIN[spin % SPIN.len()]), t.key()),
        LineState::Done => Span::styled(" ✓ ", t.ok()),
        LineState::Unchanged => Span::styled(" = ", t.dim()),
        LineState::Failed => Span::styled(" ✗ ", t.error()),
    }
}

fn apply(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let mut lines: Vec<Line> = m
        .progress
        .iter()
        .map(|l| {
            Line::from(vec![
                state_mark(t, l.state, m.spinner),
                Span::raw(l.label.clone()),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    if m.applied {
        lines.push(Line::styled(
            "All files in place (= already right).",
            t.ok(),
        ));
    } else if m.progress.iter().any(|l| l.state == LineState::Failed) {
        lines.push(Line::styled(
            "Stopped. `duo-openvpn uninstall` undoes what was done.",
            t.error(),
        ));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

fn restart(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let unit = m
        .plan
        .as_ref()
        .and_then(|p| p.restart.clone())
        .unwrap_or_default();
    let lines: Vec<Line> = match &m.restart_state {
        RestartState::NotRun | RestartState::Running => {
            vec![Line::raw(format!("Restarting {unit}…"))]
        }
        RestartState::Skipped => vec![Line::raw(
            "No restart (--no-restart, or no unit for this config).",
        )],
        RestartState::Ok(state) => vec![
            Line::from(vec![
                Span::styled("✓ ", t.ok()),
                Span::raw(format!("{unit} is {state}")),
            ]),
            Line::raw(""),
            Line::raw("OpenVPN now asks Duo at every login."),
        ],
        RestartState::Failed { message, log } => {
            let mut v = vec![
                Line::styled(format!("✗ {message}"), t.error()),
                Line::styled(format!("Last lines of journalctl -u {unit}:"), t.dim()),
            ];
            v.extend(
                log.iter()
                    .rev()
                    .take(12)
                    .rev()
                    .map(|l| Line::raw(format!("  {l}"))),
            );
            v.push(Line::raw(""));
            v.push(Line::raw(
                "r rolls everything back; Enter keeps the changes.",
            ));
            v
        }
        RestartState::RolledBack(done) => {
            let mut v = vec![Line::styled("Rolled back:", t.ok())];
            v.extend(done.iter().map(|l| Line::raw(format!("  {l}"))));
            v
        }
    };
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

fn push(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let mut lines = vec![
        Line::raw("A live login through the installed configuration."),
        Line::raw(""),
        Line::from(vec![
            Span::styled("▸ Duo user       ", t.current_step()),
            Span::styled(
                format!(
                    "{}{}",
                    m.test_user.value,
                    if m.push == PushState::Asking {
                        "▏"
                    } else {
                        ""
                    }
                ),
                if m.push == PushState::Asking {
                    t.selected()
                } else {
                    Style::new()
                },
            ),
        ]),
        Line::raw(""),
    ];
    for l in &m.push_log {
        lines.push(Line::styled(format!("  {l}"), t.dim()));
    }
    if let PushState::Finished {
        allowed,
        summary,
        secs,
    } = &m.push
    {
        lines.push(Line::raw(""));
        lines.push(if *allowed {
            Line::styled(format!("✓ ALLOWED: {summary} ({secs:.1}s)"), t.ok())
        } else {
            Line::styled(format!("✗ REFUSED: {summary} ({secs:.1}s)"), t.error())
        });
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

fn done(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let mut lines = vec![];
    match &m.restart_state {
        RestartState::RolledBack(_) => lines.push(Line::styled(
            "Rolled back: the system is as it was.",
            t.warn(),
        )),
        _ if m.applied => {
            lines.push(Line::styled("Duo now guards this OpenVPN server.", t.ok()));
            lines.push(Line::raw(""));
            lines.push(Line::raw(
                "Users log in with their certificate and, as password,",
            ));
            lines.push(Line::raw(
                "nothing or `push` (a push), `phone`, `sms` or a passcode.",
            ));
            lines.push(Line::raw(""));
            lines.push(Line::raw("duo-openvpn status      checks it all again"));
            lines.push(Line::raw(
                "duo-openvpn uninstall   gives back what was there",
            ));
        }
        _ => lines.push(Line::raw("Nothing was changed.")),
    }
    if let PushState::Finished { allowed, .. } = m.push {
        lines.push(Line::raw(""));
        lines.push(if allowed {
            Line::styled("The test push was approved.", t.ok())
        } else {
            Line::styled("The test push was refused.", t.error())
        });
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}
