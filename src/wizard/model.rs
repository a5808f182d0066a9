//! The wizard's state. Plain data: `update` changes it, `view` draws it.

use duo::{Failmode, UsernameFrom};

use crate::setup::access::{AccessDetection, AccessPlan};
use crate::setup::plan::{Plan, PluginSource};
use crate::system::detect::Detection;

/// Which product the wizard sets up: the steps differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Community,
    AccessServer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// Both products are installed: which one to set up.
    Choose,
    Detect,
    Credentials,
    Options,
    Server,
    Clients,
    Review,
    Apply,
    Restart,
    TestPush,
    Done,
}

impl Step {
    /// Both products installed: the first step chooses. Without it, the same lists from their
    /// second entry on ([`Step::community`], [`Step::access_server`]).
    pub const CHOOSE_COMMUNITY: [Step; 11] = [
        Step::Choose,
        Step::Detect,
        Step::Credentials,
        Step::Options,
        Step::Server,
        Step::Clients,
        Step::Review,
        Step::Apply,
        Step::Restart,
        Step::TestPush,
        Step::Done,
    ];
    /// Access Server has no config files to pick and no service to restart: `sacli` does both.
    pub const CHOOSE_ACCESS_SERVER: [Step; 8] = [
        Step::Choose,
        Step::Detect,
        Step::Credentials,
        Step::Options,
        Step::Review,
        Step::Apply,
        Step::TestPush,
        Step::Done,
    ];

    pub fn community() -> &'static [Step] {
        &Step::CHOOSE_COMMUNITY[1..]
    }

    pub fn access_server() -> &'static [Step] {
        &Step::CHOOSE_ACCESS_SERVER[1..]
    }

    pub fn title(self) -> &'static str {
        match self {
            Step::Choose => "Product",
            Step::Detect => "Detection",
            Step::Credentials => "Credentials",
            Step::Options => "Options",
            Step::Server => "Server config",
            Step::Clients => "Client profiles",
            Step::Review => "Review",
            Step::Apply => "Apply",
            Step::Restart => "Restart",
            Step::TestPush => "Test push",
            Step::Done => "Done",
        }
    }
}

/// The credentials screen's fields, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredField {
    Ikey,
    Skey,
    Host,
}

impl CredField {
    pub const ALL: [CredField; 3] = [CredField::Ikey, CredField::Skey, CredField::Host];

    pub fn next(self) -> CredField {
        match self {
            CredField::Ikey => CredField::Skey,
            CredField::Skey => CredField::Host,
            CredField::Host => CredField::Ikey,
        }
    }

    pub fn prev(self) -> CredField {
        self.next().next()
    }

    pub fn label(self) -> &'static str {
        match self {
            CredField::Ikey => "Integration key",
            CredField::Skey => "Secret key",
            CredField::Host => "API hostname",
        }
    }
}

/// A row of the options screen; which rows there are depends on the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionRow {
    Failmode,
    UsernameFrom,
    /// Access Server: push at once, or ask for a factor.
    Autopush,
    /// Access Server: Duo for VPN and web logins, or web only.
    Scope,
    /// Community: session tokens across renegotiations, or `reneg-sec 0`.
    SessionTokens,
}

impl OptionRow {
    pub fn rows(target: Target) -> &'static [OptionRow] {
        match target {
            Target::Community => &[
                OptionRow::Failmode,
                OptionRow::UsernameFrom,
                OptionRow::SessionTokens,
            ],
            Target::AccessServer => &[OptionRow::Autopush, OptionRow::Scope, OptionRow::Failmode],
        }
    }

    fn offset(self, target: Target, by: usize) -> OptionRow {
        let rows = OptionRow::rows(target);
        let i = rows.iter().position(|r| *r == self).unwrap_or(0);
        rows[(i + by) % rows.len()]
    }

    pub fn next(self, target: Target) -> OptionRow {
        self.offset(target, 1)
    }

    pub fn prev(self, target: Target) -> OptionRow {
        self.offset(target, OptionRow::rows(target).len() - 1)
    }
}

/// A one-line text field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Field {
    pub value: String,
    pub masked: bool,
}

impl Field {
    pub fn shown(&self) -> String {
        let n = self.value.chars().count();
        match (self.masked, n) {
            (false, _) => self.value.clone(),
            (true, 0) => String::new(),
            (true, n) => format!("{} ({n} characters)", "•".repeat(n.min(12))),
        }
    }
}

/// Where a step that runs effects stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Busy {
    Idle,
    /// Waiting on the worker; the text says for what.
    Working(String),
}

/// One line of the apply progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressLine {
    /// The system path the line is about.
    pub key: String,
    pub label: String,
    pub state: LineState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineState {
    Pending,
    Running,
    Done,
    Unchanged,
    Failed,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PushState {
    /// Typing the user name.
    Asking,
    Running,
    Finished {
        allowed: bool,
        summary: String,
        secs: f64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum RestartState {
    NotRun,
    Running,
    Ok(String),
    Failed { message: String, log: Vec<String> },
    RolledBack(Vec<String>),
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Info(String),
    Warn(String),
    Error(String),
}

/// Credentials: the three fields, and what Duo said of them.
#[derive(Debug, Clone)]
pub struct CredentialsStep {
    pub ikey: Field,
    pub skey: Field,
    pub host: Field,
    pub focus: CredField,
    pub ca_file: Option<std::path::PathBuf>,
    pub proxy: Option<String>,
    /// Duo accepted the keys.
    pub checked: bool,
    pub skew: Option<i64>,
}

impl CredentialsStep {
    pub fn field(&self, f: CredField) -> &Field {
        match f {
            CredField::Ikey => &self.ikey,
            CredField::Skey => &self.skey,
            CredField::Host => &self.host,
        }
    }

    pub fn field_mut(&mut self, f: CredField) -> &mut Field {
        match f {
            CredField::Ikey => &mut self.ikey,
            CredField::Skey => &mut self.skey,
            CredField::Host => &mut self.host,
        }
    }
}

#[derive(Debug, Clone)]
pub struct OptionsStep {
    pub failmode: Failmode,
    pub username_from: UsernameFrom,
    /// Push without asking (Access Server's AUTOPUSH; on Community, `autopush` in duo.toml).
    pub autopush: bool,
    /// Community: Verified Duo Push (`--verified-push`; never with `autopush`).
    pub verified_push: bool,
    pub web_only: bool,
    pub row: OptionRow,
}

#[derive(Debug, Clone, Default)]
pub struct ClientsStep {
    pub cursor: usize,
    /// One per detected client profile.
    pub selected: Vec<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct ApplyStep {
    pub progress: Vec<ProgressLine>,
    /// Index into the plan's effects of the one running.
    pub next_effect: usize,
    pub applied: bool,
}

#[derive(Debug, Clone)]
pub struct RestartStep {
    /// Restart the service after the apply (`--no-restart` turns it off).
    pub wanted: bool,
    pub state: RestartState,
}

#[derive(Debug, Clone)]
pub struct PushStep {
    pub user: Field,
    pub state: PushState,
    pub log: Vec<String>,
}

/// Access Server: what `sacli` said, and the plan for the current answers.
#[derive(Debug, Clone)]
pub struct AccessStep {
    pub detection: AccessDetection,
    pub plan: Option<AccessPlan>,
    /// Consent to replace another post-auth script (uninstall puts it back).
    pub replace_foreign: bool,
}

#[derive(Debug, Clone)]
pub struct Model {
    pub target: Target,
    /// Both products were found: the first step chooses, `target` follows the cursor.
    pub choose: bool,
    /// Access Server's detection; `None` when it is not installed.
    pub access: Option<AccessStep>,
    pub step: Step,
    pub detection: Detection,
    /// The root shown in titles (`/` or the sandbox).
    pub root_label: String,
    pub demo: bool,
    pub creds: CredentialsStep,
    pub options: OptionsStep,
    /// Index of the chosen server config.
    pub server_index: usize,
    pub clients: ClientsStep,
    /// A plan with every detected profile, for the diffs on the server and client screens.
    pub preview: Option<Plan>,
    /// The plan to apply (selected profiles only).
    pub plan: Option<Plan>,
    pub plan_error: Option<String>,
    /// Of the pane that scrolls on the current step.
    pub scroll: u16,
    /// Session tokens lasting this many seconds (from `--session-tokens`), else `reneg-sec 0`.
    pub session_tokens: Option<u64>,
    pub plugin_so: PluginSource,
    pub apply: ApplyStep,
    pub restart: RestartStep,
    pub push: PushStep,
    pub busy: Busy,
    pub notice: Option<Notice>,
    pub spinner: usize,
    pub show_help: bool,
    pub quit: bool,
    /// Exit code when the wizard ends.
    pub exit_code: u8,
}

impl Model {
    pub fn new(detection: Detection, root_label: String, plugin_so: PluginSource) -> Model {
        let identity = detection
            .servers
            .first()
            .map(crate::setup::plan::identity_default);
        Model {
            target: Target::Community,
            choose: false,
            access: None,
            step: Step::Detect,
            root_label,
            demo: false,
            creds: CredentialsStep {
                ikey: Field::default(),
                skey: Field {
                    value: String::new(),
                    masked: true,
                },
                host: Field::default(),
                focus: CredField::Ikey,
                ca_file: None,
                proxy: None,
                checked: false,
                skew: None,
            },
            options: OptionsStep {
                failmode: Failmode::Secure,
                username_from: identity.map(|i| i.0).unwrap_or_default(),
                autopush: false,
                verified_push: false,
                web_only: false,
                row: OptionRow::Failmode,
            },
            server_index: 0,
            clients: ClientsStep {
                cursor: 0,
                selected: detection
                    .clients
                    .iter()
                    // A profile in a folder another user controls is edited only when chosen.
                    .map(|c| !c.ready && c.foreign.is_none())
                    .collect(),
            },
            preview: None,
            plan: None,
            plan_error: None,
            scroll: 0,
            session_tokens: None,
            plugin_so,
            apply: ApplyStep::default(),
            restart: RestartStep {
                wanted: true,
                state: RestartState::NotRun,
            },
            push: PushStep {
                user: Field::default(),
                state: PushState::Asking,
                log: Vec::new(),
            },
            busy: Busy::Idle,
            notice: None,
            spinner: 0,
            show_help: false,
            quit: false,
            exit_code: 0,
            detection,
        }
    }

    /// The steps of this target, in order: navigation and the step list follow it.
    pub fn steps(&self) -> &'static [Step] {
        match (self.choose, self.target) {
            (false, Target::Community) => Step::community(),
            (false, Target::AccessServer) => Step::access_server(),
            (true, Target::Community) => &Step::CHOOSE_COMMUNITY,
            (true, Target::AccessServer) => &Step::CHOOSE_ACCESS_SERVER,
        }
    }

    /// 0-based position of `step` in [`Model::steps`].
    pub fn index_of(&self, step: Step) -> usize {
        self.steps().iter().position(|s| *s == step).unwrap_or(0)
    }

    pub fn next_step(&self) -> Step {
        let s = self.steps();
        s[(self.index_of(self.step) + 1).min(s.len() - 1)]
    }

    pub fn prev_step(&self) -> Step {
        self.steps()[self.index_of(self.step).saturating_sub(1)]
    }

    pub fn server(&self) -> Option<&crate::system::detect::ServerConfig> {
        self.detection.servers.get(self.server_index)
    }

    pub fn selected_clients(&self) -> Vec<String> {
        self.detection
            .clients
            .iter()
            .zip(&self.clients.selected)
            .filter(|(_, s)| **s)
            .map(|(c, _)| c.path.clone())
            .collect()
    }

    pub fn is_busy(&self) -> bool {
        matches!(self.busy, Busy::Working(_))
    }

    /// A text field has the keys: letters are typed, not shortcuts.
    pub fn typing(&self) -> bool {
        self.step == Step::Credentials
            || (self.step == Step::TestPush && self.push.state == PushState::Asking)
    }
}

impl Model {
    /// Access Server to set up (`choose`: Community was found too, the first step asks).
    pub fn with_access(mut self, detection: AccessDetection, choose: bool) -> Model {
        self.access = Some(AccessStep {
            detection,
            plan: None,
            replace_foreign: false,
        });
        self.choose = choose;
        if choose {
            self.step = Step::Choose;
        } else {
            self.set_target(Target::AccessServer);
        }
        self
    }

    pub fn set_target(&mut self, target: Target) {
        self.target = target;
        self.options.row = OptionRow::rows(target)[0];
    }
}
