//! Lossless OpenVPN config documents: OpenVPN's own tokenizer, directives, inline blocks, and the
//! edits duo-openvpn setup makes with their exact inverse. No I/O: callers read and write files.
//!
//! ```
//! use ovpn_config::{Document, ensure_client, undo_all};
//!
//! let text = "client\r\nremote vpn.example.com 1194\r\n<ca>\r\n...\r\n</ca>\r\n";
//! let mut doc = Document::parse(text).unwrap();
//! let changes = ensure_client(&mut doc, false).unwrap();
//! assert!(doc.to_string().contains("auth-retry interact\r\n"));
//! undo_all(&mut doc, &changes);
//! assert_eq!(doc.to_string(), text);
//! ```

mod anchor;
mod change;
mod document;
mod edits;
mod error;
mod query;
pub mod tokenize;
mod upstream;

pub use anchor::Anchor;
pub use change::{Change, ChangeKind, Setting, UndoOutcome, undo_all};
pub use document::{Directive, Document, Eol, InlineBlock, Scope};
pub use edits::{
    EditError, PluginLineStyle, ServerSetup, ensure_auth_retry_interact, ensure_auth_user_pass,
    ensure_client, ensure_plugin, ensure_reneg_sec_zero, ensure_server, plugin_line,
};
pub use error::{ParseError, ParseErrorKind, Warning};
pub use query::{
    IdentityHint, Include, PLUGIN_FILE_NAME, Plugin, PluginKind, RenegSec, Role,
    UPSTREAM_PLUGIN_FILE_NAME, plugin_argv,
};
pub use upstream::{UpstreamCredentials, UpstreamDuo, UpstreamProxy};
