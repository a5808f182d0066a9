//! Access Server's command-line tool, `sacli`: finding it and running it.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::Error;

/// Where Access Server installs `sacli`, relative to the root.
pub const SACLI_REL: &str = "usr/local/openvpn_as/scripts/sacli";

/// `sacli` under `root` (which stands for `/`).
pub fn sacli_path(root: &Path) -> PathBuf {
    root.join(SACLI_REL)
}

/// Is Access Server installed under `root`? The path of its executable `sacli` if so.
pub fn detect(root: &Path) -> Option<PathBuf> {
    let path = sacli_path(root);
    let meta = std::fs::metadata(&path).ok()?;
    (meta.is_file() && meta.permissions().mode() & 0o111 != 0).then_some(path)
}

/// Something that runs `sacli ARGS…` and returns what it printed. The real one is
/// [`SacliCommand`]; tests may answer from memory.
pub trait Sacli {
    /// The executable, for messages and the manifest.
    fn path(&self) -> &Path;
    /// Run with these arguments; standard output on success, [`Error::Sacli`] on a non-zero exit.
    fn run(&self, args: &[String]) -> Result<String, Error>;
}

/// Runs the `sacli` at a given path, without a terminal (stdin is empty), as the current user
/// (root needs no Access Server credentials), without `DUO_SKEY` or `DUO_PASSCODE` in its
/// environment.
#[derive(Debug, Clone)]
pub struct SacliCommand {
    path: PathBuf,
}

impl SacliCommand {
    pub fn new(path: impl Into<PathBuf>) -> SacliCommand {
        SacliCommand { path: path.into() }
    }

    /// The `sacli` under `root`, if Access Server is installed there.
    pub fn detect(root: &Path) -> Option<SacliCommand> {
        detect(root).map(SacliCommand::new)
    }
}

impl Sacli for SacliCommand {
    fn path(&self) -> &Path {
        &self.path
    }

    fn run(&self, args: &[String]) -> Result<String, Error> {
        let mut cmd = Command::new(&self.path);
        // sacli needs none of the tool's secrets (the script reaches it in a 0600 file).
        duo::config::scrub_secret_env(&mut cmd);
        let out = cmd
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::Spawn {
                path: self.path.clone(),
                source: e,
            })?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stdout = String::from_utf8_lossy(&out.stdout);
            let text = if stderr.trim().is_empty() {
                stdout
            } else {
                stderr
            };
            return Err(Error::Sacli {
                args: args.join(" "),
                status: out.status.to_string(),
                output: tail(text.trim(), 600),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

fn tail(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &s[start..])
}

/// Access Server's configuration as `sacli ConfigQuery` prints it: one JSON object of strings.
/// Non-string values (which Access Server does not use) are kept as their JSON text.
pub fn parse_config_query(output: &str) -> Result<BTreeMap<String, String>, Error> {
    // Tolerate anything printed before the object (a warning line, say).
    let start = output
        .find('{')
        .ok_or_else(|| Error::Query("no JSON object in the output".into()))?;
    let value: serde_json::Value = serde_json::from_str(output[start..].trim_end())
        .map_err(|e| Error::Query(e.to_string()))?;
    let serde_json::Value::Object(map) = value else {
        return Err(Error::Query("not a JSON object".into()));
    };
    Ok(map
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            (k, v)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_query_output() {
        let c = parse_config_query(
            "{\n  \"auth.module.type\": \"local\",\n  \"vpn.server.google_auth.enable\": \"true\",\n  \"n\": 3\n}\n",
        )
        .unwrap();
        assert_eq!(c["auth.module.type"], "local");
        assert_eq!(c["vpn.server.google_auth.enable"], "true");
        assert_eq!(c["n"], "3");
        assert!(parse_config_query("note: x\n{}").unwrap().is_empty());
        assert!(parse_config_query("[1]").is_err());
        assert!(parse_config_query("{nope").is_err());
        assert!(parse_config_query("").is_err());
    }

    #[test]
    fn detects_an_executable_sacli_only() {
        let root = tempfile::tempdir().unwrap();
        assert!(detect(root.path()).is_none());
        let p = sacli_path(root.path());
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(
            &p,
            "#!/bin/sh\necho \"$@\"; echo err >&2; exit ${FAIL:-0}\n",
        )
        .unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(detect(root.path()).is_none());
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        let s = SacliCommand::detect(root.path()).unwrap();
        assert_eq!(s.path(), p);
        assert_eq!(s.run(&["a".into(), "b c".into()]).unwrap(), "a b c\n");
    }

    #[test]
    fn sacli_is_not_given_the_secret_variables() {
        let root = tempfile::tempdir().unwrap();
        let p = root.path().join("sacli");
        std::fs::write(&p, "#!/bin/sh\nenv\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        // The variables as a parent that was given them would pass them on.
        // SAFETY: this test's process sets them before the child starts; no other test
        // reads them.
        unsafe {
            std::env::set_var("DUO_SKEY", "the-secret-key");
            std::env::set_var("DUO_PASSCODE", "123456");
        }
        let env = SacliCommand::new(&p).run(&[]).unwrap();
        assert!(env.contains("PATH="), "{env}");
        assert!(
            !env.contains("DUO_SKEY") && !env.contains("the-secret-key"),
            "{env}"
        );
        assert!(
            !env.contains("DUO_PASSCODE") && !env.contains("123456"),
            "{env}"
        );
    }

    #[test]
    fn failures_name_the_command_and_keep_the_tail() {
        let root = tempfile::tempdir().unwrap();
        let p = root.path().join("sacli");
        std::fs::write(&p, "#!/bin/sh\necho \"bad key $2\" >&2\nexit 3\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        let e = SacliCommand::new(&p)
            .run(&["--key".into(), "k".into(), "ConfigDel".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("--key k ConfigDel"), "{e}");
        assert!(e.contains("bad key k"), "{e}");
        let e = SacliCommand::new(root.path().join("missing"))
            .run(&[])
            .unwrap_err();
        assert!(matches!(e, Error::Spawn { .. }));
        assert_eq!(tail("abcdef", 3), "…def");
    }
}
