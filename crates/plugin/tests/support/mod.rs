//! What the FFI tests fabricate: OpenVPN's structures, environments, control files, a C
//! `plugin_log` (in the `fake-openvpn` dev-dependency's C file) whose lines are captured here.

#![allow(dead_code)]

use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use duo_openvpn_plugin::ffi::{Callbacks, OpenIn, PluginLog};

use fake_openvpn::{fake_header_layout, fake_plugin_log};

static LOCK: Mutex<()> = Mutex::new(());
static LINES: Mutex<Vec<(c_int, String)>> = Mutex::new(Vec::new());

/// Called by `fake_plugin_log` with the formatted line.
#[unsafe(no_mangle)]
pub extern "C" fn duo_test_log_sink(flags: c_int, name: *const c_char, line: *const c_char) {
    let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
    assert_eq!(name, "duo-openvpn", "plugin name");
    let line = unsafe { CStr::from_ptr(line) }
        .to_string_lossy()
        .into_owned();
    LINES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((flags, line));
}

pub fn fake_plugin_log_ptr() -> PluginLog {
    fake_plugin_log
}

pub fn header_layout(which: c_int) -> i64 {
    unsafe { fake_header_layout(which) as i64 }
}

/// The captured log, and this test's turn: tests run one at a time while it lives.
pub struct Logs {
    _turn: MutexGuard<'static, ()>,
}

impl Logs {
    pub fn capture() -> Logs {
        let turn = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let logs = Logs { _turn: turn };
        logs.clear();
        logs
    }

    pub fn clear(&self) {
        LINES.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    pub fn lines(&self) -> Vec<String> {
        let l = LINES.lock().unwrap_or_else(|e| e.into_inner());
        l.iter().map(|(_, s)| s.clone()).collect()
    }

    pub fn flags(&self) -> Vec<c_int> {
        let l = LINES.lock().unwrap_or_else(|e| e.into_inner());
        l.iter().map(|(f, _)| *f).collect()
    }
}

/// NUL-terminated strings and the NULL-terminated array of pointers to them.
pub struct CStrings {
    _owned: Vec<CString>,
    ptrs: Vec<*const c_char>,
}

impl CStrings {
    pub fn new(items: &[&str]) -> CStrings {
        CStrings::from_bytes(
            &items
                .iter()
                .map(|s| s.as_bytes().to_vec())
                .collect::<Vec<_>>(),
        )
    }

    pub fn from_bytes(items: &[Vec<u8>]) -> CStrings {
        let owned: Vec<CString> = items
            .iter()
            .map(|b| CString::new(b.clone()).unwrap())
            .collect();
        let mut ptrs: Vec<*const c_char> = owned.iter().map(|c| c.as_ptr()).collect();
        ptrs.push(ptr::null());
        CStrings {
            _owned: owned,
            ptrs,
        }
    }

    pub fn as_ptr(&self) -> *const *const c_char {
        self.ptrs.as_ptr()
    }
}

pub fn callbacks() -> Callbacks {
    Callbacks {
        plugin_log: Some(fake_plugin_log),
        plugin_vlog: ptr::null(),
        plugin_secure_memzero: ptr::null(),
        plugin_base64_encode: ptr::null(),
        plugin_base64_decode: ptr::null(),
    }
}

pub fn open_in(offered: c_int, argv: &CStrings, envp: &CStrings, cb: &Callbacks) -> OpenIn {
    OpenIn {
        type_mask: offered,
        argv: argv.as_ptr(),
        envp: envp.as_ptr(),
        callbacks: cb,
        ssl_api: 1,
        ovpn_version: c"2.6.14-test".as_ptr(),
        ovpn_version_major: 2,
        ovpn_version_minor: 6,
        ovpn_version_patch: c".14".as_ptr(),
    }
}

/// A readable page followed by an inaccessible one: a value placed at the end of the first
/// makes any read past its end a SIGSEGV.
pub struct GuardPage {
    base: *mut u8,
    page: usize,
}

impl GuardPage {
    pub fn new() -> GuardPage {
        unsafe {
            let page = libc::sysconf(libc::_SC_PAGESIZE) as usize;
            let base = libc::mmap(
                ptr::null_mut(),
                2 * page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert_ne!(base, libc::MAP_FAILED);
            let base = base as *mut u8;
            assert_eq!(
                libc::mprotect(base.add(page) as *mut c_void, page, libc::PROT_NONE),
                0
            );
            GuardPage { base, page }
        }
    }

    /// Copy `value` so that it ends exactly where the inaccessible page begins.
    pub fn place<T>(&self, value: T) -> *const T {
        let size = std::mem::size_of::<T>();
        assert!(size <= self.page && std::mem::align_of::<T>() <= 8);
        unsafe {
            let at = self.base.add(self.page - size) as *mut T;
            ptr::write(at, value);
            at
        }
    }
}

impl Drop for GuardPage {
    fn drop(&mut self) {
        unsafe { libc::munmap(self.base as *mut c_void, 2 * self.page) };
    }
}

/// Threads of this process named by the plugin (`duo-openvpn`, `duo-openvpn-dns`).
pub fn our_thread_ids() -> Vec<u32> {
    let mut ids = Vec::new();
    for entry in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if comm.starts_with("duo-openvpn") {
            ids.push(entry.file_name().to_string_lossy().parse().unwrap());
        }
    }
    ids
}

pub fn our_threads() -> usize {
    our_thread_ids().len()
}

/// The plugin's threads once the kernel has let go of the ones just joined: `pthread_join`
/// returns when a thread has exited, and `/proc/self/task` drops its entry a moment later
/// (longer on a loaded machine). Waits up to 5 s for none to be left; returns how many are.
pub fn our_threads_after_close() -> usize {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let n = our_threads();
        if n == 0 || std::time::Instant::now() >= until {
            return n;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// `SigBlk` of one thread of this process.
pub fn blocked_signals(tid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/self/task/{tid}/status")).unwrap();
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("SigBlk:"))
        .unwrap()
        .trim();
    u64::from_str_radix(hex, 16).unwrap()
}

static FILES: AtomicUsize = AtomicUsize::new(0);

/// An environment of `vars` plus fresh, empty control and reason files (as OpenVPN makes them).
pub fn verify_env(dir: &Path, vars: &[Vec<u8>]) -> (CStrings, PathBuf, PathBuf) {
    let n = FILES.fetch_add(1, Ordering::Relaxed);
    let acf = dir.join(format!("acf-{n}"));
    let afr = dir.join(format!("afr-{n}"));
    std::fs::write(&acf, b"").unwrap();
    std::fs::write(&afr, b"").unwrap();
    let mut all = vars.to_vec();
    all.push(format!("auth_control_file={}", acf.display()).into_bytes());
    all.push(format!("auth_failed_reason_file={}", afr.display()).into_bytes());
    (CStrings::from_bytes(&all), acf, afr)
}

/// The control file's byte once written (`?` if not within `timeout`), and the reason file.
pub fn read_answer(acf: &Path, afr: &Path, timeout: Duration) -> (char, String) {
    let end = Instant::now() + timeout;
    loop {
        let bytes = std::fs::read(acf).unwrap_or_default();
        if let Some(&b) = bytes.first() {
            assert_eq!(bytes.len(), 1, "the control file holds one byte");
            let reason = std::fs::read_to_string(afr).unwrap_or_default();
            return (b as char, reason);
        }
        if Instant::now() > end {
            return ('?', String::new());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
