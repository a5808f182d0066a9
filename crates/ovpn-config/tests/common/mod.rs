//! The properties every config must keep through setup's edits, shared by the corpus test, the
//! property test and the fuzz example.

#![allow(dead_code)]

pub mod fuzz;

use ovpn_config::{
    Change, Document, EditError, PluginKind, PluginLineStyle, Role, Scope, ServerSetup,
    UndoOutcome, ensure_client, ensure_server, undo_all,
};

pub const PLUGIN: &str = "/usr/lib/duo-openvpn/libduo_openvpn_plugin.so";
pub const CONFIG: &str = "/etc/duo-openvpn/duo.toml";

pub fn server_setup(allow_unknown_role: bool) -> ServerSetup {
    ServerSetup {
        plugin_path: PLUGIN.into(),
        config_path: CONFIG.into(),
        style: PluginLineStyle::Quoted,
        migrate_upstream: true,
        allow_unknown_role,
        session_tokens: None,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Server,
    Client,
}

/// What a cycle did, for counting.
#[derive(Debug, Default)]
pub struct Cycle {
    pub changes: usize,
}

fn apply(doc: &mut Document, side: Side, allow_unknown: bool) -> Result<Vec<Change>, EditError> {
    match side {
        Side::Server => ensure_server(doc, &server_setup(allow_unknown)),
        Side::Client => ensure_client(doc, allow_unknown),
    }
}

/// The sides a document is edited as: its own role, or both when it has none.
pub fn sides(doc: &Document) -> Vec<(Side, bool)> {
    match doc.role() {
        Role::Server => vec![(Side::Server, false)],
        Role::Client => vec![(Side::Client, false)],
        Role::Unknown => vec![(Side::Server, true), (Side::Client, true)],
        Role::Both => vec![],
    }
}

fn inline_bodies(doc: &Document) -> Vec<(String, String)> {
    doc.inline_blocks()
        .iter()
        .map(|b| (b.name.clone(), doc.inline_body(b)))
        .collect()
}

/// Options setup may touch; everything else must come through unchanged.
fn untouched(doc: &Document) -> Vec<(String, Vec<String>, bool, bool)> {
    doc.directives()
        .iter()
        .filter(|d| {
            let ours = d.scope == Scope::TopLevel
                && !d.inline
                && match d.name.as_str() {
                    "reneg-sec" | "auth-retry" | "auth-user-pass" => true,
                    "plugin" => doc
                        .plugins()
                        .iter()
                        .any(|p| p.line == d.line && p.kind != PluginKind::Other),
                    _ => false,
                };
            !ours
        })
        .map(|d| {
            (
                d.name.clone(),
                d.args.clone(),
                d.inline,
                d.scope == Scope::TopLevel,
            )
        })
        .collect()
}

/// Parse, edit, check, edit again, undo; panics with `name` on any broken property.
pub fn check_cycle(name: &str, original: &[u8]) -> Cycle {
    let doc = Document::from_bytes(original).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(doc.render(), original, "{name}: round trip");
    let mut cycle = Cycle::default();
    if doc.role() == Role::Both {
        let mut d = doc.clone();
        assert!(ensure_server(&mut d, &server_setup(true)).is_err());
        assert_eq!(d, doc, "{name}: a refused edit changes nothing");
        return cycle;
    }
    for (side, allow) in sides(&doc) {
        let mut edited = doc.clone();
        let changes =
            apply(&mut edited, side, allow).unwrap_or_else(|e| panic!("{name} ({side:?}): {e}"));
        cycle.changes += changes.len();
        let text = edited.to_string();

        let reparsed = Document::parse(&text).unwrap_or_else(|e| panic!("{name}: output: {e}"));
        assert_eq!(
            reparsed, edited,
            "{name}: output re-parses to the same document"
        );
        assert_eq!(
            inline_bodies(&edited),
            inline_bodies(&doc),
            "{name}: inline bodies"
        );
        assert_eq!(untouched(&edited), untouched(&doc), "{name}: other options");
        assert_eq!(edited.has_bom(), doc.has_bom(), "{name}: BOM");
        match side {
            Side::Server => {
                let plugins = edited.plugins();
                let ours: Vec<_> = plugins
                    .iter()
                    .filter(|p| p.kind != PluginKind::Other)
                    .collect();
                assert_eq!(ours.len(), 1, "{name}: one Duo plugin line\n{text}");
                assert_eq!(ours[0].argv, [PLUGIN, CONFIG], "{name}");
            }
            Side::Client => {
                let before = doc.auth_user_pass().map(|d| (d.args.clone(), d.inline));
                let after = edited.auth_user_pass().map(|d| (d.args.clone(), d.inline));
                match before {
                    Some(b) => assert_eq!(after, Some(b), "{name}: auth-user-pass kept"),
                    None => assert_eq!(after, Some((vec![], false)), "{name}"),
                }
                assert_eq!(edited.auth_retry(), Some("interact"), "{name}");
            }
        }
        assert_eq!(
            edited.reneg_sec().map(|r| r.max),
            Some("0".to_owned()),
            "{name}"
        );

        let mut twice = edited.clone();
        let again = apply(&mut twice, side, allow).unwrap();
        assert!(again.is_empty(), "{name}: idempotent, got {again:?}");
        assert_eq!(twice.to_string(), text, "{name}: idempotent");

        let mut undone = edited.clone();
        for (c, outcome) in undo_all(&mut undone, &changes) {
            assert_eq!(outcome, UndoOutcome::Reverted, "{name}: undo {c}");
        }
        assert_eq!(undone.render(), original, "{name}: undo is exact");

        check_undo_after_admin_edit(name, original, &edited, &changes);
    }
    cycle
}

/// The admin adds a comment at the top and an option after everything: undo removes only ours,
/// and the result is the original with the admin's two lines.
fn check_undo_after_admin_edit(name: &str, original: &[u8], edited: &Document, changes: &[Change]) {
    let eol = edited.dominant_eol().as_str();
    let bom = if edited.has_bom() { "\u{feff}" } else { "" };
    let with_admin_lines = |text: &str| {
        let body = text.strip_prefix('\u{feff}').unwrap_or(text);
        let sep = if body.is_empty() || body.ends_with('\n') {
            ""
        } else {
            eol
        };
        format!("{bom}# admin was here{eol}{body}{sep}mute 20{eol}")
    };
    let mut doc = Document::parse(&with_admin_lines(&edited.to_string()))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    for (c, outcome) in undo_all(&mut doc, changes) {
        assert_eq!(
            outcome,
            UndoOutcome::Reverted,
            "{name}: undo {c} after admin edit"
        );
    }
    let original = std::str::from_utf8(original).unwrap();
    assert_eq!(
        doc.to_string(),
        with_admin_lines(original),
        "{name}: admin's edits kept"
    );
}
