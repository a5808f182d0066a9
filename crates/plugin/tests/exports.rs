//! The library exports OpenVPN's entry points and nothing else: no Rust symbols, no symbols of
//! the C code linked into it (ring), nothing another plugin loaded into OpenVPN could collide
//! with.

use std::process::Command;

#[test]
fn only_openvpn_entry_points_are_exported() {
    let so = testkit::plugin_so();
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&so)
        .output()
        .expect("nm (binutils) must be installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2).map(str::to_string))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "openvpn_plugin_close_v1",
            "openvpn_plugin_func_v3",
            "openvpn_plugin_min_version_required_v1",
            "openvpn_plugin_open_v3",
        ],
        "exports of {}",
        so.display()
    );
}
