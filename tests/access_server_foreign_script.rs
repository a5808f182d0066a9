//! Another post-auth script in Access Server (here shaped like Duo's own `duo_openvpn_as.py`,
//! secret key near the top) is described by setup and uninstall, never quoted: its secret
//! appears in no output of `setup --dry-run`, `setup --yes` (refused, then with consent),
//! `uninstall --dry-run` or `uninstall --yes`.

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Output, Stdio};

use common::text;
use duo_mock::{MOCK_IKEY, MOCK_SKEY, MockConfig, MockDuo};

const KEY: &str = "auth.module.post_auth_script";
const SECRET: &str = "the-secret";

/// The top of Duo's script, as an administrator who followed Duo's guide has it loaded.
fn duos_script() -> String {
    let mut s = format!(
        "#!/usr/bin/env python\n#\n# duo_openvpn_as.py\n#\n# Copyright 2012 Duo Security, Inc.\n\n\
         IKEY = 'DIXXXXXXXXXXXXXXXXXX'\nSKEY = '{SECRET}'\nHOST = 'api-x.duosecurity.com'\n\n\
         PROXY_HOST = ''\nPROXY_PORT = 8080\n"
    );
    // More than twelve lines, so the old preview of the first lines held the secret.
    for i in 0..20 {
        s.push_str(&format!("# filler {i}\n"));
    }
    s.push_str("__version__ = '2.8'\n\ndef post_auth_cr(authcred, attributes, authret, info, crstate):\n    return authret\n");
    s
}

fn run(args: &[&str]) -> Output {
    Command::new(common::BIN)
        .args(args)
        .env_remove("DUO_SKEY")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn duos_own_script_is_described_and_its_secret_never_printed() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let inputs = tempfile::tempdir().unwrap();
    common::install_sacli(dir.path());
    let db_path = dir.path().join("usr/local/openvpn_as/etc/fake-config.json");
    std::fs::create_dir_all(db_path.parent().unwrap()).unwrap();
    let theirs = duos_script();
    let db: BTreeMap<&str, &str> = [(KEY, theirs.as_str())].into();
    std::fs::write(&db_path, serde_json::to_string(&db).unwrap()).unwrap();
    let loaded = || -> Option<String> {
        let db: BTreeMap<String, String> =
            serde_json::from_str(&std::fs::read_to_string(&db_path).unwrap()).unwrap();
        db.get(KEY).cloned()
    };

    let ca = inputs.path().join("ca.pem");
    mock.write_ca(&ca).unwrap();
    let skey = inputs.path().join("skey");
    std::fs::write(&skey, MOCK_SKEY).unwrap();
    let root = dir.path().display().to_string();
    let (skey, ca, host) = (
        skey.display().to_string(),
        ca.display().to_string(),
        mock.host(),
    );
    let setup = |extra: &[&str]| {
        let mut a = vec![
            "setup",
            "--yes",
            "--target",
            "access-server",
            "--root",
            &root,
            "--ikey",
            MOCK_IKEY,
            "--skey-file",
            &skey,
            "--host",
            &host,
            "--ca-file",
            &ca,
        ];
        a.extend_from_slice(extra);
        run(&a)
    };
    let sha = access_server::install::sha256_hex(&theirs);
    let described = |o: &Output, what: &str| {
        let t = text(o);
        assert!(
            !t.contains(SECRET),
            "{what}: the other script's secret was printed:\n{t}"
        );
        assert!(
            !t.contains("SKEY = '"),
            "{what}: a line of the script was quoted:\n{t}"
        );
        assert!(
            t.contains("Duo's own duo_openvpn_as.py, version 2.8") && t.contains(&sha),
            "{what}: the script is not described:\n{t}"
        );
        t
    };

    let o = setup(&["--dry-run"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = described(&o, "setup --dry-run");
    assert!(t.contains("SKEY = <value not shown>"), "{t}");
    let o = setup(&[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = described(&o, "setup --yes, refused");
    assert!(t.contains("--replace-post-auth-script"), "{t}");
    assert_eq!(loaded().as_deref(), Some(theirs.as_str()));

    let o = setup(&["--dry-run", "--replace-post-auth-script"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    described(&o, "setup --dry-run --replace-post-auth-script");
    let o = setup(&["--replace-post-auth-script"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    described(&o, "setup --yes --replace-post-auth-script");
    assert_ne!(loaded().as_deref(), Some(theirs.as_str()));

    let o = run(&["uninstall", "--dry-run", "--root", &root]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    described(&o, "uninstall --dry-run");
    let o = run(&["uninstall", "--yes", "--root", &root]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    described(&o, "uninstall --yes");
    assert_eq!(loaded().as_deref(), Some(theirs.as_str()));
}
