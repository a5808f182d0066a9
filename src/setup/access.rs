//! Access Server's setup as one plan: what detection found (sacli, version, TOTP MFA, the loaded
//! post-auth script), the answers, the review and the effects. The wizard, the line mode and
//! `--yes` all run this plan, so they issue the same `sacli` calls for the same answers.

use std::path::PathBuf;

use access_server::install::sha256_hex;
use access_server::{Inspection, RenderOptions, SacliCommand, ScriptSummary};
use duo::DuoSettings;
use duo::config::Secret;

use super::answers::{AnswerError, DuoFields, duo_settings, failmode, read_skey};
use super::effect::{AccessServerScript, Effect};
use crate::cli::SetupArgs;
use crate::system::host::Host;

/// Access Server as `sacli` described it.
#[derive(Debug, Clone)]
pub struct AccessDetection {
    /// The `sacli` that answered, as shown to the administrator.
    pub sacli: String,
    pub inspection: Inspection,
}

impl AccessDetection {
    /// What the detection screen and `--yes` print: never the loaded script itself (Duo's own
    /// script carries its secret key near the top), only its summary.
    pub fn lines(&self) -> Vec<String> {
        let i = &self.inspection;
        let mut out = vec![
            format!(
                "Access Server {}",
                i.version.as_deref().unwrap_or("(version unknown)")
            ),
            format!("sacli: {}", self.sacli),
            format!(
                "authentication module: {}",
                i.auth_type.as_deref().unwrap_or("(not set: local)")
            ),
            format!(
                "Access Server's own TOTP MFA: {}",
                if i.totp_mfa || i.totp_autologin {
                    "ON"
                } else {
                    "off"
                }
            ),
        ];
        match i.current_script.as_deref() {
            None => out.push("post-auth script: none loaded".into()),
            Some(_) if i.current_is_ours() => {
                out.push("post-auth script: duo-openvpn's (from an earlier setup)".into())
            }
            Some(s) => {
                out.push("post-auth script: ANOTHER one is loaded:".into());
                out.extend(
                    ScriptSummary::of(s)
                        .lines()
                        .into_iter()
                        .map(|l| format!("  {l}")),
                );
            }
        }
        out
    }

    /// Another post-auth script is loaded: replacing it needs the administrator's consent.
    pub fn foreign(&self) -> Option<Vec<String>> {
        self.inspection
            .foreign_script()
            .map(|s| ScriptSummary::of(s).lines())
    }
}

/// Ask Access Server's `sacli` what is there (`sacli Version`, `sacli ConfigQuery`).
pub fn detect(host: &Host) -> Result<AccessDetection, String> {
    let path = host.sacli().ok_or_else(|| {
        format!(
            "Access Server's sacli was not found ({} or `sacli` on PATH)",
            host.display_path(crate::system::detect::SACLI)
        )
    })?;
    let inspection =
        access_server::inspect(&SacliCommand::new(&path)).map_err(|e| e.to_string())?;
    Ok(AccessDetection {
        sacli: path.display().to_string(),
        inspection,
    })
}

/// Everything Access Server's setup needs to know.
#[derive(Debug, Clone)]
pub struct AccessAnswers {
    pub settings: DuoSettings,
    /// Push at once instead of asking for a factor (Access Server's AUTOPUSH).
    pub autopush: bool,
    /// Duo for the web interface only; VPN logins skip it.
    pub web_only: bool,
    /// Replace another post-auth script (uninstall puts it back).
    pub replace_foreign: bool,
    /// The live test through the installed script, for this user.
    pub test_user: Option<String>,
    /// What the test answers the script's challenge with: `push` unless told (a passcode is
    /// a secret: it reaches python on stdin only).
    pub test_answer: Secret,
}

impl AccessAnswers {
    pub fn new(settings: DuoSettings) -> AccessAnswers {
        AccessAnswers {
            settings,
            autopush: false,
            web_only: false,
            replace_foreign: false,
            test_user: None,
            test_answer: Secret::new("push"),
        }
    }

    /// From the command line, with the same Duo answers builder the Community setup uses.
    pub fn from_flags(
        args: &SetupArgs,
        skey_env: Option<String>,
    ) -> Result<AccessAnswers, AnswerError> {
        let mut missing = Vec::new();
        let mut invalid = Vec::new();
        let settings = duo_settings(
            DuoFields {
                ikey: args.ikey.clone(),
                skey: read_skey(args.skey_file.as_ref(), skey_env),
                host: args.host.clone(),
                proxy: args.proxy.clone(),
                ca_file: args.ca_file.clone(),
                failmode: failmode(args.failmode),
            },
            &mut missing,
            &mut invalid,
        );
        if args.verified_push {
            // Refused rather than ignored: the administrator would believe it is on.
            invalid.push(
                "--verified-push: Verified Duo Push is built into the Community OpenVPN plugin; \
                 the Access Server post-auth script does not offer it yet"
                    .into(),
            );
        }
        match settings {
            Some(s) if missing.is_empty() && invalid.is_empty() => Ok(AccessAnswers {
                autopush: args.autopush,
                web_only: args.skip_duo_for_vpn,
                replace_foreign: args.replace_post_auth_script,
                test_user: args.test_user.clone(),
                ..AccessAnswers::new(s)
            }),
            _ => Err(AnswerError { missing, invalid }),
        }
    }
}

/// What setup will do on Access Server.
#[derive(Debug, Clone)]
pub struct AccessPlan {
    /// The exact `sacli` calls, the script's size and hash, what uninstall will do.
    pub review: Vec<String>,
    /// TOTP MFA, SAML, another script (from the inspection).
    pub warnings: Vec<String>,
    /// Another script is loaded and consent was not given: what stops the apply.
    pub blocked: Option<String>,
    pub effects: Vec<Effect>,
}

/// Render our script for these answers and lay out the effects.
pub fn plan(det: &AccessDetection, a: &AccessAnswers) -> Result<AccessPlan, String> {
    let opts = RenderOptions {
        autopush: a.autopush,
        skip_duo_for_vpn: a.web_only,
        ..RenderOptions::from_settings(&a.settings).map_err(|e| e.to_string())?
    };
    opts.validate().map_err(|e| e.to_string())?;
    let script = access_server::render_script(&opts);
    let i = &det.inspection;
    let mut review = access_server::install::describe_install(i, &script, a.replace_foreign);
    review.push(format!(
        "the script: {} lines, {} bytes, sha256 {} (it holds the secret key: it is never shown)",
        script.lines().count(),
        script.len(),
        sha256_hex(&script)
    ));
    review.push(match i.foreign_script() {
        Some(_) => format!(
            "uninstall: {} --key auth.module.post_auth_script --value_file=FILE ConfigPut with the \
             script that is loaded now, then {} start",
            det.sacli, det.sacli
        ),
        None => format!(
            "uninstall: {} --key auth.module.post_auth_script ConfigDel, then {} start",
            det.sacli, det.sacli
        ),
    });
    if let Some(u) = &a.test_user {
        review.push(format!(
            "then a live test through the installed script: a {} login for {u}",
            if a.web_only { "web" } else { "VPN" }
        ));
    }
    let blocked = (i.needs_consent() && !a.replace_foreign).then(|| {
        "Access Server already runs another post-auth script, and it runs only one: replacing \
         it needs consent (uninstall puts it back)"
            .to_string()
    });
    let mut effects = vec![Effect::InstallAccessServer(AccessServerScript {
        script,
        consent: a.replace_foreign,
    })];
    if let Some(u) = &a.test_user {
        effects.push(Effect::TestAccessServer {
            user: u.clone(),
            answer: a.test_answer.clone(),
            web: a.web_only,
        });
    }
    Ok(AccessPlan {
        review,
        warnings: i.warnings(),
        blocked,
        effects,
    })
}

/// The python that runs the installed script for the live test.
pub fn python(host: &Host) -> Option<PathBuf> {
    host.which("python3")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn detection(script: Option<&str>) -> AccessDetection {
        let mut config = BTreeMap::new();
        if let Some(s) = script {
            config.insert("auth.module.post_auth_script".to_string(), s.to_string());
        }
        AccessDetection {
            sacli: "/usr/local/openvpn_as/scripts/sacli".into(),
            inspection: Inspection::from_config(
                std::path::Path::new("/usr/local/openvpn_as/scripts/sacli"),
                Some("2.14.3".into()),
                &config,
            ),
        }
    }

    fn answers() -> AccessAnswers {
        AccessAnswers::new(DuoSettings::new(
            "DIXXXXXXXXXXXXXXXXXX",
            Secret::new("deadbeefdeadbeefdeadbeefdeadbeefdeadbeef"),
            "api-xxxxxxxx.duosecurity.com",
        ))
    }

    #[test]
    fn the_review_names_the_calls_the_hash_and_the_undo_but_not_the_key() {
        let p = plan(&detection(None), &answers()).unwrap();
        let text = p.review.join("\n");
        assert!(text.contains("ConfigPut"), "{text}");
        assert!(text.contains("sacli start"), "{text}");
        assert!(text.contains("sha256 "), "{text}");
        assert!(text.contains("ConfigDel"), "{text}");
        assert!(!text.contains("deadbeef"), "{text}");
        assert!(p.blocked.is_none());
        assert_eq!(p.effects.len(), 1);
    }

    #[test]
    fn another_script_blocks_until_consent_and_is_summarised_not_quoted() {
        let foreign =
            "SKEY = 'theirsecretkey0123456789'\ndef post_auth(a, b, c, d):\n    return c\n";
        let d = detection(Some(foreign));
        let p = plan(&d, &answers()).unwrap();
        assert!(p.blocked.is_some());
        let shown = format!("{}\n{}", d.lines().join("\n"), p.review.join("\n"));
        assert!(!shown.contains("theirsecretkey"), "{shown}");
        assert!(shown.contains("ANOTHER"), "{shown}");
        let p = plan(
            &d,
            &AccessAnswers {
                replace_foreign: true,
                ..answers()
            },
        )
        .unwrap();
        assert!(p.blocked.is_none());
        assert!(
            p.review
                .join("\n")
                .contains("with the script that is loaded now")
        );
    }

    #[test]
    fn a_test_user_adds_the_test_through_the_installed_script() {
        let p = plan(
            &detection(None),
            &AccessAnswers {
                test_user: Some("alice".into()),
                web_only: true,
                ..answers()
            },
        )
        .unwrap();
        assert!(matches!(
            p.effects.last(),
            Some(Effect::TestAccessServer { user, web: true, .. }) if user == "alice"
        ));
    }
}
