//! Loading a plugin and calling it the way OpenVPN 2.6 does (`src/openvpn/plugin.c`):
//! `dlopen(RTLD_NOW)`, the v3 entry points when exported, else v2, else v1; the minimum-version
//! check; `open` with every event offered; `func` with the handle (and a per-client context when
//! the plugin has a constructor); `close_v1`, then `dlclose`.

use std::ffi::{CStr, CString, c_char, c_int, c_uint, c_void};
use std::path::Path;
use std::ptr;

use anyhow::{Context as _, bail};

use crate::host;

/// `OPENVPN_PLUGINv3_STRUCTVER` of OpenVPN 2.4.7 … 2.6.
pub const STRUCTVER: c_int = 5;
/// The plugin API version OpenVPN 2.6 speaks (`OPENVPN_PLUGIN_VERSION`).
pub const OPENVPN_PLUGIN_VERSION: c_int = 3;
/// `OPENVPN_PLUGIN_N` of 2.6: events 0 … 15.
pub const PLUGIN_N: c_int = 16;
/// What OpenVPN offers a plugin: every event it knows (`plugin_supported_types`).
pub const OFFERED_MASK: c_int = (1 << PLUGIN_N) - 1;

pub const AUTH_USER_PASS_VERIFY: c_int = 5;
pub const FUNC_SUCCESS: c_int = 0;
pub const FUNC_ERROR: c_int = 1;
pub const FUNC_DEFERRED: c_int = 2;
/// `SSLAPI_OPENSSL`.
const SSLAPI_OPENSSL: c_int = 1;

#[repr(C)]
pub struct StringList {
    pub next: *mut StringList,
    pub name: *mut c_char,
    pub value: *mut c_char,
}

/// `struct openvpn_plugin_args_open_in` (structver 5).
#[repr(C)]
pub struct OpenIn {
    pub type_mask: c_int,
    pub argv: *const *const c_char,
    pub envp: *const *const c_char,
    pub callbacks: *const c_void,
    pub ssl_api: c_int,
    pub ovpn_version: *const c_char,
    pub ovpn_version_major: c_uint,
    pub ovpn_version_minor: c_uint,
    pub ovpn_version_patch: *const c_char,
}

#[repr(C)]
pub struct OpenReturn {
    pub type_mask: c_int,
    pub handle: *mut c_void,
    pub return_list: *mut *mut StringList,
}

#[repr(C)]
pub struct FuncIn {
    pub event_type: c_int,
    pub argv: *const *const c_char,
    pub envp: *const *const c_char,
    pub handle: *mut c_void,
    pub per_client_context: *mut c_void,
    pub current_cert_depth: c_int,
    pub current_cert: *mut c_void,
}

#[repr(C)]
pub struct FuncReturn {
    pub return_list: *mut *mut StringList,
}

type OpenV3 = unsafe extern "C" fn(c_int, *const OpenIn, *mut OpenReturn) -> c_int;
type FuncV3 = unsafe extern "C" fn(c_int, *const FuncIn, *mut FuncReturn) -> c_int;
type OpenV2 = unsafe extern "C" fn(
    *mut c_uint,
    *const *const c_char,
    *const *const c_char,
    *mut *mut StringList,
) -> *mut c_void;
type FuncV2 = unsafe extern "C" fn(
    *mut c_void,
    c_int,
    *const *const c_char,
    *const *const c_char,
    *mut c_void,
    *mut *mut StringList,
) -> c_int;
type OpenV1 =
    unsafe extern "C" fn(*mut c_uint, *const *const c_char, *const *const c_char) -> *mut c_void;
type FuncV1 =
    unsafe extern "C" fn(*mut c_void, c_int, *const *const c_char, *const *const c_char) -> c_int;
type Close = unsafe extern "C" fn(*mut c_void);
type MinVersion = unsafe extern "C" fn() -> c_int;
type ClientCtor = unsafe extern "C" fn(*mut c_void) -> *mut c_void;
type ClientDtor = unsafe extern "C" fn(*mut c_void, *mut c_void);

/// NUL-terminated strings and the NULL-terminated array of pointers to them.
pub struct CArray {
    _owned: Vec<CString>,
    ptrs: Vec<*const c_char>,
}

impl CArray {
    pub fn new<S: AsRef<[u8]>>(items: impl IntoIterator<Item = S>) -> CArray {
        let owned: Vec<CString> = items
            .into_iter()
            .map(|s| CString::new(s.as_ref()).expect("no NUL inside"))
            .collect();
        let mut ptrs: Vec<*const c_char> = owned.iter().map(|c| c.as_ptr()).collect();
        ptrs.push(ptr::null());
        CArray {
            _owned: owned,
            ptrs,
        }
    }

    pub fn as_ptr(&self) -> *const *const c_char {
        self.ptrs.as_ptr()
    }
}

/// Which entry points the plugin is driven through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V3,
    V2,
    V1,
}

impl Version {
    pub fn describe(self) -> &'static str {
        match self {
            Version::V3 => "v3 (open_v3/func_v3, structver 5)",
            Version::V2 => "v2 (open_v2/func_v2)",
            Version::V1 => "v1 (open_v1/func_v1)",
        }
    }
}

struct Symbols {
    open3: Option<OpenV3>,
    func3: Option<FuncV3>,
    open2: Option<OpenV2>,
    func2: Option<FuncV2>,
    open1: Option<OpenV1>,
    func1: Option<FuncV1>,
    close: Close,
    ctor: Option<ClientCtor>,
    dtor: Option<ClientDtor>,
}

/// A loaded, opened plugin.
pub struct Plugin {
    lib: *mut c_void,
    sym: Symbols,
    handle: *mut c_void,
    /// The events the plugin asked for.
    pub type_mask: c_int,
    pub version: Version,
    /// `[so path]`: the argv of a `func` call for AUTH_USER_PASS_VERIFY (OpenVPN passes no
    /// event arguments for it, only the library path).
    func_argv: CArray,
    closed: bool,
}

fn dlerror() -> String {
    // SAFETY: dlerror returns NULL or a NUL-terminated string.
    let e = unsafe { libc::dlerror() };
    if e.is_null() {
        "unknown dl error".into()
    } else {
        // SAFETY: as above.
        unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned()
    }
}

/// `dlsym`, as a typed function pointer.
///
/// # Safety
/// `F` must be the C signature of the symbol `name` exports.
unsafe fn lookup<F: Copy>(lib: *mut c_void, name: &CStr) -> Option<F> {
    // SAFETY: a live library handle and a NUL-terminated name.
    let p = unsafe { libc::dlsym(lib, name.as_ptr()) };
    if p.is_null() {
        None
    } else {
        assert_eq!(std::mem::size_of::<F>(), std::mem::size_of::<*mut c_void>());
        // SAFETY: the caller vouches for the signature; function and data pointers have the
        // same size on every platform OpenVPN plugins run on.
        Some(unsafe { std::mem::transmute_copy::<*mut c_void, F>(&p) })
    }
}

impl Plugin {
    /// `dlopen` + `open`, as `plugin <so> <args...>` does. `force` restricts the entry points.
    pub fn open(
        so: &Path,
        args: &[String],
        open_env: &[String],
        force: Option<Version>,
    ) -> anyhow::Result<Plugin> {
        let so_c = CString::new(so.as_os_str().as_encoded_bytes()).context("library path")?;
        // SAFETY: a NUL-terminated path; RTLD_NOW as OpenVPN (plugin.c).
        let lib = unsafe { libc::dlopen(so_c.as_ptr(), libc::RTLD_NOW) };
        if lib.is_null() {
            bail!("dlopen {}: {}", so.display(), dlerror());
        }
        // SAFETY: the signatures of openvpn-plugin.h.
        let sym = unsafe {
            Symbols {
                open3: lookup(lib, c"openvpn_plugin_open_v3"),
                func3: lookup(lib, c"openvpn_plugin_func_v3"),
                open2: lookup(lib, c"openvpn_plugin_open_v2"),
                func2: lookup(lib, c"openvpn_plugin_func_v2"),
                open1: lookup(lib, c"openvpn_plugin_open_v1"),
                func1: lookup(lib, c"openvpn_plugin_func_v1"),
                close: match lookup(lib, c"openvpn_plugin_close_v1") {
                    Some(c) => c,
                    None => bail!(
                        "{}: no openvpn_plugin_close_v1 (OpenVPN refuses it)",
                        so.display()
                    ),
                },
                ctor: lookup(lib, c"openvpn_plugin_client_constructor_v1"),
                dtor: lookup(lib, c"openvpn_plugin_client_destructor_v1"),
            }
        };
        // SAFETY: as above.
        if let Some(min) =
            unsafe { lookup::<MinVersion>(lib, c"openvpn_plugin_min_version_required_v1") }
        {
            // SAFETY: takes nothing.
            let need = unsafe { min() };
            if need > OPENVPN_PLUGIN_VERSION {
                bail!(
                    "{} needs plugin API {need}; OpenVPN 2.6 has {OPENVPN_PLUGIN_VERSION}",
                    so.display()
                );
            }
        }
        let version = match force {
            Some(Version::V3) if sym.open3.is_some() && sym.func3.is_some() => Version::V3,
            Some(Version::V2) if sym.open2.is_some() && sym.func2.is_some() => Version::V2,
            Some(Version::V1) if sym.open1.is_some() && sym.func1.is_some() => Version::V1,
            Some(v) => bail!(
                "{} does not export the {} entry points",
                so.display(),
                v.describe()
            ),
            None if sym.open3.is_some() => Version::V3,
            None if sym.open2.is_some() => Version::V2,
            None if sym.open1.is_some() => Version::V1,
            None => bail!("{} exports no openvpn_plugin_open_v1/v2/v3", so.display()),
        };
        if sym.func3.is_none() && sym.func2.is_none() && sym.func1.is_none() {
            bail!("{} exports no openvpn_plugin_func_v1/v2/v3", so.display());
        }

        let argv = CArray::new(
            std::iter::once(so.as_os_str().as_encoded_bytes().to_vec())
                .chain(args.iter().map(|a| a.as_bytes().to_vec())),
        );
        let envp = CArray::new(open_env.iter().map(|s| s.as_bytes()));
        let mut plugin = Plugin {
            lib,
            sym,
            handle: ptr::null_mut(),
            type_mask: 0,
            version,
            func_argv: CArray::new([so.as_os_str().as_encoded_bytes()]),
            closed: false,
        };
        let mut return_list: *mut StringList = ptr::null_mut();
        match version {
            Version::V3 => {
                let args = OpenIn {
                    type_mask: OFFERED_MASK,
                    argv: argv.as_ptr(),
                    envp: envp.as_ptr(),
                    callbacks: host::callbacks(),
                    ssl_api: SSLAPI_OPENSSL,
                    ovpn_version: c"2.6.14".as_ptr(),
                    ovpn_version_major: 2,
                    ovpn_version_minor: 6,
                    ovpn_version_patch: c"14".as_ptr(),
                };
                let mut ret = OpenReturn {
                    type_mask: 0,
                    handle: ptr::null_mut(),
                    return_list: &mut return_list,
                };
                let open3 = plugin.sym.open3.expect("checked");
                // SAFETY: the structures of openvpn-plugin.h, alive for the call.
                let rc = unsafe { open3(STRUCTVER, &args, &mut ret) };
                if rc == FUNC_SUCCESS {
                    plugin.type_mask = ret.type_mask;
                    plugin.handle = ret.handle;
                }
            }
            Version::V2 | Version::V1 => {
                let mut mask = OFFERED_MASK as c_uint;
                // SAFETY: the signatures of openvpn-plugin.h, arguments alive for the call.
                plugin.handle = unsafe {
                    match version {
                        Version::V2 => (plugin.sym.open2.expect("checked"))(
                            &mut mask,
                            argv.as_ptr(),
                            envp.as_ptr(),
                            &mut return_list,
                        ),
                        _ => (plugin.sym.open1.expect("checked"))(
                            &mut mask,
                            argv.as_ptr(),
                            envp.as_ptr(),
                        ),
                    }
                };
                plugin.type_mask = mask as c_int;
            }
        }
        if plugin.handle.is_null() {
            plugin.closed = true; // nothing to close: OpenVPN stops here (M_FATAL)
            bail!(
                "{}: open failed (NULL handle); see the plugin log",
                so.display()
            );
        }
        if plugin.type_mask & !OFFERED_MASK != 0 {
            bail!(
                "{}: requested events {:#x} that OpenVPN did not offer (fatal in OpenVPN)",
                so.display(),
                plugin.type_mask & !OFFERED_MASK
            );
        }
        if plugin.type_mask & (1 << AUTH_USER_PASS_VERIFY) == 0 {
            bail!(
                "{}: does not ask for AUTH_USER_PASS_VERIFY (type mask {:#x})",
                so.display(),
                plugin.type_mask
            );
        }
        Ok(plugin)
    }

    /// A client instance's context, when the plugin has a constructor (else NULL).
    pub fn client_constructor(&self) -> *mut c_void {
        match self.sym.ctor {
            // SAFETY: the plugin's own handle.
            Some(f) => unsafe { f(self.handle) },
            None => ptr::null_mut(),
        }
    }

    pub fn client_destructor(&self, ctx: *mut c_void) {
        if let Some(f) = self.sym.dtor {
            // SAFETY: a context its constructor returned.
            unsafe { f(self.handle, ctx) }
        }
    }

    /// One `AUTH_USER_PASS_VERIFY` call, through the entry point OpenVPN would use
    /// (`func_v3` when exported, else v2, else v1, whatever `open` was used).
    ///
    /// # Safety
    /// `envp` must be a NULL-terminated array of NUL-terminated strings, alive for the call.
    #[inline]
    pub unsafe fn auth_user_pass_verify(
        &self,
        envp: *const *const c_char,
        ctx: *mut c_void,
    ) -> c_int {
        let mut return_list: *mut StringList = ptr::null_mut();
        if let Some(func3) = self.sym.func3 {
            let args = FuncIn {
                event_type: AUTH_USER_PASS_VERIFY,
                argv: self.func_argv.as_ptr(),
                envp,
                handle: self.handle,
                per_client_context: ctx,
                current_cert_depth: -1,
                current_cert: ptr::null_mut(),
            };
            let mut ret = FuncReturn {
                return_list: &mut return_list,
            };
            // SAFETY: the structures of openvpn-plugin.h, alive for the call.
            unsafe { func3(STRUCTVER, &args, &mut ret) }
        } else if let Some(func2) = self.sym.func2 {
            // SAFETY: as above.
            unsafe {
                func2(
                    self.handle,
                    AUTH_USER_PASS_VERIFY,
                    self.func_argv.as_ptr(),
                    envp,
                    ctx,
                    &mut return_list,
                )
            }
        } else {
            let func1 = self.sym.func1.expect("checked in open");
            // SAFETY: as above.
            unsafe {
                func1(
                    self.handle,
                    AUTH_USER_PASS_VERIFY,
                    self.func_argv.as_ptr(),
                    envp,
                )
            }
        }
    }

    /// `close_v1` then `dlclose`, as OpenVPN at exit or SIGHUP.
    pub fn close(mut self) {
        self.close_inner();
    }

    fn close_inner(&mut self) {
        if !self.closed {
            self.closed = true;
            // SAFETY: the handle open returned, closed once.
            unsafe { (self.sym.close)(self.handle) };
        }
        if !self.lib.is_null() {
            // SAFETY: the handle dlopen returned, closed once.
            unsafe { libc::dlclose(self.lib) };
            self.lib = ptr::null_mut();
        }
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        self.close_inner();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn layout_matches_the_installed_header() {
        let ours = [
            offset_of!(OpenIn, argv),
            offset_of!(OpenIn, callbacks),
            offset_of!(OpenIn, ssl_api),
            offset_of!(OpenIn, ovpn_version),
            offset_of!(OpenIn, ovpn_version_patch),
            size_of::<OpenIn>(),
            offset_of!(OpenReturn, handle),
            size_of::<OpenReturn>(),
            offset_of!(FuncIn, envp),
            offset_of!(FuncIn, per_client_context),
            offset_of!(FuncIn, current_cert),
            size_of::<FuncIn>(),
            STRUCTVER as usize,
            PLUGIN_N as usize,
        ];
        if host::header_layout(0).is_none() {
            eprintln!("openvpn-plugin.h not installed: layout not checked");
            return;
        }
        for (i, want) in ours.iter().enumerate() {
            assert_eq!(
                host::header_layout(i as c_int),
                Some(*want as i64),
                "item {i} of bench_header_layout"
            );
        }
    }
}
