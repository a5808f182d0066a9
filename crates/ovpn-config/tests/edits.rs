//! The edits setup makes and their undo, on small hand-written configs.

use ovpn_config::{
    ChangeKind, Document, EditError, PluginLineStyle, Role, ServerSetup, Setting, UndoOutcome,
    ensure_client, ensure_server, plugin_argv, plugin_line, tokenize, undo_all,
};

fn setup() -> ServerSetup {
    ServerSetup {
        plugin_path: "/usr/lib/duo-openvpn/libduo_openvpn_plugin.so".into(),
        config_path: "/etc/duo-openvpn/duo.toml".into(),
        style: PluginLineStyle::Quoted,
        migrate_upstream: false,
        allow_unknown_role: false,
        session_tokens: None,
    }
}

fn doc(text: &str) -> Document {
    Document::parse(text).unwrap()
}

#[test]
fn server_gets_plugin_and_reneg_sec() {
    let text = "port 1194\nproto udp\nserver 10.8.0.0 255.255.255.0\n# the end\n";
    let mut d = doc(text);
    let changes = ensure_server(&mut d, &setup()).unwrap();
    assert_eq!(
        d.to_string(),
        "port 1194\nproto udp\nserver 10.8.0.0 255.255.255.0\n\
         plugin /usr/lib/duo-openvpn/libduo_openvpn_plugin.so '/etc/duo-openvpn/duo.toml'\n\
         reneg-sec 0\n# the end\n"
    );
    assert_eq!(changes.len(), 2);
    assert_eq!(
        changes[0].to_string(),
        "line 4: added `plugin /usr/lib/duo-openvpn/libduo_openvpn_plugin.so '/etc/duo-openvpn/duo.toml'`"
    );
    // Idempotent.
    let again = ensure_server(&mut d, &setup()).unwrap();
    assert!(again.is_empty());
    // Exact inverse.
    let outcomes = undo_all(&mut d, &changes);
    assert!(outcomes.iter().all(|(_, o)| *o == UndoOutcome::Reverted));
    assert_eq!(d.to_string(), text);
}

#[test]
fn bare_style_and_paths_with_spaces() {
    let mut s = setup();
    s.style = PluginLineStyle::Bare;
    s.config_path = "/etc/duo openvpn/duo.toml".into();
    let mut d = doc("server 10.8.0.0 255.255.255.0\n");
    ensure_server(&mut d, &s).unwrap();
    let p = &d.plugins()[0];
    assert_eq!(p.argv[1..], ["/etc/duo openvpn/duo.toml"]);
    assert!(ensure_server(&mut d, &s).unwrap().is_empty());
    // A line in the other style handing the same argv counts as ours.
    s.style = PluginLineStyle::Quoted;
    assert!(ensure_server(&mut d, &s).unwrap().is_empty());
}

#[test]
fn plugin_line_argv_round_trip() {
    let cases: &[&[&str]] = &[
        &[],
        &["/etc/duo-openvpn/duo.toml"],
        &["/a b/c.toml"],
        &["it's"],
        &[""],
        &["IKEY", "SKEY", "api-x.duosecurity.com"],
        &["IKEY", "S'KEY", "h o", "p", "3128"],
    ];
    for args in cases {
        for style in [PluginLineStyle::Quoted, PluginLineStyle::Bare] {
            let line = plugin_line("/opt/x y/p.so", args, style).unwrap();
            let toks: Vec<String> = tokenize::tokenize(&line)
                .unwrap()
                .tokens
                .into_iter()
                .map(|t| t.value)
                .collect();
            let argv = plugin_argv(&toks[1..]);
            assert_eq!(argv[0], "/opt/x y/p.so", "{line}");
            assert_eq!(&argv[1..], *args, "{line}");
        }
    }
    assert_eq!(
        plugin_line(
            "/opt/duo/duo_openvpn.so",
            &["I", "S", "H"],
            PluginLineStyle::Quoted
        )
        .unwrap(),
        "plugin /opt/duo/duo_openvpn.so 'I S H'"
    );
    assert_eq!(
        plugin_line(
            "/opt/duo/duo_openvpn.so",
            &["I", "S", "H"],
            PluginLineStyle::Bare
        )
        .unwrap(),
        "plugin /opt/duo/duo_openvpn.so I S H"
    );
}

#[test]
fn reneg_sec_two_argument_form_replaced_and_restored() {
    let text = "mode server\ntls-server\n  --reneg-sec 3600 600   # renegotiate hourly\r\nverb 3";
    let mut d = doc(text);
    let changes = ensure_server(&mut d, &setup()).unwrap();
    let out = d.to_string();
    assert!(
        out.contains("  --reneg-sec 0   # renegotiate hourly\r\n"),
        "{out}"
    );
    let ChangeKind::ReplacedLine { line, old, new, .. } = &changes[1].kind else {
        panic!("{changes:?}")
    };
    assert_eq!(*line, 3);
    assert_eq!(old, "  --reneg-sec 3600 600   # renegotiate hourly");
    assert_eq!(new, "  --reneg-sec 0   # renegotiate hourly");
    // The file had no final newline: the last line got one, and undo takes it away again.
    assert!(out.ends_with("verb 3\nplugin /usr/lib/duo-openvpn/libduo_openvpn_plugin.so '/etc/duo-openvpn/duo.toml'\n"), "{out:?}");
    undo_all(&mut d, &changes);
    assert_eq!(d.to_string(), text);
}

#[test]
fn client_edits_keep_existing_values_and_inline_blocks() {
    let text = "client\r\nremote vpn.example.com 1194\r\nauth-user-pass /etc/openvpn/creds.txt\r\nauth-retry nointeract\r\n<ca>\r\n-----BEGIN CERTIFICATE-----\r\nMIIB\r\n-----END CERTIFICATE-----\r\n</ca>\r\n";
    let mut d = doc(text);
    let changes = ensure_client(&mut d, false).unwrap();
    assert_eq!(
        d.to_string(),
        "client\r\nremote vpn.example.com 1194\r\nauth-user-pass /etc/openvpn/creds.txt\r\nauth-retry interact\r\nreneg-sec 0\r\n<ca>\r\n-----BEGIN CERTIFICATE-----\r\nMIIB\r\n-----END CERTIFICATE-----\r\n</ca>\r\n"
    );
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[0].setting, Setting::AuthRetry);
    assert!(ensure_client(&mut d, false).unwrap().is_empty());
    undo_all(&mut d, &changes);
    assert_eq!(d.to_string(), text);
}

#[test]
fn inline_auth_user_pass_counts() {
    let text = "client\n<auth-user-pass>\nalice\n</auth-user-pass>\n";
    let mut d = doc(text);
    let changes = ensure_client(&mut d, false).unwrap();
    assert!(changes.iter().all(|c| c.setting != Setting::AuthUserPass));
}

#[test]
fn wrong_role_is_refused() {
    let mut d = doc("client\nremote x\n");
    let e = ensure_server(&mut d, &setup()).unwrap_err();
    assert_eq!(
        e,
        EditError::WrongRole {
            wanted: Role::Server,
            found: Role::Client
        }
    );
    assert_eq!(
        e.to_string(),
        "expected a server config, but this is a client profile"
    );
    let mut d = doc("server 10.8.0.0 255.255.255.0\n");
    assert!(matches!(
        ensure_client(&mut d, false),
        Err(EditError::WrongRole { .. })
    ));
    let mut d = doc("dev tun\nsecret static.key\n");
    assert!(ensure_server(&mut d, &setup()).is_err());
    let mut s = setup();
    s.allow_unknown_role = true;
    assert_eq!(ensure_server(&mut d, &s).unwrap().len(), 2);
}

#[test]
fn upstream_duo_migration() {
    let text = "server 10.8.0.0 255.255.255.0\n    plugin /opt/duo/duo_openvpn.so 'DIXXX s3cret api-1.duosecurity.com'\nplugin /opt/duo/duo_openvpn.so DIXXX s3cret api-1.duosecurity.com\nreneg-sec 0\n";
    let mut d = doc(text);
    let e = ensure_server(&mut d, &setup()).unwrap_err();
    assert_eq!(e, EditError::UpstreamDuoPresent { line: 2 });
    assert_eq!(d.to_string(), text, "an error changes nothing");

    let creds = d.upstream_duo()[0].credentials.clone().unwrap();
    assert_eq!(creds.skey, "s3cret");

    let mut s = setup();
    s.migrate_upstream = true;
    let changes = ensure_server(&mut d, &s).unwrap();
    assert_eq!(
        d.to_string(),
        "server 10.8.0.0 255.255.255.0\n    plugin /usr/lib/duo-openvpn/libduo_openvpn_plugin.so '/etc/duo-openvpn/duo.toml'\nreneg-sec 0\n"
    );
    assert_eq!(changes.len(), 2);
    assert!(!changes.iter().any(|c| c.to_string().contains("s3cret")));
    assert!(ensure_server(&mut d, &s).unwrap().is_empty());
    undo_all(&mut d, &changes);
    assert_eq!(d.to_string(), text);
}

#[test]
fn our_plugin_with_other_arguments_is_rewritten() {
    let text =
        "server 10.8.0.0 255.255.255.0\nplugin /old/libduo_openvpn_plugin.so /old/duo.toml\n";
    let mut d = doc(text);
    let changes = ensure_server(&mut d, &setup()).unwrap();
    assert_eq!(d.plugins().len(), 1);
    assert!(matches!(
        changes[0].kind,
        ChangeKind::ReplacedLine { line: 2, .. }
    ));
    undo_all(&mut d, &changes);
    assert_eq!(d.to_string(), text);
}

#[test]
fn undo_after_the_admin_edited_the_file() {
    let text = "server 10.8.0.0 255.255.255.0\nreneg-sec 3600\nverb 3\n";
    let mut d = doc(text);
    let changes = ensure_server(&mut d, &setup()).unwrap();
    // The admin adds lines above ours and a comment, and re-indents our plugin line.
    let edited = d
        .to_string()
        .replace("verb 3\n", "verb 4\npush \"route 10.0.0.0 255.0.0.0\"\n")
        .replace("plugin /usr", "  plugin /usr");
    let mut d = doc(&format!("# managed by ansible\n{edited}"));
    let outcomes = undo_all(&mut d, &changes);
    assert!(
        outcomes.iter().all(|(_, o)| *o == UndoOutcome::Reverted),
        "{outcomes:?}"
    );
    assert_eq!(
        d.to_string(),
        "# managed by ansible\nserver 10.8.0.0 255.255.255.0\nreneg-sec 3600\nverb 4\npush \"route 10.0.0.0 255.0.0.0\"\n"
    );
}

#[test]
fn undo_reports_what_is_gone() {
    let text = "client\nremote x\n";
    let mut d = doc(text);
    let changes = ensure_client(&mut d, false).unwrap();
    let edited = d.to_string().replace("reneg-sec 0\n", "reneg-sec 120\n");
    let mut d = doc(&edited);
    let outcomes = undo_all(&mut d, &changes);
    let by_setting: Vec<(Setting, UndoOutcome)> =
        outcomes.into_iter().map(|(c, o)| (c.setting, o)).collect();
    assert_eq!(
        by_setting,
        [
            (Setting::RenegSec, UndoOutcome::NotFound),
            (Setting::AuthRetry, UndoOutcome::Reverted),
            (Setting::AuthUserPass, UndoOutcome::Reverted),
        ]
    );
    assert_eq!(d.to_string(), "client\nremote x\nreneg-sec 120\n");
}

#[test]
fn never_inside_an_inline_block_and_empty_files() {
    let text = "<connection>\nremote a\n</connection>\nclient\n<ca>\nX\n</ca>";
    let mut d = doc(text);
    let changes = ensure_client(&mut d, false).unwrap();
    assert_eq!(
        d.to_string(),
        "<connection>\nremote a\n</connection>\nclient\nauth-user-pass\nauth-retry interact\nreneg-sec 0\n<ca>\nX\n</ca>"
    );
    undo_all(&mut d, &changes);
    assert_eq!(d.to_string(), text);

    let mut d = doc("");
    let mut s = setup();
    s.allow_unknown_role = true;
    let changes = ensure_server(&mut d, &s).unwrap();
    undo_all(&mut d, &changes);
    assert_eq!(d.to_string(), "");
}

#[cfg(feature = "serde")]
#[test]
fn changes_serialise() {
    let mut d = doc("client\n");
    let changes = ensure_client(&mut d, false).unwrap();
    let json = serde_json::to_string(&changes).unwrap();
    let back: Vec<ovpn_config::Change> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, changes);
}

#[test]
fn trailing_backslash_swallows_the_newline_into_the_value() {
    // Found by the fuzzer: OpenVPN reads `10\<newline>` as the value "10\n".
    let text = "client\nreneg-sec 10\\\nverb 3\n";
    let mut d = doc(text);
    assert_eq!(d.reneg_sec().unwrap().max, "10\n");
    let changes = ensure_client(&mut d, false).unwrap();
    assert!(d.to_string().contains("\nreneg-sec 0\nverb 3\n"), "{d}");
    undo_all(&mut d, &changes);
    assert_eq!(d.to_string(), text);
}

#[test]
fn final_line_ending_in_a_lone_cr() {
    // Found by the fuzzer: given a "\n", a last line "verb 3\r" reads back as a CRLF line.
    let text = "client\nverb 3\r";
    let mut d = doc(text);
    let changes = ensure_client(&mut d, false).unwrap();
    let written = d.to_string();
    assert_eq!(Document::parse(&written).unwrap(), d);
    let mut reread = doc(&written);
    undo_all(&mut reread, &changes);
    assert_eq!(reread.to_string(), text);
}

#[test]
fn session_tokens_instead_of_reneg_sec_zero() {
    let text = "server 10.8.0.0 255.255.255.0\nreneg-sec 3600\nauth-gen-token 60\n";
    let mut s = setup();
    s.session_tokens = Some(ovpn_config::SessionTokens {
        lifetime_secs: 43200,
        secret_path: "/etc/duo-openvpn/auth-token.key".into(),
    });
    let mut d = doc(text);
    let changes = ensure_server(&mut d, &s).unwrap();
    assert_eq!(
        d.to_string(),
        "server 10.8.0.0 255.255.255.0\nreneg-sec 3600\nauth-gen-token 43200 external-auth\n\
         plugin /usr/lib/duo-openvpn/libduo_openvpn_plugin.so '/etc/duo-openvpn/duo.toml'\n\
         auth-gen-token-secret /etc/duo-openvpn/auth-token.key\n"
    );
    assert_eq!(
        changes.iter().map(|c| c.setting).collect::<Vec<_>>(),
        [
            Setting::Plugin,
            Setting::AuthGenToken,
            Setting::AuthGenTokenSecret
        ]
    );
    assert!(ensure_server(&mut d, &s).unwrap().is_empty(), "idempotent");
    undo_all(&mut d, &changes);
    assert_eq!(
        d.to_string(),
        text,
        "the replaced auth-gen-token line comes back"
    );
    // The client keeps renegotiating too.
    let client = "client\nremote vpn.example.com\n";
    let mut c = doc(client);
    ovpn_config::ensure_client_with(&mut c, false, true).unwrap();
    assert_eq!(
        c.to_string(),
        "client\nremote vpn.example.com\nauth-user-pass\nauth-retry interact\n"
    );
}

#[test]
fn hand_window_added_raised_or_kept_and_restored() {
    use ovpn_config::ensure_hand_window;
    // Absent: added; undo takes it away.
    let text = "client\nremote vpn.example.com\n";
    let mut d = doc(text);
    let c = ensure_hand_window(&mut d, 75).unwrap().unwrap();
    assert_eq!(c.setting, Setting::HandWindow);
    assert_eq!(
        d.to_string(),
        "client\nremote vpn.example.com\nhand-window 75\n"
    );
    assert_eq!(d.hand_window(), Some(75));
    assert!(
        ensure_hand_window(&mut d, 75).unwrap().is_none(),
        "idempotent"
    );
    undo_all(&mut d, &[c]);
    assert_eq!(d.to_string(), text);

    // Smaller: the effective (last) line rewritten, its comment and CRLF kept, restored exactly.
    let text = "server 10.8.0.0 255.255.255.0\r\nhand-window 20\r\n  hand-window 30 # short\r\n";
    let mut d = doc(text);
    let c = ensure_hand_window(&mut d, 75).unwrap().unwrap();
    assert_eq!(
        d.to_string(),
        "server 10.8.0.0 255.255.255.0\r\nhand-window 20\r\n  hand-window 75 # short\r\n"
    );
    let ChangeKind::ReplacedLine { line, old, .. } = &c.kind else {
        panic!("{c:?}")
    };
    assert_eq!((*line, old.as_str()), (3, "  hand-window 30 # short"));
    undo_all(&mut d, &[c]);
    assert_eq!(d.to_string(), text);

    // Larger (or equal): the admin's figure is kept, nothing recorded.
    for text in [
        "server 10.8.0.0 255.255.255.0\nhand-window 120\n",
        "client\nhand-window 75\n",
    ] {
        let mut d = doc(text);
        assert!(ensure_hand_window(&mut d, 75).unwrap().is_none(), "{text}");
        assert_eq!(d.to_string(), text);
    }

    // Unreadable: replaced, and it comes back.
    let text = "client\nhand-window soon\n";
    let mut d = doc(text);
    let c = ensure_hand_window(&mut d, 75).unwrap().unwrap();
    assert_eq!(d.to_string(), "client\nhand-window 75\n");
    undo_all(&mut d, &[c]);
    assert_eq!(d.to_string(), text);
}
