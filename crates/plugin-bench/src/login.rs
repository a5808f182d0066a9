//! One run: this process plays OpenVPN for N logins started together (or one after another),
//! and reports what the plugin cost it.
//!
//! The measured window runs from just before the first verify call to the moment every control
//! file holds its byte (plus a short grace, to catch a second write). CPU in the window is the
//! plugin's: the process's CPU minus the harness's own threads (poller, inotify reader, sampler
//! and the main thread outside the verify calls), read from per-thread CPU clocks.

use std::ffi::c_void;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::abi::{self, FUNC_DEFERRED, FUNC_ERROR, FUNC_SUCCESS, Plugin, Version};
use crate::host::{self, Counters};
use crate::procfs;
use crate::stats::Summary;
use crate::watch::{self, Files, Record, Worker};

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum AbiArg {
    V3,
    V2,
    V1,
}

#[derive(clap::Args, Debug, Clone)]
pub struct LoginArgs {
    /// The plugin library (loaded with dlopen RTLD_NOW).
    #[arg(long, value_name = "PATH")]
    pub so: PathBuf,
    /// A word after the library path on the `plugin` line (e.g. the duo.toml path); repeatable.
    #[arg(long = "arg", value_name = "WORD", allow_hyphen_values = true)]
    pub args: Vec<String>,
    /// Logins started together (users USER_PREFIX1 … USER_PREFIXN).
    #[arg(long, default_value_t = 1)]
    pub logins: usize,
    #[arg(long, default_value = "user")]
    pub user_prefix: String,
    /// The password field every client sends.
    #[arg(long, default_value = "push")]
    pub password: String,
    /// How often the control files are polled.
    #[arg(long, default_value_t = 5)]
    pub poll_ms: u64,
    /// Start each login only when the previous one is answered (connections get reused).
    #[arg(long)]
    pub sequential: bool,
    /// Give up waiting for control files after this long.
    #[arg(long, default_value_t = 120)]
    pub timeout_secs: u64,
    /// Where the control files go (OpenVPN's --tmp-dir) [default: $TMPDIR].
    #[arg(long, value_name = "DIR")]
    pub tmp_dir: Option<PathBuf>,
    /// The plugin's log (as OpenVPN writes it) [default: a file in the temporary directory,
    /// removed afterwards].
    #[arg(long, value_name = "PATH")]
    pub log: Option<PathBuf>,
    /// Force the entry points [default: v3 if exported, else v2, else v1, as OpenVPN].
    #[arg(long, value_enum)]
    pub abi: Option<AbiArg>,
    /// The byte every control file must hold in the end.
    #[arg(long, default_value = "1")]
    pub expect: String,
}

/// What one run measured. Times in microseconds or milliseconds as named; memory in kB.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub so: String,
    pub abi: String,
    pub logins: usize,
    pub sequential: bool,
    pub open_ms: f64,
    /// Wall time of each verify call: how long OpenVPN's thread is held.
    pub verify: Summary,
    /// CPU time of OpenVPN's thread in each verify call (wall minus CPU is time the thread
    /// was not running: scheduled out, or blocked).
    pub verify_cpu: Summary,
    /// The first call (cold: code and data not yet touched), wall and CPU.
    pub verify_first_us: f64,
    pub verify_first_cpu_us: f64,
    pub returned_deferred: usize,
    pub returned_success: usize,
    pub returned_error: usize,
    /// From the first verify call to the last control-file write (inotify).
    pub all_written_ms: f64,
    /// From the first verify call to the poller seeing the last byte.
    pub all_seen_ms: f64,
    pub logins_per_sec: f64,
    /// Per login, from its verify call to its control-file write.
    pub latency: Summary,
    pub completed: bool,
    pub rss_before_open_kb: u64,
    pub rss_baseline_kb: u64,
    pub rss_peak_kb: u64,
    pub rss_end_kb: u64,
    pub rss_per_login_bytes: f64,
    /// Live heap (mallinfo2) at baseline and at its sampled peak.
    pub heap_baseline_kb: u64,
    pub heap_peak_kb: u64,
    pub heap_per_login_bytes: f64,
    pub threads_before_open: u64,
    pub threads_after_open: u64,
    pub threads_peak: u64,
    pub threads_after_close: u64,
    /// pthread_create calls by the plugin during open, during the window, and in close.
    pub threads_created_open: u64,
    pub threads_created_run: u64,
    pub processes_created_open: u64,
    pub processes_created_run: u64,
    pub children_peak_live: u64,
    pub children_peak_pss_kb: u64,
    pub fds_baseline: u64,
    pub fds_peak: u64,
    /// TCP connections opened (each one TLS handshake to Duo).
    pub connects: u64,
    /// CPU in the window: on OpenVPN's thread inside the verify calls, on the plugin's own
    /// threads, and in its child processes (reaped).
    pub cpu_verify_ms: f64,
    pub cpu_plugin_threads_ms: f64,
    pub cpu_children_ms: f64,
    pub cpu_per_login_us: f64,
    pub control_one: usize,
    pub control_zero: usize,
    pub control_other: usize,
    pub control_empty: usize,
    pub written_once: usize,
    pub written_more_than_once: usize,
    pub reason_files_written: usize,
    pub pending_files_written: usize,
    pub inotify_overflow: bool,
    pub poll_interval_ms: u64,
    pub poll_sweep_max_ms: f64,
    pub log_lines: u64,
    pub log_errors: u64,
    pub log_warnings: u64,
    pub nofile_limit: u64,
    /// Every check that failed, in words. Empty means: every login deferred, every control
    /// file holds the expected byte, written exactly once, none left empty.
    pub problems: Vec<String>,
}

/// Peaks seen by the sampler thread since the last reset.
#[derive(Default)]
struct Peaks {
    rss_kb: AtomicU64,
    threads: AtomicU64,
    fds: AtomicU64,
    children: AtomicU64,
    children_pss_kb: AtomicU64,
    processes_seen: AtomicU64,
    heap_bytes: AtomicU64,
}

fn sampler(peaks: Arc<Peaks>) -> Worker {
    Worker::spawn("bench-sample", move |stop| {
        let mut tick = 0u64;
        while !stop.load(Ordering::Acquire) {
            let s = procfs::status();
            peaks.rss_kb.fetch_max(s.rss_kb, Ordering::Relaxed);
            peaks.threads.fetch_max(s.threads, Ordering::Relaxed);
            if tick.is_multiple_of(25) {
                peaks.fds.fetch_max(procfs::open_fds(), Ordering::Relaxed);
                peaks
                    .heap_bytes
                    .fetch_max(procfs::heap_in_use(), Ordering::Relaxed);
            }
            if tick.is_multiple_of(50)
                && Counters::now().processes > peaks.processes_seen.load(Ordering::Relaxed)
            {
                let (live, pss) = procfs::live_children();
                peaks.children.fetch_max(live, Ordering::Relaxed);
                peaks.children_pss_kb.fetch_max(pss, Ordering::Relaxed);
            }
            tick += 1;
            std::thread::sleep(Duration::from_millis(2));
        }
    })
}

/// The environment OpenVPN 2.6 gives a plugin at open (`plugin_open` passes its env set).
fn open_env() -> Vec<String> {
    vec![
        "config=/etc/openvpn/server/server.conf".into(),
        "daemon=0".into(),
        "daemon_log_redirect=0".into(),
        format!("daemon_start_time={}", unix_now()),
        format!("daemon_pid={}", std::process::id()),
        "proto_1=udp".into(),
        "local_port_1=1194".into(),
        "remote_port_1=1194".into(),
        "verb=3".into(),
        "script_context=init".into(),
    ]
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The environment OpenVPN 2.6 gives AUTH_USER_PASS_VERIFY for a client with a certificate
/// (CN = the user), peer info of a 2.6 client, and the three files.
fn verify_env(i: usize, a: &LoginArgs, files: &Files) -> abi::CArray {
    let user = format!("{}{}", a.user_prefix, i + 1);
    let ip = format!("198.18.{}.{}", (i >> 8) & 0xff, i & 0xff);
    let port = 1024 + (i % 60000);
    let path = |c: &std::ffi::CString| c.to_str().unwrap_or_default().to_string();
    let start = unix_now();
    abi::CArray::new([
        format!("auth_failed_reason_file={}", path(&files.afr[i])),
        format!("auth_pending_file={}", path(&files.apf[i])),
        format!("auth_control_file={}", path(&files.acf[i])),
        format!("password={}", a.password),
        format!("username={user}"),
        format!("common_name={user}"),
        "IV_SSO=webauth,openurl,crtext".into(),
        "IV_TCPNL=1".into(),
        "IV_COMP_STUBv2=1".into(),
        "IV_COMP_STUB=1".into(),
        "IV_LZO=1".into(),
        "IV_LZ4v2=1".into(),
        "IV_LZ4=1".into(),
        "IV_CIPHERS=AES-256-GCM:AES-128-GCM:CHACHA20-POLY1305".into(),
        "IV_NCP=2".into(),
        "IV_PROTO=990".into(),
        "IV_MTU=1600".into(),
        "IV_PLAT=linux".into(),
        "IV_VER=2.6.14".into(),
        format!("untrusted_port={port}"),
        format!("untrusted_ip={ip}"),
        format!("X509_0_CN={user}"),
        format!("tls_serial_hex_0={:02x}:{:02x}:{:02x}", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff),
        format!("tls_serial_0={}", i + 1000),
        "tls_digest_sha256_0=4f:1e:2d:3c:4b:5a:69:78:87:96:a5:b4:c3:d2:e1:f0:0f:1e:2d:3c:4b:5a:69:78:87:96:a5:b4:c3:d2:e1:f0".into(),
        "tls_digest_0=4f:1e:2d:3c:4b:5a:69:78:87:96:a5:b4:c3:d2:e1:f0:0f:1e:2d:3c".into(),
        format!("tls_id_0=CN={user}"),
        "X509_1_CN=Example VPN CA".into(),
        "tls_serial_hex_1=01".into(),
        "tls_serial_1=1".into(),
        "tls_digest_sha256_1=00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff".into(),
        "tls_digest_1=00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33".into(),
        "tls_id_1=CN=Example VPN CA".into(),
        "remote_port_1=1194".into(),
        "local_port_1=1194".into(),
        "proto_1=udp".into(),
        format!("daemon_pid={}", std::process::id()),
        format!("daemon_start_time={start}"),
        "daemon_log_redirect=0".into(),
        "daemon=0".into(),
        "verb=3".into(),
        "config=/etc/openvpn/server/server.conf".into(),
        "ifconfig_local=10.8.0.1".into(),
        "ifconfig_netmask=255.255.255.0".into(),
        "script_context=init".into(),
        "tun_mtu=1500".into(),
        "dev=tun0".into(),
        "dev_type=tun".into(),
        "redirect_gateway=0".into(),
    ])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn run(a: &LoginArgs) -> anyhow::Result<Report> {
    let n = a.logins;
    anyhow::ensure!(n > 0, "--logins must be at least 1");
    anyhow::ensure!(a.expect.len() == 1, "--expect is one byte");
    let expect = a.expect.as_bytes()[0];
    let nofile = procfs::raise_nofile();
    procfs::become_subreaper();

    let tmp = match &a.tmp_dir {
        Some(d) => tempfile::Builder::new()
            .prefix("plugin-bench-")
            .tempdir_in(d)?,
        None => tempfile::Builder::new().prefix("plugin-bench-").tempdir()?,
    };
    let log_path = a
        .log
        .clone()
        .unwrap_or_else(|| tmp.path().join("openvpn.log"));
    host::log_to(&log_path).with_context(|| format!("opening {}", log_path.display()))?;
    let files = Arc::new(Files::create(tmp.path(), n)?);
    let rec = Arc::new(Record::new(n));
    let mut verify_ns = vec![0u64; n];
    let mut verify_start = vec![0u64; n];
    let mut verify_cpu_ns = vec![0u64; n];
    let mut rc = vec![0i32; n];
    let mut ctxs: Vec<*mut c_void> = vec![std::ptr::null_mut(); n];
    let mut pending_written = 0usize;

    // The harness's own threads exist before the plugin does.
    let inotify = watch::inotify(files.clone(), rec.clone())?;
    let poller = watch::poller(files.clone(), rec.clone(), Duration::from_millis(a.poll_ms));
    let peaks = Arc::new(Peaks::default());
    let sample = sampler(peaks.clone());
    std::thread::sleep(Duration::from_millis(20));

    let before_open = procfs::status();
    let c0 = Counters::now();
    let t_open = Instant::now();
    let force = a.abi.map(|v| match v {
        AbiArg::V3 => Version::V3,
        AbiArg::V2 => Version::V2,
        AbiArg::V1 => Version::V1,
    });
    let plugin = Plugin::open(&a.so, &a.args, &open_env(), force)
        .with_context(|| format!("plugin log: {}", log_path.display()))?;
    let open_ms = ms(t_open.elapsed());
    // Let whatever the plugin started settle before the baseline.
    std::thread::sleep(Duration::from_millis(200));
    let after_open = procfs::status();
    let c_open = Counters::now();
    let fds_baseline = procfs::open_fds();

    // ---- the window ----
    for p in [
        &peaks.rss_kb,
        &peaks.threads,
        &peaks.fds,
        &peaks.children,
        &peaks.children_pss_kb,
    ] {
        p.store(0, Ordering::Relaxed);
    }
    peaks
        .processes_seen
        .store(c_open.processes, Ordering::Relaxed);
    let baseline = procfs::status();
    let heap_baseline = procfs::heap_in_use();
    let cpu0 = procfs::process_cpu();
    let harness0 = inotify.cpu() + poller.cpu() + sample.cpu() + procfs::thread_cpu();
    let mut in_calls = Duration::ZERO;
    let wait_limit = Duration::from_secs(a.timeout_secs);
    for i in 0..n {
        let env = verify_env(i, a, &files);
        let ctx = plugin.client_constructor();
        ctxs[i] = ctx;
        let tc0 = procfs::thread_cpu();
        let t0 = rec.now_ns();
        // SAFETY: a NULL-terminated environment alive for the call.
        let r = unsafe { plugin.auth_user_pass_verify(env.as_ptr(), ctx) };
        let t1 = rec.now_ns();
        let call_cpu = procfs::thread_cpu().saturating_sub(tc0);
        in_calls += call_cpu;
        verify_cpu_ns[i] = call_cpu.as_nanos() as u64;
        verify_start[i] = t0;
        verify_ns[i] = t1 - t0;
        rc[i] = r;
        if r == FUNC_DEFERRED {
            rec.deferred[i].store(true, Ordering::Relaxed);
            // OpenVPN reads auth_pending_file right after a DEFERRED return, then deletes it.
            if std::fs::metadata(files.apf[i].to_str().unwrap_or_default())
                .map(|m| m.len() > 0)
                .unwrap_or(false)
            {
                pending_written += 1;
            }
            // SAFETY: a NUL-terminated path.
            unsafe { libc::unlink(files.apf[i].as_ptr()) };
        }
        rec.issued.store(i + 1, Ordering::Release);
        drop(env);
        if a.sequential && r == FUNC_DEFERRED {
            let end = Instant::now() + wait_limit;
            while watch::first_byte(&files.acf[i]).is_none() && Instant::now() < end {
                std::thread::sleep(Duration::from_micros(100));
            }
        }
    }
    let deferred = rc.iter().filter(|&&r| r == FUNC_DEFERRED).count();
    let end = Instant::now() + wait_limit;
    while rec.resolved.load(Ordering::Acquire) < deferred && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(1));
    }
    let completed = rec.resolved.load(Ordering::Acquire) >= deferred;
    // A second write to a control file would come now, if ever.
    std::thread::sleep(Duration::from_millis(250));
    let cpu1 = procfs::process_cpu();
    let harness1 = inotify.cpu() + poller.cpu() + sample.cpu() + procfs::thread_cpu();
    let at_end = procfs::status();
    let heap_end = procfs::heap_in_use();
    let c_run = Counters::now();
    // ---- end of the window ----

    for ctx in ctxs.iter().copied().filter(|c| !c.is_null()) {
        plugin.client_destructor(ctx);
    }
    let abi_name = plugin.version.describe().to_string();
    plugin.close();
    std::thread::sleep(Duration::from_millis(250));
    let after_close = procfs::status();
    inotify.stop();
    poller.stop();
    sample.stop();
    // Orphaned grandchildren were re-parented to us (subreaper): reap them. Children the
    // plugin reaped itself (waitpid) are in RUSAGE_CHILDREN already.
    procfs::reap_children();
    let reaped_children_cpu = procfs::children_rusage().0;

    // ---- the verdict on every control file ----
    let mut r = Report {
        so: a.so.display().to_string(),
        abi: abi_name,
        logins: n,
        sequential: a.sequential,
        open_ms,
        verify: Summary::of_ns(&verify_ns),
        verify_cpu: Summary::of_ns(&verify_cpu_ns),
        verify_first_us: verify_ns[0] as f64 / 1000.0,
        verify_first_cpu_us: verify_cpu_ns[0] as f64 / 1000.0,
        returned_deferred: deferred,
        returned_success: rc.iter().filter(|&&r| r == FUNC_SUCCESS).count(),
        returned_error: rc.iter().filter(|&&r| r == FUNC_ERROR).count(),
        all_written_ms: 0.0,
        all_seen_ms: 0.0,
        logins_per_sec: 0.0,
        latency: Summary::default(),
        completed,
        rss_before_open_kb: before_open.rss_kb,
        rss_baseline_kb: baseline.rss_kb,
        rss_peak_kb: at_end.hwm_kb.max(peaks.rss_kb.load(Ordering::Relaxed)),
        rss_end_kb: at_end.rss_kb,
        rss_per_login_bytes: 0.0,
        heap_baseline_kb: heap_baseline / 1024,
        heap_peak_kb: peaks.heap_bytes.load(Ordering::Relaxed).max(heap_end) / 1024,
        heap_per_login_bytes: 0.0,
        threads_before_open: before_open.threads,
        threads_after_open: after_open.threads,
        threads_peak: peaks.threads.load(Ordering::Relaxed).max(at_end.threads),
        threads_after_close: after_close.threads,
        threads_created_open: c_open.since(&c0).threads,
        threads_created_run: c_run.since(&c_open).threads,
        processes_created_open: c_open.since(&c0).processes,
        processes_created_run: c_run.since(&c_open).processes,
        children_peak_live: peaks.children.load(Ordering::Relaxed),
        children_peak_pss_kb: peaks.children_pss_kb.load(Ordering::Relaxed),
        fds_baseline,
        fds_peak: peaks.fds.load(Ordering::Relaxed),
        connects: c_run.since(&c_open).connects,
        cpu_verify_ms: ms(in_calls),
        cpu_plugin_threads_ms: 0.0,
        cpu_children_ms: ms(reaped_children_cpu),
        cpu_per_login_us: 0.0,
        control_one: 0,
        control_zero: 0,
        control_other: 0,
        control_empty: 0,
        written_once: 0,
        written_more_than_once: 0,
        reason_files_written: 0,
        pending_files_written: pending_written,
        inotify_overflow: rec.overflowed.load(Ordering::Relaxed),
        poll_interval_ms: a.poll_ms,
        poll_sweep_max_ms: rec.max_sweep_ns.load(Ordering::Relaxed) as f64 / 1e6,
        log_lines: c_run.log_lines,
        log_errors: c_run.log_errors,
        log_warnings: c_run.log_warnings,
        nofile_limit: nofile,
        problems: Vec::new(),
    };
    // The process's CPU less the harness's threads, main thread included: what is left ran on
    // the plugin's own threads. The main thread's CPU inside the calls is `in_calls`.
    let plugin_cpu = (cpu1.saturating_sub(cpu0)).saturating_sub(harness1.saturating_sub(harness0));
    r.cpu_plugin_threads_ms = ms(plugin_cpu);
    r.cpu_per_login_us =
        (r.cpu_verify_ms + r.cpu_plugin_threads_ms + r.cpu_children_ms) * 1000.0 / n as f64;
    r.rss_per_login_bytes =
        r.rss_peak_kb.saturating_sub(r.rss_baseline_kb) as f64 * 1024.0 / n as f64;
    r.heap_per_login_bytes =
        r.heap_peak_kb.saturating_sub(r.heap_baseline_kb) as f64 * 1024.0 / n as f64;

    let first = verify_start.iter().copied().min().unwrap_or(0);
    let mut latencies = Vec::with_capacity(n);
    let (mut last_written, mut last_seen) = (first, first);
    for (i, &started) in verify_start.iter().enumerate() {
        let w = rec.written_ns[i].load(Ordering::Acquire);
        let s = rec.seen_ns[i].load(Ordering::Acquire);
        if w != 0 {
            latencies.push(w.saturating_sub(started));
            last_written = last_written.max(w);
        }
        if s != 0 {
            last_seen = last_seen.max(s);
        }
        let path = files.acf[i].to_str().unwrap_or_default();
        match std::fs::read(path).as_deref() {
            Ok([]) => r.control_empty += 1,
            Ok([b'1']) => r.control_one += 1,
            Ok([b'0']) => r.control_zero += 1,
            _ => r.control_other += 1,
        }
        match rec.acf_writes[i].load(Ordering::Relaxed) {
            0 => {}
            1 => r.written_once += 1,
            _ => r.written_more_than_once += 1,
        }
        if rec.afr_writes[i].load(Ordering::Relaxed) > 0 {
            r.reason_files_written += 1;
        }
    }
    r.latency = Summary::of_ns(&latencies);
    r.all_written_ms = (last_written - first) as f64 / 1e6;
    r.all_seen_ms = (last_seen - first) as f64 / 1e6;
    if r.all_written_ms > 0.0 {
        r.logins_per_sec = n as f64 / (r.all_written_ms / 1000.0);
    }

    let expected_count = match expect {
        b'1' => r.control_one,
        b'0' => r.control_zero,
        _ => 0,
    };
    let p = &mut r.problems;
    if deferred != n {
        p.push(format!(
            "{} of {n} verify calls did not return DEFERRED ({} SUCCESS, {} ERROR)",
            n - deferred,
            r.returned_success,
            r.returned_error
        ));
    }
    if !completed {
        p.push(format!(
            "{} control files still unanswered after {} s",
            deferred - rec.resolved.load(Ordering::Acquire),
            a.timeout_secs
        ));
    }
    if expected_count != n {
        p.push(format!(
            "{expected_count} of {n} control files hold {:?}: {} `1`, {} `0`, {} other, {} empty",
            expect as char, r.control_one, r.control_zero, r.control_other, r.control_empty
        ));
    }
    if r.written_once != n {
        p.push(format!(
            "{} of {n} control files written exactly once ({} more than once, {} never)",
            r.written_once,
            r.written_more_than_once,
            n - r.written_once - r.written_more_than_once
        ));
    }
    if r.inotify_overflow {
        p.push("inotify queue overflowed: write counts are incomplete".into());
    }
    if r.threads_after_close > r.threads_before_open {
        p.push(format!(
            "{} threads still running after close_v1 and dlclose",
            r.threads_after_close - r.threads_before_open
        ));
    }
    drop(tmp);
    Ok(r)
}
