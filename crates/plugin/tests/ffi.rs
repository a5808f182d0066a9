//! The exported functions called as OpenVPN calls them, with fabricated structures: older
//! struct versions, masks OpenVPN does not offer, bad configurations, malformed environments,
//! and real logins against the Duo stand-in, with the log captured through a C `plugin_log`.
//!
//! Tests share one lock: the log capture is process-wide, and thread counts are per process.

mod support;

use std::ffi::{c_int, c_void};
use std::path::Path;
use std::ptr;
use std::time::{Duration, Instant};

use duo::{Failmode, UsernameFrom};
use duo_mock::{MockConfig, MockDuo, users};
use duo_openvpn_plugin::ffi::{
    self, Callbacks, FuncIn, OPENVPN_PLUGIN_AUTH_USER_PASS_VERIFY, OPENVPN_PLUGIN_FUNC_DEFERRED,
    OPENVPN_PLUGIN_FUNC_ERROR, OPENVPN_PLUGIN_FUNC_SUCCESS, OpenIn, OpenReturn,
};
use duo_openvpn_plugin::{
    openvpn_plugin_close_v1, openvpn_plugin_func_v3, openvpn_plugin_min_version_required_v1,
    openvpn_plugin_open_v3, runtime,
};
use support::{CStrings, GuardPage, Logs, callbacks, open_in, read_answer, verify_env};

const IKEY: &str = "DIWJ8X6AEYOR5OMC6TQ1";
const SKEY: &str = "Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep";
const ALL_EVENTS: c_int = (1 << 16) - 1;
const VERIFY: c_int = ffi::mask(OPENVPN_PLUGIN_AUTH_USER_PASS_VERIFY);
const CRRESPONSE: c_int = ffi::mask(ffi::OPENVPN_PLUGIN_CLIENT_CRRESPONSE);

fn write_config(dir: &Path, text: &str) -> String {
    let p = dir.join("duo.toml");
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn offline_config(dir: &Path) -> String {
    write_config(
        dir,
        &format!("[duo]\nikey = \"{IKEY}\"\nskey = \"{SKEY}\"\nhost = \"localhost:1\"\n"),
    )
}

/// Open through the exported function; returns (code, type mask, handle).
fn open(structver: c_int, offered: c_int, args: &[&str]) -> (c_int, c_int, *mut c_void) {
    let argv = CStrings::new(&[&["/usr/lib/libduo_openvpn_plugin.so"], args].concat());
    let envp = CStrings::new(&["PATH=/usr/bin"]);
    let cb = callbacks();
    let a = open_in(offered, &argv, &envp, &cb);
    let mut ret = OpenReturn {
        type_mask: -1,
        handle: ptr::null_mut(),
        return_list: ptr::null_mut(),
    };
    let code = unsafe { openvpn_plugin_open_v3(structver, &a, &mut ret) };
    (code, ret.type_mask, ret.handle)
}

fn func(handle: *mut c_void, event: c_int, envp: *const *const std::ffi::c_char) -> c_int {
    let a = FuncIn {
        event_type: event,
        argv: ptr::null(),
        envp,
        handle,
        per_client_context: ptr::null_mut(),
        current_cert_depth: 0,
        current_cert: ptr::null_mut(),
    };
    unsafe { openvpn_plugin_func_v3(ffi::STRUCTVER_CURRENT, &a, ptr::null_mut()) }
}

#[test]
fn min_version_is_3() {
    assert_eq!(openvpn_plugin_min_version_required_v1(), 3);
}

#[test]
#[cfg_attr(not(have_openvpn_header), ignore = "openvpn-plugin.h is not installed")]
fn structs_match_the_installed_header() {
    use std::mem::{offset_of, size_of};
    let h = support::header_layout;
    assert_eq!(h(0), offset_of!(OpenIn, argv) as i64);
    assert_eq!(h(1), offset_of!(OpenIn, callbacks) as i64);
    assert_eq!(h(2), offset_of!(OpenIn, ssl_api) as i64);
    assert_eq!(h(3), offset_of!(OpenIn, ovpn_version) as i64);
    assert_eq!(h(4), offset_of!(OpenIn, ovpn_version_patch) as i64);
    assert_eq!(h(5), size_of::<OpenIn>() as i64);
    assert_eq!(h(6), offset_of!(OpenReturn, handle) as i64);
    assert_eq!(h(7), size_of::<OpenReturn>() as i64);
    assert_eq!(h(8), offset_of!(FuncIn, envp) as i64);
    assert_eq!(h(9), offset_of!(FuncIn, handle) as i64);
    assert_eq!(h(10), offset_of!(FuncIn, current_cert) as i64);
    assert_eq!(h(11), size_of::<FuncIn>() as i64);
    assert_eq!(h(12), size_of::<Callbacks>() as i64);
    assert_eq!(h(13), ffi::STRUCTVER_CURRENT as i64);
    assert_eq!(h(14), VERIFY as i64);
    assert_eq!(h(15), OPENVPN_PLUGIN_FUNC_DEFERRED as i64);
    assert_eq!(h(16), (ffi::PLOG_NOTE | ffi::PLOG_NOMUTE) as i64);
}

#[test]
fn opens_asks_only_for_verify_and_closes_its_threads() {
    let logs = Logs::capture();
    let dir = tempfile::tempdir().unwrap();
    let config = offline_config(dir.path());
    assert_eq!(support::our_threads_after_close(), 0);
    let (code, mask, handle) = open(ffi::STRUCTVER_CURRENT, ALL_EVENTS, &[&config]);
    assert_eq!(code, OPENVPN_PLUGIN_FUNC_SUCCESS, "{:?}", logs.lines());
    assert_eq!(mask, VERIFY | CRRESPONSE);
    assert!(!handle.is_null());
    let ready = logs.lines();
    assert_eq!(ready.len(), 1, "{ready:?}");
    assert!(ready[0].contains("ready in"), "{ready:?}");
    assert!(ready[0].contains("failmode secure"), "{ready:?}");
    assert!(!ready[0].contains(SKEY));
    // The runtime and its DNS threads, all started now, every signal blocked in each.
    let threads = support::our_thread_ids();
    assert_eq!(threads.len(), runtime::THREADS, "{threads:?}");
    for tid in threads {
        let blocked = support::blocked_signals(tid);
        for sig in [
            libc::SIGHUP,
            libc::SIGINT,
            libc::SIGTERM,
            libc::SIGUSR1,
            libc::SIGUSR2,
        ] {
            assert!(
                blocked & (1 << (sig - 1)) != 0,
                "signal {sig} not blocked in {tid}"
            );
        }
    }
    unsafe { openvpn_plugin_close_v1(handle) };
    assert_eq!(
        support::our_threads_after_close(),
        0,
        "close must join every thread"
    );
}

/// `CLIENT_CRRESPONSE` only from an OpenVPN that offers it (2.6, structver 5): asking for an
/// event OpenVPN does not offer is fatal to it.
#[test]
fn asks_for_crresponse_only_where_offered() {
    let logs = Logs::capture();
    let dir = tempfile::tempdir().unwrap();
    let config = offline_config(dir.path());
    for (structver, offered, want) in [
        (5, ALL_EVENTS, VERIFY | CRRESPONSE),
        (5, ALL_EVENTS & !CRRESPONSE, VERIFY),
        (4, ALL_EVENTS, VERIFY),
        (5, VERIFY, VERIFY),
    ] {
        let (code, mask, handle) = open(structver, offered, &[&config]);
        assert_eq!(code, OPENVPN_PLUGIN_FUNC_SUCCESS, "{:?}", logs.lines());
        assert_eq!(mask, want, "structver {structver}, offered {offered:#x}");
        assert_eq!(mask & !offered, 0);
        unsafe { openvpn_plugin_close_v1(handle) };
    }
}

#[test]
fn structver_2_reads_nothing_past_the_2_3_structs() {
    let _logs = Logs::capture();
    let dir = tempfile::tempdir().unwrap();
    let config = offline_config(dir.path());
    let argv = CStrings::new(&["/x.so", &config]);
    let envp = CStrings::new(&[]);

    /// OpenVPN 2.3's structs: open_in ends at ssl_api, callbacks after plugin_vlog.
    #[repr(C)]
    struct OpenInV2 {
        type_mask: c_int,
        argv: *const *const std::ffi::c_char,
        envp: *const *const std::ffi::c_char,
        callbacks: *const Callbacks,
        ssl_api: c_int,
    }
    #[repr(C)]
    struct CallbacksV2 {
        plugin_log: Option<ffi::PluginLog>,
        plugin_vlog: *const c_void,
    }
    // Each placed flush against an inaccessible page: one byte more and the test dies.
    let cb_page = GuardPage::new();
    let cb = cb_page.place(CallbacksV2 {
        plugin_log: Some(support::fake_plugin_log_ptr()),
        plugin_vlog: ptr::null(),
    });
    let args_page = GuardPage::new();
    let args = args_page.place(OpenInV2 {
        type_mask: ALL_EVENTS,
        argv: argv.as_ptr(),
        envp: envp.as_ptr(),
        callbacks: cb as *const Callbacks,
        ssl_api: 1,
    });
    let mut ret = OpenReturn {
        type_mask: 0,
        handle: ptr::null_mut(),
        return_list: ptr::null_mut(),
    };
    let code = unsafe { openvpn_plugin_open_v3(2, args as *const OpenIn, &mut ret) };
    assert_eq!(code, OPENVPN_PLUGIN_FUNC_SUCCESS);
    assert!(!ret.handle.is_null());
    unsafe { openvpn_plugin_close_v1(ret.handle) };
}

#[test]
fn a_mask_without_verify_is_refused_with_a_line() {
    let logs = Logs::capture();
    let dir = tempfile::tempdir().unwrap();
    let config = offline_config(dir.path());
    let (code, _, handle) = open(5, ALL_EVENTS & !VERIFY, &[&config]);
    assert_eq!(code, OPENVPN_PLUGIN_FUNC_ERROR);
    assert!(handle.is_null());
    let lines = logs.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("does not offer AUTH_USER_PASS_VERIFY"),
        "{lines:?}"
    );
    assert_eq!(support::our_threads_after_close(), 0);
}

#[test]
fn configuration_problems_fail_open_with_one_line_and_no_secret() {
    let logs = Logs::capture();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml").display().to_string();
    let bad_skey = write_config(
        dir.path(),
        &format!("[duo]\nikey = \"{IKEY}\"\nskey = \"secret-but-too-short\"\nhost = \"h\"\n"),
    );
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec![&missing], "nope.toml: cannot read"),
        (
            vec![&bad_skey],
            "duo.toml:3: duo.skey: expected 40 letters and digits",
        ),
        (vec![], "no arguments"),
        (vec!["a", "b"], "2 arguments"),
        (
            vec![SKEY, IKEY, "api-x.duosecurity.com"],
            "argument 1 (IKEY)",
        ),
    ];
    for (args, want) in cases {
        logs.clear();
        let (code, _, handle) = open(5, ALL_EVENTS, &args);
        assert_eq!(code, OPENVPN_PLUGIN_FUNC_ERROR, "{args:?}");
        assert!(handle.is_null());
        let lines = logs.lines();
        assert_eq!(lines.len(), 1, "{args:?}: {lines:?}");
        assert!(lines[0].contains(want), "{args:?}: {lines:?}");
        assert!(!lines[0].contains(SKEY) && !lines[0].contains("secret-but-too-short"));
        assert!(logs.flags()[0] & ffi::PLOG_ERR != 0);
    }
    // A CA file that is not there is found at open, not at the first login.
    let no_ca = write_config(
        dir.path(),
        &format!(
            "[duo]\nikey = \"{IKEY}\"\nskey = \"{SKEY}\"\nhost = \"h\"\nca_file = \"/nonexistent/ca.pem\"\n"
        ),
    );
    logs.clear();
    assert_eq!(open(5, ALL_EVENTS, &[&no_ca]).0, OPENVPN_PLUGIN_FUNC_ERROR);
    assert!(
        logs.lines()[0].contains("/nonexistent/ca.pem"),
        "{:?}",
        logs.lines()
    );
    // The upstream form, with a proxy, opens.
    let (code, _, handle) = open(
        5,
        ALL_EVENTS,
        &[IKEY, SKEY, "api-x.duosecurity.com", "proxy.example", "3128"],
    );
    assert_eq!(code, OPENVPN_PLUGIN_FUNC_SUCCESS, "{:?}", logs.lines());
    unsafe { openvpn_plugin_close_v1(handle) };
    assert_eq!(support::our_threads_after_close(), 0);
}

#[test]
fn null_pointers_never_crash() {
    let _logs = Logs::capture();
    let mut ret = OpenReturn {
        type_mask: 0,
        handle: ptr::null_mut(),
        return_list: ptr::null_mut(),
    };
    unsafe {
        assert_eq!(
            openvpn_plugin_open_v3(5, ptr::null(), &mut ret),
            OPENVPN_PLUGIN_FUNC_ERROR
        );
        let argv = CStrings::new(&["/x.so"]);
        let envp = CStrings::new(&[]);
        let cb = callbacks();
        let a = open_in(ALL_EVENTS, &argv, &envp, &cb);
        assert_eq!(
            openvpn_plugin_open_v3(5, &a, ptr::null_mut()),
            OPENVPN_PLUGIN_FUNC_ERROR
        );
        assert_eq!(
            openvpn_plugin_open_v3(0, &a, &mut ret),
            OPENVPN_PLUGIN_FUNC_ERROR
        );
        // NULL argv and NULL callbacks: refused (no config), logged to stderr.
        let bare = OpenIn {
            argv: ptr::null(),
            callbacks: ptr::null(),
            ..open_in(ALL_EVENTS, &argv, &envp, &cb)
        };
        assert_eq!(
            openvpn_plugin_open_v3(5, &bare, &mut ret),
            OPENVPN_PLUGIN_FUNC_ERROR
        );
        assert_eq!(
            openvpn_plugin_func_v3(5, ptr::null(), ptr::null_mut()),
            OPENVPN_PLUGIN_FUNC_ERROR
        );
        openvpn_plugin_close_v1(ptr::null_mut());
    }
    let envp = CStrings::new(&["auth_control_file=/tmp/x"]);
    assert_eq!(
        func(ptr::null_mut(), 5, envp.as_ptr()),
        OPENVPN_PLUGIN_FUNC_ERROR
    );
}

#[test]
fn malformed_environments_are_refused_not_crashed_on() {
    let logs = Logs::capture();
    let dir = tempfile::tempdir().unwrap();
    let config = offline_config(dir.path());
    let (code, _, handle) = open(5, ALL_EVENTS, &[&config]);
    assert_eq!(code, OPENVPN_PLUGIN_FUNC_SUCCESS);

    // Nothing to answer through: refused at once, with a line.
    logs.clear();
    assert_eq!(func(handle, 5, ptr::null()), OPENVPN_PLUGIN_FUNC_ERROR);
    let no_acf = CStrings::new(&["common_name=alice", "password=push"]);
    assert_eq!(func(handle, 5, no_acf.as_ptr()), OPENVPN_PLUGIN_FUNC_ERROR);
    let huge_path = format!("auth_control_file=/tmp/{}", "a".repeat(100_000));
    let huge = CStrings::new(&["common_name=alice", &huge_path]);
    assert_eq!(func(handle, 5, huge.as_ptr()), OPENVPN_PLUGIN_FUNC_ERROR);
    assert_eq!(logs.lines().len(), 3, "{:?}", logs.lines());
    assert!(logs.lines().iter().all(|l| l.contains("auth_control_file")));
    // An event we never asked for.
    let acf_only = CStrings::new(&["auth_control_file=/tmp/none"]);
    assert_eq!(
        func(handle, ffi::OPENVPN_PLUGIN_UP, acf_only.as_ptr()),
        OPENVPN_PLUGIN_FUNC_ERROR
    );

    // Deferred, then refused with a reason.
    let big_password = format!("password={}", "9".repeat(1_000_000));
    let cases: Vec<(Vec<Vec<u8>>, &str)> = vec![
        (vec![], "No user name for Duo"),
        (vec![b"common_name=".to_vec()], "No user name for Duo"),
        (
            vec![b"common_name=al\xffice".to_vec()],
            "User name is not valid UTF-8",
        ),
        (
            vec![b"common_name=alice".to_vec(), big_password.into_bytes()],
            "Password too long",
        ),
        (
            vec![
                b"common_name=alice".to_vec(),
                b"password=SCRV1:%%%:x".to_vec(),
            ],
            "Malformed static-challenge answer",
        ),
        (
            vec![b"common_name=alice".to_vec(), b"password=\xff".to_vec()],
            "Password is not valid UTF-8",
        ),
    ];
    for (vars, reason) in cases {
        let (env, acf, afr) = verify_env(dir.path(), &vars);
        assert_eq!(func(handle, 5, env.as_ptr()), OPENVPN_PLUGIN_FUNC_DEFERRED);
        let (answer, why) = read_answer(&acf, &afr, Duration::from_secs(10));
        assert_eq!((answer, why.as_str()), ('0', reason), "{vars:?}");
    }
    unsafe { openvpn_plugin_close_v1(handle) };
}

/// A plugin configured for the stand-in.
fn mock_plugin(mock: &MockDuo, dir: &Path, failmode: Failmode, from: UsernameFrom) -> *mut c_void {
    mock_plugin_within(mock, dir, failmode, from, Duration::from_secs(8))
}

/// A plugin configured for the stand-in, with `timeout_secs` = `timeout`.
fn mock_plugin_within(
    mock: &MockDuo,
    dir: &Path,
    failmode: Failmode,
    from: UsernameFrom,
    timeout: Duration,
) -> *mut c_void {
    let mut settings = mock.settings(&dir.join("ca.pem"));
    settings.failmode = failmode;
    settings.timeout = timeout;
    let text = duo::Config {
        duo: settings,
        username_from: from,
    }
    .render(None)
    .unwrap();
    let config = write_config(dir, &text);
    let (code, _, handle) = open(5, ALL_EVENTS, &[&config]);
    assert_eq!(code, OPENVPN_PLUGIN_FUNC_SUCCESS);
    handle
}

#[test]
fn logins_against_the_stand_in() {
    let logs = Logs::capture();
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    mock.set_push_delay(Duration::from_millis(200));
    let dir = tempfile::tempdir().unwrap();
    let handle = mock_plugin(
        &mock,
        dir.path(),
        Failmode::Secure,
        UsernameFrom::CommonName,
    );
    let code = users::PASSCODES[0];
    let sc_push = "SCRV1:aHVudGVyMg==:cHVzaA=="; // hunter2 / push
    // Longer than OpenVPN's log line: the outcome must still be read.
    let long_name = "x".repeat(2000);
    let cases: Vec<(&str, String, char, &str)> = vec![
        (users::APPROVES, "push".into(), '1', ""),
        (users::APPROVES, String::new(), '1', ""),
        (users::APPROVES, sc_push.into(), '1', ""),
        (users::APPROVES, code.into(), '1', ""),
        (users::DENIES, "push".into(), '0', "Duo push denied"),
        (users::ENROLL, "push".into(), '0', "Enroll in Duo first"),
        (users::BYPASS, "push".into(), '1', ""),
        (
            users::LOCKED_OUT,
            "push".into(),
            '0',
            "Duo refused the login",
        ),
        ("user42", "push3".into(), '0', "push3 asks for device 3"),
        (&long_name, "push".into(), '0', "Enroll in Duo first"),
    ];
    let mut pending = Vec::new();
    for (user, password, want, reason) in &cases {
        let vars = vec![
            format!("common_name={user}").into_bytes(),
            format!("password={password}").into_bytes(),
            b"untrusted_ip=192.0.2.10".to_vec(),
        ];
        let (env, acf, afr) = verify_env(dir.path(), &vars);
        let t = Instant::now();
        assert_eq!(func(handle, 5, env.as_ptr()), OPENVPN_PLUGIN_FUNC_DEFERRED);
        assert!(t.elapsed() < Duration::from_millis(50), "verify blocked");
        pending.push((user, *want, *reason, acf, afr));
    }
    for (user, want, reason, acf, afr) in pending {
        let (answer, why) = read_answer(&acf, &afr, Duration::from_secs(10));
        assert_eq!(answer, want, "{user}: {why}");
        assert!(
            why.starts_with(reason),
            "{user}: {why:?} should start with {reason:?}"
        );
        assert!(!why.ends_with('\n'));
    }
    // The passcode is one-time.
    let (env, acf, afr) = verify_env(
        dir.path(),
        &[
            b"common_name=alice".to_vec(),
            format!("password={code}").into_bytes(),
        ],
    );
    assert_eq!(func(handle, 5, env.as_ptr()), OPENVPN_PLUGIN_FUNC_DEFERRED);
    assert_eq!(read_answer(&acf, &afr, Duration::from_secs(10)).0, '0');
    unsafe { openvpn_plugin_close_v1(handle) };

    let lines = logs.lines();
    let text = lines.join("\n");
    let line_of = |start: &str, who: &str| {
        lines
            .iter()
            .any(|l| l.starts_with(start) && l.contains(&format!("; {who}; ")))
    };
    assert!(
        line_of("allowed: ", "user \"alice\" from 192.0.2.10, factor push"),
        "{text}"
    );
    assert!(
        line_of(
            "allowed: ",
            "user \"alice\" from 192.0.2.10, factor passcode"
        ),
        "{text}"
    );
    assert!(
        line_of(
            "allowed (bypass): ",
            "user \"dave\" from 192.0.2.10, factor push"
        ),
        "{text}"
    );
    let shortened = format!(
        "user \"{}\"… (2000 bytes) from 192.0.2.10, factor push",
        "x".repeat(64)
    );
    assert!(line_of("denied: Enroll in Duo first", &shortened), "{text}");
    for secret in [code, "hunter2", sc_push, duo_mock::MOCK_SKEY] {
        assert!(!text.contains(secret), "{secret} in the log:\n{text}");
    }
}

#[test]
fn failmode_decides_outages_only() {
    let logs = Logs::capture();
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    mock.set_outage(Some(503));
    for (failmode, want) in [(Failmode::Secure, '0'), (Failmode::Safe, '1')] {
        let dir = tempfile::tempdir().unwrap();
        let handle = mock_plugin(&mock, dir.path(), failmode, UsernameFrom::Username);
        let (env, acf, afr) = verify_env(
            dir.path(),
            &[b"username=alice".to_vec(), b"password=push".to_vec()],
        );
        assert_eq!(func(handle, 5, env.as_ptr()), OPENVPN_PLUGIN_FUNC_DEFERRED);
        let (answer, why) = read_answer(&acf, &afr, Duration::from_secs(10));
        assert_eq!(answer, want, "{failmode:?}: {why}");
        unsafe { openvpn_plugin_close_v1(handle) };
    }
    let text = logs.lines().join("\n");
    assert!(
        text.contains("denied by failmode secure, Duo unavailable"),
        "{text}"
    );
    assert!(
        text.contains("allowed by failmode safe, Duo unavailable"),
        "{text}"
    );
}

/// Threads that spin until dropped, so the plugin's one runtime thread (and everything else in
/// this process) competes for the CPU as on a loaded server.
struct Burn {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Burn {
    fn start(n: usize) -> Burn {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let threads = (0..n)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    lower_priority(0);
                    let mut x = 0u64;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        x = std::hint::black_box(
                            x.wrapping_mul(6364136223846793005).wrapping_add(1),
                        );
                    }
                })
            })
            .collect();
        Burn { stop, threads }
    }
}

impl Drop for Burn {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Give thread `tid` (0: the calling one) nice 10, the level of `Burn`'s threads: they compete
/// with each other and leave the CPU to the rest of the process, the Duo stand-in included,
/// which plays a healthy Duo on another machine.
fn lower_priority(tid: u32) {
    // SAFETY: setpriority on a thread id of this process (Linux: PRIO_PROCESS takes a tid).
    let r = unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 10) };
    assert_eq!(
        r,
        0,
        "setpriority({tid}): {}",
        std::io::Error::last_os_error()
    );
}

/// failmode safe is for Duo's outages, not for this server's load: thousands of logins for a
/// user whose pushes Duo denies, all started at once with the CPU starved and the shortest
/// `timeout_secs`, so most of them spend their budget queued inside the plugin. Not one may be
/// let in, under either failmode. Asserts correctness only; the figures are printed.
/// `DUO_STORM_LOGINS` changes the number of logins (default 4000).
#[test]
fn a_storm_of_denied_logins_lets_nobody_in() {
    let logs = Logs::capture();
    let n: usize = std::env::var("DUO_STORM_LOGINS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4000);
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    mock.set_push_delay(Duration::from_millis(300));
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut figures = Vec::new();
    let mut allowed_lines = Vec::new();
    let mut failures = Vec::new();
    for failmode in [Failmode::Safe, Failmode::Secure] {
        let dir = tempfile::tempdir().unwrap();
        let handle = mock_plugin_within(
            &mock,
            dir.path(),
            failmode,
            UsernameFrom::Username,
            Duration::from_secs(5),
        );
        // The VPN server is the busy machine: its runtime thread competes with the spinners.
        for tid in support::our_thread_ids() {
            lower_priority(tid);
        }
        let logins: Vec<_> = (0..n)
            .map(|i| {
                verify_env(
                    dir.path(),
                    &[
                        format!("username={}", users::DENIES).into_bytes(),
                        b"password=push".to_vec(),
                        format!("untrusted_ip=10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255)
                            .into_bytes(),
                    ],
                )
            })
            .collect();
        logs.clear();
        let burn = Burn::start(cpus);
        for (env, _, _) in &logins {
            assert_eq!(func(handle, 5, env.as_ptr()), OPENVPN_PLUGIN_FUNC_DEFERRED);
        }
        let mut allowed = 0;
        let mut reasons = std::collections::BTreeMap::<String, usize>::new();
        for (_, acf, afr) in &logins {
            let (answer, why) = read_answer(acf, afr, Duration::from_secs(60));
            match answer {
                '1' => allowed += 1,
                '0' => *reasons.entry(why).or_default() += 1,
                other => panic!("{failmode:?}: no answer ({other}) within 60 s"),
            }
        }
        drop(burn);
        unsafe { openvpn_plugin_close_v1(handle) };
        allowed_lines.extend(
            logs.lines()
                .into_iter()
                .filter(|l| l.contains("allowed"))
                .take(3)
                .map(|l| format!("{failmode:?}: {l}")),
        );
        figures.push(format!(
            "failmode {}: {allowed} allowed, {} denied of {n} ({cpus} busy threads): {reasons:?}",
            failmode.as_str(),
            n - allowed
        ));
        if allowed > 0 {
            failures.push(format!(
                "failmode {} let {allowed} of {n} in",
                failmode.as_str()
            ));
        }
    }
    eprintln!("storm of denied logins:\n{}", figures.join("\n"));
    assert!(
        failures.is_empty(),
        "{}\n{}",
        failures.join("; "),
        allowed_lines.join("\n")
    );
}

#[test]
fn close_refuses_pending_logins_and_returns() {
    let _logs = Logs::capture();
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let handle = mock_plugin(&mock, dir.path(), Failmode::Safe, UsernameFrom::CommonName);
    let (env, acf, afr) = verify_env(
        dir.path(),
        &[format!("common_name={}", users::NEVER_ANSWERS).into_bytes()],
    );
    assert_eq!(func(handle, 5, env.as_ptr()), OPENVPN_PLUGIN_FUNC_DEFERRED);
    std::thread::sleep(Duration::from_millis(500));
    let t = Instant::now();
    unsafe { openvpn_plugin_close_v1(handle) };
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "close took {:?}",
        t.elapsed()
    );
    assert_eq!(read_answer(&acf, &afr, Duration::from_secs(1)).0, '0');
    assert_eq!(support::our_threads_after_close(), 0);
}

/// Not a timed assertion: prints what one verify call costs on OpenVPN's thread.
#[test]
fn verify_call_cost() {
    let _logs = Logs::capture();
    let dir = tempfile::tempdir().unwrap();
    let config = offline_config(dir.path());
    let (_, _, handle) = open(5, ALL_EVENTS, &[&config]);
    let mut env_vars: Vec<String> = (0..40).map(|i| format!("IV_VAR_{i}=value {i}")).collect();
    env_vars.extend([
        "common_name=alice".to_string(),
        "username=alice".into(),
        "password=push".into(),
        "untrusted_ip=192.0.2.1".into(),
        "untrusted_port=50000".into(),
        format!("auth_control_file={}/acf-gone", dir.path().display()),
        format!("auth_failed_reason_file={}/afr-gone", dir.path().display()),
    ]);
    let refs: Vec<&str> = env_vars.iter().map(String::as_str).collect();
    let env = CStrings::new(&refs);
    let n = 2000;
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        assert_eq!(func(handle, 5, env.as_ptr()), OPENVPN_PLUGIN_FUNC_DEFERRED);
        times.push(t.elapsed());
    }
    report("verify call", refs.len(), &mut times);

    // Asking the client (CR_TEXT): the same call, plus writing auth_pending_file.
    let apf = dir.path().join("apf");
    std::fs::write(&apf, b"").unwrap();
    let mut asked = env_vars.clone();
    asked.retain(|v| !v.starts_with("password="));
    asked.extend([
        "password=".to_string(),
        "IV_SSO=openurl,webauth,crtext".into(),
        format!("auth_pending_file={}", apf.display()),
    ]);
    let refs: Vec<&str> = asked.iter().map(String::as_str).collect();
    let env = CStrings::new(&refs);
    times.clear();
    for _ in 0..n {
        let t = Instant::now();
        assert_eq!(func(handle, 5, env.as_ptr()), OPENVPN_PLUGIN_FUNC_DEFERRED);
        times.push(t.elapsed());
    }
    assert!(!std::fs::read(&apf).unwrap().is_empty());
    report("verify call asking CR_TEXT", refs.len(), &mut times);
    unsafe { openvpn_plugin_close_v1(handle) };
}

fn report(what: &str, vars: usize, times: &mut [Duration]) {
    let n = times.len();
    times.sort();
    let mean = times.iter().sum::<Duration>() / n as u32;
    eprintln!(
        "{what} ({vars} env vars): mean {:?}, median {:?}, p99 {:?}, max {:?} over {n} calls",
        mean,
        times[n / 2],
        times[n * 99 / 100],
        times[n - 1]
    );
}

/// Session tokens (`auth-gen-token … external-auth`): a renegotiation OpenVPN found
/// `Authenticated` is allowed at once without asking Duo; every other state asks Duo again,
/// and the token in the password field never goes to Duo as a passcode.
#[test]
fn session_states() {
    let logs = Logs::capture();
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    mock.set_push_delay(Duration::from_millis(100));
    let dir = tempfile::tempdir().unwrap();
    let handle = mock_plugin(&mock, dir.path(), Failmode::Secure, UsernameFrom::Username);
    let token = "SESS_ID_AT_bm90IGEgcmVhbCB0b2tlbiBidXQgc2hhcGVkIGxpa2Ugb25l";
    let vars = |user: &str, state: &str| {
        vec![
            format!("username={user}").into_bytes(),
            format!("password={token}").into_bytes(),
            format!("session_state={state}").into_bytes(),
            b"session_id=AAAAAAAAAAAAAAAA".to_vec(),
            b"untrusted_ip=192.0.2.20".to_vec(),
        ]
    };

    let (env, acf, _afr) = verify_env(dir.path(), &vars(users::APPROVES, "Authenticated"));
    assert_eq!(func(handle, 5, env.as_ptr()), OPENVPN_PLUGIN_FUNC_SUCCESS);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(mock.requests().len(), 0, "{:?}", mock.requests());
    assert_eq!(
        std::fs::read(&acf).unwrap(),
        b"",
        "answered by the return value"
    );
    let lines = logs.lines();
    assert_eq!(lines.len(), 2, "{lines:?}"); // ready + the login
    assert!(
        lines[1].starts_with(
            "allowed: session token still valid; user \"alice\" from 192.0.2.20, factor session token; "
        ),
        "{lines:?}"
    );

    // Asked again, each with a push to the default device (alice approves, bob denies): a
    // state that is not `Authenticated` is never let in on the token alone.
    let states = [
        "Expired",
        "Invalid",
        "AuthenticatedEmptyUser",
        "ExpiredEmptyUser",
        "Initial",
        "SomethingNew",
    ];
    for (user, want) in [(users::APPROVES, '1'), (users::DENIES, '0')] {
        for state in states {
            mock.clear_requests();
            let (env, acf, afr) = verify_env(dir.path(), &vars(user, state));
            assert_eq!(func(handle, 5, env.as_ptr()), OPENVPN_PLUGIN_FUNC_DEFERRED);
            let (answer, why) = read_answer(&acf, &afr, Duration::from_secs(10));
            assert_eq!(answer, want, "{user} {state}: {why}");
            assert_eq!(mock.count("/auth/v2/auth"), 1, "{user} {state}");
            let auth = mock
                .requests()
                .into_iter()
                .find(|r| r.path == "/auth/v2/auth")
                .unwrap();
            assert!(
                auth.params.contains(&("factor".into(), "auto".into())),
                "{user} {state}: {:?}",
                auth.params
            );
        }
    }
    unsafe { openvpn_plugin_close_v1(handle) };
    let text = logs.lines().join("\n");
    assert!(!text.contains(token), "{text}");
}

/// A plugin for the stand-in with its settings adjusted by `adjust`, user name from `username`.
fn mock_plugin_adjusted(
    mock: &MockDuo,
    dir: &Path,
    adjust: impl FnOnce(&mut duo::DuoSettings),
) -> *mut c_void {
    let mut settings = mock.settings(&dir.join("ca.pem"));
    settings.timeout = Duration::from_secs(8);
    adjust(&mut settings);
    let text = duo::Config {
        duo: settings,
        username_from: UsernameFrom::Username,
    }
    .render(None)
    .unwrap();
    let config = write_config(dir, &text);
    let (code, _, handle) = open(5, ALL_EVENTS, &[&config]);
    assert_eq!(code, OPENVPN_PLUGIN_FUNC_SUCCESS);
    handle
}

/// One login as OpenVPN 2.6 starts it: the verify environment (with an empty
/// `auth_pending_file`, as OpenVPN pre-creates it), and the three files.
struct Login26 {
    env: CStrings,
    acf: std::path::PathBuf,
    afr: std::path::PathBuf,
    apf: std::path::PathBuf,
}

fn login26(dir: &Path, user: &str, password: &str, sso: Option<&str>) -> Login26 {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let apf = dir.join(format!("apf26-{n}"));
    std::fs::write(&apf, b"").unwrap();
    let mut vars = vec![
        format!("username={user}").into_bytes(),
        format!("password={password}").into_bytes(),
        b"untrusted_ip=192.0.2.30".to_vec(),
        b"IV_GUI_VER=OpenVPN_GUI_11".to_vec(),
        format!("auth_pending_file={}", apf.display()).into_bytes(),
    ];
    if let Some(s) = sso {
        vars.push(format!("IV_SSO={s}").into_bytes());
    }
    let (env, acf, afr) = verify_env(dir, &vars);
    Login26 { env, acf, afr, apf }
}

/// The `CLIENT_CRRESPONSE` call for `login`, answering `typed`.
fn cr_response(handle: *mut c_void, login: &Login26, typed: &str) -> c_int {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(typed);
    let env = CStrings::new(&[
        "username=ignored",
        &format!("crresponse={b64}"),
        &format!("auth_control_file={}", login.acf.display()),
        &format!("auth_failed_reason_file={}", login.afr.display()),
    ]);
    func(handle, ffi::OPENVPN_PLUGIN_CLIENT_CRRESPONSE, env.as_ptr())
}

fn pending_prompt(apf: &Path) -> String {
    String::from_utf8(std::fs::read(apf).unwrap()).unwrap()
}

/// CR_TEXT: a client offering `crtext` with nothing in its password field is asked (the
/// pending file is there when verify returns); its answer, in a second call, is the factor.
/// Clients without crtext, and users who typed a factor, are not asked.
#[test]
fn the_client_is_asked_for_its_factor() {
    let logs = Logs::capture();
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    mock.set_push_delay(Duration::from_millis(100));
    let dir = tempfile::tempdir().unwrap();
    let handle = mock_plugin_adjusted(&mock, dir.path(), |_| {});
    let prompt = format!(
        "{}\ncrtext\nCR_TEXT:R,E:{}",
        8 + 9,
        duo_openvpn_plugin::crtext::PROMPT
    );
    let code = users::PASSCODES[1];
    // (user, password field, IV_SSO, the answer typed at the prompt (None: not asked),
    //  control byte, reason, Duo factor)
    type Case<'a> = (
        &'a str,
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        char,
        &'a str,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            users::APPROVES,
            "",
            Some("openurl,webauth,crtext"),
            Some(""),
            '1',
            "",
            "auto",
        ),
        (
            users::APPROVES,
            "",
            Some("crtext"),
            Some(code),
            '1',
            "",
            "passcode",
        ),
        (
            users::APPROVES,
            "",
            Some("crtext"),
            Some("push"),
            '1',
            "",
            "push",
        ),
        (
            users::DENIES,
            "",
            Some("crtext"),
            Some(""),
            '0',
            "Duo push denied",
            "auto",
        ),
        (
            users::APPROVES,
            "push",
            Some("crtext"),
            None,
            '1',
            "",
            "push",
        ),
        (users::APPROVES, "", Some("webauth"), None, '1', "", "auto"),
        (users::APPROVES, "", None, None, '1', "", "auto"),
    ];
    for (user, password, sso, typed, want, reason, factor) in &cases {
        mock.clear_requests();
        let l = login26(dir.path(), user, password, *sso);
        // What this costs OpenVPN's thread is printed by `verify_call_cost`, not asserted.
        assert_eq!(
            func(handle, 5, l.env.as_ptr()),
            OPENVPN_PLUGIN_FUNC_DEFERRED
        );
        let what = format!("{user} {password:?} {sso:?} {typed:?}");
        match typed {
            Some(typed) => {
                // Written before the call returned: OpenVPN reads it at once.
                assert_eq!(pending_prompt(&l.apf), prompt, "{what}");
                std::thread::sleep(Duration::from_millis(200));
                assert_eq!(
                    mock.requests().len(),
                    0,
                    "{what}: Duo asked before the answer"
                );
                assert_eq!(std::fs::read(&l.acf).unwrap(), b"", "{what}");
                assert_eq!(cr_response(handle, &l, typed), OPENVPN_PLUGIN_FUNC_SUCCESS);
            }
            None => assert_eq!(pending_prompt(&l.apf), "", "{what}: asked"),
        }
        let (answer, why) = read_answer(&l.acf, &l.afr, Duration::from_secs(10));
        assert_eq!((answer, why.as_str()), (*want, *reason), "{what}");
        let auth = mock
            .requests()
            .into_iter()
            .find(|r| r.path == "/auth/v2/auth")
            .unwrap();
        assert!(
            auth.params.contains(&("factor".into(), factor.to_string())),
            "{what}: {:?}",
            auth.params
        );
    }

    // An answer that is not base64 is refused without asking Duo.
    mock.clear_requests();
    let l = login26(dir.path(), users::APPROVES, "", Some("crtext"));
    assert_eq!(
        func(handle, 5, l.env.as_ptr()),
        OPENVPN_PLUGIN_FUNC_DEFERRED
    );
    let env = CStrings::new(&[
        "crresponse=%%%not base64%%%",
        &format!("auth_control_file={}", l.acf.display()),
    ]);
    func(handle, ffi::OPENVPN_PLUGIN_CLIENT_CRRESPONSE, env.as_ptr());
    let (answer, why) = read_answer(&l.acf, &l.afr, Duration::from_secs(10));
    assert_eq!(
        (answer, why.as_str()),
        ('0', "Unreadable answer to the Duo prompt")
    );
    assert_eq!(mock.count("/auth/v2/auth"), 0);

    // An answer for no waiting login is ignored, with a line.
    let stray = login26(dir.path(), users::APPROVES, "", Some("crtext"));
    cr_response(handle, &stray, "push");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(std::fs::read(&stray.acf).unwrap(), b"");
    unsafe { openvpn_plugin_close_v1(handle) };

    let text = logs.lines().join("\n");
    assert!(text.contains("for no waiting login"), "{text}");
    let asked = logs
        .lines()
        .into_iter()
        .filter(|l| l.contains("via CR_TEXT"))
        .collect::<Vec<_>>();
    assert_eq!(asked.len(), 5, "{text}");
    assert!(
        asked[1].contains("user \"alice\" from 192.0.2.30, factor passcode via CR_TEXT; "),
        "{text}"
    );
    assert!(
        asked[0].ends_with("; client OpenVPN_GUI_11, sso openurl,webauth,crtext"),
        "{text}"
    );
    assert!(!text.contains(code), "the passcode in the log:\n{text}");
}

/// A client that never answers is refused with a reason before OpenVPN's deadline, and
/// `autopush` never asks.
#[test]
fn an_unanswered_prompt_is_refused_and_autopush_never_asks() {
    let logs = Logs::capture();
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    mock.set_push_delay(Duration::from_millis(100));
    let dir = tempfile::tempdir().unwrap();
    let handle = mock_plugin_adjusted(&mock, dir.path(), |s| s.timeout = Duration::from_secs(5));
    let l = login26(dir.path(), users::APPROVES, "", Some("crtext"));
    let t = Instant::now();
    assert_eq!(
        func(handle, 5, l.env.as_ptr()),
        OPENVPN_PLUGIN_FUNC_DEFERRED
    );
    assert!(!pending_prompt(&l.apf).is_empty());
    let (answer, why) = read_answer(&l.acf, &l.afr, Duration::from_secs(10));
    assert_eq!(
        (answer, why.as_str()),
        ('0', "No answer to the Duo prompt in time")
    );
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert_eq!(mock.requests().len(), 0);
    // The answer arriving late changes nothing.
    cr_response(handle, &l, "push");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(std::fs::read(&l.acf).unwrap(), b"0");
    unsafe { openvpn_plugin_close_v1(handle) };
    assert!(
        logs.lines()
            .iter()
            .any(|l| l.starts_with("denied: no answer to the Duo prompt within 2 s")),
        "{:?}",
        logs.lines()
    );

    let dir = tempfile::tempdir().unwrap();
    let handle = mock_plugin_adjusted(&mock, dir.path(), |s| s.autopush = true);
    let l = login26(dir.path(), users::APPROVES, "", Some("crtext"));
    assert_eq!(
        func(handle, 5, l.env.as_ptr()),
        OPENVPN_PLUGIN_FUNC_DEFERRED
    );
    assert_eq!(pending_prompt(&l.apf), "", "asked despite autopush");
    let (answer, why) = read_answer(&l.acf, &l.afr, Duration::from_secs(10));
    assert_eq!(answer, '1', "{why}");
    unsafe { openvpn_plugin_close_v1(handle) };
}
