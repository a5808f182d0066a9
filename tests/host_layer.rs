//! The host layer under an attacker and an unlucky administrator, through the real binary:
//! a kill at every step of setup, two setups at once, a second run while one holds the lock,
//! `..` in a path, and a folder swapped for a symlink at every point setup touches it.
//!
//! The kill and swap points come from the file layer's fault hook (debug builds only,
//! `src/system/fault.rs`): `DUO_OPENVPN_FAULT_LOG` lists every point of a run, and
//! `DUO_OPENVPN_FAULT=crash:N` / `stop:N` kills or stops the process at point N.

mod common;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Sandbox, text, write};
use duo_mock::{MockConfig, MockDuo};

/// The demo layout with the state folder's parent in place, as on every real system.
fn sandbox() -> Sandbox {
    let s = Sandbox::new();
    std::fs::create_dir_all(s.path("/var/lib")).unwrap();
    s
}

fn args(s: &Sandbox, mock: &MockDuo, clients: &[&str]) -> Vec<String> {
    s.setup_args(mock, clients)
}

fn setup_cmd(s: &Sandbox, args: &[String]) -> Command {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut c = s.cmd(&a);
    c.env_remove("DUO_OPENVPN_FAULT")
        .env_remove("DUO_OPENVPN_FAULT_LOG")
        .env_remove("DUO_OPENVPN_LOCK_WAIT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn uninstall(s: &Sandbox) -> std::process::Output {
    let root = s.root().display().to_string();
    let o = s.run(&["uninstall", "--yes", "--root", &root]);
    assert_eq!(o.status.code(), Some(0), "uninstall: {}", text(&o));
    o
}

/// The fault points of one whole setup: (kind, system path), numbered from 1.
fn points(mock: &MockDuo, clients: &[&str], prepare: &dyn Fn(&Sandbox)) -> Vec<(String, String)> {
    let s = sandbox();
    prepare(&s);
    let log = s.inputs.path().join("points.log");
    let o = setup_cmd(&s, &args(&s, mock, clients))
        .env("DUO_OPENVPN_FAULT_LOG", &log)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let mut w = l.splitn(3, ' ');
            assert_eq!(w.next().unwrap(), (i + 1).to_string());
            (w.next().unwrap().to_string(), w.next().unwrap().to_string())
        })
        .collect()
}

fn without(mut t: BTreeMap<String, String>, prefix: &str) -> BTreeMap<String, String> {
    t.retain(|k, _| !k.starts_with(prefix));
    t
}

#[test]
fn a_kill_at_every_step_then_uninstall_gives_back_every_byte() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let clients = ["/home/alice/alice.ovpn", "/root/bob.ovpn"];
    let points = points(&mock, &clients, &|_| {});
    let mutating = points.iter().filter(|(k, _)| k != "read").count();
    assert!(mutating >= 30, "{points:?}");
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for (n, (kind, path)) in points.iter().enumerate() {
        let n = n + 1;
        *kinds.entry(kind).or_default() += 1;
        let s = sandbox();
        let before = s.tree();
        let o = setup_cmd(&s, &args(&s, &mock, &clients))
            .env("DUO_OPENVPN_FAULT", format!("crash:{n}"))
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(137),
            "point {n} ({kind} {path}): {}",
            text(&o)
        );
        // Every other time, setup is run again first: it picks up from the files as they are.
        if n % 2 == 0 {
            let again = setup_cmd(&s, &args(&s, &mock, &clients)).output().unwrap();
            assert_eq!(
                again.status.code(),
                Some(0),
                "after a kill at {n}: {}",
                text(&again)
            );
            assert!(s.path("/etc/duo-openvpn/duo.toml").exists());
        }
        uninstall(&s);
        assert_eq!(s.tree(), before, "killed at point {n} ({kind} {path})");
        assert!(!s.path("/etc/duo-openvpn/duo.toml").exists());
    }
    println!(
        "killed at each of {} points ({kinds:?}); uninstall gave back every byte each time, at every even point after a second setup",
        points.len()
    );
}

#[test]
fn two_setups_at_once_then_uninstall_gives_back_every_byte() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let clients = ["/home/alice/alice.ovpn", "/root/bob.ovpn"];
    let mut outcomes = Vec::new();
    for _ in 0..6 {
        let s = sandbox();
        let before = s.tree();
        let a = args(&s, &mock, &clients);
        let first = setup_cmd(&s, &a).spawn().unwrap();
        let second = setup_cmd(&s, &a).spawn().unwrap();
        let o1 = first.wait_with_output().unwrap();
        let o2 = second.wait_with_output().unwrap();
        let codes = (o1.status.code(), o2.status.code());
        assert!(
            codes.0 == Some(0) || codes.1 == Some(0),
            "neither setup finished: {}\n{}",
            text(&o1),
            text(&o2)
        );
        outcomes.push(codes);
        uninstall(&s);
        assert_eq!(s.tree(), before, "after setups ending {codes:?}");
    }
    println!("6 pairs of concurrent setups, exit codes {outcomes:?}; every byte back each time");
}

/// Waits until `child` is stopped (SIGSTOP at its fault point).
fn wait_stopped(child: &mut Child) {
    let stat = format!("/proc/{}/stat", child.id());
    let started = Instant::now();
    loop {
        let s = std::fs::read_to_string(&stat).unwrap_or_default();
        // pid (comm) STATE …; comm may hold spaces, so read after the last ')'.
        if s.rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('T'))
        {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("exited before its fault point: {status}");
        }
        assert!(started.elapsed() < Duration::from_secs(30), "never stopped");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn cont(child: &Child) {
    // SAFETY: a signal to our own child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGCONT) }, 0);
}

#[test]
fn a_second_run_waits_then_names_the_holder_and_changes_nothing() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let clients = ["/home/alice/alice.ovpn"];
    let points = points(&mock, &clients, &|_| {});
    // The first install: the lock is held from there.
    let n = 1 + points
        .iter()
        .position(|(k, p)| k != "read" && p.starts_with("/etc/duo-openvpn"))
        .expect("setup installs into /etc/duo-openvpn");
    let s = sandbox();
    let before = s.tree();
    let a = args(&s, &mock, &clients);
    let mut first = setup_cmd(&s, &a)
        .env("DUO_OPENVPN_FAULT", format!("stop:{n}"))
        .spawn()
        .unwrap();
    wait_stopped(&mut first);
    let mid = s.tree();
    let started = Instant::now();
    let o = setup_cmd(&s, &a)
        .env("DUO_OPENVPN_LOCK_WAIT", "1")
        .output()
        .unwrap();
    let waited = started.elapsed();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        err.contains(&format!("holds the lock (pid {} (", first.id()))
            && err.contains("setup --yes")
            && err.contains("nothing was changed"),
        "{}",
        text(&o)
    );
    assert!(waited >= Duration::from_secs(1), "{waited:?}");
    assert_eq!(s.tree(), mid, "the waiting setup changed something");
    let root = s.root().display().to_string();
    let u = s
        .cmd(&["uninstall", "--yes", "--root", &root])
        .env("DUO_OPENVPN_LOCK_WAIT", "1")
        .output()
        .unwrap();
    assert_eq!(u.status.code(), Some(2), "{}", text(&u));
    assert!(
        String::from_utf8_lossy(&u.stderr).contains("holds the lock"),
        "{}",
        text(&u)
    );
    assert_eq!(s.tree(), mid, "the waiting uninstall changed something");
    cont(&first);
    let o = first.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    uninstall(&s);
    assert_eq!(s.tree(), before);
}

#[test]
fn dot_dot_in_a_path_is_normalised_and_its_backup_is_a_real_copy() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let s = sandbox();
    write(
        &s.path("/var/tmp/p.ovpn"),
        b"client\nremote vpn.example.com 1194\n",
        0o600,
    );
    std::fs::create_dir_all(s.path("/a")).unwrap();
    let before = s.tree();
    let a = args(&s, &mock, &["/a/../../../../../var/tmp/p.ovpn"]);
    let o = setup_cmd(&s, &a).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let manifest = std::fs::read_to_string(s.path("/var/lib/duo-openvpn/manifest.json")).unwrap();
    assert!(
        manifest.contains("\"path\": \"/var/tmp/p.ovpn\""),
        "{manifest}"
    );
    assert_eq!(
        std::fs::read(s.path("/var/lib/duo-openvpn/backup/var/tmp/p.ovpn")).unwrap(),
        b"client\nremote vpn.example.com 1194\n"
    );
    assert_ne!(
        std::fs::read(s.path("/var/tmp/p.ovpn")).unwrap(),
        b"client\nremote vpn.example.com 1194\n"
    );
    uninstall(&s);
    assert_eq!(s.tree(), before);
}

const NOBODY: u32 = 65534;

/// As the folder's owner would: the folder is swapped for a symlink to a root-owned one.
fn swap_as_owner(s: &Sandbox) {
    let home = s.path("/home/eve");
    let target = s.path("/etc/modprobe.d");
    let script = format!(
        "mv {h}/ovpns {h}/ovpns.old && ln -s {t} {h}/ovpns",
        h = home.display(),
        t = target.display()
    );
    let o = Command::new("setpriv")
        .args([
            "--reuid",
            &NOBODY.to_string(),
            "--regid",
            &NOBODY.to_string(),
            "--clear-groups",
            "sh",
            "-c",
            &script,
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
}

fn eve(s: &Sandbox) {
    write(
        &s.path("/home/eve/ovpns/eve.ovpn"),
        b"client\nremote vpn.example.com 1194\n",
        0o600,
    );
    write(
        &s.path("/etc/modprobe.d/blacklist.conf"),
        b"blacklist pcspkr\n",
        0o644,
    );
    for p in ["/home/eve", "/home/eve/ovpns", "/home/eve/ovpns/eve.ovpn"] {
        std::os::unix::fs::chown(s.path(p), Some(NOBODY), Some(NOBODY)).unwrap();
    }
}

#[test]
fn a_folder_swapped_for_a_symlink_at_any_point_changes_nothing_outside_it() {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        println!("skipped: needs root to run the folder's owner as another user");
        return;
    }
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let clients = ["/home/eve/ovpns/eve.ovpn", "/root/bob.ovpn"];
    let points = points(&mock, &clients, &eve);
    let touching: Vec<usize> = points
        .iter()
        .enumerate()
        .filter(|(_, (_, p))| p.starts_with("/home/eve"))
        .map(|(i, _)| i + 1)
        .collect();
    assert!(touching.len() >= 5, "{points:?}");
    let mut refused = 0;
    let mut unreachable = 0;
    for &n in &touching {
        let s = sandbox();
        eve(&s);
        let before = without(s.tree(), "home/eve");
        let modprobe = common::tree(&s.path("/etc/modprobe.d"));
        let mut child = setup_cmd(&s, &args(&s, &mock, &clients))
            .env("DUO_OPENVPN_FAULT", format!("stop:{n}"))
            .spawn()
            .unwrap();
        wait_stopped(&mut child);
        swap_as_owner(&s);
        cont(&child);
        let o = child.wait_with_output().unwrap();
        if o.status.code() != Some(0) {
            refused += 1;
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(
                err.contains("/home/eve/ovpns: is a symlink")
                    || err.contains("/home/eve/ovpns: a symlink in /home/eve"),
                "point {n} {:?}: {}",
                points[n - 1],
                text(&o)
            );
        }
        assert_eq!(
            common::tree(&s.path("/etc/modprobe.d")),
            modprobe,
            "swap at point {n} {:?} wrote through the link",
            points[n - 1]
        );
        let u = uninstall(&s);
        let mut after = without(s.tree(), "home/eve");
        if String::from_utf8_lossy(&u.stdout)
            .contains("/home/eve/ovpns/eve.ovpn: not restored: /home/eve/ovpns: is a symlink")
        {
            // Setup's write landed in the folder before it was swapped; uninstall does not write
            // through the link, and keeps the one backup (root-only) it could not put back.
            unreachable += 1;
            let kept: Vec<&String> = after
                .iter()
                .filter(|(k, v)| {
                    k.starts_with("var/lib/duo-openvpn/") && !v.starts_with("dir 700 0:0")
                })
                .map(|(k, _)| k)
                .collect();
            assert_eq!(
                kept,
                [
                    "var/lib/duo-openvpn/backup/home/eve/ovpns/eve.ovpn",
                    "var/lib/duo-openvpn/lock"
                ],
                "{after:?}"
            );
            after = without(after, "var/lib/duo-openvpn");
        }
        assert_eq!(
            after,
            before,
            "swap at point {n} {:?}: something outside /home/eve stayed changed",
            points[n - 1]
        );
    }
    println!(
        "swapped /home/eve/ovpns for a symlink at each of {} points: {refused} setups refused the link, \
         {unreachable} uninstalls left the swapped profile alone; nothing outside /home/eve changed",
        touching.len()
    );
}
