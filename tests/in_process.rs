//! Whole commands run in this test's own process, with the environment injected
//! (`system::process::Process`): no variable of the test process reaches them, and terminals
//! are what the test says they are.

mod common;

use common::Sandbox;
use duo_mock::{MOCK_IKEY, MOCK_SKEY, MockConfig, MockDuo};
use duo_openvpn::system::process::Process;

fn process(s: &Sandbox, args: &[&str], vars: &[(&str, &str)]) -> Process {
    let path = format!("{}:/usr/sbin:/usr/bin:/sbin:/bin", s.bin.path().display());
    let mut all: Vec<(String, String)> = vec![("PATH".into(), path)];
    all.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Process::new(
        std::iter::once("duo-openvpn").chain(args.iter().copied()),
        all,
    )
}

#[test]
fn setup_and_uninstall_run_in_process_with_the_secret_from_the_injected_environment() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let s = Sandbox::new();
    std::fs::create_dir_all(s.path("/var/lib")).unwrap();
    let before = s.tree();
    let root = s.root().display().to_string();
    let ca = s.inputs.path().join("ca.pem");
    mock.write_ca(&ca).unwrap();
    let plugin = s.fake_plugin();
    let host = mock.host();
    let setup = [
        "setup",
        "--yes",
        "--root",
        &root,
        "--ikey",
        MOCK_IKEY,
        "--host",
        &host,
        "--ca-file",
        ca.to_str().unwrap(),
        "--plugin-so",
        plugin.to_str().unwrap(),
        "--client-config",
        "/home/alice/alice.ovpn",
    ];
    // No secret anywhere: setup lists what it needs and changes nothing (fails closed).
    assert_eq!(duo_openvpn::run(&process(&s, &setup, &[])), 2);
    assert_eq!(s.tree(), before);
    // Without --yes and without a terminal: refused, nothing changed.
    let no_yes: Vec<&str> = setup.iter().copied().filter(|a| *a != "--yes").collect();
    assert_eq!(
        duo_openvpn::run(&process(&s, &no_yes, &[("DUO_SKEY", MOCK_SKEY)])),
        2
    );
    assert_eq!(s.tree(), before);
    // The secret in the injected environment only.
    assert!(std::env::var_os("DUO_SKEY").is_none());
    assert_eq!(
        duo_openvpn::run(&process(&s, &setup, &[("DUO_SKEY", MOCK_SKEY)])),
        0
    );
    let toml = std::fs::read_to_string(s.path("/etc/duo-openvpn/duo.toml")).unwrap();
    assert!(toml.contains(MOCK_SKEY));
    assert!(s.calls().contains("restart"), "{}", s.calls());
    assert_eq!(
        duo_openvpn::run(&process(&s, &["uninstall", "--yes", "--root", &root], &[])),
        0
    );
    assert_eq!(s.tree(), before);
}
