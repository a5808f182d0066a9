//! The wizard's state. Plain data: `update` changes it, `view` draws it.

use duo::{Failmode, UsernameFrom};

use crate::setup::plan::{Plan, PluginSource};
use crate::system::detect::Detection;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
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
    pub const ALL: [Step; 10] = [
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

    pub fn title(self) -> &'static str {
        match self {
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

    pub fn index(self) -> usize {
        Step::ALL.iter().position(|s| *s == self).unwrap_or(0)
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

#[derive(Debug, Clone)]
pub struct Model {
    pub step: Step,
    pub detection: Detection,
    /// The root shown in titles (`/` or the sandbox).
    pub root_label: String,
    pub demo: bool,
    // Credentials.
    pub ikey: Field,
    pub skey: Field,
    pub host: Field,
    /// 0 ikey, 1 skey, 2 host.
    pub focus: usize,
    pub ca_file: Option<std::path::PathBuf>,
    pub proxy: Option<String>,
    pub checked: bool,
    pub skew: Option<i64>,
    // Options.
    pub failmode: Failmode,
    pub username_from: UsernameFrom,
    /// 0 failmode, 1 username source.
    pub option_row: usize,
    // Server and clients.
    pub server_index: usize,
    pub client_cursor: usize,
    pub client_selected: Vec<bool>,
    /// A plan with every detected profile, for the diffs on the server and client screens.
    pub preview: Option<Plan>,
    /// The plan to apply (selected profiles only).
    pub plan: Option<Plan>,
    pub plan_error: Option<String>,
    pub scroll: u16,
    pub restart: bool,
    /// Session tokens lasting this many seconds (from `--session-tokens`), else `reneg-sec 0`.
    pub session_tokens: Option<u64>,
    pub plugin_so: PluginSource,
    // Apply, restart, push.
    pub progress: Vec<ProgressLine>,
    /// Index into the plan's effects of the one running.
    pub next_effect: usize,
    pub applied: bool,
    pub restart_state: RestartState,
    pub test_user: Field,
    pub push: PushState,
    pub push_log: Vec<String>,
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
        let n = detection.clients.len();
        let identity = detection
            .servers
            .first()
            .map(crate::setup::plan::identity_default);
        Model {
            step: Step::Detect,
            root_label,
            demo: false,
            ikey: Field::default(),
            skey: Field {
                value: String::new(),
                masked: true,
            },
            host: Field::default(),
            focus: 0,
            ca_file: None,
            proxy: None,
            checked: false,
            skew: None,
            failmode: Failmode::Secure,
            username_from: identity.map(|i| i.0).unwrap_or_default(),
            option_row: 0,
            server_index: 0,
            client_cursor: 0,
            client_selected: detection
                .clients
                .iter()
                // A profile in a folder another user controls is edited only when chosen.
                .map(|c| !c.ready && c.foreign.is_none())
                .collect::<Vec<_>>(),
            preview: None,
            plan: None,
            plan_error: None,
            scroll: 0,
            restart: true,
            session_tokens: None,
            plugin_so,
            progress: Vec::new(),
            next_effect: 0,
            applied: false,
            restart_state: RestartState::NotRun,
            test_user: Field::default(),
            push: PushState::Asking,
            push_log: Vec::new(),
            busy: Busy::Idle,
            notice: None,
            spinner: 0,
            show_help: false,
            quit: false,
            exit_code: 0,
            detection,
        }
        .with_clients(n)
    }

    fn with_clients(mut self, n: usize) -> Model {
        self.client_selected.resize(n, false);
        self
    }

    pub fn server(&self) -> Option<&crate::system::detect::ServerConfig> {
        self.detection.servers.get(self.server_index)
    }

    pub fn selected_clients(&self) -> Vec<String> {
        self.detection
            .clients
            .iter()
            .zip(&self.client_selected)
            .filter(|(_, s)| **s)
            .map(|(c, _)| c.path.clone())
            .collect()
    }

    pub fn is_busy(&self) -> bool {
        matches!(self.busy, Busy::Working(_))
    }
}
