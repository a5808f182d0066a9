//! A throw-away CA, a server certificate and client certificates, made with the `openssl` CLI
//! (EC P-256: quick to generate and to handshake with). Valid for two days.
//!
//! All files are world-readable (0644, keys included): a server that re-reads them after
//! SIGHUP does so as `nobody`. Test material only.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Pki {
    pub dir: PathBuf,
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
}

impl Pki {
    /// A CA, `server`, and one client certificate per name in `clients` (CN = the name).
    pub fn generate(dir: &Path, clients: &[&str]) -> io::Result<Pki> {
        let dir = dir.join("pki");
        fs::create_dir_all(&dir)?;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755))?;
        fs::write(
            dir.join("server.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\n\
             extendedKeyUsage=serverAuth\n",
        )?;
        fs::write(
            dir.join("client.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\n\
             extendedKeyUsage=clientAuth\n",
        )?;
        openssl(
            &dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "2",
                "-subj",
                "/CN=duo-openvpn test CA",
            ],
        )?;
        let pki = Pki {
            ca: dir.join("ca.crt"),
            server_cert: dir.join("server.crt"),
            server_key: dir.join("server.key"),
            dir,
        };
        pki.issue("server", "server", "server.ext")?;
        for name in clients {
            pki.issue(name, &file_stem(name), "client.ext")?;
        }
        for entry in fs::read_dir(&pki.dir)? {
            fs::set_permissions(entry?.path(), fs::Permissions::from_mode(0o644))?;
        }
        Ok(pki)
    }

    /// The certificate and key of client `name` (issued by [`Pki::generate`]).
    pub fn client(&self, name: &str) -> (PathBuf, PathBuf) {
        (
            self.dir.join(format!("{}.crt", file_stem(name))),
            self.dir.join(format!("{}.key", file_stem(name))),
        )
    }

    fn issue(&self, cn: &str, stem: &str, ext: &str) -> io::Result<()> {
        let (key, csr, crt) = (
            format!("{stem}.key"),
            format!("{stem}.csr"),
            format!("{stem}.crt"),
        );
        let subj = format!("/CN={cn}");
        openssl(
            &self.dir,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                &key,
                "-out",
                &csr,
                "-subj",
                &subj,
                "-utf8",
            ],
        )?;
        openssl(
            &self.dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &crt,
                "-days",
                "2",
                "-extfile",
                ext,
            ],
        )
    }
}

/// A file name for a common name (which may contain spaces or non-ASCII letters).
fn file_stem(cn: &str) -> String {
    cn.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect::<String>()
        + &format!(
            "-{:x}",
            cn.bytes().fold(0u32, |h, b| h.wrapping_mul(31) ^ b as u32)
        )
}

fn openssl(dir: &Path, args: &[&str]) -> io::Result<()> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "openssl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(())
}
