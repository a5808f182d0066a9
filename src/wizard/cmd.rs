//! What `update` hands the run loop ([`Cmd`]), moving between steps, and the answers the model
//! holds as the engine takes them. The steps use these; `update` dispatches to the steps.

use duo::DuoSettings;

use super::model::*;
use crate::setup::access::AccessAnswers;
use crate::setup::effect::Effect;
use crate::setup::plan::Answers;

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

/// To `step`, at the top of its pane; a warning or note stays for the options step.
pub fn go(m: &mut Model, step: Step) {
    m.step = step;
    m.scroll = 0;
    if !matches!(m.notice, Some(Notice::Warn(_)) | Some(Notice::Info(_))) || step != Step::Options {
        m.notice = None;
    }
}

/// The progress line for an effect.
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
        s.autopush = self.options.autopush;
        s.verified_push = self.options.verified_push;
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

    pub fn plan_cmd(&self, preview: bool) -> Cmd {
        Cmd::Plan {
            preview,
            answers: Box::new(self.answers(preview)),
        }
    }
}
