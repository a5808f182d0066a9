//! The harness itself, run by CI: a few logins through the real plugin against the Duo
//! stand-in, and through the v2 test plugin. Only correctness is asserted (every control file
//! `1`, written exactly once; the counters and the checks see what they should), never a time.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_plugin-bench");
const V2_SO: &str = env!("PLUGIN_BENCH_V2_SO");

/// The stand-in in its own process (`plugin-bench mock`); killed on drop.
struct Mock {
    child: Child,
    host: String,
}

impl Mock {
    fn start(dir: &Path, push_delay: &str) -> Mock {
        let mut child = Command::new(BIN)
            .args([
                "mock",
                "--port",
                "0",
                "--push-delay",
                push_delay,
                "--ca-out",
            ])
            .arg(dir.join("ca.pem"))
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting plugin-bench mock");
        let mut host = String::new();
        for line in BufReader::new(child.stdout.take().unwrap()).lines() {
            let line = line.unwrap();
            let mut w = line.split_whitespace();
            if w.next() == Some("host") {
                host = w.next().unwrap().to_string();
            }
            if line.contains("serving until killed") {
                break;
            }
        }
        assert!(!host.is_empty(), "the stand-in printed no host");
        Mock { child, host }
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `plugin-bench login ARGS`: its JSON report.
fn login(args: &[&str]) -> Value {
    let out = Command::new(BIN)
        .arg("login")
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("no report ({e}); exit {:?}: {text}", out.status.code()))
}

fn n(r: &Value, key: &str) -> u64 {
    r[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} missing in {r}"))
}

#[test]
fn five_logins_through_the_plugin_each_answered_once_with_1() {
    let dir = tempfile::tempdir().unwrap();
    let mock = Mock::start(dir.path(), "0.2");
    let toml = dir.path().join("duo.toml");
    std::fs::write(
        &toml,
        format!(
            "[duo]\nikey = \"{}\"\nskey = \"{}\"\nhost = \"{}\"\nca_file = \"{}\"\n",
            duo_mock::MOCK_IKEY,
            duo_mock::MOCK_SKEY,
            mock.host,
            dir.path().join("ca.pem").display()
        ),
    )
    .unwrap();
    let so = testkit::plugin_so();
    let r = login(&[
        "--so",
        so.to_str().unwrap(),
        "--arg",
        toml.to_str().unwrap(),
        "--logins",
        "5",
    ]);
    assert_eq!(r["problems"], Value::Array(vec![]), "{r:#}");
    assert!(r["abi"].as_str().unwrap().starts_with("v3"), "{r:#}");
    assert_eq!(n(&r, "returned_deferred"), 5);
    assert_eq!(n(&r, "control_one"), 5);
    assert_eq!(n(&r, "written_once"), 5);
    assert_eq!(n(&r, "control_empty"), 0);
    // No process per login, and every thread of the plugin gone after close.
    assert_eq!(n(&r, "processes_created_run"), 0, "{r:#}");
    assert_eq!(n(&r, "threads_after_close"), n(&r, "threads_before_open"));
}

#[test]
fn the_v2_path_and_the_process_counter() {
    let r = login(&["--so", V2_SO, "--arg", "50", "--logins", "5"]);
    assert_eq!(r["problems"], Value::Array(vec![]), "{r:#}");
    assert!(r["abi"].as_str().unwrap().starts_with("v2"), "{r:#}");
    assert_eq!(n(&r, "control_one"), 5);
    assert_eq!(n(&r, "written_once"), 5);
    // A double fork per login: the child in this process, the grandchild in the child.
    assert_eq!(n(&r, "processes_created_run"), 10, "{r:#}");
}

#[test]
fn a_second_write_and_an_unanswered_login_are_caught() {
    // Written twice (without truncation, so the file still reads `1`).
    let twice = "printf 1 1<>\"$auth_control_file\"; printf 1 1<>\"$auth_control_file\"";
    let r = login(&[
        "--so", V2_SO, "--arg", "0", "--arg", "/bin/sh", "--arg", "-c", "--arg", twice, "--logins",
        "3",
    ]);
    assert_eq!(n(&r, "control_one"), 3, "{r:#}");
    assert_eq!(n(&r, "written_more_than_once"), 3, "{r:#}");
    assert!(!r["problems"].as_array().unwrap().is_empty());

    // Never written: left empty, reported.
    let r = login(&[
        "--so",
        V2_SO,
        "--arg",
        "0",
        "--arg",
        "/bin/true",
        "--logins",
        "2",
        "--timeout-secs",
        "1",
    ]);
    assert_eq!(n(&r, "control_empty"), 2, "{r:#}");
    let problems = r["problems"].to_string();
    assert!(problems.contains("unanswered"), "{problems}");
}
