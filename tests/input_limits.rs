//! Input files read whole (`--skey-file`, `--ca-file`, `test --config`) are refused when larger
//! than 4 MiB, before being read: a wrong path (a disk image, a log) costs no memory. Each file
//! is sparse (`File::set_len`), so it costs no disk either.

mod common;

use std::path::{Path, PathBuf};

use common::{Sandbox, text};
use duo_mock::{MOCK_IKEY, MOCK_SKEY};

const HUGE: u64 = 300_000_000;

fn sparse(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::File::create(&p).unwrap().set_len(HUGE).unwrap();
    p
}

/// Refused (exit 2), the file named, its size and the limit said.
fn assert_refused(o: &std::process::Output, path: &Path) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{}", text(o));
    assert!(
        err.contains(&path.display().to_string())
            && err.contains(&format!("{HUGE} bytes"))
            && err.contains("4 MiB"),
        "the error should name the file, its size and the limit:\n{}",
        text(o)
    );
}

#[test]
fn a_huge_skey_file_is_refused() {
    let s = Sandbox::new();
    let before = s.tree();
    let skey = sparse(s.inputs.path(), "skey");
    let root = s.root().display().to_string();
    let o = s.run(&[
        "setup",
        "--yes",
        "--root",
        &root,
        "--ikey",
        MOCK_IKEY,
        "--skey-file",
        &skey.display().to_string(),
        "--host",
        "api-abc.duosecurity.com",
    ]);
    assert_refused(&o, &skey);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--skey-file"));
    assert_eq!(s.tree(), before, "nothing may change");
}

#[test]
fn a_huge_ca_file_is_refused() {
    let s = Sandbox::new();
    let before = s.tree();
    let ca = sparse(s.inputs.path(), "ca.pem");
    let skey = s.skey_file(MOCK_SKEY).display().to_string();
    let root = s.root().display().to_string();
    let plugin = s.fake_plugin().display().to_string();
    let ca_arg = ca.display().to_string();
    let o = s.run(&[
        "setup",
        "--dry-run",
        "--root",
        &root,
        "--ikey",
        MOCK_IKEY,
        "--skey-file",
        &skey,
        "--host",
        "api-abc.duosecurity.com",
        "--ca-file",
        &ca_arg,
        "--plugin-so",
        &plugin,
        "--client-config",
        "/home/alice/alice.ovpn",
    ]);
    assert_refused(&o, &ca);
    assert_eq!(s.tree(), before, "nothing may change");
}

#[test]
fn a_huge_config_is_refused_by_test() {
    let s = Sandbox::new();
    let config = sparse(s.inputs.path(), "duo.toml");
    let o = s.run(&["test", "alice", "--config", &config.display().to_string()]);
    assert_refused(&o, &config);
}

#[test]
fn a_huge_ca_file_named_in_the_config_is_refused_by_test() {
    let s = Sandbox::new();
    let ca = sparse(s.inputs.path(), "ca.pem");
    let config = s.inputs.path().join("duo.toml");
    std::fs::write(
        &config,
        format!(
            "[duo]\nikey = \"{MOCK_IKEY}\"\nskey = \"{MOCK_SKEY}\"\nhost = \"api-abc.duosecurity.com\"\n\
             ca_file = \"{}\"\n",
            ca.display()
        ),
    )
    .unwrap();
    let o = s.run(&["test", "alice", "--config", &config.display().to_string()]);
    assert_refused(&o, &ca);
}
