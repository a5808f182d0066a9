//! The symbols OpenVPN looks up: the only `extern "C"` surface of the library.
//!
//! Each body runs inside `catch_unwind` (a panic unwinding into OpenVPN would abort it), reads
//! only the struct members its `structver` guarantees, copies what it needs, and hands off to
//! [`Plugin`] in safe Rust.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::env;
use crate::ffi::{
    self, FuncIn, FuncReturn, OPENVPN_PLUGIN_AUTH_USER_PASS_VERIFY,
    OPENVPN_PLUGIN_CLIENT_CRRESPONSE, OPENVPN_PLUGIN_FUNC_ERROR, OPENVPN_PLUGIN_FUNC_SUCCESS,
    OpenIn, OpenReturn,
};
use crate::log::Logger;
use crate::plugin::Plugin;
use crate::task::panic_message;

/// The events we need.
const WANTED: c_int = ffi::mask(OPENVPN_PLUGIN_AUTH_USER_PASS_VERIFY);
/// Asked for too when OpenVPN offers it (2.6, structver 5): the answers to CR_TEXT prompts.
const CRRESPONSE: c_int = ffi::mask(OPENVPN_PLUGIN_CLIENT_CRRESPONSE);
/// At most this many `plugin` line arguments are read (OpenVPN allows 16 tokens per line).
const MAX_ARGS: usize = 64;

/// # Safety
/// Called by OpenVPN with the structures of `openvpn-plugin.h` for `structver`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn openvpn_plugin_open_v3(
    structver: c_int,
    args: *const OpenIn,
    ret: *mut OpenReturn,
) -> c_int {
    catch_unwind(AssertUnwindSafe(|| unsafe { open(structver, args, ret) })).unwrap_or_else(|p| {
        Logger::new(None).err(&format!("open failed: panic: {}", panic_message(&*p)));
        OPENVPN_PLUGIN_FUNC_ERROR
    })
}

unsafe fn open(structver: c_int, args: *const OpenIn, ret: *mut OpenReturn) -> c_int {
    if args.is_null() || ret.is_null() || structver < 1 {
        Logger::new(None).err("open: OpenVPN passed no arguments (or structver < 1)");
        return OPENVPN_PLUGIN_FUNC_ERROR;
    }
    // SAFETY: non-NULL; type_mask, argv, envp and callbacks exist in every structver.
    let a = unsafe { &*args };
    // SAFETY: a non-NULL callbacks table starts with plugin_log in every structver.
    let log = Logger::new(unsafe { a.callbacks.as_ref() }.and_then(|c| c.plugin_log));
    // `ovpn_version` exists from structver 3 on (2.4.0); 2.3 ends the struct at `ssl_api`.
    let version = if structver >= ffi::STRUCTVER_VERSION_FIELDS && !a.ovpn_version.is_null() {
        // SAFETY: a NUL-terminated string from OpenVPN, valid for the call.
        Some(
            unsafe { CStr::from_ptr(a.ovpn_version) }
                .to_string_lossy()
                .into_owned(),
        )
    } else {
        None
    };
    // SAFETY: `ret` is non-NULL and points to OpenVPN's return struct.
    unsafe {
        (*ret).type_mask = 0;
        (*ret).handle = std::ptr::null_mut();
    }
    let offered = a.type_mask;
    if offered & WANTED != WANTED {
        log.err(&format!(
            "OpenVPN does not offer AUTH_USER_PASS_VERIFY to plugins (offered type mask {offered:#x})"
        ));
        return OPENVPN_PLUGIN_FUNC_ERROR;
    }
    // SAFETY: argv is NULL or a NULL-terminated array of C strings valid for the call.
    let words = match unsafe { copy_args(a.argv) } {
        Ok(w) => w,
        Err(e) => {
            log.err(&e);
            return OPENVPN_PLUGIN_FUNC_ERROR;
        }
    };
    match Plugin::open(&words, log, version.as_deref()) {
        Ok(mut plugin) => {
            // Requesting an event OpenVPN does not offer is fatal to it: only what it offers.
            let mut mask = WANTED;
            if structver >= ffi::STRUCTVER_CURRENT && offered & CRRESPONSE != 0 {
                mask |= CRRESPONSE;
                plugin.enable_crtext();
            }
            // SAFETY: as above. OpenVPN treats a NULL handle as fatal; a Box never is NULL.
            unsafe {
                (*ret).type_mask = mask & offered;
                (*ret).handle = Box::into_raw(Box::new(plugin)) as *mut c_void;
            }
            OPENVPN_PLUGIN_FUNC_SUCCESS
        }
        Err(e) => {
            log.err(&format!("cannot start: {e}"));
            OPENVPN_PLUGIN_FUNC_ERROR
        }
    }
}

/// `argv[1..]` as owned strings (`argv[0]` is the library path).
unsafe fn copy_args(argv: *const *const c_char) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    if argv.is_null() {
        return Ok(words);
    }
    for i in 1..=MAX_ARGS {
        // SAFETY: the array is NULL-terminated; argv[0] (the library path) is non-NULL when
        // argv[1] is read, and we stop at the terminator.
        if i == 1 && unsafe { *argv }.is_null() {
            return Ok(words);
        }
        // SAFETY: as above.
        let p = unsafe { *argv.add(i) };
        if p.is_null() {
            return Ok(words);
        }
        // SAFETY: a NUL-terminated argument string valid for the call.
        let s = unsafe { CStr::from_ptr(p) };
        words.push(
            s.to_str()
                .map_err(|_| format!("cannot start: plugin argument {i} is not UTF-8"))?
                .to_string(),
        );
    }
    Err(format!(
        "cannot start: more than {MAX_ARGS} plugin arguments"
    ))
}

/// # Safety
/// Called by OpenVPN with the structures of `openvpn-plugin.h` for `structver`, and the
/// handle our `open` returned.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn openvpn_plugin_func_v3(
    structver: c_int,
    args: *const FuncIn,
    _ret: *mut FuncReturn,
) -> c_int {
    catch_unwind(AssertUnwindSafe(|| unsafe { func(structver, args) })).unwrap_or_else(|p| {
        Logger::new(None).err(&format!(
            "verify failed: panic: {}; login refused",
            panic_message(&*p)
        ));
        OPENVPN_PLUGIN_FUNC_ERROR
    })
}

unsafe fn func(structver: c_int, args: *const FuncIn) -> c_int {
    if args.is_null() || structver < 1 {
        return OPENVPN_PLUGIN_FUNC_ERROR;
    }
    // SAFETY: non-NULL; type, envp and handle exist in every structver.
    let a = unsafe { &*args };
    // SAFETY: the handle is NULL or the Box our open returned, alive until close.
    let Some(plugin) = (unsafe { (a.handle as *const Plugin).as_ref() }) else {
        return OPENVPN_PLUGIN_FUNC_ERROR;
    };
    if !plugin.is_valid() {
        return OPENVPN_PLUGIN_FUNC_ERROR;
    }
    match a.event_type {
        OPENVPN_PLUGIN_AUTH_USER_PASS_VERIFY => {
            // SAFETY: envp is NULL or a NULL-terminated array of C strings valid for the call.
            plugin.verify(unsafe { env::scan(a.envp) })
        }
        OPENVPN_PLUGIN_CLIENT_CRRESPONSE => {
            // SAFETY: as above.
            plugin.cr_response(unsafe { env::scan(a.envp) })
        }
        // Never requested; refusing is the safe answer for any event that could be an auth.
        _ => OPENVPN_PLUGIN_FUNC_ERROR,
    }
}

/// # Safety
/// Called by OpenVPN once, with the handle our `open` returned (or NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn openvpn_plugin_close_v1(handle: *mut c_void) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        if handle.is_null() {
            return;
        }
        // SAFETY: the Box our open leaked; OpenVPN closes each handle once.
        let plugin = unsafe { Box::from_raw(handle as *mut Plugin) };
        if plugin.is_valid() {
            plugin.close();
        } else {
            // Not a handle of ours: leak rather than free memory we do not own.
            std::mem::forget(plugin);
        }
    }));
}

/// This plugin speaks the v3 API (OpenVPN 2.3 and later).
#[unsafe(no_mangle)]
pub extern "C" fn openvpn_plugin_min_version_required_v1() -> c_int {
    ffi::OPENVPN_PLUGIN_VERSION
}
