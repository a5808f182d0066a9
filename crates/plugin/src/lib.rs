//! `libduo_openvpn_plugin.so`: Duo two-factor authentication inside OpenVPN (2.3 … 2.6).
//!
//! `plugin /usr/lib/duo-openvpn/libduo_openvpn_plugin.so /etc/duo-openvpn/duo.toml` in the
//! server configuration (or the upstream Duo plugin's `IKEY SKEY HOST [PROXY_HOST PROXY_PORT]`).
//!
//! How a login goes:
//! 1. OpenVPN calls `AUTH_USER_PASS_VERIFY` ([`entry`]); we copy the few variables we need out
//!    of its environment ([`mod@env`]), queue a [`job::Job`] and return `DEFERRED` in microseconds.
//! 2. The one background thread ([`runtime`]) runs the login ([`task`]): the password field is
//!    read as a Duo factor ([`job`]), Duo is asked through `duo::login` within a deadline that
//!    fits OpenVPN's ([`deadline`]), and failmode decides outages.
//! 3. The answer goes to `auth_control_file`, the reason first to `auth_failed_reason_file`
//!    ([`control_file`]); one line goes to OpenVPN's log ([`mod@log`]).
//!
//! The rlib is for tests; OpenVPN uses only the four `openvpn_plugin_*` symbols.

pub mod args;
pub mod control_file;
pub mod crtext;
pub mod deadline;
pub mod entry;
pub mod env;
pub mod ffi;
pub mod job;
pub mod limits;
pub mod log;
pub mod plugin;
pub mod runtime;
pub mod secret;
pub mod session;
pub mod task;
pub mod verified;

pub use entry::{
    openvpn_plugin_close_v1, openvpn_plugin_func_v3, openvpn_plugin_min_version_required_v1,
    openvpn_plugin_open_v3,
};
