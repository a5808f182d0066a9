//! `setup --demo --yes` where a minimal system would run it: no `/etc/hosts` (so `localhost`
//! does not resolve), and what it says when it fails.

mod common;

use std::process::{Command, Output, Stdio};
use std::time::Instant;

use common::text;

fn sandbox_of(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("The demo sandbox is kept at "))
        .unwrap_or_else(|| panic!("no sandbox named: {}", text(o)))
        .trim()
        .to_string()
}

/// The closing "(setup --demo took …)", in seconds.
fn reported_duration(o: &Output) -> f64 {
    let out = String::from_utf8_lossy(&o.stdout);
    let d = out
        .lines()
        .find_map(|l| l.strip_prefix("(setup --demo took "))
        .and_then(|l| l.strip_suffix(')'))
        .unwrap_or_else(|| panic!("no duration line: {}", text(o)));
    if let Some(ms) = d.strip_suffix(" ms") {
        ms.parse::<f64>().unwrap() / 1000.0
    } else {
        d.strip_suffix('s').unwrap().parse().unwrap()
    }
}

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

/// The demo in a mount namespace of its own where `/etc/hosts` is empty, as in a debootstrap
/// tree or a container image (root only: it needs `unshare`).
#[test]
fn demo_works_without_etc_hosts() {
    if !is_root() {
        eprintln!("skipped: needs root for a private mount namespace");
        return;
    }
    let script = r#"mount --bind /dev/null /etc/hosts || exit 99
if getent hosts localhost >/dev/null; then echo "localhost-resolves" >&2; fi
exec "$0" setup --demo --yes"#;
    let o = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
            common::BIN,
        ])
        .current_dir("/")
        .stdin(Stdio::null())
        .output()
        .expect("unshare (util-linux)");
    assert_ne!(o.status.code(), Some(99), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(out.contains("test push: ALLOWED: alice approved"), "{out}");
    assert!(out.contains("a Duo stand-in runs at 127.0.0.1:"), "{out}");
    let dir = sandbox_of(&o);
    let toml = std::fs::read_to_string(format!("{dir}/etc/duo-openvpn/duo.toml")).unwrap();
    assert!(toml.contains("127.0.0.1:"), "{toml}");
    let u = Command::new(common::BIN)
        .args(["uninstall", "--yes", "--root", &dir])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(u.status.code(), Some(0), "{}", text(&u));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Duo unreachable (a port nothing listens on): setup stops before any edit. The closing
/// lines say so, point at no "edited server config", and give the run's real duration.
#[test]
fn a_failed_demo_says_what_failed_and_points_at_no_edit() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let started = Instant::now();
    let o = Command::new(common::BIN)
        .args([
            "setup",
            "--demo",
            "--yes",
            "--host",
            &format!("127.0.0.1:{port}"),
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let wall = started.elapsed();
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!out.contains("the edited server config"), "{out}");
    assert!(!out.contains("Look at:"), "{out}");
    assert!(out.contains("The demo FAILED (exit 3: Duo"), "{out}");
    let dir = sandbox_of(&o);
    assert!(out.contains("Nothing in the sandbox was edited"), "{out}");
    assert!(
        !std::path::Path::new(&dir)
            .join("var/lib/duo-openvpn/manifest.json")
            .exists()
    );
    let d = reported_duration(&o);
    assert!(d > 0.0, "reported {d}s: {out}");
    assert!(
        d <= wall.as_secs_f64() + 0.001,
        "reported {d}s, but the whole run took {wall:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `setup --demo --target access-server --yes`: the stand-in sacli's database in the sandbox
/// holds our script afterwards, the live test went through that installed script (its challenge
/// and Duo's answer are reported), nothing printed the secret key, and uninstall empties the
/// database key again.
#[test]
fn access_server_demo_installs_tests_through_the_script_and_uninstalls() {
    let o = Command::new(common::BIN)
        .args(["setup", "--demo", "--target", "access-server", "--yes"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let all = text(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    let dir = sandbox_of(&o);
    let db_path = format!("{dir}/usr/local/openvpn_as/etc/fake-config.json");
    let db: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&db_path).unwrap()).unwrap();
    let script = db["auth.module.post_auth_script"]
        .as_str()
        .unwrap_or_default();
    assert!(
        script.contains("def post_auth_cr"),
        "no script loaded: {db}"
    );
    assert!(
        script.contains(duo_mock::MOCK_SKEY),
        "the loaded script is not the rendered one"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&db_path).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode, 0o600,
        "the database holding the secret key is {mode:o}"
    );
    assert!(all.contains("challenge shown to the user"), "{all}");
    assert!(all.contains("test push: ALLOWED"), "{all}");
    assert!(
        !all.contains(duo_mock::MOCK_SKEY),
        "the secret key was printed"
    );
    let calls =
        std::fs::read_to_string(format!("{dir}/usr/local/openvpn_as/sacli-calls.log")).unwrap();
    assert!(
        calls.contains("ConfigPut") && calls.contains("\"start\""),
        "{calls}"
    );

    let u = Command::new(common::BIN)
        .args(["uninstall", "--root", &dir, "--yes"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(u.status.code(), Some(0), "{}", text(&u));
    let db: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&db_path).unwrap()).unwrap();
    assert!(db.get("auth.module.post_auth_script").is_none(), "{db}");
    std::fs::remove_dir_all(&dir).unwrap();
}
