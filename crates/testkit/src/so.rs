//! Where the plugin's `.so` is.

use std::path::PathBuf;

pub const SO_NAME: &str = "libduo_openvpn_plugin.so";

/// `libduo_openvpn_plugin.so` of the current build.
///
/// `$DUO_OPENVPN_PLUGIN_SO` if set; otherwise found from the running test executable, which
/// runs from `target/<profile>/deps/<test>-<hash>`: whatever `CARGO_TARGET_DIR` is, the cdylib
/// is built into that `deps/` directory, and `cargo build` (not `cargo test`) also copies it
/// up to `target/<profile>/`. The newer of the two is taken, since the copy goes stale under
/// `cargo test`. Cargo builds the cdylib with the `duo-openvpn-plugin` library, so the test's
/// package must depend on that package (its own tests do), or build it first.
pub fn plugin_so() -> PathBuf {
    if let Some(p) = std::env::var_os("DUO_OPENVPN_PLUGIN_SO") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("test executable has a directory");
    let candidates = [
        deps.parent().map(|profile| profile.join(SO_NAME)),
        Some(deps.join(SO_NAME)),
    ];
    candidates
        .into_iter()
        .flatten()
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
        .max()
        .map(|(_, p)| p)
        .unwrap_or_else(|| {
            panic!(
                "{SO_NAME} not found next to {} — build it with `cargo build -p \
                 duo-openvpn-plugin`, depend on duo-openvpn-plugin, or set DUO_OPENVPN_PLUGIN_SO",
                exe.display()
            )
        })
}
