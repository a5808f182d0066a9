//! Compiles `fake_openvpn.c`. This crate is only a dev-dependency of the plugin, so the C code
//! (and the system's `openvpn-plugin.h`) is built for the plugin's tests alone: a release or
//! cross build of the plugin compiles no C.

use std::path::{Path, PathBuf};

fn main() {
    let src = "fake_openvpn.c";
    println!("cargo::rerun-if-changed={src}");
    println!("cargo::rerun-if-changed=build.rs");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let header = Path::new("/usr/include/openvpn/openvpn-plugin.h");
    println!("cargo::rerun-if-changed={}", header.display());

    let mut build = cc::Build::new();
    build.file(src).warnings(true);
    if header.exists() {
        // The header includes <openssl/x509.h> for one typedef; a stub keeps libssl-dev out.
        let shim = out.join("shim");
        std::fs::create_dir_all(shim.join("openssl")).unwrap();
        std::fs::write(
            shim.join("openssl/x509.h"),
            "typedef struct x509_st X509;\n",
        )
        .unwrap();
        build.include(&shim).define("HAVE_OPENVPN_HEADER", None);
    }
    build.compile("fake_openvpn");
}
