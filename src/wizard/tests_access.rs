//! The Access Server wizard without a terminal: detection built in memory (`Inspection`
//! values), the install and the test login run by the real runner against the demo's stand-in
//! `sacli` in a sandbox and the Duo stand-in; every screen snapshotted at 80×24.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use access_server::Inspection;
use clap::Parser;
use duo_mock::{MockConfig, MockDuo};
use ratatui::crossterm::event::KeyCode;
use ratatui::style::Modifier;

use super::model::*;
use super::tests::{draw_model, modifier_at, snapshot};
use super::theme::Theme;
use super::update::{Cmd, Event, key, update};
use super::{initial_model, with_access_flags};
use crate::cli::{Cli, Command};
use crate::setup::access::AccessDetection;
use crate::setup::demo::AS_CONFIG_DB;
use crate::setup::effect::Runner;
use crate::system::detect::{Detection, SACLI};
use crate::system::host::Host;

const STAND_IN_SACLI: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo/sacli");
const POST_AUTH: &str = "auth.module.post_auth_script";
/// Another vendor's post-auth script, with its own secret: never to be shown.
const FOREIGN: &str = "# radius bridge\nSECRET = 'ForeignSecretValue0123456789'\n\
                       def post_auth(authcred, attributes, authret, info):\n    return authret\n";

struct AsHarness {
    _sandbox: tempfile::TempDir,
    _inputs: tempfile::TempDir,
    _mock: MockDuo,
    host: Host,
    model: Model,
    runner: Runner,
}

fn put(path: &Path, bytes: &[u8], mode: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

impl AsHarness {
    /// `config`: the stand-in's database and, the same, what detection saw.
    fn new(config: &[(&str, &str)]) -> AsHarness {
        let sandbox = tempfile::tempdir().unwrap();
        let inputs = tempfile::tempdir().unwrap();
        let root = sandbox.path();
        let host = Host::new(root, &crate::system::process::Process::os());
        put(
            &host.path(SACLI),
            &std::fs::read(STAND_IN_SACLI).unwrap(),
            0o755,
        );
        let config: BTreeMap<String, String> = config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        put(
            &host.path(AS_CONFIG_DB),
            serde_json::to_string_pretty(&config).unwrap().as_bytes(),
            0o600,
        );
        let skey = inputs.path().join("skey");
        put(&skey, duo_mock::MOCK_SKEY.as_bytes(), 0o600);
        let ca = inputs.path().join("ca.pem");
        let mock = MockDuo::start(MockConfig::default()).unwrap();
        mock.set_push_delay(std::time::Duration::from_millis(200));
        mock.write_ca(&ca).unwrap();
        let cli = Cli::try_parse_from([
            "duo-openvpn",
            "setup",
            "--target",
            "access-server",
            "--root",
            &root.display().to_string(),
            "--ikey",
            duo_mock::MOCK_IKEY,
            "--host",
            &mock.host(),
            "--ca-file",
            &ca.display().to_string(),
            "--skey-file",
            &skey.display().to_string(),
        ])
        .unwrap();
        let Command::Setup(args) = cli.command else {
            unreachable!()
        };
        let detection = AccessDetection {
            sacli: SACLI.into(),
            inspection: Inspection::from_config(Path::new(SACLI), Some("2.14.3".into()), &config),
        };
        let model = with_access_flags(
            initial_model(&args, &host, Detection::default(), None, false),
            &args,
            detection,
            false,
        );
        let runner = Runner::new(host.clone()).unwrap();
        AsHarness {
            _sandbox: sandbox,
            _inputs: inputs,
            _mock: mock,
            host,
            model,
            runner,
        }
    }

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
                    Cmd::Plan { .. } => panic!("Access Server has no Community plan"),
                    Cmd::Quit => {}
                }
            }
        }
    }

    fn key(&mut self, code: KeyCode) {
        self.send(key(code));
    }

    fn snap(&self, name: &str) {
        snapshot(&self.model, &self.host, name);
    }

    fn screen(&self) -> String {
        draw_model(&self.model, &Theme { no_color: true }, 80, 24)
            .backend()
            .to_string()
    }

    fn db(&self) -> BTreeMap<String, String> {
        serde_json::from_str(&std::fs::read_to_string(self.host.path(AS_CONFIG_DB)).unwrap())
            .unwrap()
    }

    fn type_text(&mut self, s: &str) {
        for c in s.chars() {
            self.key(KeyCode::Char(c));
        }
    }
}

#[test]
fn every_access_server_screen_of_a_whole_run() {
    let mut h = AsHarness::new(&[
        ("auth.module.type", "local"),
        ("vpn.server.google_auth.enable", "true"),
    ]);
    assert_eq!(
        h.model.steps(),
        &[
            Step::Detect,
            Step::Credentials,
            Step::Options,
            Step::Review,
            Step::Apply,
            Step::TestPush,
            Step::Done
        ]
    );
    h.snap("as_01_detection");
    let shown = h.screen();
    assert!(shown.contains("TOTP MFA      ON"), "{shown}");
    assert!(shown.contains("two second factors"), "{shown}");
    assert!(shown.contains(" 1 2 3 4 5 6 7 ┐"), "{shown}");

    h.key(KeyCode::Enter);
    assert_eq!(h.model.step, Step::Credentials);
    h.snap("as_02_credentials");
    for _ in 0..3 {
        h.key(KeyCode::Enter);
    }
    assert_eq!(h.model.step, Step::Options, "{:?}", h.model.notice);
    assert!(h.model.creds.checked);
    h.snap("as_03_options");
    // AUTOPUSH on, then the second row: web only.
    h.key(KeyCode::Right);
    assert!(h.model.options.autopush);
    h.key(KeyCode::Down);
    assert_eq!(h.model.options.row, OptionRow::Scope);
    h.key(KeyCode::Char(' '));
    assert!(h.model.options.web_only);
    h.snap("as_03_options_changed");
    h.key(KeyCode::Char(' '));

    h.key(KeyCode::Enter);
    assert_eq!(h.model.step, Step::Review);
    h.snap("as_04_review");
    let shown = h.screen();
    assert!(shown.contains("ConfigPut"), "{shown}");
    assert!(!shown.contains(duo_mock::MOCK_SKEY), "{shown}");

    h.key(KeyCode::Enter);
    assert_eq!(h.model.step, Step::Apply);
    assert!(h.model.apply.applied, "{:?}", h.model.notice);
    h.snap("as_05_apply");
    let script = h.db().get(POST_AUTH).cloned().expect("no post-auth script");
    assert!(script.contains("AUTOPUSH = True"), "{script}");

    h.key(KeyCode::Enter);
    assert_eq!(h.model.step, Step::TestPush);
    h.type_text(crate::setup::demo::DEMO_USER);
    h.snap("as_06_push_user");
    h.key(KeyCode::Enter);
    assert!(
        matches!(
            h.model.push.state,
            PushState::Finished { allowed: true, .. }
        ),
        "{:?} {:?}",
        h.model.push.state,
        h.model.notice
    );
    h.snap("as_06_push_allowed");

    h.key(KeyCode::Enter);
    assert_eq!(h.model.step, Step::Done);
    h.snap("as_07_done");
    h.key(KeyCode::Enter);
    assert!(h.model.quit);
    assert_eq!(h.model.exit_code, 0);
}

#[test]
fn another_post_auth_script_needs_consent_and_is_never_shown() {
    let mut h = AsHarness::new(&[("auth.module.type", "local"), (POST_AUTH, FOREIGN)]);
    h.snap("as_01_detection_foreign");
    assert!(!h.screen().contains("ForeignSecretValue"));
    for _ in 0..5 {
        h.key(KeyCode::Enter); // detection, 3 fields, options
    }
    assert_eq!(h.model.step, Step::Review, "{:?}", h.model.notice);
    h.snap("as_04_review_foreign");
    // Enter without consent: refused, nothing sent to sacli.
    h.key(KeyCode::Enter);
    assert_eq!(h.model.step, Step::Review);
    assert!(
        matches!(&h.model.notice, Some(Notice::Error(e)) if e.contains("needs consent")),
        "{:?}",
        h.model.notice
    );
    h.snap("as_04_review_refused");
    assert_eq!(h.db().get(POST_AUTH).map(String::as_str), Some(FOREIGN));

    h.key(KeyCode::Char('c'));
    assert!(h.model.access.as_ref().unwrap().replace_foreign);
    h.snap("as_04_review_consent");
    // Without colour the consent row still stands out: reversed once given.
    let t = draw_model(&h.model, &Theme { no_color: true }, 80, 24);
    assert!(
        modifier_at(t.backend().buffer(), "[x] replace the post-auth")
            .unwrap()
            .contains(Modifier::REVERSED)
    );
    for shown in [h.screen(), format!("{:?}", h.model.access)] {
        assert!(!shown.contains("ForeignSecretValue"), "{shown}");
    }
    h.key(KeyCode::Enter);
    assert!(h.model.apply.applied, "{:?}", h.model.notice);
    let now = h.db().get(POST_AUTH).cloned().unwrap();
    assert_ne!(now, FOREIGN);
}

#[test]
fn no_color_keeps_meaning_on_the_access_server_screens() {
    let mut h = AsHarness::new(&[("vpn.server.google_auth.enable", "true")]);
    let plain = |h: &AsHarness| draw_model(&h.model, &Theme { no_color: true }, 80, 24);
    // TOTP's ON is bold, the current step number bold+underlined.
    let t = plain(&h);
    let buf = t.backend().buffer();
    assert!(modifier_at(buf, "ON ").unwrap().contains(Modifier::BOLD));
    assert!(
        modifier_at(buf, "1 2 3 4 5 6 7")
            .unwrap()
            .contains(Modifier::BOLD | Modifier::UNDERLINED)
    );
    for _ in 0..4 {
        h.key(KeyCode::Enter);
    }
    assert_eq!(h.model.step, Step::Options);
    // The focused choice is reversed.
    let t = plain(&h);
    assert!(
        modifier_at(t.backend().buffer(), "(•) off")
            .unwrap()
            .contains(Modifier::REVERSED)
    );
}

#[test]
fn esc_goes_back_through_the_access_server_steps_only() {
    let mut h = AsHarness::new(&[]);
    for _ in 0..5 {
        h.key(KeyCode::Enter);
    }
    assert_eq!(h.model.step, Step::Review);
    h.key(KeyCode::Esc);
    assert_eq!(h.model.step, Step::Options);
    h.key(KeyCode::Esc);
    assert_eq!(h.model.step, Step::Credentials);
    h.key(KeyCode::Esc);
    assert_eq!(h.model.step, Step::Detect);
    h.key(KeyCode::Esc);
    assert_eq!(h.model.step, Step::Detect);
    assert!(!h.db().contains_key(POST_AUTH));
}

#[test]
fn a_failed_install_is_named_and_goes_no_further() {
    let mut h = AsHarness::new(&[]);
    for _ in 0..5 {
        h.key(KeyCode::Enter);
    }
    assert_eq!(h.model.step, Step::Review);
    // sacli gone between the review and the apply.
    std::fs::remove_file(h.host.path(SACLI)).unwrap();
    h.key(KeyCode::Enter);
    assert_eq!(h.model.step, Step::Apply);
    assert!(!h.model.apply.applied);
    assert_eq!(h.model.apply.progress[0].state, LineState::Failed);
    assert!(
        matches!(&h.model.notice, Some(Notice::Error(e)) if e.contains("sacli")),
        "{:?}",
        h.model.notice
    );
    h.snap("as_05_apply_failed");
    // Enter does not go on to the test.
    h.key(KeyCode::Enter);
    assert_eq!(h.model.step, Step::Apply);
}

#[test]
fn option_rows_follow_the_target() {
    let t = Target::AccessServer;
    assert_eq!(OptionRow::Autopush.next(t), OptionRow::Scope);
    assert_eq!(OptionRow::Failmode.next(t), OptionRow::Autopush);
    assert_eq!(OptionRow::Autopush.prev(t), OptionRow::Failmode);
    let c = Target::Community;
    assert_eq!(OptionRow::Failmode.next(c), OptionRow::UsernameFrom);
    assert_eq!(OptionRow::UsernameFrom.next(c), OptionRow::SessionTokens);
    assert_eq!(OptionRow::SessionTokens.next(c), OptionRow::Failmode);
    assert_eq!(OptionRow::Failmode.prev(c), OptionRow::SessionTokens);
    assert_eq!(CredField::Ikey.prev(), CredField::Host);
    assert_eq!(CredField::Host.next(), CredField::Ikey);
}
