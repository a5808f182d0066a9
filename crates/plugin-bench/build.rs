//! - `csrc/openvpn_host.c` → linked into the binary: OpenVPN's callbacks (a C-variadic
//!   `plugin_log`) and the counting interposers, which the executable must export so that a
//!   dlopen'ed plugin binds to them (`--export-dynamic-symbol`).
//! - `csrc/v2_fork_plugin.c` → `$OUT_DIR/libv2_fork_plugin.so`, a plugin of the v2 shape (double
//!   fork per login) for the harness's v2 path; its path is `PLUGIN_BENCH_V2_SO` at compile time.

use std::path::{Path, PathBuf};

const INTERPOSED: &[&str] = &[
    "fork",
    "vfork",
    "posix_spawn",
    "posix_spawnp",
    "system",
    "popen",
    "pthread_create",
    "connect",
];

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=csrc/openvpn_host.c");
    println!("cargo::rerun-if-changed=csrc/v2_fork_plugin.c");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());

    let mut host = cc::Build::new();
    host.file("csrc/openvpn_host.c").warnings(true);
    let header = Path::new("/usr/include/openvpn/openvpn-plugin.h");
    println!("cargo::rerun-if-changed={}", header.display());
    println!("cargo::rustc-check-cfg=cfg(have_openvpn_header)");
    if header.exists() {
        // The header includes <openssl/x509.h> for one typedef; a stub keeps libssl-dev out.
        let shim = out.join("shim");
        std::fs::create_dir_all(shim.join("openssl")).unwrap();
        std::fs::write(
            shim.join("openssl/x509.h"),
            "typedef struct x509_st X509;\n",
        )
        .unwrap();
        host.include(&shim).define("HAVE_OPENVPN_HEADER", None);
        println!("cargo::rustc-cfg=have_openvpn_header");
    }
    host.compile("openvpn_host");
    for sym in INTERPOSED {
        println!("cargo::rustc-link-arg-bins=-Wl,--export-dynamic-symbol={sym}");
    }

    // The v2 test plugin: a shared library, so the compiler is driven directly.
    let so = out.join("libv2_fork_plugin.so");
    let compiler = cc::Build::new().get_compiler();
    let status = compiler
        .to_command()
        .args(["-shared", "-fPIC", "-O2", "-Wall", "-o"])
        .arg(&so)
        .arg("csrc/v2_fork_plugin.c")
        .status()
        .unwrap_or_else(|e| panic!("cannot run the C compiler: {e}"));
    assert!(status.success(), "building {} failed", so.display());
    println!("cargo::rustc-env=PLUGIN_BENCH_V2_SO={}", so.display());
}
