//! Installing and removing the post-auth script with `sacli`.
//!
//! ```text
//! inspect    sacli Version; sacli ConfigQuery           what is there: warnings, another script
//! install    sacli --key auth.module.post_auth_script --value_file=TMP ConfigPut; sacli start
//! uninstall  sacli ConfigQuery; then ConfigDel (or the previous script put back); sacli start
//! ```
//!
//! Another post-auth script is never replaced without explicit consent, and is kept in the
//! [`InstallRecord`] so that uninstall puts it back.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::sacli::{Sacli, parse_config_query};
use crate::summary::ScriptSummary;

/// The configuration key holding the post-auth script (Access Server allows one).
pub const POST_AUTH_KEY: &str = "auth.module.post_auth_script";
/// Access Server's own TOTP MFA (Google Authenticator).
pub const TOTP_KEY: &str = "vpn.server.google_auth.enable";
/// TOTP MFA for autologin profiles as well.
pub const TOTP_AUTOLOGIN_KEY: &str = "vpn.server.google_auth.enable_autologin";
/// The primary authentication: `local`, `pam`, `ldap`, `radius`, `saml`.
pub const AUTH_TYPE_KEY: &str = "auth.module.type";

/// What `inspect` found.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspection {
    pub sacli: PathBuf,
    /// `sacli Version`, when it answered.
    pub version: Option<String>,
    /// `vpn.server.google_auth.enable` is `true`.
    pub totp_mfa: bool,
    /// `vpn.server.google_auth.enable_autologin` is `true`.
    pub totp_autologin: bool,
    /// `auth.module.type`.
    pub auth_type: Option<String>,
    /// `auth.module.post_auth_script` as it is now (`None`: not set).
    pub current_script: Option<String>,
}

impl std::fmt::Debug for Inspection {
    // The current script may carry someone else's secrets: its size only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inspection")
            .field("sacli", &self.sacli)
            .field("version", &self.version)
            .field("totp_mfa", &self.totp_mfa)
            .field("totp_autologin", &self.totp_autologin)
            .field("auth_type", &self.auth_type)
            .field(
                "current_script",
                &self
                    .current_script
                    .as_ref()
                    .map(|s| format!("<{} bytes>", s.len())),
            )
            .finish()
    }
}

impl Inspection {
    /// From `sacli ConfigQuery`'s configuration.
    pub fn from_config(
        sacli: &Path,
        version: Option<String>,
        config: &BTreeMap<String, String>,
    ) -> Inspection {
        let is_true = |k: &str| {
            config
                .get(k)
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        };
        Inspection {
            sacli: sacli.to_path_buf(),
            version,
            totp_mfa: is_true(TOTP_KEY),
            totp_autologin: is_true(TOTP_AUTOLOGIN_KEY),
            auth_type: config.get(AUTH_TYPE_KEY).cloned(),
            current_script: config.get(POST_AUTH_KEY).cloned(),
        }
    }

    /// A post-auth script is set and it is ours (from an earlier setup).
    pub fn current_is_ours(&self) -> bool {
        self.current_script.as_deref().is_some_and(is_ours)
    }

    /// Another post-auth script: it must be shown, and replacing it needs consent.
    pub fn foreign_script(&self) -> Option<&str> {
        self.current_script
            .as_deref()
            .filter(|s| !s.trim().is_empty() && !is_ours(s))
    }

    pub fn needs_consent(&self) -> bool {
        self.foreign_script().is_some()
    }

    /// What the administrator should know before installing, one paragraph each.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if self.totp_mfa || self.totp_autologin {
            let keys = [
                (self.totp_mfa, TOTP_KEY),
                (self.totp_autologin, TOTP_AUTOLOGIN_KEY),
            ]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, k)| format!("{k} = true"))
            .collect::<Vec<_>>()
            .join(", ");
            w.push(format!(
                "Access Server's own TOTP multi-factor authentication is on ({keys}). With Duo as \
                 well, every user needs two second factors: Access Server asks for its TOTP code \
                 (and users who never enrolled in it are sent to enroll), then Duo asks again. Turn \
                 Access Server's TOTP off once Duo works: in the Admin Web UI, or with `sacli --key \
                 {TOTP_KEY} --value false ConfigPut` and `sacli start`."
            ));
        }
        if self
            .auth_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("saml"))
        {
            w.push(
                "Logins use SAML (auth.module.type = saml). Access Server's documentation says to \
                 do multi-factor authentication at the identity provider; with a post-auth script \
                 Duo asks again after the SAML login. Consider enforcing Duo at the identity \
                 provider instead."
                    .to_string(),
            );
        }
        if let Some(s) = self.foreign_script() {
            let s = ScriptSummary::of(s);
            w.push(format!(
                "Another post-auth script is installed ({}, {} lines). Access Server runs only \
                 one: installing duo-openvpn's replaces it. It is kept, and uninstall puts it back.",
                s.name, s.lines
            ));
        }
        w
    }
}

pub use crate::summary::{is_ours, sha256_hex};

/// `sacli Version` (the answer, trimmed; `None` if it failed) and `sacli ConfigQuery`.
pub fn inspect(sacli: &dyn Sacli) -> Result<Inspection, Error> {
    let version = sacli
        .run(&["Version".into()])
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());
    let config = parse_config_query(&sacli.run(&["ConfigQuery".into()])?)?;
    Ok(Inspection::from_config(sacli.path(), version, &config))
}

#[derive(Debug, Clone, Default)]
pub struct InstallOptions {
    /// The administrator agreed to replace another post-auth script.
    pub replace_foreign_script: bool,
    /// Where the temporary script file goes (default: the system's temporary directory).
    pub temp_dir: Option<PathBuf>,
}

/// What install did, for the manifest; everything uninstall needs.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallRecord {
    pub sacli: PathBuf,
    pub version: Option<String>,
    pub key: String,
    /// The key's value before our first install: `None` when it was not set. This may be
    /// another post-auth script verbatim, secrets included: keep the manifest root-only.
    pub previous: Option<String>,
    /// `previous` was someone else's script, replaced with consent.
    pub replaced_foreign_script: bool,
    /// SHA-256 of the script we put in (ours holds the Duo secret key: never stored here).
    pub script_sha256: String,
    /// The `sacli` commands run, temporary file paths shown as `FILE`.
    pub commands: Vec<Vec<String>>,
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for InstallRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstallRecord")
            .field("sacli", &self.sacli)
            .field("version", &self.version)
            .field("key", &self.key)
            .field(
                "previous",
                &self
                    .previous
                    .as_ref()
                    .map(|s| format!("<{} bytes>", s.len())),
            )
            .field("replaced_foreign_script", &self.replaced_foreign_script)
            .field("script_sha256", &self.script_sha256)
            .field("commands", &self.commands)
            .field("warnings", &self.warnings)
            .finish()
    }
}

/// Put `script` in as the post-auth script and apply it (`sacli start`).
///
/// `inspection` is what [`inspect`] just found. Another post-auth script is replaced only with
/// `replace_foreign_script`; otherwise nothing changes and [`Error::ForeignScript`] says why.
/// When the current script is ours from an earlier setup, `earlier` (that setup's record)
/// carries over what was there before us.
pub fn install(
    sacli: &dyn Sacli,
    inspection: &Inspection,
    script: &str,
    opts: &InstallOptions,
    earlier: Option<&InstallRecord>,
) -> Result<InstallRecord, Error> {
    install_recorded(sacli, inspection, script, opts, earlier, &mut |_| Ok(()))
}

/// [`install`], handing the record to `intent` before the first `sacli` command that changes
/// anything: the caller writes it ahead (its manifest), so a crash in between leaves a record
/// that uninstall resolves from what Access Server then holds (ours, or still the previous).
pub fn install_recorded(
    sacli: &dyn Sacli,
    inspection: &Inspection,
    script: &str,
    opts: &InstallOptions,
    earlier: Option<&InstallRecord>,
    intent: &mut dyn FnMut(&InstallRecord) -> Result<(), Error>,
) -> Result<InstallRecord, Error> {
    if !is_ours(script) {
        return Err(Error::Settings(
            "the script to install is not one rendered by duo-openvpn".into(),
        ));
    }
    let (previous, replaced_foreign_script) = if let Some(foreign) = inspection.foreign_script() {
        if !opts.replace_foreign_script {
            return Err(Error::ForeignScript {
                lines: foreign.lines().count(),
                summary: ScriptSummary::of(foreign).to_string(),
            });
        }
        (Some(foreign.to_string()), true)
    } else if inspection.current_is_ours() {
        match earlier {
            Some(r) => (r.previous.clone(), r.replaced_foreign_script),
            None => (None, false),
        }
    } else {
        (inspection.current_script.clone(), false)
    };

    let mut record = InstallRecord {
        sacli: sacli.path().to_path_buf(),
        version: inspection.version.clone(),
        key: POST_AUTH_KEY.into(),
        previous,
        replaced_foreign_script,
        script_sha256: sha256_hex(script),
        commands: Vec::new(),
        warnings: inspection.warnings(),
    };
    intent(&record)?;
    let mut commands = Vec::new();
    put_script(sacli, script, opts.temp_dir.as_deref(), &mut commands)?;
    run(sacli, &["start"], &mut commands)?;
    record.commands = commands;
    Ok(record)
}

/// What [`install`] will do, one line each (for a plan, `--dry-run`, or the wizard's summary).
/// Another script is described by [`ScriptSummary`] (indented lines after the first), never
/// quoted.
pub fn describe_install(inspection: &Inspection, script: &str, consent: bool) -> Vec<String> {
    let sacli = inspection.sacli.display();
    let mut lines = Vec::new();
    let described = |lines: &mut Vec<String>, s: &str| {
        lines.extend(
            ScriptSummary::of(s)
                .lines()
                .into_iter()
                .map(|l| format!("    {l}")),
        )
    };
    match inspection.foreign_script() {
        Some(s) if consent => {
            lines.push(format!(
                "replace Access Server's post-auth script ({} lines; kept for uninstall to put \
                 back):",
                s.lines().count()
            ));
            described(&mut lines, s);
        }
        Some(s) => {
            lines.push(format!(
                "REFUSED without consent: Access Server already has a post-auth script ({} \
                 lines):",
                s.lines().count()
            ));
            described(&mut lines, s);
        }
        None if inspection.current_is_ours() => {
            lines.push("update our post-auth script (installed by an earlier setup)".into())
        }
        None => lines.push("install our post-auth script (none is installed now)".into()),
    }
    lines.push(format!(
        "{sacli} --key {POST_AUTH_KEY} --value_file=FILE ConfigPut   (FILE: the rendered script, \
         {} lines, in a private temporary file removed afterwards)",
        script.lines().count()
    ));
    lines.push(format!("{sacli} start"));
    lines
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UninstallOutcome {
    /// Our script was removed; the key is unset again.
    Removed,
    /// Our script was replaced by the one that was there before.
    Restored,
    /// Our script was already gone (and so was any script before it): nothing to do.
    AlreadyGone,
    /// Our script was already gone; the previous script was put back.
    PreviousPutBack,
    /// Someone put another script in since: it is left in place.
    LeftOtherScript,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UninstallReport {
    pub outcome: UninstallOutcome,
    pub commands: Vec<Vec<String>>,
    pub notes: Vec<String>,
}

/// Undo [`install`]: remove our script (or put the previous one back) and apply it.
pub fn uninstall(
    sacli: &dyn Sacli,
    record: &InstallRecord,
    temp_dir: Option<&Path>,
) -> Result<UninstallReport, Error> {
    let mut commands = Vec::new();
    let config = parse_config_query(&run(sacli, &["ConfigQuery"], &mut commands)?)?;
    let current = config.get(&record.key).map(String::as_str);
    let ours = current.is_some_and(|s| is_ours(s) || sha256_hex(s) == record.script_sha256);
    let gone = current.is_none_or(|s| s.trim().is_empty());
    let mut notes = Vec::new();

    let outcome = if ours {
        let outcome = match &record.previous {
            Some(prev) => {
                put_value(sacli, &record.key, prev, temp_dir, &mut commands)?;
                notes.push(format!(
                    "put back the script from before setup: {}",
                    ScriptSummary::of(prev).headline()
                ));
                UninstallOutcome::Restored
            }
            None => {
                run(sacli, &["--key", &record.key, "ConfigDel"], &mut commands)?;
                UninstallOutcome::Removed
            }
        };
        run(sacli, &["start"], &mut commands)?;
        outcome
    } else if gone {
        match record.previous.as_deref().filter(|p| !p.trim().is_empty()) {
            Some(prev) => {
                put_value(sacli, &record.key, prev, temp_dir, &mut commands)?;
                run(sacli, &["start"], &mut commands)?;
                notes.push(format!(
                    "{} was already empty: the script from before setup was put back: {}",
                    record.key,
                    ScriptSummary::of(prev).headline()
                ));
                UninstallOutcome::PreviousPutBack
            }
            None => {
                notes.push(format!("{} is not set: nothing to remove", record.key));
                UninstallOutcome::AlreadyGone
            }
        }
    } else {
        notes.push(format!(
            "{} now holds another script (not ours, changed since setup): left in place: {}",
            record.key,
            ScriptSummary::of(current.unwrap_or_default()).headline()
        ));
        UninstallOutcome::LeftOtherScript
    };
    Ok(UninstallReport {
        outcome,
        commands,
        notes,
    })
}

fn run(sacli: &dyn Sacli, args: &[&str], commands: &mut Vec<Vec<String>>) -> Result<String, Error> {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    commands.push(args.clone());
    sacli.run(&args)
}

fn put_script(
    sacli: &dyn Sacli,
    script: &str,
    temp_dir: Option<&Path>,
    commands: &mut Vec<Vec<String>>,
) -> Result<(), Error> {
    put_value(sacli, POST_AUTH_KEY, script, temp_dir, commands)
}

/// `sacli --key KEY --value_file=FILE ConfigPut`, FILE a private temporary file (0600 in a
/// 0700 directory) removed afterwards, whatever happened.
fn put_value(
    sacli: &dyn Sacli,
    key: &str,
    value: &str,
    temp_dir: Option<&Path>,
    commands: &mut Vec<Vec<String>>,
) -> Result<(), Error> {
    let base = temp_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir);
    let io =
        |what: &str, e: std::io::Error| Error::Io(format!("{what} in {}: {e}", base.display()));
    let dir = tempfile::Builder::new()
        .prefix("duo-openvpn-as.")
        .tempdir_in(&base)
        .map_err(|e| io("cannot create a private directory", e))?;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
        .map_err(|e| io("cannot restrict the private directory", e))?;
    let file = dir.path().join("post_auth_script.py");
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&file)
            .map_err(|e| io("cannot create the script file", e))?;
        f.write_all(value.as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| io("cannot write the script file", e))?;
    }
    let flag = format!("--value_file={}", file.display());
    let result = sacli.run(&[
        "--key".to_string(),
        key.to_string(),
        flag,
        "ConfigPut".to_string(),
    ]);
    commands.push(vec![
        "--key".into(),
        key.into(),
        "--value_file=FILE".into(),
        "ConfigPut".into(),
    ]);
    let removed = std::fs::remove_file(&file).and_then(|_| dir.close());
    result?;
    removed.map_err(|e| io("cannot remove the temporary script file", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    /// A sacli answering from a map, recording each call.
    struct Memory {
        config: RefCell<BTreeMap<String, String>>,
        calls: RefCell<Vec<Vec<String>>>,
        fail_put: bool,
    }

    impl Memory {
        fn new(pairs: &[(&str, &str)]) -> Memory {
            Memory {
                config: RefCell::new(
                    pairs
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                calls: RefCell::new(Vec::new()),
                fail_put: false,
            }
        }
    }

    impl Sacli for Memory {
        fn path(&self) -> &Path {
            Path::new("/usr/local/openvpn_as/scripts/sacli")
        }

        fn run(&self, args: &[String]) -> Result<String, Error> {
            self.calls.borrow_mut().push(args.to_vec());
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            match a.as_slice() {
                ["Version"] => Ok("2.14.3\n".into()),
                ["ConfigQuery"] => Ok(serde_json::to_string(&*self.config.borrow()).unwrap()),
                ["start"] => Ok(String::new()),
                ["--key", k, "ConfigDel"] => {
                    self.config.borrow_mut().remove(*k);
                    Ok(String::new())
                }
                ["--key", k, f, "ConfigPut"] if !self.fail_put => {
                    let path = f.strip_prefix("--value_file=").unwrap();
                    let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
                    assert_eq!(mode, 0o600);
                    let v = std::fs::read_to_string(path).unwrap();
                    self.config.borrow_mut().insert(k.to_string(), v);
                    Ok(String::new())
                }
                _ => Err(Error::Sacli {
                    args: args.join(" "),
                    status: "exit status: 1".into(),
                    output: "refused".into(),
                }),
            }
        }
    }

    const OURS: &str = "# Generated by duo-openvpn: test\nIKEY = 'x'\n";

    #[test]
    fn warnings_for_totp_saml_and_another_script() {
        let m = Memory::new(&[
            (TOTP_KEY, "true"),
            (AUTH_TYPE_KEY, "saml"),
            (POST_AUTH_KEY, "def post_auth(*a):\n    pass\n"),
        ]);
        let i = inspect(&m).unwrap();
        assert_eq!(i.version.as_deref(), Some("2.14.3"));
        assert!(i.totp_mfa && !i.totp_autologin && i.needs_consent());
        let w = i.warnings();
        assert_eq!(w.len(), 3, "{w:#?}");
        assert!(w[0].contains("TOTP") && w[0].contains("vpn.server.google_auth.enable = true"));
        assert!(w[1].contains("SAML"));
        assert!(w[2].contains("2 lines"));
        assert!(!format!("{i:?}").contains("post_auth(*a)"));

        let quiet = inspect(&Memory::new(&[(TOTP_KEY, "false"), (POST_AUTH_KEY, "")])).unwrap();
        assert!(quiet.warnings().is_empty() && !quiet.needs_consent());
        let auto = Inspection::from_config(
            Path::new("s"),
            None,
            &[(TOTP_AUTOLOGIN_KEY.to_string(), "True".to_string())].into(),
        );
        assert!(auto.warnings()[0].contains("enable_autologin = true"));
    }

    #[test]
    fn install_then_uninstall_with_nothing_before() {
        let m = Memory::new(&[(AUTH_TYPE_KEY, "local")]);
        let before = m.config.borrow().clone();
        let i = inspect(&m).unwrap();
        let r = install(&m, &i, OURS, &InstallOptions::default(), None).unwrap();
        assert_eq!(m.config.borrow()[POST_AUTH_KEY], OURS);
        assert_eq!(r.previous, None);
        assert_eq!(r.script_sha256, sha256_hex(OURS));
        assert_eq!(
            r.commands,
            [
                vec!["--key", POST_AUTH_KEY, "--value_file=FILE", "ConfigPut"],
                vec!["start"]
            ]
        );
        let json = serde_json::to_string(&r).unwrap();
        assert!(!json.contains("IKEY"));
        let back: InstallRecord = serde_json::from_str(&json).unwrap();
        let u = uninstall(&m, &back, None).unwrap();
        assert_eq!(u.outcome, UninstallOutcome::Removed);
        assert_eq!(*m.config.borrow(), before);
        // Twice: nothing left to do.
        let u = uninstall(&m, &back, None).unwrap();
        assert_eq!(u.outcome, UninstallOutcome::AlreadyGone);
        assert_eq!(u.commands, [vec!["ConfigQuery"]]);
    }

    #[test]
    fn reinstall_keeps_what_was_there_before_the_first() {
        let theirs = "def post_auth(*a):\n    pass\n";
        let m = Memory::new(&[(POST_AUTH_KEY, theirs)]);
        let i = inspect(&m).unwrap();
        let e = install(&m, &i, OURS, &InstallOptions::default(), None).unwrap_err();
        assert!(matches!(e, Error::ForeignScript { lines: 2, .. }), "{e}");
        let e = e.to_string();
        assert!(
            !e.contains("def post_auth") && e.contains("does not recognise"),
            "{e}"
        );
        assert_eq!(m.config.borrow()[POST_AUTH_KEY], theirs);
        let consent = InstallOptions {
            replace_foreign_script: true,
            ..InstallOptions::default()
        };
        let first = install(&m, &i, OURS, &consent, None).unwrap();
        assert!(first.replaced_foreign_script);
        let newer = format!("{OURS}# v2\n");
        let i2 = inspect(&m).unwrap();
        assert!(i2.current_is_ours() && !i2.needs_consent());
        let second = install(&m, &i2, &newer, &InstallOptions::default(), Some(&first)).unwrap();
        assert_eq!(second.previous.as_deref(), Some(theirs));
        let u = uninstall(&m, &second, None).unwrap();
        assert_eq!(u.outcome, UninstallOutcome::Restored);
        assert_eq!(m.config.borrow()[POST_AUTH_KEY], theirs);
    }

    #[test]
    fn uninstall_leaves_a_script_someone_put_in_since() {
        let m = Memory::new(&[]);
        let r = install(
            &m,
            &inspect(&m).unwrap(),
            OURS,
            &InstallOptions::default(),
            None,
        )
        .unwrap();
        m.config
            .borrow_mut()
            .insert(POST_AUTH_KEY.into(), "other = 1\n".into());
        let u = uninstall(&m, &r, None).unwrap();
        assert_eq!(u.outcome, UninstallOutcome::LeftOtherScript);
        assert_eq!(m.config.borrow()[POST_AUTH_KEY], "other = 1\n");
        assert_eq!(u.commands, [vec!["ConfigQuery"]]);
    }

    #[test]
    fn a_failed_put_leaves_no_file_behind_and_does_not_start() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = Memory::new(&[]);
        m.fail_put = true;
        let i = inspect(&m).unwrap();
        let opts = InstallOptions {
            temp_dir: Some(dir.path().to_path_buf()),
            ..InstallOptions::default()
        };
        let e = install(&m, &i, OURS, &opts, None).unwrap_err();
        assert!(matches!(e, Error::Sacli { .. }));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        assert!(!m.calls.borrow().iter().any(|c| c == &["start"]));
        assert!(install(&m, &i, "print('not ours')", &opts, None).is_err());
    }

    #[test]
    fn describes_the_plan() {
        let m = Memory::new(&[(POST_AUTH_KEY, "x = 1\n")]);
        let i = inspect(&m).unwrap();
        let d = describe_install(&i, OURS, false);
        assert!(d[0].starts_with("REFUSED"), "{d:?}");
        let d = describe_install(&i, OURS, true);
        assert!(d[0].contains("kept for uninstall"), "{d:?}");
        // Then the other script described (indented), then the commands.
        assert!(
            d[1].starts_with("    a post-auth script") && d[1].contains("1 line,"),
            "{d:?}"
        );
        let [.., put, start] = d.as_slice() else {
            panic!("{d:?}")
        };
        assert!(put.contains("--value_file=FILE ConfigPut") && put.contains("2 lines"));
        assert!(start.ends_with("sacli start"));
        let fresh = inspect(&Memory::new(&[])).unwrap();
        assert!(describe_install(&fresh, OURS, false)[0].starts_with("install"));
    }

    /// Duo's own script, as far as what is shown of it goes.
    const DUOS: &str = "#!/usr/bin/env python\n# duo_openvpn_as.py\nIKEY = 'DIXXXXXXXXXXXXXXXXXX'\n\
                        SKEY = 'the-secret'\nHOST = 'api-x.duosecurity.com'\n\
                        __version__ = '2.8'\n";

    #[test]
    fn another_script_is_described_never_quoted() {
        let m = Memory::new(&[(POST_AUTH_KEY, DUOS)]);
        let i = inspect(&m).unwrap();
        let mut shown = Vec::new();
        for consent in [false, true] {
            let d = describe_install(&i, OURS, consent);
            assert!(
                d.iter()
                    .any(|l| l.contains("Duo's own duo_openvpn_as.py, version 2.8")),
                "{d:#?}"
            );
            assert!(d.iter().any(|l| l.contains(&sha256_hex(DUOS))), "{d:#?}");
            assert!(
                d.iter()
                    .any(|l| l.contains("line 4: SKEY = <value not shown>")),
                "{d:#?}"
            );
            shown.extend(d);
        }
        shown.extend(i.warnings());
        let e = install(&m, &i, OURS, &InstallOptions::default(), None).unwrap_err();
        shown.push(e.to_string());
        assert!(e.to_string().contains("SKEY = <value not shown>"), "{e}");
        // Uninstall's notes, after a replacement: the previous script put back.
        let consent = InstallOptions {
            replace_foreign_script: true,
            ..InstallOptions::default()
        };
        let r = install(&m, &i, OURS, &consent, None).unwrap();
        shown.push(format!("{r:?}"));
        let u = uninstall(&m, &r, None).unwrap();
        assert_eq!(u.outcome, UninstallOutcome::Restored);
        shown.extend(u.notes);
        // Someone else's script in place of ours: left, and described.
        let r = install(&m, &inspect(&m).unwrap(), OURS, &consent, None).unwrap();
        m.config
            .borrow_mut()
            .insert(POST_AUTH_KEY.into(), DUOS.replace("2.8", "2.9"));
        let u = uninstall(&m, &r, None).unwrap();
        assert_eq!(u.outcome, UninstallOutcome::LeftOtherScript);
        assert!(u.notes[0].contains("version 2.9"), "{:?}", u.notes);
        shown.extend(u.notes);
        let all = shown.join("\n");
        assert!(!all.contains("the-secret"), "{all}");
        assert!(!all.contains("SKEY = '"), "{all}");
    }
}
