//! Property tests over generated configs: any mix of options, quoting, comments, inline and
//! `<connection>` blocks, BOM, LF/CRLF per line and a missing final newline keeps every byte
//! through parse, edit, re-edit and undo (see `common::check_cycle`).

mod common;

use ovpn_config::{Document, PluginLineStyle, plugin_argv, plugin_line, tokenize};
use proptest::prelude::*;

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9./_-]{1,12}",
        "[ -~]{0,16}",
        "[a-z \\\\'\"#;]{0,10}",
        "[\\p{L}]{1,6}",
    ]
}

/// A value spelled in one of the ways OpenVPN reads back as that value.
fn spelled(v: &str, how: u8) -> String {
    match how % 3 {
        0 => tokenize::quote(v).unwrap(),
        1 => tokenize::quote_always(v).unwrap(),
        _ => {
            let escaped: String = v
                .chars()
                .flat_map(|c| match c {
                    '\\' | '"' => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            format!("\"{escaped}\"")
        }
    }
}

fn indent() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[ \t]{1,3}"]
}

fn comment() -> impl Strategy<Value = String> {
    ("[#;]", "[ -~]{0,20}").prop_map(|(c, t)| format!("{c}{t}"))
}

fn option_line() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("dev"),
        Just("proto"),
        Just("remote"),
        Just("verb"),
        Just("push"),
        Just("route"),
        Just("cipher"),
        Just("setenv"),
        Just("keepalive"),
        Just("status"),
        Just("user"),
        Just("group"),
        Just("duplicate-cn"),
        Just("config"),
        Just("auth-user-pass-verify"),
    ];
    (
        indent(),
        any::<bool>(),
        name,
        prop::collection::vec((value(), any::<u8>()), 0..4),
        prop::option::of(comment()),
    )
        .prop_map(|(ind, dashes, name, args, trailing)| {
            let mut line = format!("{ind}{}{name}", if dashes { "--" } else { "" });
            for (v, how) in args {
                line.push(' ');
                line.push_str(&spelled(&v, how));
            }
            if let Some(c) = trailing {
                line.push_str("  ");
                line.push_str(&c);
            }
            line
        })
}

/// Options setup itself edits, in the shapes found in the wild.
fn setting_line() -> impl Strategy<Value = String> {
    prop_oneof![
        (1u32..100_000).prop_map(|n| format!("reneg-sec {n}")),
        (1u32..100_000, 1u32..1000).prop_map(|(a, b)| format!("reneg-sec {a} {b}")),
        Just("reneg-sec 0".to_owned()),
        prop_oneof![Just("none"), Just("nointeract"), Just("interact")]
            .prop_map(|v| format!("auth-retry {v}")),
        Just("auth-user-pass".to_owned()),
        Just("auth-user-pass /etc/openvpn/creds.txt".to_owned()),
        Just("plugin /usr/lib/openvpn/plugins/openvpn-plugin-auth-pam.so login".to_owned()),
        Just("plugin /opt/duo/duo_openvpn.so 'DIABC SECRET api-1.duosecurity.com'".to_owned()),
        Just("plugin /old/libduo_openvpn_plugin.so /old/duo.toml".to_owned()),
    ]
}

fn body_line(block: &'static str) -> impl Strategy<Value = String> {
    "[ -~]{0,30}".prop_filter("must not close the block", move |l| {
        !l.trim_start().starts_with(&format!("</{block}>"))
    })
}

fn inline_block() -> BoxedStrategy<Vec<String>> {
    prop_oneof![
        Just("ca"),
        Just("cert"),
        Just("key"),
        Just("tls-crypt"),
        Just("tls-auth"),
        Just("auth-user-pass"),
        Just("TLS-CRYPT-V2"),
        Just("http-proxy-user-pass")
    ]
    .prop_flat_map(|name| {
        (
            prop::collection::vec(body_line(name), 0..5),
            indent(),
            "[ -~]{0,5}",
        )
            .prop_map(move |(body, ind, after)| {
                let mut lines = vec![format!("<{name}>")];
                lines.extend(body);
                lines.push(format!("{ind}</{name}>{after}"));
                lines
            })
    })
    .boxed()
}

fn connection_block() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop_oneof![
            3 => prop_oneof![option_line(), comment(), Just(String::new())].prop_map(|l| vec![l]),
            1 => inline_block(),
        ],
        0..4,
    )
    .prop_map(|inner| {
        let mut lines = vec!["<connection>".to_owned()];
        lines.extend(inner.into_iter().flatten());
        lines.push("</connection>".to_owned());
        lines
    })
}

fn chunk() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        4 => option_line().prop_map(|l| vec![l]),
        2 => setting_line().prop_map(|l| vec![l]),
        2 => comment().prop_map(|l| vec![l]),
        1 => "[ \t]{0,3}".prop_map(|l| vec![l]),
        1 => inline_block(),
        1 => connection_block(),
    ]
}

fn role_lines() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        Just(vec!["client".to_owned()]),
        Just(vec!["tls-client".to_owned(), "pull".to_owned()]),
        Just(vec!["server 10.8.0.0 255.255.255.0".to_owned()]),
        Just(vec!["mode server".to_owned(), "tls-server".to_owned()]),
        Just(vec![]),
    ]
}

/// A whole config as bytes.
fn config() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec(chunk(), 0..12),
        role_lines(),
        any::<prop::sample::Index>(),
        any::<bool>(),
        0u8..3,
        any::<u64>(),
        any::<bool>(),
    )
        .prop_map(
            |(chunks, role, at, bom, eol_mode, eol_bits, final_newline)| {
                let mut chunks = chunks;
                let at = at.index(chunks.len() + 1);
                chunks.insert(at, role);
                let lines: Vec<String> = chunks.into_iter().flatten().collect();
                let mut text = String::new();
                if bom {
                    text.push('\u{feff}');
                }
                let n = lines.len();
                for (i, line) in lines.into_iter().enumerate() {
                    text.push_str(&line);
                    let crlf = match eol_mode {
                        0 => false,
                        1 => true,
                        _ => eol_bits >> (i % 64) & 1 == 1,
                    };
                    if i + 1 < n || final_newline {
                        text.push_str(if crlf { "\r\n" } else { "\n" });
                    }
                }
                text.into_bytes()
            },
        )
}

/// 512 by default; `PROPTEST_CASES=N` for a longer run.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn generated_configs_survive_edit_and_undo(bytes in config()) {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        common::check_cycle(&format!("generated config:\n{text}"), &bytes);
    }

    /// Every line the parser puts in a secret block's body (top level or in `<connection>`) is
    /// shown only as part of a mask line, and every other line exactly as it is (Duo's plugin
    /// line aside).
    #[test]
    fn masking_hides_every_secret_body_line_and_nothing_else(bytes in config()) {
        let text = String::from_utf8(bytes).unwrap();
        let Ok(doc) = Document::parse(&text) else { return Ok(()) };
        let m = ovpn_config::mask_secrets(&text);
        let original: Vec<&str> = text.split_inclusive('\n').collect();
        let mut secret = vec![false; original.len()];
        for b in doc.inline_blocks() {
            if ovpn_config::secret_block_label(&b.name).is_some() {
                // 1-based tags; the body is the 0-based lines open_line..close_line-1.
                for s in &mut secret[b.open_line..b.close_line - 1] {
                    *s = true;
                }
            }
        }
        let mut covered = vec![false; original.len()];
        for (i, shown) in m.text.split_inclusive('\n').enumerate() {
            let from = m.original_lines(i..i + 1);
            let is_mask = shown.starts_with("[… ") && shown.trim_end().ends_with(", not shown …]");
            if is_mask {
                for c in &mut covered[from.clone()] {
                    *c = true;
                }
            } else {
                prop_assert_eq!(from.len(), 1);
                if !shown.contains(ovpn_config::MASKED_SECRET_KEY) && !shown.contains(" …") {
                    prop_assert_eq!(shown, original[from.start]);
                }
            }
        }
        for (i, s) in secret.iter().enumerate() {
            prop_assert!(!s || covered[i], "line {} shown:\n{}", i + 1, m.text);
        }
        prop_assert_eq!(m.original_line_count(), original.len());
    }

    #[test]
    fn quoting_round_trips(v in "[^\n\0]{0,40}") {
        for q in [tokenize::quote(&v).unwrap(), tokenize::quote_always(&v).unwrap()] {
            let t = tokenize::tokenize(&format!("x {q}\n")).unwrap();
            let values: Vec<&str> = t.tokens.iter().map(|t| t.value.as_str()).collect();
            prop_assert_eq!(values, vec!["x", v.as_str()]);
        }
    }

    #[test]
    fn plugin_lines_hand_over_exactly_their_arguments(
        so in "/[a-z ]{1,10}/[a-z_]{1,8}\\.so",
        args in prop::collection::vec("[^\n\0]{0,12}", 0..5),
        bare in any::<bool>(),
    ) {
        let style = if bare { PluginLineStyle::Bare } else { PluginLineStyle::Quoted };
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let line = plugin_line(&so, &refs, style).unwrap();
        let doc = Document::parse(&format!("{line}\n")).unwrap();
        let d = &doc.directives()[0];
        let argv = plugin_argv(&d.args);
        prop_assert_eq!(&argv[0], &so);
        prop_assert_eq!(&argv[1..], &args[..]);
    }

    #[test]
    fn arbitrary_text_never_panics_and_round_trips(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(doc) = Document::from_bytes(&bytes) {
            prop_assert_eq!(doc.render(), bytes);
        }
    }
}
