//! The wizard without a terminal: `update` driven by key events, effects run in line by the real
//! runner against the Duo stand-in in a sandbox, every screen drawn into an 80×24 `TestBackend`
//! and snapshotted (temp paths, ports and timings redacted), NO_COLOR styles checked per cell.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use clap::Parser;
use duo_mock::{MockConfig, MockDuo};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use ratatui::style::{Color, Modifier};

use super::model::*;
use super::theme::Theme;
use super::update::{Cmd, Event, key, update};
use super::{Executor, initial_model, view};
use crate::cli::{Cli, Command};
use crate::setup::effect::{Report, Runner};
use crate::system::detect;
use crate::system::host::Host;

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo");

struct Harness {
    _sandbox: tempfile::TempDir,
    _bin: tempfile::TempDir,
    _inputs: tempfile::TempDir,
    mock: MockDuo,
    host: Host,
    model: Model,
    exec: Executor,
    runner: Runner,
}

fn put(path: &Path, bytes: &[u8], mode: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

impl Harness {
    /// Detection again, after a test changed the sandbox's files: the plan is computed from
    /// what detection read, not from a second read.
    fn redetect(&mut self) {
        let d = detect::detect(&self.host, &[]);
        self.model.detection = d.clone();
        self.exec.detection = d;
    }

    fn new() -> Harness {
        let sandbox = tempfile::tempdir().unwrap();
        let bin = tempfile::tempdir().unwrap();
        let inputs = tempfile::tempdir().unwrap();
        let asset = |n: &str| std::fs::read(Path::new(DEMO).join(n)).unwrap();
        let root = sandbox.path();
        put(
            &root.join("etc/openvpn/server/server.conf"),
            &asset("server.conf"),
            0o644,
        );
        put(
            &root.join("home/alice/alice.ovpn"),
            &asset("alice.ovpn"),
            0o600,
        );
        put(&root.join("root/bob.ovpn"), &asset("bob.ovpn"), 0o600);
        put(
            &root.join("etc/openvpn/client/laptop.conf"),
            &asset("laptop.conf"),
            0o640,
        );
        for p in ["systemctl", "openvpn", "journalctl"] {
            put(&bin.path().join(p), &asset(&format!("bin/{p}")), 0o755);
        }
        let plugin = inputs.path().join("libduo_openvpn_plugin.so");
        put(&plugin, b"fake plugin\n", 0o644);
        let skey = inputs.path().join("skey");
        put(&skey, duo_mock::MOCK_SKEY.as_bytes(), 0o600);
        let ca = inputs.path().join("ca.pem");
        let mock = MockDuo::start(MockConfig::default()).unwrap();
        mock.set_push_delay(std::time::Duration::from_millis(300));
        mock.write_ca(&ca).unwrap();
        let host =
            Host::new(root, &crate::system::process::Process::os()).with_path_first(bin.path());
        let cli = Cli::try_parse_from([
            "duo-openvpn",
            "setup",
            "--root",
            &root.display().to_string(),
            "--ikey",
            duo_mock::MOCK_IKEY,
            "--host",
            &mock.host(),
            "--ca-file",
            &ca.display().to_string(),
            "--plugin-so",
            &plugin.display().to_string(),
            "--skey-file",
            &skey.display().to_string(),
        ])
        .unwrap();
        let Command::Setup(args) = cli.command else {
            unreachable!()
        };
        let detection = detect::detect(&host, &[]);
        let model = initial_model(&args, &host, detection.clone(), None, false);
        let (tx, _rx) = std::sync::mpsc::channel();
        let exec = Executor {
            host: host.clone(),
            detection,
            effects: tx,
        };
        let runner = Runner::new(host.clone()).unwrap();
        Harness {
            _sandbox: sandbox,
            _bin: bin,
            _inputs: inputs,
            mock,
            host,
            model,
            exec,
            runner,
        }
    }

    /// Update, then run every command in line (effects through the real runner) until quiet.
    fn send(&mut self, e: Event) {
        let mut queue = std::collections::VecDeque::from([e]);
        while let Some(e) = queue.pop_front() {
            for cmd in update(&mut self.model, e) {
                match cmd {
                    Cmd::Run(effect) => {
                        let mut reports = Vec::new();
                        let ok = self
                            .runner
                            .run(&effect, &mut |r| reports.push(Event::Report(r)));
                        queue.extend(reports);
                        queue.push_back(Event::EffectDone(ok));
                    }
                    other => queue.extend(self.exec.exec(other)),
                }
            }
        }
    }

    fn key(&mut self, code: KeyCode) {
        self.send(key(code));
    }

    fn draw(&self, theme: &Theme) -> Terminal<TestBackend> {
        self.draw_at(theme, 80, 24)
    }

    fn draw_at(&self, theme: &Theme, width: u16, height: u16) -> Terminal<TestBackend> {
        draw_model(&self.model, theme, width, height)
    }

    /// Snapshot in colour, and under NO_COLOR check that no cell carries a colour.
    fn snap(&self, name: &str) {
        snapshot(&self.model, &self.host, name);
    }
}

pub(super) fn draw_model(
    m: &Model,
    theme: &Theme,
    width: u16,
    height: u16,
) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(width, height)).unwrap();
    t.draw(|f| view::view(m, theme, f)).unwrap();
    t
}

/// The 80×24 screen in colour, the sandbox's root, temp paths, ports and timings redacted,
/// against the stored snapshot; under NO_COLOR the same text with no colour in any cell.
pub(super) fn snapshot(m: &Model, host: &Host, name: &str) {
    let t = draw_model(m, &Theme { no_color: false }, 80, 24);
    let text = t.backend().to_string();
    let root = host.root.dir().display().to_string();
    let fixed = text.replace(
        &root,
        &"/tmp/SANDBOX"
            .chars()
            .chain(std::iter::repeat('_'))
            .take(root.len())
            .collect::<String>(),
    );
    let fixed = same_width_redactions(&fixed);
    insta::with_settings!({
        filters => vec![
            (r"localhost:\d{4,5}", "localhost:PORT_"),
            (r"/tmp/\.tmp[A-Za-z0-9]{6}", "/tmp/.tmpXXXXXX"),
            (r"\(\d+\.\ds\)", "(T.Ts)"),
            (r"-?\+?\d+ s off", "N s off"),
        ],
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_snapshot!(name, fixed);
    });
    let plain = draw_model(m, &Theme { no_color: true }, 80, 24);
    no_colour(plain.backend().buffer(), name);
    // Same text either way: NO_COLOR changes styles only.
    assert_eq!(
        plain.backend().to_string(),
        text,
        "{name}: NO_COLOR changed the text"
    );
}

/// Hashes and byte counts that change from run to run (the rendered script holds the
/// stand-in's port and CA), replaced without changing the screen's widths: a frame's right
/// border stays where it was.
fn same_width_redactions(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let hex = chars[i..]
            .iter()
            .take_while(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            .count();
        if hex >= 64 {
            out.extend(std::iter::repeat_n('#', hex));
            i += hex;
            continue;
        }
        let digits = chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        let rest: String = chars[i + digits..].iter().take(6).collect();
        // The rendered script's size; a fixed script's few lines stay as they are.
        if (digits > 0 && rest == " bytes") || (digits >= 3 && rest.starts_with(" lines")) {
            out.extend(std::iter::repeat_n('N', digits));
            i += digits;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

pub(super) fn no_colour(buf: &ratatui::buffer::Buffer, name: &str) {
    for c in buf.content() {
        assert!(
            c.fg == Color::Reset && c.bg == Color::Reset,
            "{name}: a colour under NO_COLOR: {c:?}"
        );
    }
}

/// Cells on `row` whose symbol starts the text `needle`, with their modifier.
pub(super) fn modifier_at(buf: &ratatui::buffer::Buffer, needle: &str) -> Option<Modifier> {
    let w = buf.area.width as usize;
    for y in 0..buf.area.height as usize {
        let line: String = buf.content()[y * w..(y + 1) * w]
            .iter()
            .map(|c| c.symbol())
            .collect();
        if let Some(x) = line.find(needle) {
            let col = line[..x].chars().count();
            return Some(buf.content()[y * w + col].modifier);
        }
    }
    None
}

#[test]
fn every_screen_of_a_whole_run() {
    let mut h = Harness::new();
    h.snap("01_detection");
    h.model.show_help = true;
    h.snap("01_detection_help");
    h.model.show_help = false;

    h.key(KeyCode::Enter);
    h.snap("02_credentials");
    // A bad host is named before anything is sent.
    let good = h.model.creds.host.value.clone();
    h.model.creds.host.value = "https://api-x.duosecurity.com/".into();
    h.model.creds.focus = CredField::Host;
    h.key(KeyCode::Enter);
    assert_eq!(h.model.step, Step::Credentials);
    h.snap("02_credentials_invalid");
    h.model.creds.host.value = good;
    h.model.busy = Busy::Working(format!(
        "Checking the keys with Duo ({})",
        h.model.creds.host.value
    ));
    h.snap("02_credentials_checking");
    h.model.busy = Busy::Idle;
    h.key(KeyCode::Enter);
    assert_eq!(h.model.step, Step::Options, "{:?}", h.model.notice);
    assert!(h.model.creds.checked);
    h.snap("03_options");
    let mut skewed = h.model.clone();
    skewed.notice = Some(Notice::Warn(
        "Duo accepted the keys, but this clock is +93 s off Duo's: fix the time (NTP)".into(),
    ));
    std::mem::swap(&mut h.model, &mut skewed);
    h.snap("03_options_clock_skew");
    std::mem::swap(&mut h.model, &mut skewed);

    h.key(KeyCode::Enter);
    assert_eq!(h.model.step, Step::Server);
    assert!(h.model.preview.is_some(), "{:?}", h.model.plan_error);
    h.snap("04_server");

    h.key(KeyCode::Enter);
    assert_eq!(h.model.step, Step::Clients);
    h.snap("05_clients");
    h.key(KeyCode::Down);
    h.key(KeyCode::Char(' '));
    h.snap("05_clients_toggled");
    let t = h.draw(&Theme { no_color: true });
    assert!(modifier_at(t.backend().buffer(), "[").is_some());

    h.key(KeyCode::Enter);
    assert_eq!(h.model.step, Step::Review);
    h.snap("06_review");

    h.key(KeyCode::Enter);
    assert_eq!(h.model.step, Step::Apply);
    assert!(h.model.apply.applied, "{:?}", h.model.notice);
    h.snap("07_apply");
    let conf = std::fs::read_to_string(h.host.path("/etc/openvpn/server/server.conf")).unwrap();
    assert!(conf.contains("reneg-sec 0"));

    h.key(KeyCode::Enter);
    assert_eq!(h.model.step, Step::Restart);
    assert_eq!(h.model.restart.state, RestartState::Ok("active".into()));
    h.snap("08_restart");

    h.key(KeyCode::Enter);
    assert_eq!(h.model.step, Step::TestPush);
    for c in "alice".chars() {
        h.key(KeyCode::Char(c));
    }
    h.snap("09_push_user");
    h.key(KeyCode::Enter);
    assert!(
        matches!(
            h.model.push.state,
            PushState::Finished { allowed: true, .. }
        ),
        "{:?}",
        h.model.push.state
    );
    h.snap("09_push_allowed");

    h.key(KeyCode::Enter);
    assert_eq!(h.model.step, Step::Done);
    h.snap("10_done");
    h.key(KeyCode::Enter);
    assert!(h.model.quit);
    assert_eq!(h.model.exit_code, 0);
    drop(h.mock);
}

#[test]
fn a_failed_restart_shows_the_log_and_rolls_back() {
    let mut h = Harness::new();
    let before = std::fs::read(h.host.path("/etc/openvpn/server/server.conf")).unwrap();
    for _ in 0..6 {
        h.key(KeyCode::Enter); // detection, 3 fields, options, server
    }
    assert_eq!(h.model.step, Step::Clients);
    h.key(KeyCode::Enter);
    h.key(KeyCode::Enter);
    assert!(h.model.apply.applied);
    h.model.step = Step::Restart;
    h.model.notice = None;
    h.send(Event::Report(Report::RestartFailed {
        unit: "openvpn-server@server".into(),
        message: "openvpn-server@server is failed after the restart".into(),
        log: vec![
            "Options error: --plugin: cannot open /usr/lib/duo-openvpn/libduo_openvpn_plugin.so"
                .into(),
            "Exiting due to fatal error".into(),
        ],
    }));
    h.snap("08_restart_failed");
    h.key(KeyCode::Char('r'));
    assert!(
        matches!(h.model.restart.state, RestartState::RolledBack(_)),
        "{:?}",
        h.model.restart.state
    );
    h.snap("08_restart_rolled_back");
    assert_eq!(
        std::fs::read(h.host.path("/etc/openvpn/server/server.conf")).unwrap(),
        before
    );
    assert!(!h.host.path("/etc/duo-openvpn/duo.toml").exists());
    h.key(KeyCode::Enter);
    h.snap("10_done_rolled_back");
}

#[test]
fn refused_credentials_and_a_refused_push() {
    let mut h = Harness::new();
    h.key(KeyCode::Enter);
    h.model.creds.skey.value = "WrongSecretKey00000000000000000000000000".into();
    h.model.creds.focus = CredField::Host;
    h.key(KeyCode::Enter);
    assert_eq!(h.model.step, Step::Credentials);
    assert!(
        matches!(&h.model.notice, Some(Notice::Error(e)) if e.contains("rejected")),
        "{:?}",
        h.model.notice
    );
    h.snap("02_credentials_refused");
    h.model.creds.skey.value = duo_mock::MOCK_SKEY.into();
    h.key(KeyCode::Enter);
    for _ in 0..4 {
        h.key(KeyCode::Enter);
    }
    assert_eq!(h.model.step, Step::Apply);
    h.key(KeyCode::Enter);
    h.key(KeyCode::Enter);
    assert_eq!(h.model.step, Step::TestPush);
    for c in "bob".chars() {
        h.key(KeyCode::Char(c));
    }
    h.key(KeyCode::Enter);
    assert!(matches!(
        h.model.push.state,
        PushState::Finished { allowed: false, .. }
    ));
    h.snap("09_push_refused");
    assert_eq!(h.model.exit_code, crate::cli::exit::DENIED);
}

#[test]
fn q_and_esc_before_apply_change_nothing() {
    let mut h = Harness::new();
    let before = std::fs::read(h.host.path("/etc/openvpn/server/server.conf")).unwrap();
    for _ in 0..6 {
        h.key(KeyCode::Enter);
    }
    assert_eq!(h.model.step, Step::Clients);
    h.key(KeyCode::Esc);
    assert_eq!(h.model.step, Step::Server);
    h.key(KeyCode::Esc);
    h.key(KeyCode::Esc);
    assert_eq!(h.model.step, Step::Credentials);
    // In a text field, q is a letter; Ctrl-C quits.
    h.key(KeyCode::Char('q'));
    assert!(!h.model.quit);
    h.key(KeyCode::Esc);
    h.key(KeyCode::Char('q'));
    assert!(h.model.quit);
    assert_eq!(
        std::fs::read(h.host.path("/etc/openvpn/server/server.conf")).unwrap(),
        before
    );
    assert!(!h.host.path("/var/lib/duo-openvpn").exists());
}

#[test]
fn no_color_keeps_meaning_in_modifiers() {
    let mut h = Harness::new();
    h.key(KeyCode::Enter);
    let t = h.draw(&Theme { no_color: true });
    let buf = t.backend().buffer();
    // The focused field is reversed, the current step bold+underlined, the title reversed.
    assert!(
        modifier_at(buf, "DIMOCK")
            .unwrap()
            .contains(Modifier::REVERSED)
    );
    // At 80 columns the step list is its numbers, in the step's frame.
    assert!(
        modifier_at(buf, "2 3 4 5")
            .unwrap()
            .contains(Modifier::BOLD | Modifier::UNDERLINED)
    );
    assert!(modifier_at(buf, "3 4 5").unwrap().is_empty());
    let wide = h.draw_at(&Theme { no_color: true }, 120, 30);
    assert!(
        modifier_at(wide.backend().buffer(), "Credentials    │")
            .unwrap()
            .contains(Modifier::BOLD | Modifier::UNDERLINED)
    );
    assert!(
        modifier_at(buf, "duo-openvpn setup")
            .unwrap()
            .contains(Modifier::REVERSED)
    );
    // In colour the same cells carry colours instead.
    let t = h.draw(&Theme { no_color: false });
    let buf = t.backend().buffer();
    let w = buf.area.width as usize;
    let y = (0..buf.area.height as usize)
        .find(|y| {
            buf.content()[y * w..(y + 1) * w]
                .iter()
                .map(|c| c.symbol())
                .collect::<String>()
                .contains("DIMOCK")
        })
        .unwrap();
    assert!(
        buf.content()[y * w..(y + 1) * w]
            .iter()
            .any(|c| c.bg == Color::Cyan)
    );
}

#[test]
fn upstream_duo_credentials_are_offered_for_migration() {
    let h = Harness::new();
    let conf = h.host.path("/etc/openvpn/server/server.conf");
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str("plugin /opt/duo/duo_openvpn.so 'DIUPSTREAM00000000AB Upstream0Secret0Key000000000000000000000 api-up.duosecurity.com'\n");
    std::fs::write(&conf, text).unwrap();
    let cli = Cli::try_parse_from([
        "duo-openvpn",
        "setup",
        "--root",
        &h.host.root.dir().display().to_string(),
    ])
    .unwrap();
    let Command::Setup(args) = cli.command else {
        unreachable!()
    };
    let m = initial_model(&args, &h.host, detect::detect(&h.host, &[]), None, false);
    assert_eq!(m.creds.ikey.value, "DIUPSTREAM00000000AB");
    assert_eq!(m.creds.host.value, "api-up.duosecurity.com");
    assert!(matches!(&m.notice, Some(Notice::Info(n)) if n.contains("Duo's own plugin")));
    assert!(m.answers(false).migrate_upstream);
}

#[test]
fn a_config_changed_after_the_review_stops_the_apply_and_names_it() {
    let mut h = Harness::new();
    for _ in 0..6 {
        h.key(KeyCode::Enter);
    }
    h.key(KeyCode::Enter);
    assert_eq!(h.model.step, Step::Review);
    let conf = h.host.path("/etc/openvpn/server/server.conf");
    let changed = std::fs::read_to_string(&conf)
        .unwrap()
        .replace("verb 3", "verb 5");
    std::fs::write(&conf, &changed).unwrap();
    h.key(KeyCode::Enter);
    assert!(!h.model.apply.applied);
    assert!(
        matches!(&h.model.notice, Some(Notice::Error(e)) if e.contains("server.conf") && e.contains("changed since the plan")),
        "{:?}",
        h.model.notice
    );
    h.snap("07_apply_failed");
    // No config was written (one transaction); what was installed is in the manifest for uninstall.
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), changed);
    let alice = std::fs::read_to_string(h.host.path("/home/alice/alice.ovpn")).unwrap();
    assert!(!alice.contains("auth-retry interact"));
    assert!(h.host.path("/var/lib/duo-openvpn/manifest.json").exists());
}

fn enter_until(h: &mut Harness, step: Step) {
    for _ in 0..10 {
        if h.model.step == step {
            return;
        }
        h.key(KeyCode::Enter);
    }
    panic!("never reached {step:?}: {:?}", h.model.notice);
}

/// Every line of the terminal, for tests that look for text anywhere on a larger screen.
fn screen(h: &Harness, width: u16, height: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(width, height)).unwrap();
    t.draw(|f| view::view(&h.model, &Theme { no_color: true }, f))
        .unwrap();
    t.backend().to_string()
}

#[test]
fn diff_panes_never_show_a_secret_block_next_to_an_edit() {
    const SECRETS: [&str; 4] = [
        "WizardTlsCryptSecretLine1111",
        "WizardTlsCryptSecretLine2222",
        "WizardPrivateKeyLine11111111",
        "WizardPrivateKeyLine22222222",
    ];
    let mut h = Harness::new();
    // Both right after the last option, where setup adds its lines (3 lines of diff context).
    let conf = h.host.path("/etc/openvpn/server/server.conf");
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str(&format!(
        "<tls-crypt>\n{}\n{}\n</tls-crypt>\n",
        SECRETS[0], SECRETS[1]
    ));
    std::fs::write(&conf, text).unwrap();
    let alice = h.host.path("/home/alice/alice.ovpn");
    let text = std::fs::read_to_string(&alice).unwrap().replace(
        "verb 3\n",
        &format!("verb 3\n<key>\n{}\n{}\n</key>\n", SECRETS[2], SECRETS[3]),
    );
    std::fs::write(&alice, text).unwrap();
    h.redetect();

    enter_until(&mut h, Step::Server);
    let shown = screen(&h, 120, 60);
    for s in SECRETS {
        assert!(!shown.contains(s), "{s} shown:\n{shown}");
    }
    assert!(
        shown.contains("<tls-crypt>")
            && shown.contains("[… 2 lines of the tls-crypt key, not shown …]"),
        "{shown}"
    );
    h.key(KeyCode::Enter);
    assert_eq!(h.model.step, Step::Clients);
    h.model.clients.cursor = h
        .model
        .detection
        .clients
        .iter()
        .position(|c| c.path == "/home/alice/alice.ovpn")
        .unwrap();
    let clients = screen(&h, 120, 60);
    for s in SECRETS {
        assert!(!clients.contains(s), "{s} shown:\n{clients}");
    }
    assert!(
        clients.contains("<key>")
            && clients.contains("[… 2 lines of the private key, not shown …]"),
        "{clients}"
    );
}

#[test]
fn the_review_says_when_duo_toml_gets_a_shared_group() {
    // The demo's server runs as nobody:nogroup.
    let mut h = Harness::new();
    enter_until(&mut h, Step::Review);
    let shown = screen(&h, 80, 60);
    assert!(
        shown.contains("duo.toml root:nogroup 0640")
            && shown.contains("nogroup is a group other daemons share")
            && shown.contains("`groupadd --system openvpn`"),
        "{shown}"
    );

    // A group of its own: no note.
    let mut h = Harness::new();
    h.model.detection.servers[0].group = Some("openvpn".into());
    h.exec.detection.servers[0].group = Some("openvpn".into());
    enter_until(&mut h, Step::Review);
    let shown = screen(&h, 80, 60);
    assert!(shown.contains("duo.toml root:openvpn 0640"), "{shown}");
    assert!(!shown.contains("other daemons share"), "{shown}");
}

#[test]
fn at_80x24_a_long_diff_line_wraps_with_a_marker() {
    let mut h = Harness::new();
    // The last line before setup's additions: in the diff's context.
    let long = "push \"route 10.200.0.0 255.255.0.0\" # the lab network, reachable from every site in the company";
    let conf = h.host.path("/etc/openvpn/server/server.conf");
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str(long);
    text.push('\n');
    std::fs::write(&conf, text).unwrap();
    h.redetect();
    enter_until(&mut h, Step::Server);
    h.snap("04_server_wrapped_line");
    let shown = h.draw(&Theme { no_color: true }).backend().to_string();
    let rows: Vec<&str> = shown.lines().collect();
    let at = rows
        .iter()
        .position(|r| r.contains(" push \"route 10.200.0.0"))
        .unwrap_or_else(|| panic!("{shown}"));
    assert!(rows[at + 1].contains("│↪"), "{shown}");
    // Nothing of the line is lost: its end is on the continuation row.
    assert!(rows[at + 1].contains("company"), "{shown}");
}

#[test]
fn at_80x24_a_long_ca_path_is_shortened_from_the_middle() {
    let mut h = Harness::new();
    h.model.creds.ca_file = Some(
        "/etc/openvpn/duo/certificates/issued-by-the-corporate-proxy/for-the-api/ca.pem".into(),
    );
    h.key(KeyCode::Enter);
    assert_eq!(h.model.step, Step::Credentials);
    h.snap("02_credentials_long_ca_path");
    let shown = h.draw(&Theme { no_color: true }).backend().to_string();
    assert!(
        shown.contains("CA file       /etc/openvpn/duo/certificates/…/for-the-api/ca.pem"),
        "{shown}"
    );
}

#[test]
fn the_step_list_is_whole_from_100_columns() {
    let mut h = Harness::new();
    h.key(KeyCode::Enter);
    let wide = screen(&h, 100, 24);
    assert!(wide.contains("│   3. Options"), "{wide}");
    let narrow = screen(&h, 99, 24);
    assert!(!narrow.contains("3. Options"), "{narrow}");
    assert!(narrow.contains(" 1 2 3 4 5 6 7 8 9 10 ┐"), "{narrow}");
}

#[test]
fn both_products_found_the_first_screen_chooses() {
    let mut h = Harness::new();
    let config = std::collections::BTreeMap::new();
    let access = crate::setup::access::AccessDetection {
        sacli: crate::system::detect::SACLI.into(),
        inspection: access_server::Inspection::from_config(
            Path::new(crate::system::detect::SACLI),
            Some("2.14.3".into()),
            &config,
        ),
    };
    h.model = h.model.clone().with_access(access, true);
    assert_eq!(h.model.step, Step::Choose);
    assert_eq!(h.model.steps(), &Step::CHOOSE_COMMUNITY);
    h.snap("00_choose");
    h.key(KeyCode::Down);
    assert_eq!(h.model.target, Target::AccessServer);
    assert_eq!(h.model.steps(), &Step::CHOOSE_ACCESS_SERVER);
    assert_eq!(h.model.options.row, OptionRow::Autopush);
    h.snap("00_choose_access_server");
    h.key(KeyCode::Enter);
    assert_eq!(h.model.step, Step::Detect);
    let shown = screen(&h, 80, 24);
    assert!(
        shown.contains("2. Detection") && shown.contains("Access Server 2.14.3"),
        "{shown}"
    );
    // Esc goes back to the choice; Community from there is the usual run.
    h.key(KeyCode::Esc);
    assert_eq!(h.model.step, Step::Choose);
    h.key(KeyCode::Up);
    h.key(KeyCode::Enter);
    assert_eq!(h.model.target, Target::Community);
    let shown = screen(&h, 80, 24);
    assert!(shown.contains("Server configs (1)"), "{shown}");
    enter_until(&mut h, Step::Server);
    assert!(h.model.preview.is_some());
}

#[test]
fn an_installers_template_is_named_ticked_and_told_of_on_the_done_screen() {
    let mut h = Harness::new();
    // Nyr's openvpn-install keeps the template every new profile is made from here.
    put(
        &h.host.path("/etc/openvpn/server/client-common.txt"),
        b"client\ndev tun\nproto udp\nremote vpn.example.org 1194\nresolv-retry infinite\nnobind\n",
        0o644,
    );
    h.redetect();
    h.model.clients = ClientsStep {
        cursor: 0,
        selected: h
            .model
            .detection
            .clients
            .iter()
            .map(|c| !c.ready && c.foreign.is_none())
            .collect(),
    };
    let i = h
        .model
        .detection
        .clients
        .iter()
        .position(|c| c.template.is_some())
        .expect("the template is detected as a client profile");
    assert!(h.model.clients.selected[i], "the template is not ticked");
    enter_until(&mut h, Step::Clients);
    let s = screen(&h, 100, 30);
    assert!(
        s.contains("client-common.txt (template of Nyr's openvpn-install)"),
        "{s}"
    );
    enter_until(&mut h, Step::TestPush);
    h.key(KeyCode::Tab);
    assert_eq!(h.model.step, Step::Done);
    let s = screen(&h, 100, 30);
    assert!(
        s.contains("Profiles Nyr's openvpn-install makes from now on carry the client lines"),
        "{s}"
    );
    let template =
        std::fs::read_to_string(h.host.path("/etc/openvpn/server/client-common.txt")).unwrap();
    assert!(template.contains("auth-user-pass"), "{template}");
}

#[test]
fn the_options_step_offers_session_tokens_and_the_plan_follows() {
    let mut h = Harness::new();
    enter_until(&mut h, Step::Options);
    h.key(KeyCode::Down);
    h.key(KeyCode::Down);
    assert_eq!(h.model.options.row, OptionRow::SessionTokens);
    h.key(KeyCode::Right);
    assert_eq!(
        h.model.session_tokens,
        Some(crate::setup::plan::SESSION_LIFETIME_SECS)
    );
    h.snap("03_options_session_tokens");
    enter_until(&mut h, Step::Review);
    let plan = h.model.plan.as_ref().expect("a plan");
    let server = plan
        .edits
        .iter()
        .find(|e| e.path.ends_with("server.conf"))
        .expect("the server config is edited");
    let after = String::from_utf8_lossy(&server.after);
    assert!(
        after.contains("auth-gen-token 43200") && !after.contains("reneg-sec 0"),
        "{after}"
    );
    // And back: reneg-sec 0 again.
    enter_until(&mut h, Step::Review);
    h.key(KeyCode::Esc);
    h.key(KeyCode::Esc);
    h.key(KeyCode::Esc);
    assert_eq!(h.model.step, Step::Options);
    h.model.options.row = OptionRow::SessionTokens;
    h.key(KeyCode::Left);
    assert_eq!(h.model.session_tokens, None);
}

#[test]
fn verified_push_in_the_model_reaches_duo_toml() {
    let mut h = Harness::new();
    h.model.options.verified_push = true;
    let s = h.model.settings();
    assert!(s.verified_push && !s.autopush);
    enter_until(&mut h, Step::Review);
    let toml = h
        .model
        .plan
        .as_ref()
        .and_then(|p| p.installs.iter().find(|i| i.dest.ends_with("duo.toml")))
        .map(|i| String::from_utf8_lossy(&i.content).into_owned())
        .expect("duo.toml is installed");
    assert!(toml.contains("verified_push = true"), "{toml}");
}
