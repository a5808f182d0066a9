//! Lossless OpenVPN config documents: OpenVPN's own tokenizer, directives, inline blocks, and the
//! edits duo-openvpn setup makes with their exact inverse. No I/O: callers read and write files.
//!
//! Decisions worth knowing:
//! - [`tokenize`] is `parse_line` from OpenVPN's options.c, corner cases included; a test feeds
//!   random lines to a real `openvpn` and compares the argv it hands a plugin.
//! - [`Document::parse`] fails (naming the 1-based line) where OpenVPN would refuse the file: a
//!   line it cannot tokenize, an inline block never closed. NUL bytes and non-UTF-8 content are
//!   refused too (a binary file; a Latin-1 comment). Lines of 255+ bytes and lines of more than
//!   16 words are [`Warning`]s: OpenVPN's handling of them varies between versions.
//! - Rendering is the input, byte for byte: BOM, each line's LF/CRLF, a missing final newline.
//! - Edits ([`ensure_server`], [`ensure_client`]) are idempotent and return [`Change`]s; each
//!   records what it replaced. [`undo_all`] on the unchanged document gives back the original
//!   bytes; on a document edited since, it finds our lines by content (and neighbouring lines),
//!   removes only them, restores what they replaced and reports what it could not find.
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
mod mask;
mod query;
pub mod tokenize;
mod upstream;

pub use anchor::Anchor;
pub use change::{Change, ChangeKind, Setting, UndoOutcome, undo_all};
pub use document::{Directive, Document, Eol, InlineBlock, Scope};
pub use edits::{
    EditError, PluginLineStyle, ServerSetup, SessionTokens, ensure_auth_retry_interact,
    ensure_auth_user_pass, ensure_client, ensure_client_with, ensure_hand_window, ensure_plugin,
    ensure_reneg_sec_zero, ensure_server, ensure_session_tokens, plugin_line,
};
pub use error::{ParseError, ParseErrorKind, Warning};
pub use mask::{MASKED_SECRET_KEY, Masked, mask_secrets, secret_block_label};
pub use query::{
    IdentityHint, Include, PLUGIN_FILE_NAME, Plugin, PluginKind, RenegSec, Role,
    UPSTREAM_PLUGIN_FILE_NAME, plugin_argv,
};
pub use upstream::{UpstreamCredentials, UpstreamDuo, UpstreamProxy};
