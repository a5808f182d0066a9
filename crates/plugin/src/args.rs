//! The `plugin` line's arguments.
//!
//! - `plugin <so> /etc/duo-openvpn/duo.toml`: the configuration file (what setup writes);
//! - `plugin <so> IKEY SKEY HOST [PROXY_HOST PROXY_PORT]`: the upstream Duo plugin's form, so
//!   a server can swap plugins without touching anything else. OpenVPN re-tokenizes a single
//!   quoted argument (`'IKEY SKEY HOST'`), so both spellings arrive here as separate words.
//!   Upstream's behaviour is kept: failmode secure, user name from the certificate's common name.
//!
//! Every message names the argument by position and says what was expected; none of them ever
//! contains an argument that could be the secret key.

use std::path::Path;

use duo::config::{self, Config, DuoSettings, Secret, UsernameFrom};

pub const USAGE: &str = "expected `plugin <path to .so> <path to duo.toml>` or the upstream form \
                         `plugin <path to .so> IKEY SKEY HOST [PROXY_HOST PROXY_PORT]`";

/// Where the configuration came from, for the startup log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    File(String),
    Arguments,
}

/// `args` are the words after the library path (`argv[1..]`), already copied out of C.
pub fn parse(args: &[String]) -> Result<(Config, Source), String> {
    match args {
        [] => Err(format!("no arguments: {USAGE}")),
        [path] => Config::load(Path::new(path))
            .map(|c| (c, Source::File(path.clone())))
            .map_err(|e| e.to_string()),
        [ikey, skey, host] => upstream(ikey, skey, host, None),
        [ikey, skey, host, proxy_host, proxy_port] => {
            upstream(ikey, skey, host, Some((proxy_host, proxy_port)))
        }
        _ => Err(format!("{} arguments: {USAGE}", args.len())),
    }
}

fn upstream(
    ikey: &str,
    skey: &str,
    host: &str,
    proxy: Option<(&String, &String)>,
) -> Result<(Config, Source), String> {
    config::check_ikey(ikey).map_err(|m| format!("argument 1 (IKEY): {m}; {USAGE}"))?;
    config::check_skey(skey).map_err(|m| format!("argument 2 (SKEY): {m}"))?;
    config::check_host(host).map_err(|m| format!("argument 3 (HOST): {m}"))?;
    let mut duo = DuoSettings::new(ikey, Secret::new(skey), host);
    if let Some((h, p)) = proxy {
        let url = format!("http://{h}:{p}");
        config::check_proxy(&url)
            .map_err(|m| format!("arguments 4 and 5 (PROXY_HOST PROXY_PORT): {m}"))?;
        duo.proxy = Some(url);
    }
    Ok((
        Config {
            duo,
            username_from: UsernameFrom::CommonName,
        },
        Source::Arguments,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use duo::Failmode;

    const IKEY: &str = "DIWJ8X6AEYOR5OMC6TQ1";
    const SKEY: &str = "Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep";

    fn words(s: &[&str]) -> Vec<String> {
        s.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn upstream_form() {
        let (c, src) = parse(&words(&[IKEY, SKEY, "api-abc.duosecurity.com"])).unwrap();
        assert_eq!(src, Source::Arguments);
        assert_eq!(c.duo.failmode, Failmode::Secure);
        assert_eq!(c.username_from, UsernameFrom::CommonName);
        assert_eq!(c.duo.skey.expose(), SKEY);
        let (c, _) = parse(&words(&[
            IKEY,
            SKEY,
            "api-abc.duosecurity.com",
            "proxy",
            "3128",
        ]))
        .unwrap();
        assert_eq!(c.duo.proxy.as_deref(), Some("http://proxy:3128"));
        let e = parse(&words(&[
            IKEY,
            SKEY,
            "api-abc.duosecurity.com",
            "proxy",
            "x",
        ]))
        .unwrap_err();
        assert!(e.contains("PROXY_PORT"), "{e}");
    }

    #[test]
    fn swapped_keys_never_print_the_secret() {
        let e = parse(&words(&[SKEY, IKEY, "api-abc.duosecurity.com"])).unwrap_err();
        assert!(!e.contains(SKEY), "{e}");
        assert!(e.contains("argument 1 (IKEY)"), "{e}");
        let e = parse(&words(&[IKEY, "not-the-secret-but-close", "h"])).unwrap_err();
        assert!(!e.contains("not-the-secret-but-close"), "{e}");
    }

    #[test]
    fn a_secret_in_the_ikey_field_is_not_echoed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("duo.toml");
        std::fs::write(
            &p,
            format!("[duo]\nikey = \"{SKEY}\"\nskey = \"{IKEY}\"\nhost = \"h\"\n"),
        )
        .unwrap();
        let e = parse(&[p.display().to_string()]).unwrap_err();
        assert!(!e.contains(SKEY), "{e}");
        assert!(
            e.contains("duo.toml:2: duo.ikey: expected 20 upper-case letters"),
            "{e}"
        );
    }

    #[test]
    fn wrong_counts_and_missing_files() {
        assert!(parse(&[]).unwrap_err().contains("no arguments"));
        assert!(
            parse(&words(&["a", "b"]))
                .unwrap_err()
                .contains("2 arguments")
        );
        let e = parse(&words(&["/nonexistent/duo.toml"])).unwrap_err();
        assert!(e.starts_with("/nonexistent/duo.toml: cannot read"), "{e}");
    }
}
