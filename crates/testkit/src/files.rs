//! Files the server reads, with the ownership and modes an installed system has.

use std::ffi::CString;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use tempfile::TempDir;

/// A scratch directory OpenVPN can still read after dropping to `nobody` (mode 0755:
/// `tempfile`'s default 0700 would hide `duo.toml` and the certificates from a SIGHUP re-open).
pub fn workdir() -> io::Result<TempDir> {
    let dir = tempfile::Builder::new()
        .prefix("duo-openvpn-e2e-")
        .tempdir()?;
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755))?;
    Ok(dir)
}

/// The gid of `nogroup` (Debian's group for `nobody`), or of `nobody` elsewhere.
pub fn nogroup_gid() -> u32 {
    for name in ["nogroup", "nobody"] {
        let c = CString::new(name).unwrap();
        // SAFETY: getgrnam with a valid C string; the result is read at once.
        let g = unsafe { libc::getgrnam(c.as_ptr()) };
        if !g.is_null() {
            // SAFETY: non-NULL result of getgrnam.
            return unsafe { (*g).gr_gid };
        }
    }
    panic!("neither group nogroup nor nobody exists")
}

/// Write `config` as `duo.toml` the way setup installs it: `root:nogroup`, mode 0640, so the
/// secret stays private and OpenVPN, re-opening the plugin as `nobody` after SIGHUP, can read it.
/// Replaces the file atomically (a SIGHUP may be reading it).
pub fn write_duo_toml(path: &Path, config: &duo::Config) -> io::Result<()> {
    let text = config
        .render(None)
        .map_err(|e| io::Error::other(e.to_string()))?;
    let tmp = path.with_extension("toml.tmp");
    fs::write(&tmp, text)?;
    std::os::unix::fs::chown(&tmp, Some(0), Some(nogroup_gid()))?;
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o640))?;
    fs::rename(&tmp, path)
}
