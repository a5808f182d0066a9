//! The process environment, injected (as rustup's installer does): environment variables,
//! whether stdin, stdout and stderr are terminals, the program's own path and its arguments.
//! Only [`Process::os`] reads the real ones; everything else is handed a `Process`, so a test
//! runs a whole command in-process with the variables and terminal-ness it chooses.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub args: Vec<OsString>,
    vars: BTreeMap<OsString, OsString>,
    pub stdin_terminal: bool,
    pub stdout_terminal: bool,
    pub stderr_terminal: bool,
    /// This program, for finding the plugin library built beside it.
    pub current_exe: Option<PathBuf>,
}

impl Process {
    /// This process as the operating system started it.
    pub fn os() -> Process {
        Process {
            args: std::env::args_os().collect(),
            vars: std::env::vars_os().collect(),
            stdin_terminal: std::io::stdin().is_terminal(),
            stdout_terminal: std::io::stdout().is_terminal(),
            stderr_terminal: std::io::stderr().is_terminal(),
            current_exe: std::env::current_exe().ok(),
        }
    }

    /// A process with these arguments and variables and no terminal at all (tests, automation).
    pub fn new<A, K, V>(args: A, vars: impl IntoIterator<Item = (K, V)>) -> Process
    where
        A: IntoIterator,
        A::Item: Into<OsString>,
        K: Into<OsString>,
        V: Into<OsString>,
    {
        Process {
            args: args.into_iter().map(Into::into).collect(),
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            stdin_terminal: false,
            stdout_terminal: false,
            stderr_terminal: false,
            current_exe: None,
        }
    }

    pub fn var_os(&self, key: &str) -> Option<&OsStr> {
        self.vars.get(OsStr::new(key)).map(OsString::as_os_str)
    }

    /// A variable that is set and valid UTF-8.
    pub fn var(&self, key: &str) -> Option<String> {
        self.var_os(key)?.to_str().map(str::to_string)
    }

    /// Set and not empty (`NO_COLOR`'s rule).
    pub fn flag(&self, key: &str) -> bool {
        self.var_os(key).is_some_and(|v| !v.is_empty())
    }

    /// `TERM=dumb`: a terminal that cannot place the cursor (a serial console, an editor's
    /// shell buffer), where only line-by-line output reads right.
    pub fn term_is_dumb(&self) -> bool {
        self.var("TERM").as_deref() == Some("dumb")
    }

    /// Both ends a person can answer on.
    pub fn interactive(&self) -> bool {
        self.stdin_terminal && self.stdout_terminal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injected_variables_are_all_there_is() {
        let p = Process::new(["duo-openvpn"], [("DUO_SKEY", "s"), ("NO_COLOR", "")]);
        assert_eq!(p.var("DUO_SKEY").as_deref(), Some("s"));
        assert_eq!(p.var("PATH"), None);
        assert!(!p.flag("NO_COLOR"));
        assert!(!p.interactive());
    }
}
