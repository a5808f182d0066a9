//! `setup --session-tokens`: `auth-gen-token … external-auth` and its secret instead of
//! `reneg-sec 0`, through the real binary in a sandbox; uninstall gives back every byte.

mod common;

use common::{Sandbox, text};
use duo_mock::{MockConfig, MockDuo};

#[test]
fn session_tokens_replace_reneg_sec_zero_and_uninstall_restores_every_byte() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let s = Sandbox::new();
    let before = s.tree();
    let mut args = s.setup_args(&mock, &["/home/alice/alice.ovpn"]);
    args.extend([
        "--session-tokens".into(),
        "--session-lifetime".into(),
        "3600".into(),
    ]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = s.run(&a);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let server = std::fs::read_to_string(s.path("/etc/openvpn/server/server.conf")).unwrap();
    let secret = s.path("/etc/duo-openvpn/auth-token.key");
    assert!(
        server.contains("\nauth-gen-token 3600 external-auth\n"),
        "{server}"
    );
    assert!(
        server.contains(&format!("\nauth-gen-token-secret {}\n", secret.display())),
        "{server}"
    );
    // The demo's server renegotiates hourly (reneg-sec 3600): left as it is.
    assert!(!server.contains("reneg-sec 0"), "{server}");
    let alice = std::fs::read_to_string(s.path("/home/alice/alice.ovpn")).unwrap();
    assert!(
        alice.contains("auth-user-pass") && !alice.contains("reneg-sec 0"),
        "{alice}"
    );

    // A key as `openvpn --genkey auth-token` writes it, never printed.
    let key = std::fs::read_to_string(&secret).unwrap();
    let lines: Vec<&str> = key.lines().collect();
    assert_eq!(
        lines.first(),
        Some(&"-----BEGIN OpenVPN auth-token server key-----")
    );
    assert_eq!(
        lines.last(),
        Some(&"-----END OpenVPN auth-token server key-----")
    );
    let body: String = lines[1..lines.len() - 1].concat();
    assert_eq!(body.len(), 172, "128 bytes in base64: {key}");
    for l in &lines[1..lines.len() - 1] {
        assert!(
            !text(&o).contains(l),
            "a line of the token secret was printed"
        );
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    if common::openvpn_available() {
        // The same shape as the key OpenVPN makes itself (line by line lengths).
        let theirs = s.inputs.path().join("openvpn.key");
        let made = std::process::Command::new("openvpn")
            .args(["--genkey", "auth-token"])
            .arg(&theirs)
            .output()
            .unwrap();
        assert!(made.status.success(), "{}", text(&made));
        let theirs = std::fs::read_to_string(&theirs).unwrap();
        let shape = |k: &str| k.lines().map(str::len).collect::<Vec<_>>();
        assert_eq!(shape(&key), shape(&theirs));
        assert_eq!(key.lines().next(), theirs.lines().next());
    }
    // Idempotent: the secret is kept, nothing changes.
    let after_first = s.tree();
    let o = s.run(&a);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(s.tree(), after_first);

    let root = s.root().display().to_string();
    let u = s.run(&["uninstall", "--yes", "--root", &root]);
    assert_eq!(u.status.code(), Some(0), "{}", text(&u));
    assert!(!secret.exists());
    let mut after = s.tree();
    after.retain(|k, _| !k.starts_with("var"));
    let mut before = before;
    before.retain(|k, _| !k.starts_with("var"));
    assert_eq!(after, before);
}
