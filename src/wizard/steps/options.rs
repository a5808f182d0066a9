//! Step 3: failmode and where the Duo user name comes from (Community); push at once, and
//! which logins Duo guards (Access Server).

use duo::{Failmode, UsernameFrom};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use crate::wizard::cmd::{Cmd, go};
use crate::wizard::layout::shorten_middle;
use crate::wizard::model::*;
use crate::wizard::theme::Theme;
use crate::wizard::widgets::radio;

pub fn key(m: &mut Model, k: KeyEvent) -> Vec<Cmd> {
    let target = m.target;
    let o = &mut m.options;
    match k.code {
        KeyCode::Down | KeyCode::Tab => o.row = o.row.next(target),
        KeyCode::Up | KeyCode::BackTab => o.row = o.row.prev(target),
        KeyCode::Left | KeyCode::Right | KeyCode::Char(' ')
            if o.row == OptionRow::SessionTokens =>
        {
            toggle_session_tokens(m)
        }
        KeyCode::Left | KeyCode::Right | KeyCode::Char(' ') => toggle(o),
        KeyCode::Enter => {
            let next = m.next_step();
            go(m, next);
            if next == Step::Server {
                return vec![m.plan_cmd(true)];
            }
            if m.target == Target::AccessServer {
                super::access_review::replan(m);
            }
        }
        _ => {}
    }
    vec![]
}

fn toggle(o: &mut OptionsStep) {
    match o.row {
        OptionRow::Failmode => {
            o.failmode = if o.failmode == Failmode::Secure {
                Failmode::Safe
            } else {
                Failmode::Secure
            }
        }
        OptionRow::UsernameFrom => {
            o.username_from = if o.username_from == UsernameFrom::CommonName {
                UsernameFrom::Username
            } else {
                UsernameFrom::CommonName
            }
        }
        OptionRow::Autopush => o.autopush ^= true,
        OptionRow::Scope => o.web_only ^= true,
        OptionRow::SessionTokens => {}
    }
}

/// `auth-gen-token … external-auth` needs OpenVPN 2.5; older servers keep `reneg-sec 0`.
fn toggle_session_tokens(m: &mut Model) {
    if m.session_tokens.take().is_some() {
        return;
    }
    match &m.detection.openvpn {
        Some(v) if (v.major, v.minor) < (2, 5) => {
            m.notice = Some(Notice::Warn(format!(
                "session tokens need OpenVPN 2.5 or later; this server runs {}: reneg-sec 0 stays",
                v.version()
            )))
        }
        _ => m.session_tokens = Some(crate::setup::plan::SESSION_LIFETIME_SECS),
    }
}

/// The row's radio line and the one that says what the choice means.
fn row(m: &Model, t: &Theme, r: OptionRow) -> [Line<'static>; 2] {
    let o = &m.options;
    let focused = o.row == r;
    match r {
        OptionRow::Failmode => [
            radio(
                t,
                focused,
                "When Duo is down",
                &[
                    ("secure", o.failmode == Failmode::Secure),
                    ("safe", o.failmode == Failmode::Safe),
                ],
            ),
            Line::styled(
                if o.failmode == Failmode::Secure {
                    "    refuse logins while Duo cannot be reached"
                } else {
                    "    let users in on their certificate alone (logged)"
                },
                t.dim(),
            ),
        ],
        OptionRow::UsernameFrom => [
            radio(
                t,
                focused,
                "Duo user is the",
                &[
                    ("common_name", o.username_from == UsernameFrom::CommonName),
                    ("username", o.username_from == UsernameFrom::Username),
                ],
            ),
            Line::styled(
                if o.username_from == UsernameFrom::CommonName {
                    "    the client certificate's common name"
                } else {
                    "    the user name typed at login"
                },
                t.dim(),
            ),
        ],
        OptionRow::Autopush => [
            radio(
                t,
                focused,
                "Push at once",
                &[("on", o.autopush), ("off", !o.autopush)],
            ),
            Line::styled(
                if o.autopush {
                    "    a push to the user's phone without asking (AUTOPUSH)"
                } else {
                    "    the user types push, phone, sms or a passcode"
                },
                t.dim(),
            ),
        ],
        OptionRow::SessionTokens => {
            let hours = m.session_tokens.map(|s| s as f64 / 3600.0);
            let on = match hours {
                Some(h) => format!("session tokens, {h} h"),
                None => "session tokens".to_string(),
            };
            let recommended = m
                .detection
                .openvpn
                .as_ref()
                .is_some_and(|v| (v.major, v.minor) >= (2, 6));
            [
                radio(
                    t,
                    focused,
                    "Key renewal",
                    &[
                        ("off: reneg-sec 0", hours.is_none()),
                        (on.as_str(), hours.is_some()),
                    ],
                ),
                Line::styled(
                    match (hours, recommended) {
                        (None, true) => {
                            "    keys never renew: one Duo login per connection (2.6: tokens better)"
                        }
                        (None, false) => {
                            "    keys never renew: one Duo login per connection, as Duo's guide has it"
                        }
                        (Some(_), _) => {
                            "    keys renew hourly, each renewal answered by a session token, not Duo"
                        }
                    },
                    t.dim(),
                ),
            ]
        }
        OptionRow::Scope => [
            radio(
                t,
                focused,
                "Duo guards",
                &[("VPN and web", !o.web_only), ("web only", o.web_only)],
            ),
            Line::styled(
                if o.web_only {
                    "    the web portals only: VPN logins pass without Duo"
                } else {
                    "    VPN connections and the web portals"
                },
                t.dim(),
            ),
        ],
    }
}

pub fn draw(m: &Model, t: &Theme, f: &mut Frame, area: Rect) {
    let mut lines = Vec::new();
    for r in OptionRow::rows(m.target) {
        lines.extend(row(m, t, *r));
        lines.push(Line::raw(""));
    }
    if m.target == Target::Community
        && let Some(s) = m.server()
    {
        let (_, why) = crate::setup::plan::identity_default(s);
        let from = shorten_middle(&s.path, (area.width as usize).saturating_sub(6));
        lines.push(Line::styled(format!("From {from}:"), t.dim()));
        lines.push(Line::raw(why.unwrap_or_else(|| {
            "certificates identify people: the common name is the Duo user".into()
        })));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}
