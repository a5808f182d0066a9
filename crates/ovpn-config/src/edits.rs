//! The edits setup makes, each idempotent and returning the [`Change`]s it made.
//!
//! Every edit works on a copy and replaces the document only when it succeeds, so an error leaves
//! the document as it was.

use std::fmt;

use crate::anchor::Anchor;
use crate::change::{Change, ChangeKind, Setting, same_text_lines};
use crate::document::{Document, Eol, RawLine};
use crate::error::ParseError;
use crate::query::{Plugin, PluginKind, Role, file_name};
use crate::tokenize::{QuoteError, quote, quote_always};

/// How the arguments of a `plugin` line are spelled.
///
/// OpenVPN tokenizes a `plugin` line's single argument a second time, so
/// `plugin duo_openvpn.so 'IKEY SKEY HOST'` hands the plugin three arguments; Duo documents this
/// form for OpenVPN 2.4+ and the bare `plugin duo_openvpn.so IKEY SKEY HOST` for 2.3. Both give
/// the same argv on every version this tool supports, and for our plugin's one argument (the
/// config path) the two differ only in the quotes: `'/etc/duo-openvpn/duo.toml'` or bare.
/// Either way a path with spaces is quoted so that it survives the second pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PluginLineStyle {
    /// Arguments in one `'…'` token (the 2.4+ form).
    #[default]
    Quoted,
    /// Arguments as separate words (the 2.3 form).
    Bare,
}

/// Writes a `plugin` line that hands the plugin exactly `args` (after the module path).
pub fn plugin_line(
    so_path: &str,
    args: &[&str],
    style: PluginLineStyle,
) -> Result<String, QuoteError> {
    let mut line = format!("plugin {}", quote(so_path)?);
    let spelled = match (args, style) {
        ([], _) => None,
        ([one], PluginLineStyle::Bare) => Some(quote(&quote(one)?)?),
        (many, PluginLineStyle::Bare) => Some(
            many.iter()
                .map(|a| quote(a))
                .collect::<Result<Vec<_>, _>>()?
                .join(" "),
        ),
        (many, PluginLineStyle::Quoted) => {
            let inner = many
                .iter()
                .map(|a| quote(a))
                .collect::<Result<Vec<_>, _>>()?
                .join(" ");
            Some(quote_always(&inner)?)
        }
    };
    if let Some(s) = spelled {
        line.push(' ');
        line.push_str(&s);
    }
    Ok(line)
}

/// What `ensure_server` installs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSetup {
    /// Absolute path of `libduo_openvpn_plugin.so`, as OpenVPN should see it.
    pub plugin_path: String,
    /// Absolute path of duo.toml, as the plugin should see it.
    pub config_path: String,
    pub style: PluginLineStyle,
    /// Replace Duo's upstream plugin line with ours. Without it, an upstream line is an error:
    /// two plugins deferring the same login make OpenVPN exit.
    pub migrate_upstream: bool,
    /// Edit a config that is neither recognisably a server nor a client (e.g. one whose `server`
    /// option lives in a `config` include).
    pub allow_unknown_role: bool,
    /// Session tokens instead of `reneg-sec 0`.
    pub session_tokens: Option<SessionTokens>,
}

/// `auth-gen-token LIFETIME external-auth` and `auth-gen-token-secret PATH`: OpenVPN hands the
/// client a token after a Duo login and calls the plugin on each renegotiation with the
/// token's state, so a session lives `lifetime` seconds without asking Duo again while the
/// data-channel keys keep renegotiating (`reneg-sec 0` is not added).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionTokens {
    pub lifetime_secs: u64,
    /// Absolute path of the token secret, as OpenVPN should see it.
    pub secret_path: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditError {
    /// A client profile given as the server config, or the other way round.
    WrongRole {
        wanted: Role,
        found: Role,
    },
    /// Duo's upstream plugin is loaded on this line and migration was not asked for.
    UpstreamDuoPresent {
        line: usize,
    },
    Unencodable(QuoteError),
    /// The edited text would not parse: a bug, reported rather than written.
    Internal(ParseError),
}

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EditError::WrongRole { wanted, found } => {
                write!(f, "expected {wanted}, but this is {found}")
            }
            EditError::UpstreamDuoPresent { line } => write!(
                f,
                "line {line} loads Duo's upstream plugin (duo_openvpn.so); it must be migrated, \
                 since only one plugin may defer a login"
            ),
            EditError::Unencodable(e) => e.fmt(f),
            EditError::Internal(e) => write!(f, "internal error, nothing changed: {e}"),
        }
    }
}

impl std::error::Error for EditError {}

impl From<QuoteError> for EditError {
    fn from(e: QuoteError) -> Self {
        EditError::Unencodable(e)
    }
}

impl From<ParseError> for EditError {
    fn from(e: ParseError) -> Self {
        EditError::Internal(e)
    }
}

fn check_role(doc: &Document, wanted: Role, allow_unknown: bool) -> Result<(), EditError> {
    let found = doc.role();
    if found == wanted || (found == Role::Unknown && allow_unknown) {
        Ok(())
    } else {
        Err(EditError::WrongRole { wanted, found })
    }
}

/// Everything setup changes in a server config: our `plugin` line (migrating Duo's upstream one
/// if asked) and `reneg-sec 0`.
pub fn ensure_server(doc: &mut Document, setup: &ServerSetup) -> Result<Vec<Change>, EditError> {
    check_role(doc, Role::Server, setup.allow_unknown_role)?;
    transaction(doc, |d| {
        let mut changes = ensure_plugin(d, setup)?;
        match &setup.session_tokens {
            Some(t) => changes.extend(ensure_session_tokens(d, t)?),
            None => changes.extend(ensure_reneg_sec_zero(d)?),
        }
        Ok(changes)
    })
}

/// Everything setup changes in a client profile: `auth-user-pass`, `auth-retry interact`,
/// `reneg-sec 0`.
pub fn ensure_client(
    doc: &mut Document,
    allow_unknown_role: bool,
) -> Result<Vec<Change>, EditError> {
    ensure_client_with(doc, allow_unknown_role, false)
}

/// [`ensure_client`]; with `session_tokens` the profile keeps renegotiating (no `reneg-sec 0`):
/// the server's token carries the session across renegotiations.
pub fn ensure_client_with(
    doc: &mut Document,
    allow_unknown_role: bool,
    session_tokens: bool,
) -> Result<Vec<Change>, EditError> {
    check_role(doc, Role::Client, allow_unknown_role)?;
    transaction(doc, |d| {
        let mut changes = Vec::new();
        changes.extend(ensure_auth_user_pass(d)?);
        changes.extend(ensure_auth_retry_interact(d)?);
        if !session_tokens {
            changes.extend(ensure_reneg_sec_zero(d)?);
        }
        Ok(changes)
    })
}

/// `auth-gen-token LIFETIME external-auth` and `auth-gen-token-secret PATH`, each exactly as
/// wanted: an existing line is rewritten (and remembered), a missing one added.
pub fn ensure_session_tokens(
    doc: &mut Document,
    t: &SessionTokens,
) -> Result<Vec<Change>, EditError> {
    let mut changes = Vec::new();
    let token = format!("{} external-auth", t.lifetime_secs);
    changes.extend(set_line_args(
        doc,
        "auth-gen-token",
        &token,
        Setting::AuthGenToken,
    )?);
    let secret = crate::tokenize::quote(&t.secret_path).map_err(EditError::Unencodable)?;
    changes.extend(set_line_args(
        doc,
        "auth-gen-token-secret",
        &secret,
        Setting::AuthGenTokenSecret,
    )?);
    Ok(changes)
}

/// `name ARGS` as the effective (last) line of `name`: added when absent, rewritten when its
/// arguments differ (inline blocks of the option are left alone and a line is added after).
fn set_line_args(
    doc: &mut Document,
    name: &str,
    args: &str,
    setting: Setting,
) -> Result<Option<Change>, EditError> {
    let wanted = format!("{name} {args}");
    let Some(d) = doc.last(name) else {
        return add_line(doc, setting, wanted).map(Some);
    };
    if d.inline {
        let after = after_block(doc, d.line);
        return add_line_after(doc, after, setting, wanted).map(Some);
    }
    let line = d.line;
    let current = doc.line_text(line).unwrap_or_default();
    if current.trim() == wanted {
        return Ok(None);
    }
    let new = indented_like(doc, line, &wanted);
    replace_line(doc, line, setting, new).map(Some)
}

fn transaction(
    doc: &mut Document,
    f: impl FnOnce(&mut Document) -> Result<Vec<Change>, EditError>,
) -> Result<Vec<Change>, EditError> {
    let mut work = doc.clone();
    let changes = f(&mut work)?;
    *doc = work;
    Ok(changes)
}

/// Our `plugin` line, exactly once. A line already handing our plugin the same arguments is kept;
/// otherwise the last line loading our plugin is rewritten, or else Duo's upstream line is
/// replaced (when `setup.migrate_upstream`; else it is an error), or else the line is added.
/// Any further lines loading our plugin or Duo's are removed: only one plugin may defer a login.
pub fn ensure_plugin(doc: &mut Document, setup: &ServerSetup) -> Result<Vec<Change>, EditError> {
    let plugins = doc.plugins();
    let upstream: Vec<usize> = plugins
        .iter()
        .filter(|p| p.kind == PluginKind::UpstreamDuo)
        .map(|p| p.line)
        .collect();
    if let (Some(&line), false) = (upstream.first(), setup.migrate_upstream) {
        return Err(EditError::UpstreamDuoPresent { line });
    }
    let wanted = plugin_line(&setup.plugin_path, &[&setup.config_path], setup.style)?;
    let wanted_argv = [setup.plugin_path.clone(), setup.config_path.clone()];
    let ours_by_name = file_name(&setup.plugin_path);
    let ours: Vec<&Plugin> = plugins
        .iter()
        .filter(|p| p.kind == PluginKind::Ours || file_name(&p.path) == ours_by_name)
        .collect();
    let exact = ours.iter().find(|p| p.argv == wanted_argv).map(|p| p.line);
    let keep = exact
        .or(ours.last().map(|p| p.line))
        .or(upstream.first().copied());
    let mut extra: Vec<(usize, Setting)> = ours
        .iter()
        .map(|p| (p.line, Setting::Plugin))
        .chain(upstream.iter().map(|&l| (l, Setting::UpstreamPlugin)))
        .filter(|&(l, _)| Some(l) != keep)
        .collect();
    extra.sort_by_key(|&(line, _)| line);
    transaction(doc, |d| {
        let mut changes = Vec::new();
        match keep {
            Some(line) if Some(line) == exact => {}
            Some(line) => {
                let setting = if upstream.contains(&line) {
                    Setting::UpstreamPlugin
                } else {
                    Setting::Plugin
                };
                let new = indented_like(d, line, &wanted);
                changes.push(replace_line(d, line, setting, new)?);
            }
            None => changes.push(add_line(d, Setting::Plugin, wanted.clone())?),
        }
        // Bottom up, so the line numbers still to be removed stay valid.
        for &(line, setting) in extra.iter().rev() {
            changes.push(remove_line(d, line, setting)?);
        }
        Ok(changes)
    })
}

/// `reneg-sec 0`: added when absent; the effective (last) `reneg-sec` rewritten to `0` when it
/// is not (its one- or two-argument form, kept indentation and comment, the old text remembered).
pub fn ensure_reneg_sec_zero(doc: &mut Document) -> Result<Option<Change>, EditError> {
    set_single_value(doc, "reneg-sec", "0", Setting::RenegSec)
}

/// `hand-window SECS` (server or client): added when absent; an effective (last) one that is
/// at least `secs` is kept, a smaller or unreadable one is rewritten to `secs` (the old text
/// remembered, so undo puts it back). OpenVPN ends a pending login after `hand-window`, so a
/// larger figure the admin chose only gives Duo longer.
pub fn ensure_hand_window(doc: &mut Document, secs: u64) -> Result<Option<Change>, EditError> {
    let current = doc.hand_window();
    if current.is_some_and(|c| c >= secs) {
        return Ok(None);
    }
    set_single_value(doc, "hand-window", &secs.to_string(), Setting::HandWindow)
}

/// `auth-user-pass`: added when absent; any existing one (with a file, or inline) is kept.
pub fn ensure_auth_user_pass(doc: &mut Document) -> Result<Option<Change>, EditError> {
    if doc.auth_user_pass().is_some() {
        return Ok(None);
    }
    add_line(doc, Setting::AuthUserPass, "auth-user-pass".to_owned()).map(Some)
}

/// `auth-retry interact`: added when absent; another value is replaced and remembered.
pub fn ensure_auth_retry_interact(doc: &mut Document) -> Result<Option<Change>, EditError> {
    set_single_value(doc, "auth-retry", "interact", Setting::AuthRetry)
}

fn set_single_value(
    doc: &mut Document,
    name: &str,
    value: &str,
    setting: Setting,
) -> Result<Option<Change>, EditError> {
    let Some(d) = doc.last(name) else {
        return add_line(doc, setting, format!("{name} {value}")).map(Some);
    };
    // `<reneg-sec>`…: not an inlinable option; a line after it wins (last one counts).
    if d.inline {
        let after = after_block(doc, d.line);
        return add_line_after(doc, after, setting, format!("{name} {value}")).map(Some);
    }
    if d.arg(0) == Some(value) {
        return Ok(None);
    }
    let old = doc.line_text(d.line).unwrap_or_default();
    let new = match d.args_span() {
        // A backslash before the newline makes the newline part of the last token: the span
        // can run past the text.
        Some((start, end)) => format!("{}{}{}", &old[..start], value, &old[end.min(old.len())..]),
        None => format!("{}{name} {value}", &old[..d.indent_len()]),
    };
    let line = d.line;
    replace_line(doc, line, setting, new).map(Some)
}

/// Where a line goes that must come after the inline block opened on `open_line` (the last
/// occurrence of an option counts).
fn after_block(doc: &Document, open_line: usize) -> usize {
    let close = doc
        .inline_blocks()
        .iter()
        .find(|b| b.open_line == open_line)
        .map_or(0, |b| b.close_line);
    doc.insertion_point().max(close)
}

fn replace_line(
    doc: &mut Document,
    line: usize,
    setting: Setting,
    new: String,
) -> Result<Change, EditError> {
    let old = doc.line_text(line).unwrap_or_default().to_owned();
    doc.edit_lines(|lines| lines[line - 1].text = new.clone())?;
    let (occurrence, occurrences) = occurrence_of(doc, line);
    Ok(Change {
        setting,
        kind: ChangeKind::ReplacedLine {
            line,
            old,
            new,
            occurrence,
            occurrences,
        },
    })
}

/// `text` with the indentation of the option on `line`.
fn indented_like(doc: &Document, line: usize, text: &str) -> String {
    let old = doc.line_text(line).unwrap_or_default();
    let indent = doc.directive_at(line).map_or(0, |d| d.indent_len());
    format!("{}{}", &old[..indent], text)
}

fn add_line(doc: &mut Document, setting: Setting, text: String) -> Result<Change, EditError> {
    add_line_after(doc, doc.insertion_point(), setting, text)
}

/// Inserts `text` after 1-based line `after` (0: at the start).
fn add_line_after(
    doc: &mut Document,
    after: usize,
    setting: Setting,
    text: String,
) -> Result<Change, EditError> {
    let eol = doc.dominant_eol();
    let mut terminated_previous = false;
    doc.edit_lines(|lines| {
        if let Some(prev) = after.checked_sub(1).map(|i| &mut lines[i])
            && prev.eol == Eol::None
        {
            prev.eol = eol;
            terminated_previous = true;
        }
        lines.insert(
            after,
            RawLine {
                text: text.clone(),
                eol,
            },
        );
    })?;
    let (occurrence, occurrences) = occurrence_of(doc, after + 1);
    Ok(Change {
        setting,
        kind: ChangeKind::AddedLine {
            line: after + 1,
            text,
            eol,
            terminated_previous,
            occurrence,
            occurrences,
        },
    })
}

/// Which of the lines reading like `line` it is, and how many there are.
fn occurrence_of(doc: &Document, line: usize) -> (usize, usize) {
    let same = same_text_lines(doc, doc.line_text(line).unwrap_or_default());
    let at = same.iter().position(|&l| l == line).unwrap_or(0);
    (at, same.len())
}

fn remove_line(doc: &mut Document, line: usize, setting: Setting) -> Result<Change, EditError> {
    let raw = doc.raw_lines()[line - 1].clone();
    doc.edit_lines(|lines| {
        lines.remove(line - 1);
    })?;
    Ok(Change {
        setting,
        kind: ChangeKind::RemovedLine {
            line,
            text: raw.text,
            eol: raw.eol,
            anchor: Anchor::record(doc, line - 1),
        },
    })
}
