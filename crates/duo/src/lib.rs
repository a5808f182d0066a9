//! The Duo Auth API v2 client shared by the CLI, the wizard and the OpenVPN plugin.
//!
//! Nothing here knows about terminals. The pieces:
//! - [`sign`] / [`date`]: request signing exactly as Duo's reference client does it;
//! - [`api`]: typed requests and responses;
//! - [`client`]: the async HTTPS client (pinned roots, proxy, timeouts, 429 backoff, clock skew);
//! - [`factor`]: what a VPN user types in the password field;
//! - [`login`]: the preauth → auth → auth_status decision, failmode included;
//! - [`config`]: `/etc/duo-openvpn/duo.toml`.

pub mod api;
pub mod client;
pub mod config;
pub mod date;
pub mod error;
pub mod factor;
pub mod login;
pub mod sign;
pub mod tls;

pub use api::{AuthStatus, Device, PreauthResponse, PreauthResult};
pub use client::Client;
pub use config::{Config, DuoSettings, Failmode, UsernameFrom};
pub use error::Error;
pub use factor::Factor;
pub use login::{Allowed, Denied, LoginRequest, Outcome, Progress};
