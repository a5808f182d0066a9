//! Test support only: compiles `tests/support/fake_openvpn.c` (a C-variadic `plugin_log` that
//! captures lines, and the real header's struct offsets) and links it into the integration
//! tests alone (`rustc-link-arg-tests`), never into the library.

use std::path::{Path, PathBuf};

fn main() {
    let src = "tests/support/fake_openvpn.c";
    println!("cargo::rerun-if-changed={src}");
    println!("cargo::rerun-if-changed=build.rs");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let header = Path::new("/usr/include/openvpn/openvpn-plugin.h");
    println!("cargo::rerun-if-changed={}", header.display());
    println!("cargo::rustc-check-cfg=cfg(have_openvpn_header)");

    let mut build = cc::Build::new();
    build.file(src).cargo_metadata(false).warnings(true);
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
        println!("cargo::rustc-cfg=have_openvpn_header");
    }
    build.compile("fake_openvpn");
    println!(
        "cargo::rustc-link-arg-tests={}",
        out.join("libfake_openvpn.a").display()
    );
}
