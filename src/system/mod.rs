//! The only code that touches the host: files, the process environment, systemctl, sacli,
//! `openvpn --version`.
//! Every path goes through a root prefix so the whole tool can run inside a sandbox.
pub mod detect;
pub mod fault;
pub mod files;
pub mod host;
pub mod install;
pub mod lock;
pub mod manifest;
pub mod post_auth;
pub mod process;
pub mod receipt;
pub mod root;
pub mod service;
pub mod terminal;
pub mod tree;
