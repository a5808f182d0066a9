//! The part of `openvpn-plugin.h` (OpenVPN 2.3 … 2.6, plugin API v3) this plugin uses,
//! written by hand: no bindgen, no libclang at build time, and nothing we do not read.
//!
//! Every struct here is only ever read through a pointer OpenVPN (or a test) hands us, and only
//! as far as the `structver` it announced says the struct reaches: see [`OpenIn`].

use std::ffi::{c_char, c_int, c_uint, c_void};

/// The plugin API version this plugin needs (`openvpn_plugin_min_version_required_v1`).
pub const OPENVPN_PLUGIN_VERSION: c_int = 3;

/// `OPENVPN_PLUGINv3_STRUCTVER` of OpenVPN 2.4.7 … 2.6.
pub const STRUCTVER_CURRENT: c_int = 5;
/// The first structver whose `openvpn_plugin_args_open_in` carries `ovpn_version*` (2.4.0).
pub const STRUCTVER_VERSION_FIELDS: c_int = 3;

// Event types (`OPENVPN_PLUGIN_*`).
pub const OPENVPN_PLUGIN_UP: c_int = 0;
pub const OPENVPN_PLUGIN_AUTH_USER_PASS_VERIFY: c_int = 5;
pub const OPENVPN_PLUGIN_CLIENT_CRRESPONSE: c_int = 15;

/// `OPENVPN_PLUGIN_MASK(x)`.
pub const fn mask(event: c_int) -> c_int {
    1 << event
}

// Return codes.
pub const OPENVPN_PLUGIN_FUNC_SUCCESS: c_int = 0;
pub const OPENVPN_PLUGIN_FUNC_ERROR: c_int = 1;
pub const OPENVPN_PLUGIN_FUNC_DEFERRED: c_int = 2;

// `openvpn_plugin_log_flags_t`.
pub const PLOG_ERR: c_int = 1 << 0;
pub const PLOG_WARN: c_int = 1 << 1;
pub const PLOG_NOTE: c_int = 1 << 2;
pub const PLOG_DEBUG: c_int = 1 << 3;
pub const PLOG_ERRNO: c_int = 1 << 8;
pub const PLOG_NOMUTE: c_int = 1 << 9;

/// `plugin_log_t`: `void (*)(flags, plugin_name, format, ...)`. C-variadic; we always call it
/// with the format `"%s"` and one string, so no text of ours is ever read as a format.
pub type PluginLog =
    unsafe extern "C" fn(flags: c_int, plugin_name: *const c_char, format: *const c_char, ...);

/// `struct openvpn_plugin_callbacks`. Only `plugin_log` is read; it exists since structver 1.
/// (2.3 ends the struct after `plugin_vlog`; later members are listed only for the layout.)
#[repr(C)]
pub struct Callbacks {
    pub plugin_log: Option<PluginLog>,
    pub plugin_vlog: *const c_void,
    pub plugin_secure_memzero: *const c_void,
    pub plugin_base64_encode: *const c_void,
    pub plugin_base64_decode: *const c_void,
}

/// `struct openvpn_plugin_args_open_in`.
///
/// OpenVPN 2.3 (structver 2) ends it after `ssl_api`; `ovpn_version`, `ovpn_version_major`,
/// `ovpn_version_minor` and `ovpn_version_patch` exist from structver 3. Never read those
/// without checking [`STRUCTVER_VERSION_FIELDS`].
#[repr(C)]
pub struct OpenIn {
    pub type_mask: c_int,
    pub argv: *const *const c_char,
    pub envp: *const *const c_char,
    pub callbacks: *const Callbacks,
    pub ssl_api: c_int,
    pub ovpn_version: *const c_char,
    pub ovpn_version_major: c_uint,
    pub ovpn_version_minor: c_uint,
    pub ovpn_version_patch: *const c_char,
}

/// `struct openvpn_plugin_string_list` (we never return one, but the out-pointer is typed).
#[repr(C)]
pub struct StringList {
    pub next: *mut StringList,
    pub name: *mut c_char,
    pub value: *mut c_char,
}

/// `struct openvpn_plugin_args_open_return`.
#[repr(C)]
pub struct OpenReturn {
    pub type_mask: c_int,
    pub handle: *mut c_void,
    pub return_list: *mut *mut StringList,
}

/// `struct openvpn_plugin_args_func_in`. Every member we read exists since structver 1.
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

/// `struct openvpn_plugin_args_func_return`.
#[repr(C)]
pub struct FuncReturn {
    pub return_list: *mut *mut StringList,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    /// The offsets of `openvpn-plugin.h` on LP64 (x86_64, aarch64), as gcc lays them out.
    #[test]
    fn layout_matches_the_header() {
        assert_eq!(offset_of!(OpenIn, argv), 8);
        assert_eq!(offset_of!(OpenIn, callbacks), 24);
        assert_eq!(offset_of!(OpenIn, ssl_api), 32);
        assert_eq!(offset_of!(OpenIn, ovpn_version), 40);
        assert_eq!(offset_of!(OpenIn, ovpn_version_major), 48);
        assert_eq!(offset_of!(OpenIn, ovpn_version_patch), 56);
        assert_eq!(size_of::<OpenIn>(), 64);
        assert_eq!(offset_of!(OpenReturn, handle), 8);
        assert_eq!(size_of::<OpenReturn>(), 24);
        assert_eq!(offset_of!(FuncIn, envp), 16);
        assert_eq!(offset_of!(FuncIn, handle), 24);
        assert_eq!(offset_of!(FuncIn, current_cert), 48);
        assert_eq!(size_of::<Callbacks>(), 40);
        assert_eq!(mask(OPENVPN_PLUGIN_AUTH_USER_PASS_VERIFY), 32);
    }
}
