//! Effects are values; ONE runner executes them through `src/system`. The wizard sends them to a
//! worker thread that owns a [`Runner`]; `--yes` calls the runner in line. Either way each effect
//! reports back with [`Report`]s.

use std::time::{Duration, Instant};

use duo::login::{self, Allowed, Outcome};
use duo::{Client, Config, DuoSettings, Factor, LoginRequest, Progress};

use super::plan::{FileEdit, Install, Plan};
use crate::cli::exit;
use crate::system::detect::SACLI;
use crate::system::files::{self, SysPath};
use crate::system::host::Host;
use crate::system::install::{self, FileSpec};
use crate::system::lock::{self, Lock};
use crate::system::manifest;
use crate::system::post_auth;
use crate::system::receipt::{MANIFEST_PATH, Manifest};
use crate::system::root::CONFIG_PATH;
use crate::system::service;

#[derive(Debug, Clone)]
pub enum Effect {
    /// `/auth/v2/check` with these settings, then the clock skew.
    DuoCheck(DuoSettings),
    InstallFile(Install),
    /// Every config edit as one transaction (all written, or none).
    EditConfigs(Vec<FileEdit>),
    Restart {
        unit: String,
    },
    /// A live login for `user` with the installed duo.toml.
    TestPush {
        user: String,
    },
    /// A live login for `user` with these settings (Access Server: no duo.toml is installed).
    TestPushWith {
        user: String,
        settings: Box<DuoSettings>,
    },
    /// Access Server: put our post-auth script in with `sacli` (recorded in the manifest).
    InstallAccessServer(AccessServerScript),
    /// Access Server: a live login for `user` through the post-auth script it has loaded (read
    /// back with `sacli ConfigQuery`), answering its challenge with `answer`; a web-interface
    /// login when `web` (the script then skips nothing).
    TestAccessServer {
        user: String,
        answer: duo::config::Secret,
        web: bool,
    },
    /// Undo everything the manifest records (the wizard's offer after a failed restart).
    Rollback,
}

/// The rendered post-auth script: it holds the secret key, so it never prints.
#[derive(Clone)]
pub struct AccessServerScript {
    pub script: String,
    /// Replace another post-auth script (it is kept for uninstall).
    pub consent: bool,
}

impl std::fmt::Debug for AccessServerScript {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "AccessServerScript({} lines, consent {})",
            self.script.lines().count(),
            self.consent
        )
    }
}

/// What came back from an effect.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// Credentials accepted; Duo's clock minus ours, when it could be read.
    Checked {
        skew: Option<i64>,
    },
    /// Credentials refused or Duo unreachable; `skew` when the clock is the likely cause.
    CheckFailed {
        message: String,
        unreachable: bool,
        skew: Option<i64>,
    },
    /// A file written (or left alone because it already was right).
    Wrote {
        path: String,
        changed: bool,
    },
    Restarted {
        unit: String,
        state: String,
    },
    RestartFailed {
        unit: String,
        message: String,
        log: Vec<String>,
    },
    /// A step of the test push (preauth, sent, status).
    Push(String),
    PushDone {
        allowed: bool,
        summary: String,
        secs: f64,
    },
    RolledBack(Vec<String>),
    /// An effect failed; nothing after it should run.
    Failed(String),
}

impl Report {
    /// The exit code once this report is in, given the code so far: the one place a report
    /// becomes an exit code, for `--yes` and the wizard alike.
    pub fn exit_code(&self, so_far: u8) -> u8 {
        match self {
            Report::CheckFailed {
                unreachable: true, ..
            } => exit::UNAVAILABLE,
            Report::CheckFailed { .. } | Report::Failed(_) => exit::USAGE,
            Report::RestartFailed { .. } => exit::UNAVAILABLE,
            Report::PushDone { allowed: false, .. } => exit::DENIED,
            _ => so_far,
        }
    }
}

pub fn effects(plan: &Plan) -> Vec<Effect> {
    let mut out: Vec<Effect> = plan
        .installs
        .iter()
        .cloned()
        .map(Effect::InstallFile)
        .collect();
    if !plan.edits.is_empty() {
        out.push(Effect::EditConfigs(plan.edits.clone()));
    }
    if let Some(u) = &plan.restart {
        out.push(Effect::Restart { unit: u.clone() });
    }
    if let Some(u) = &plan.test_user {
        out.push(Effect::TestPush { user: u.clone() });
    }
    out
}

pub struct Runner {
    pub host: Host,
    runtime: tokio::runtime::Runtime,
    /// Taken at the first change and held to the end, so two runs never interleave.
    lock: Option<Lock>,
}

impl Runner {
    pub fn new(host: Host) -> Result<Runner, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the async runtime: {e}"))?;
        Ok(Runner {
            host,
            runtime,
            lock: None,
        })
    }

    /// Execute one effect, reporting as it goes. Returns `false` when what follows should not run.
    pub fn run(&mut self, effect: &Effect, report: &mut dyn FnMut(Report)) -> bool {
        match effect {
            Effect::DuoCheck(s) => {
                let r = self.runtime.block_on(duo_check(s));
                let ok = matches!(r, Report::Checked { .. });
                report(r);
                ok
            }
            Effect::InstallFile(i) => self.file_step(report, |r| r.install(i)),
            Effect::InstallAccessServer(a) => {
                self.file_step(report, |r| r.install_access_server(a))
            }
            Effect::EditConfigs(edits) => match self.edit_configs(edits) {
                Ok(done) => {
                    for r in done {
                        report(r);
                    }
                    true
                }
                Err(e) => {
                    report(Report::Failed(e));
                    false
                }
            },
            Effect::Restart { unit } => match self
                .manifest()
                .and_then(|_| service::restart(&self.host, unit))
            {
                Ok(state) => {
                    self.note_unit(unit);
                    report(Report::Restarted {
                        unit: unit.clone(),
                        state,
                    });
                    true
                }
                Err(message) => {
                    self.note_unit(unit);
                    let log = service::last_log_lines(&self.host, unit, 20);
                    report(Report::RestartFailed {
                        unit: unit.clone(),
                        message,
                        log,
                    });
                    false
                }
            },
            Effect::TestPush { user } => {
                let path = self.host.path(CONFIG_PATH);
                let r = match Config::load(&path) {
                    Ok(c) => self.test_push(user, &c.duo, report),
                    Err(e) => Report::Failed(e.to_string()),
                };
                let ok = matches!(r, Report::PushDone { allowed: true, .. });
                report(r);
                ok
            }
            Effect::TestPushWith { user, settings } => {
                let r = self.test_push(user, settings, report);
                let ok = matches!(r, Report::PushDone { allowed: true, .. });
                report(r);
                ok
            }
            Effect::TestAccessServer { user, answer, web } => {
                let r = self.test_access_server(user, answer, *web, report);
                let ok = matches!(r, Report::PushDone { allowed: true, .. });
                report(r);
                ok
            }
            Effect::Rollback => match self
                .manifest()
                .and_then(|_| super::undo::undo_locked(&self.host, false))
            {
                Ok(lines) => {
                    report(Report::RolledBack(lines));
                    true
                }
                Err(e) => {
                    report(Report::Failed(e));
                    false
                }
            },
        }
    }

    fn file_step(
        &mut self,
        report: &mut dyn FnMut(Report),
        f: impl FnOnce(&mut Runner) -> Result<Report, String>,
    ) -> bool {
        match f(self) {
            Ok(r) => {
                report(r);
                true
            }
            Err(e) => {
                report(Report::Failed(e));
                false
            }
        }
    }

    /// The manifest, read under the lock (taken here the first time: every change passes
    /// through this). A run that finds another one holding it changes nothing.
    fn manifest(&mut self) -> Result<Manifest, String> {
        let tree = self.host.root.tree();
        let mut created = Vec::new();
        if self.lock.is_none() {
            let got = lock::acquire(
                &tree,
                &self.host.process,
                lock::wait(&self.host.process),
                &mut |d| {
                    created.push(d.clone());
                    Ok(())
                },
            )
            .map_err(|e| format!("{e:#}"))?;
            self.lock = Some(got.map_err(|busy| busy.to_string())?);
        }
        let mut m = manifest::load(&tree).map_err(|e| format!("{e:#}"))?;
        if !created.is_empty() {
            for d in &created {
                m.note_dir(d);
            }
            m.save(&self.host)?;
        }
        Ok(m)
    }

    fn install(&mut self, i: &Install) -> Result<Report, String> {
        // In place: the packaged plugin is what would be installed; it is the package's to keep
        // or remove (never rewritten, backed up or recorded for uninstall).
        if i.in_place {
            return Ok(Report::Wrote {
                path: i.dest.clone(),
                changed: false,
            });
        }
        let mut m = self.manifest()?;
        let gid =
            match &i.group {
                Some(g) if files::can_chown() => Some(files::gid_of(g).ok_or_else(|| {
                    format!("{}: group {g:?} does not exist on this host", i.dest)
                })?),
                _ => None,
            };
        let dest = SysPath::normalize(&i.dest);
        let spec = FileSpec {
            dest: &dest,
            what: i.what,
            content: &i.content,
            mode: i.mode,
            gid,
        };
        let changed = install::install_file(&self.host.root.tree(), &mut m, spec)
            .map_err(|e| format!("{e:#}"))?;
        Ok(Report::Wrote {
            path: i.dest.clone(),
            changed,
        })
    }

    /// The planned edits through `system::manifest::edit_configs`: validated, backed up and
    /// written as one transaction, recorded in the manifest. A file changed since the plan was
    /// made stops everything.
    fn edit_configs(&mut self, edits: &[FileEdit]) -> Result<Vec<Report>, String> {
        let mut m = self.manifest()?;
        let paths: Vec<SysPath> = edits.iter().map(|e| SysPath::normalize(&e.path)).collect();
        let tree = self.host.root.tree();
        let done = manifest::edit_configs(&tree, &mut m, &paths, |path, doc| {
            let e = edits
                .iter()
                .find(|e| SysPath::normalize(&e.path) == *path)
                .ok_or_else(|| anyhow::anyhow!("not in the plan"))?;
            if doc.render() != e.before {
                anyhow::bail!("changed since the plan was made; run setup again");
            }
            *doc = ovpn_config::Document::from_bytes(&e.after)?;
            Ok(e.changes.clone())
        })
        .map_err(|e| format!("{e:#}"))?;
        Ok(done
            .into_iter()
            .map(|f| Report::Wrote {
                path: f.path.to_string(),
                changed: !f.changes.is_empty(),
            })
            .collect())
    }

    fn note_unit(&mut self, unit: &str) {
        if let Ok(mut m) = self.manifest() {
            let bin_dir = self.host.bin_dir.as_ref().map(|d| d.display().to_string());
            if m.unit.as_deref() != Some(unit) || m.bin_dir != bin_dir {
                m.unit = Some(unit.to_string());
                m.bin_dir = bin_dir;
                let _ = m.save(&self.host);
            }
        }
    }

    fn install_access_server(&mut self, a: &AccessServerScript) -> Result<Report, String> {
        use access_server::{InstallOptions, SacliCommand};
        let sacli = self.host.sacli().map(SacliCommand::new).ok_or_else(|| {
            format!(
                "{}: Access Server's sacli is not there",
                self.host.display_path(SACLI)
            )
        })?;
        let inspection = access_server::inspect(&sacli).map_err(|e| e.to_string())?;
        let mut m = self.manifest()?;
        let opts = InstallOptions {
            replace_foreign_script: a.consent,
            temp_dir: None,
        };
        let earlier = m.access_server.clone();
        let host = self.host.clone();
        // Written ahead: the record is in the manifest before sacli changes anything.
        let record = access_server::install_recorded(
            &sacli,
            &inspection,
            &a.script,
            &opts,
            earlier.as_ref(),
            &mut |r| {
                m.access_server = Some(r.clone());
                m.save(&host).map_err(access_server::Error::Settings)
            },
        )
        .map_err(|e| e.to_string())?;
        m.access_server = Some(record);
        m.save(&self.host)?;
        Ok(Report::Wrote {
            path: "Access Server post-auth script (sacli ConfigPut, sacli start)".into(),
            changed: true,
        })
    }

    fn test_access_server(
        &mut self,
        user: &str,
        answer: &duo::config::Secret,
        web: bool,
        report: &mut dyn FnMut(Report),
    ) -> Report {
        let Some(sacli) = self.host.sacli() else {
            return Report::Failed(format!(
                "{}: Access Server's sacli is not there",
                self.host.display_path(SACLI)
            ));
        };
        let script = match access_server::inspect(&access_server::SacliCommand::new(&sacli)) {
            Ok(i) if i.current_is_ours() => i.current_script.unwrap_or_default(),
            Ok(_) => {
                return Report::Failed(
                    "Access Server has no duo-openvpn post-auth script loaded to test".into(),
                );
            }
            Err(e) => return Report::Failed(e.to_string()),
        };
        let started = Instant::now();
        let kind = if web { "web" } else { "VPN" };
        report(Report::Push(format!(
            "a {kind} login for {user} through the installed post-auth script"
        )));
        let mut step = |s: post_auth::Step| {
            report(Report::Push(match s {
                post_auth::Step::Log(l) => l,
                post_auth::Step::Challenge(c) => {
                    format!("challenge shown to the user: {c:?}; answered")
                }
            }))
        };
        match post_auth::try_script(&self.host, &script, user, answer, web, &mut step) {
            Ok(d) => Report::PushDone {
                allowed: d.succeeded,
                summary: if d.succeeded || d.client_reason.is_empty() {
                    format!("{user}: {}", d.reason)
                } else {
                    format!("{user}: {} (the user sees: {})", d.reason, d.client_reason)
                },
                secs: started.elapsed().as_secs_f64(),
            },
            Err(e) => Report::Failed(e),
        }
    }

    fn test_push(
        &mut self,
        user: &str,
        settings: &DuoSettings,
        report: &mut dyn FnMut(Report),
    ) -> Report {
        let client = match Client::new(settings) {
            Ok(c) => c,
            Err(e) => return Report::Failed(e.to_string()),
        };
        let req = LoginRequest {
            username: user.to_string(),
            factor: Factor::Auto,
            ipaddr: None,
        };
        let started = Instant::now();
        let (tx, rx) = std::sync::mpsc::channel();
        let mut send = move |p: Progress| {
            let _ = tx.send(p);
        };
        let outcome = self.runtime.block_on(async {
            let fut = login::login(&client, &req, settings.timeout, &mut send);
            tokio::pin!(fut);
            let mut tick = tokio::time::interval(Duration::from_millis(50));
            loop {
                tokio::select! {
                    o = &mut fut => break o,
                    _ = tick.tick() => {
                        while let Ok(p) = rx.try_recv() { report(Report::Push(describe_progress(user, &p))); }
                    }
                }
            }
        });
        while let Ok(p) = rx.try_recv() {
            report(Report::Push(describe_progress(user, &p)));
        }
        let secs = started.elapsed().as_secs_f64();
        let allowed = outcome.permits(duo::Failmode::Secure);
        let summary = match &outcome {
            Outcome::Allowed(Allowed::Approved { .. }) => format!("{user} approved the push"),
            Outcome::Allowed(Allowed::Bypass { .. }) => {
                format!("{user} bypasses Duo (allowed without a push)")
            }
            o => format!("{user}: {}", o.describe(settings.failmode)),
        };
        Report::PushDone {
            allowed,
            summary,
            secs,
        }
    }
}

fn describe_progress(user: &str, p: &Progress) -> String {
    match p {
        Progress::Preauth(pre) => {
            let devices: Vec<String> = pre.devices.iter().map(|d| d.label().to_string()).collect();
            if devices.is_empty() {
                format!("{user}: {:?} ({})", pre.result, pre.status_msg)
            } else {
                format!("{user}: devices {}", devices.join(", "))
            }
        }
        Progress::Sent { factor, device } => match device {
            Some(d) => format!("sent {factor} to {d}; waiting for the answer"),
            None => format!("sent {factor}; waiting for the answer"),
        },
        Progress::Status(s) => {
            if s.status_msg.is_empty() {
                s.status.clone()
            } else {
                s.status_msg.clone()
            }
        }
    }
}

async fn duo_check(s: &DuoSettings) -> Report {
    let client = match Client::new(s) {
        Ok(c) => c,
        Err(e) => {
            return Report::CheckFailed {
                message: e.to_string(),
                unreachable: false,
                skew: None,
            };
        }
    };
    let skew = client.clock_skew().await.ok();
    match client.check().await {
        Ok(_) => Report::Checked { skew },
        Err(e) => Report::CheckFailed {
            unreachable: e.is_outage(),
            message: e.to_string(),
            skew,
        },
    }
}

/// Where the manifest is, for messages.
pub fn manifest_display(host: &Host) -> String {
    host.display_path(MANIFEST_PATH)
}
