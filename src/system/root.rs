//! The root prefix: `--root DIR` runs the whole tool inside DIR as if it were `/`.

use std::path::{Path, PathBuf};

/// Where Access Server keeps its command-line tool.
pub const SACLI: &str = "/usr/local/openvpn_as/scripts/sacli";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root(PathBuf);

impl Root {
    pub fn new(dir: impl Into<PathBuf>) -> Root {
        Root(dir.into())
    }

    pub fn dir(&self) -> &Path {
        &self.0
    }

    /// The file layer over this root: the only way a managed file is opened.
    pub fn tree(&self) -> super::tree::Tree {
        super::tree::Tree::new(&self.0)
    }

    /// Where the absolute system path `p` lives under this root.
    pub fn path(&self, p: impl AsRef<Path>) -> PathBuf {
        let p = p.as_ref();
        self.0.join(p.strip_prefix("/").unwrap_or(p))
    }
}

/// Where duo-openvpn keeps its configuration on the managed system.
pub const CONFIG_PATH: &str = "/etc/duo-openvpn/duo.toml";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_under_the_root() {
        assert_eq!(Root::new("/").path("/etc/x"), PathBuf::from("/etc/x"));
        assert_eq!(
            Root::new("/tmp/s").path("/etc/x"),
            PathBuf::from("/tmp/s/etc/x")
        );
        assert_eq!(
            Root::new("/tmp/s").path("etc/x"),
            PathBuf::from("/tmp/s/etc/x")
        );
    }
}
