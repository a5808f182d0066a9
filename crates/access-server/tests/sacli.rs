//! Install and uninstall against a fake `sacli` (tests/fake_sacli.py) in a sandbox root: the
//! exact calls, the configuration database after each step, and another post-auth script
//! never replaced without consent and put back by uninstall.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use access_server::install::{POST_AUTH_KEY, TOTP_KEY};
use access_server::{
    Error, InstallOptions, RenderOptions, SacliCommand, UninstallOutcome, detect, inspect, install,
    render_script, uninstall,
};
use duo::config::Secret;

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    /// A root with Access Server's `sacli` (the fake) and this configuration database.
    fn new(config: &[(&str, &str)]) -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let sacli = dir.path().join("usr/local/openvpn_as/scripts/sacli");
        std::fs::create_dir_all(sacli.parent().unwrap()).unwrap();
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fake_sacli.py"),
            &sacli,
        )
        .unwrap();
        std::fs::set_permissions(&sacli, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::create_dir_all(dir.path().join("usr/local/openvpn_as/etc")).unwrap();
        std::fs::create_dir_all(dir.path().join("tmp")).unwrap();
        let s = Sandbox { dir };
        let db: BTreeMap<&str, &str> = config.iter().copied().collect();
        std::fs::write(s.db_path(), serde_json::to_string_pretty(&db).unwrap()).unwrap();
        s
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn db_path(&self) -> PathBuf {
        self.root()
            .join("usr/local/openvpn_as/etc/fake-config.json")
    }

    fn db(&self) -> BTreeMap<String, String> {
        serde_json::from_str(&std::fs::read_to_string(self.db_path()).unwrap()).unwrap()
    }

    /// Every call so far (argv, temp paths as FILE) and the modes of the value files read;
    /// forgets them.
    fn take_calls(&self) -> (Vec<Vec<String>>, Vec<String>, Vec<PathBuf>) {
        let log = self.root().join("usr/local/openvpn_as/sacli-calls.log");
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_file(&log);
        let (mut calls, mut modes, mut files) = (Vec::new(), Vec::new(), Vec::new());
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let argv: Vec<String> = v["argv"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    let a = a.as_str().unwrap();
                    match a.strip_prefix("--value_file=") {
                        Some(f) => {
                            files.push(PathBuf::from(f));
                            "--value_file=FILE".to_string()
                        }
                        None => a.to_string(),
                    }
                })
                .collect();
            calls.push(argv);
            if let Some(m) = v["value_file_mode"].as_str() {
                modes.push(m.to_string());
            }
        }
        (calls, modes, files)
    }

    fn opts(&self, consent: bool) -> InstallOptions {
        InstallOptions {
            replace_foreign_script: consent,
            temp_dir: Some(self.root().join("tmp")),
        }
    }
}

fn script() -> String {
    let mut o = RenderOptions::new(
        "DIWJ8X6AEYOR5OMC6TQ1",
        Secret::new("Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep"),
        "api-xxxxxxxx.duosecurity.com",
    );
    o.autopush = true;
    render_script(&o)
}

fn argv(calls: &[&[&str]]) -> Vec<Vec<String>> {
    calls
        .iter()
        .map(|c| c.iter().map(|s| s.to_string()).collect())
        .collect()
}

const BASE: &[(&str, &str)] = &[
    ("auth.module.type", "local"),
    ("host.name", "vpn.example.com"),
    (TOTP_KEY, "false"),
];

#[test]
fn install_then_uninstall_returns_the_database_to_its_previous_state() {
    if !common::python3_available("install_then_uninstall") {
        return;
    }
    let sb = Sandbox::new(BASE);
    let before = sb.db();
    let sacli = SacliCommand::detect(sb.root()).expect("the fake sacli is detected");
    assert_eq!(
        detect(sb.root()).unwrap(),
        sb.root().join("usr/local/openvpn_as/scripts/sacli")
    );
    let script = script();

    let found = inspect(&sacli).unwrap();
    assert_eq!(found.version.as_deref(), Some("2.14.3 (fake sacli)"));
    assert!(found.warnings().is_empty(), "{:?}", found.warnings());
    assert!(!found.needs_consent());
    let record = install(&sacli, &found, &script, &sb.opts(false), None).unwrap();

    let (calls, modes, files) = sb.take_calls();
    assert_eq!(
        calls,
        argv(&[
            &["Version"],
            &["ConfigQuery"],
            &["--key", POST_AUTH_KEY, "--value_file=FILE", "ConfigPut"],
            &["start"],
        ])
    );
    assert_eq!(modes, ["600"], "the script file is private");
    assert!(!files[0].exists(), "the temporary script file is removed");
    assert_eq!(std::fs::read_dir(sb.root().join("tmp")).unwrap().count(), 0);
    let after = sb.db();
    assert_eq!(
        after[POST_AUTH_KEY], script,
        "the database holds our rendered script"
    );
    assert_eq!(after.len(), before.len() + 1);

    // The record goes into the manifest as JSON, and never holds our secret key.
    let json = serde_json::to_string(&record).unwrap();
    assert!(!json.contains("Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep"));
    assert_eq!(record.previous, None);
    let record = serde_json::from_str(&json).unwrap();

    let report = uninstall(&sacli, &record, Some(&sb.root().join("tmp"))).unwrap();
    assert_eq!(report.outcome, UninstallOutcome::Removed);
    let (calls, _, _) = sb.take_calls();
    assert_eq!(
        calls,
        argv(&[
            &["ConfigQuery"],
            &["--key", POST_AUTH_KEY, "ConfigDel"],
            &["start"],
        ])
    );
    assert_eq!(
        sb.db(),
        before,
        "uninstall gives back the database as it was"
    );
}

#[test]
fn another_post_auth_script_needs_consent_and_comes_back_on_uninstall() {
    if !common::python3_available("another_post_auth_script") {
        return;
    }
    let theirs = "# MAC address check\nfrom pyovpn.plugin import SUCCEED, FAIL\n\ndef post_auth(authcred, attributes, authret, info):\n    return authret\n";
    let mut config = BASE.to_vec();
    config.push((POST_AUTH_KEY, theirs));
    config.push((TOTP_KEY, "true"));
    let sb = Sandbox::new(&config);
    let before = sb.db();
    let sacli = SacliCommand::detect(sb.root()).unwrap();
    let script = script();

    let found = inspect(&sacli).unwrap();
    assert!(found.needs_consent());
    assert_eq!(found.foreign_script(), Some(theirs));
    let warnings = found.warnings();
    assert!(warnings.iter().any(|w| w.contains("TOTP")), "{warnings:#?}");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("another post-auth script")
                || w.contains("Another post-auth script"))
    );

    // Without consent: refused, shown, nothing changed.
    let e = install(&sacli, &found, &script, &sb.opts(false), None).unwrap_err();
    assert!(matches!(e, Error::ForeignScript { lines: 5, .. }), "{e}");
    // Described, not quoted: the script may hold someone's secrets.
    let shown = e.to_string();
    assert!(!shown.contains("# MAC address check"), "{shown}");
    assert!(
        shown.contains(&access_server::install::sha256_hex(theirs)) && shown.contains("5 lines"),
        "{shown}"
    );
    let (calls, _, _) = sb.take_calls();
    assert_eq!(calls, argv(&[&["Version"], &["ConfigQuery"]]));
    assert_eq!(
        sb.db(),
        before,
        "without consent the other script is not overwritten"
    );

    // With consent: replaced, and kept in the record.
    let record = install(&sacli, &found, &script, &sb.opts(true), None).unwrap();
    assert!(record.replaced_foreign_script);
    assert_eq!(record.previous.as_deref(), Some(theirs));
    assert_eq!(sb.db()[POST_AUTH_KEY], script);
    let (calls, _, _) = sb.take_calls();
    assert_eq!(
        calls,
        argv(&[
            &["--key", POST_AUTH_KEY, "--value_file=FILE", "ConfigPut"],
            &["start"],
        ])
    );

    // Setup again (the script is ours now): no consent needed, the original is still kept.
    let again = inspect(&sacli).unwrap();
    assert!(again.current_is_ours() && !again.needs_consent());
    let record = install(&sacli, &again, &script, &sb.opts(false), Some(&record)).unwrap();
    assert_eq!(record.previous.as_deref(), Some(theirs));
    sb.take_calls();

    let report = uninstall(&sacli, &record, Some(&sb.root().join("tmp"))).unwrap();
    assert_eq!(report.outcome, UninstallOutcome::Restored);
    let (calls, modes, files) = sb.take_calls();
    assert_eq!(
        calls,
        argv(&[
            &["ConfigQuery"],
            &["--key", POST_AUTH_KEY, "--value_file=FILE", "ConfigPut"],
            &["start"],
        ])
    );
    assert_eq!(modes, ["600"]);
    assert!(!files[0].exists());
    assert_eq!(sb.db(), before, "the other script is back, byte for byte");
}

#[test]
fn a_failing_sacli_is_reported_with_its_words() {
    if !common::python3_available("a_failing_sacli") {
        return;
    }
    let sb = Sandbox::new(BASE);
    // Break the database: ConfigQuery then fails inside the fake.
    std::fs::write(sb.db_path(), "{not json").unwrap();
    let sacli = SacliCommand::detect(sb.root()).unwrap();
    let e = inspect(&sacli).unwrap_err().to_string();
    assert!(e.contains("sacli ConfigQuery"), "{e}");
    assert!(
        e.contains("JSONDecodeError") || e.contains("Expecting"),
        "{e}"
    );
}
