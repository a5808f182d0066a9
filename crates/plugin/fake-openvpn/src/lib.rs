//! The C half of the plugin's FFI test support (see `fake_openvpn.c`): stable Rust cannot
//! define a C-variadic `plugin_log`. `duo_test_log_sink` is left for the test binary to define.

use std::ffi::{c_char, c_int, c_long};

unsafe extern "C" {
    /// A real `plugin_log_t`: formats like OpenVPN and hands the line to `duo_test_log_sink`.
    pub fn fake_plugin_log(flags: c_int, name: *const c_char, format: *const c_char, ...);
    /// Offsets and constants from the installed `openvpn-plugin.h`; -1 without the header.
    pub fn fake_header_layout(which: c_int) -> c_long;
}
