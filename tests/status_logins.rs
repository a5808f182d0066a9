//! `duo-openvpn status` reads the plugin's last login lines from the server's journal: which
//! logins used CR_TEXT, and which clients cannot be asked for the factor. The journal is a
//! recording, played by a fake `journalctl` first on PATH.

mod common;

use common::{Sandbox, text};
use duo_mock::{MockConfig, MockDuo};

/// As `journalctl -u openvpn-server@server -o cat` shows them, with lines of other kinds and
/// a login line from before the plugin logged how the factor was asked.
const JOURNAL: &str = r#"PLUGIN duo-openvpn: duo-openvpn-plugin 0.1.0 ready in 2.6.14: Duo host api-xxxxxxxx.duosecurity.com, config /etc/duo-openvpn/duo.toml, failmode secure, user name from username, logins answered within 60 s, 3 threads, open files 20000
PLUGIN duo-openvpn: allowed: Success. Logging you in...; user "alice" from 192.0.2.7, factor push; 2.0 s
PLUGIN duo-openvpn: allowed: Success. Logging you in...; user "alice" from 192.0.2.7, factor push via CR_TEXT; 4.1 s; factor asked via CR_TEXT; client OpenVPN_GUI_11, sso openurl,webauth,crtext
MULTI: Learn: 10.8.0.2 -> alice/192.0.2.7:51000
PLUGIN duo-openvpn: allowed: Success. Logging you in...; user "bob" from 192.0.2.8, factor auto; 3.0 s; factor asked via password field; client unknown, sso none
PLUGIN duo-openvpn: denied: Duo push denied; user "carol" from 192.0.2.9, factor push; 5.2 s; factor asked via password field; client tunnelblick_4.0, sso none
PLUGIN duo-openvpn: challenged: Duo Verified Push, its code sent to the client as a CRV1 challenge; user "dave" from 192.0.2.10, factor auto; 0.6 s; factor asked via password field; client unknown, sso none
PLUGIN duo-openvpn: allowed: Success. Logging you in...; user "dave" from 192.0.2.10, factor verified push, answer via CRV1; 6.3 s; factor asked via CRV1; client unknown, sso none
"#;

#[test]
fn status_reports_how_logins_were_asked_and_which_clients_cannot_be() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let s = Sandbox::new();
    let o = s.run(
        &s.setup_args(&mock, &["/home/alice/alice.ovpn"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let journal = s.inputs.path().join("journal.txt");
    std::fs::write(&journal, JOURNAL).unwrap();
    let fake = format!(
        "#!/bin/sh\ncase \"$*\" in\n  *\"-u openvpn-server@server\"*) cat '{}' ;;\nesac\nexit 0\n",
        journal.display()
    );
    common::write(&s.bin.path().join("journalctl"), fake.as_bytes(), 0o755);
    let root = s.root().display().to_string();

    let o = s.run(&["status", "--root", &root]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(
            "logins     5 in the journal: 1 via CR_TEXT, 3 via the password field, \
             1 via CRV1 (verified push)\n"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "client unknown cannot be asked for the factor (no crtext in IV_SSO): \"bob\", \"dave\"\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("client tunnelblick_4.0 cannot be asked for the factor (no crtext in IV_SSO): \"carol\"\n"),
        "{out}"
    );
    assert!(!out.contains("client OpenVPN_GUI_11 cannot"), "{out}");

    let o = s.run(&["status", "--root", &root, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let l = &v["logins"];
    assert_eq!(
        (&l["total"], &l["cr_text"], &l["password_field"], &l["crv1"]),
        (
            &serde_json::json!(5),
            &serde_json::json!(1),
            &serde_json::json!(3),
            &serde_json::json!(1)
        ),
        "{v}"
    );
    assert_eq!(
        l["clients_without_crtext"],
        serde_json::json!([
            {"client": "unknown", "users": ["bob", "dave"]},
            {"client": "tunnelblick_4.0", "users": ["carol"]},
        ]),
        "{v}"
    );
    assert_eq!(v["healthy"], true, "{v}");
}
