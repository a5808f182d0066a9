//! No private key, static key or inline password reaches anything setup or uninstall prints:
//! `setup --dry-run`, `setup --yes` (both print diffs, often into configuration-management logs)
//! and `uninstall --dry-run`, for configs whose secret inline blocks sit right next to the lines
//! setup edits, so that three lines of diff context would fall inside them.

mod common;

use common::{Sandbox, text, write};
use duo_mock::{MOCK_IKEY, MOCK_SKEY, MockConfig, MockDuo};

/// Lines that must never be printed: each is unique, so finding any part of one is a leak.
const KEY_LINES: [&str; 5] = [
    "-----BEGIN PRIVATE KEY-----",
    "MC4CAQAwBQYDK2VwBCIEIAlicePrivateKeyLine0000000000000000000000001",
    "AlicePrivateKeyLine2222222222222222222222222222222222222222222222",
    "AlicePrivateKeyLine3333333333333333333333333333333333333333333333",
    "-----END PRIVATE KEY-----",
];
const TLS_CRYPT_LINES: [&str; 4] = [
    "-----BEGIN OpenVPN Static key V1-----",
    "ServerTlsCryptLine1111111111111111111111111111",
    "ServerTlsCryptLine2222222222222222222222222222",
    "-----END OpenVPN Static key V1-----",
];
const TLS_AUTH_LINES: [&str; 3] = [
    "ServerTlsAuthLine11111111111111111111111111111",
    "ServerTlsAuthLine22222222222222222222222222222",
    "ServerTlsAuthLine33333333333333333333333333333",
];
const USER_PASS_LINES: [&str; 2] = ["carol-vpn-user-name", "CarolsInlinePassw0rd!"];

fn block(name: &str, lines: &[&str]) -> String {
    format!("<{name}>\n{}\n</{name}>\n", lines.join("\n"))
}

/// A sandbox whose server config ends in `<server_block>` and whose two profiles end in an
/// inline key (alice) and a `<connection>` block holding `<auth-user-pass>` (carol), each right
/// after the last option, where setup adds its lines.
fn sandbox(server_block: &str) -> Sandbox {
    let s = Sandbox::new();
    let conf = s.path("/etc/openvpn/server/server.conf");
    let mut server = std::fs::read_to_string(&conf).unwrap();
    server.push_str(server_block);
    write(&conf, server.as_bytes(), 0o644);
    let alice = format!(
        "client\ndev tun\nremote vpn.example.com 1194\n{}verb 3\n{}",
        block(
            "ca",
            &[
                "-----BEGIN CERTIFICATE-----",
                "PUBLIC",
                "-----END CERTIFICATE-----"
            ]
        ),
        // The key's last line is the file's last, without a newline: the end of a profile.
        block("key", &KEY_LINES).trim_end(),
    );
    write(&s.path("/home/alice/alice.ovpn"), alice.as_bytes(), 0o600);
    let carol = format!(
        "client\ndev tun\nauth-retry nointeract\n<connection>\n{}remote vpn.example.com 1194 udp\n</connection>\n",
        block("auth-user-pass", &USER_PASS_LINES)
    );
    write(&s.path("/home/carol/carol.ovpn"), carol.as_bytes(), 0o600);
    s
}

fn setup_args(s: &Sandbox, mock: &MockDuo) -> Vec<String> {
    let ca = s.inputs.path().join("mock-ca.pem");
    mock.write_ca(&ca).unwrap();
    let skey = s.skey_file(MOCK_SKEY);
    [
        "setup",
        "--yes",
        "--root",
        &s.root().display().to_string(),
        "--ikey",
        MOCK_IKEY,
        "--skey-file",
        &skey.display().to_string(),
        "--host",
        &mock.host(),
        "--ca-file",
        &ca.display().to_string(),
        "--plugin-so",
        &s.fake_plugin().display().to_string(),
        "--client-config",
        "/home/alice/alice.ovpn",
        "--client-config",
        "/home/carol/carol.ovpn",
    ]
    .map(String::from)
    .to_vec()
}

/// No secret line, nor its last 16 characters, in `out`.
fn assert_no_secret(what: &str, out: &str, secrets: &[&str]) {
    for line in secrets {
        let tail = &line[line.len().saturating_sub(16)..];
        assert!(
            !out.contains(line) && !out.contains(tail),
            "{what} printed `{line}`:\n{out}"
        );
    }
}

fn run_all(server_block: &str, server_secrets: &[&str], server_label: &str) {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let s = sandbox(server_block);
    let secrets: Vec<&str> = server_secrets
        .iter()
        .chain(&KEY_LINES)
        .chain(&USER_PASS_LINES)
        .copied()
        .collect();
    let args = setup_args(&s, &mock);
    let run = |args: &[String]| s.run(&args.iter().map(String::as_str).collect::<Vec<_>>());

    // --dry-run: the edits next to each block are shown, the blocks' bodies are not.
    let mut dry = args.clone();
    dry.push("--dry-run".into());
    let o = run(&dry);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert_no_secret("setup --dry-run", &out, &secrets);
    for shown in [
        "+++ b/home/alice/alice.ovpn",
        "+auth-user-pass",
        " <key>",
        "[… 5 lines of the private key, not shown …]",
        "[… 2 lines of the user name and password, not shown …]",
        server_label,
    ] {
        assert!(out.contains(shown), "`{shown}` not shown:\n{out}");
    }

    // --yes: the same diffs, then the apply.
    let o = run(&args);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("Done."), "{out}");
    assert_no_secret("setup --yes", &out, &secrets);
    assert!(out.contains(server_label), "{out}");
    // The keys themselves are untouched in the files.
    let alice = std::fs::read_to_string(s.path("/home/alice/alice.ovpn")).unwrap();
    assert!(alice.contains(KEY_LINES[2]));

    // uninstall --dry-run: what each file goes back to, masked the same way.
    let root = s.root().display().to_string();
    let o = s.run(&["uninstall", "--root", &root, "--dry-run"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert_no_secret("uninstall --dry-run", &out, &secrets);
    for shown in [
        "--- a/home/alice/alice.ovpn",
        "-auth-user-pass",
        "[… 5 lines of the private key, not shown …]",
        server_label,
    ] {
        assert!(out.contains(shown), "`{shown}` not shown:\n{out}");
    }
    // A dry run changes nothing; the real uninstall still gives every byte back.
    let o = s.run(&["uninstall", "--root", &root, "--yes"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert_no_secret("uninstall --yes", &out, &secrets);
}

#[test]
fn a_server_config_ending_in_tls_crypt() {
    run_all(
        &block("tls-crypt", &TLS_CRYPT_LINES),
        &TLS_CRYPT_LINES,
        "[… 4 lines of the tls-crypt key, not shown …]",
    );
}

#[test]
fn a_server_config_ending_in_tls_auth_with_crlf_and_uppercase_tags() {
    let crlf = format!(
        "<TLS-AUTH>\r\n{}\r\n</TLS-AUTH>\r\n",
        TLS_AUTH_LINES.join("\r\n")
    );
    run_all(
        &crlf,
        &TLS_AUTH_LINES,
        "[… 3 lines of the tls-auth key, not shown …]",
    );
}

/// duo.toml is `root:<OpenVPN's group>` 0640: `status` says when that group is one other
/// daemons share (the demo's server runs as `group nogroup`, Debian's usual), and not for a
/// group of its own (`root` here: a group that exists on every host).
#[test]
fn status_names_a_shared_group_that_can_read_duo_toml() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    for (group, shared) in [("nogroup", true), ("root", false)] {
        let s = Sandbox::new();
        let conf = s.path("/etc/openvpn/server/server.conf");
        let server = std::fs::read_to_string(&conf)
            .unwrap()
            .replace("group nogroup", &format!("group {group}"));
        write(&conf, server.as_bytes(), 0o644);
        let mut args = setup_args(&s, &mock);
        args.truncate(args.len() - 4); // no client profiles
        let o = s.run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let root = s.root().display().to_string();
        let o = s.run(&["status", "--root", &root]);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(0), "{out}");
        let note = format!("note: {group} is a group other daemons share");
        assert_eq!(out.contains(&note), shared, "{group}:\n{out}");
        if shared {
            assert!(
                out.contains("`groupadd --system openvpn`, `group openvpn` in /etc/openvpn/server/server.conf"),
                "{out}"
            );
        }
        let o = s.run(&["status", "--root", &root, "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(
            v["notes"].as_array().map(|n| n.len()),
            Some(shared as usize),
            "{v}"
        );
        assert_eq!(
            v["healthy"], true,
            "a shared group is a note, not a problem: {v}"
        );
    }
}
