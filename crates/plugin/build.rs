//! Tells the tests whether the system's `openvpn-plugin.h` is installed (so the layout test can
//! run). The test-only C code is built by the `fake-openvpn` dev-dependency, never here: a
//! release or cross build of the plugin compiles no C and needs no OpenVPN header.

use std::path::Path;

fn main() {
    let header = Path::new("/usr/include/openvpn/openvpn-plugin.h");
    println!("cargo::rerun-if-changed={}", header.display());
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(have_openvpn_header)");
    if header.exists() {
        println!("cargo::rustc-cfg=have_openvpn_header");
    }
}
