//! Shows what setup would do to a config: `cargo run -p ovpn-config --example edit -- FILE`.
//! Prints the changes and the edited file to stdout; never writes.

use ovpn_config::{Document, PluginLineStyle, Role, ServerSetup, ensure_client, ensure_server};

fn main() {
    let path = std::env::args().nth(1).expect("usage: edit FILE");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut doc = Document::from_bytes(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
    for w in doc.warnings() {
        eprintln!("warning: {w}");
    }
    let changes = match doc.role() {
        Role::Client => ensure_client(&mut doc, false),
        _ => ensure_server(
            &mut doc,
            &ServerSetup {
                plugin_path: "/usr/lib/duo-openvpn/libduo_openvpn_plugin.so".into(),
                config_path: "/etc/duo-openvpn/duo.toml".into(),
                style: PluginLineStyle::Quoted,
                migrate_upstream: true,
                allow_unknown_role: false,
                session_tokens: None,
            },
        ),
    }
    .unwrap_or_else(|e| panic!("{path}: {e}"));
    for c in &changes {
        println!("# {c}");
    }
    print!("{doc}");
}
