//! Duo's own OpenVPN plugin (`duo_openvpn.so IKEY SKEY HOST [PROXY_HOST PROXY_PORT]`), so setup
//! can offer to move its credentials into duo.toml and take its place.

use std::fmt;

use crate::document::Document;
use crate::query::PluginKind;

/// A `plugin …duo_openvpn.so …` line.
#[derive(Clone, PartialEq, Eq)]
pub struct UpstreamDuo {
    pub line: usize,
    /// The arguments as the upstream plugin receives them (path excluded).
    pub args: Vec<String>,
    /// The credentials, when the arguments have the documented shape (3 or 5 of them).
    pub credentials: Option<UpstreamCredentials>,
}

#[derive(Clone, PartialEq, Eq)]
pub struct UpstreamCredentials {
    pub ikey: String,
    pub skey: String,
    pub host: String,
    pub proxy: Option<UpstreamProxy>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamProxy {
    pub host: String,
    pub port: String,
}

impl UpstreamCredentials {
    /// The proxy as duo.toml spells it (`http://host:port`).
    pub fn proxy_url(&self) -> Option<String> {
        self.proxy
            .as_ref()
            .map(|p| format!("http://{}:{}", p.host, p.port))
    }
}

// The secret key must not reach logs through a stray `{:?}`.
impl fmt::Debug for UpstreamCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpstreamCredentials")
            .field("ikey", &self.ikey)
            .field("skey", &"<redacted>")
            .field("host", &self.host)
            .field("proxy", &self.proxy)
            .finish()
    }
}

impl fmt::Debug for UpstreamDuo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpstreamDuo")
            .field("line", &self.line)
            .field(
                "args",
                &format_args!("<{} arguments, redacted>", self.args.len()),
            )
            .field("credentials", &self.credentials)
            .finish()
    }
}

impl Document {
    /// Every line loading Duo's upstream plugin.
    pub fn upstream_duo(&self) -> Vec<UpstreamDuo> {
        self.plugins()
            .into_iter()
            .filter(|p| p.kind == PluginKind::UpstreamDuo)
            .map(|p| {
                let args = p.argv[1..].to_vec();
                let credentials = match args.as_slice() {
                    [ikey, skey, host] => Some((ikey, skey, host, None)),
                    [ikey, skey, host, phost, pport] => Some((
                        ikey,
                        skey,
                        host,
                        Some(UpstreamProxy {
                            host: phost.clone(),
                            port: pport.clone(),
                        }),
                    )),
                    _ => None,
                }
                .map(|(ikey, skey, host, proxy)| UpstreamCredentials {
                    ikey: ikey.clone(),
                    skey: skey.clone(),
                    host: host.clone(),
                    proxy,
                });
                UpstreamDuo {
                    line: p.line,
                    args,
                    credentials,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_and_proxy() {
        let doc = Document::parse(concat!(
            "plugin /opt/duo/duo_openvpn.so 'DIXXXXXXXXXXXXXXXXXX s3cr3t api-1.duosecurity.com'\n",
            "plugin /opt/duo/duo_openvpn.so DI s3cr3t api-1.duosecurity.com proxy.lan 3128\n",
            "plugin /opt/duo/duo_openvpn.so only-one\n",
        ))
        .unwrap();
        let up = doc.upstream_duo();
        assert_eq!(up.len(), 3);
        let c = up[0].credentials.as_ref().unwrap();
        assert_eq!(
            (c.ikey.as_str(), c.skey.as_str(), c.host.as_str()),
            ("DIXXXXXXXXXXXXXXXXXX", "s3cr3t", "api-1.duosecurity.com")
        );
        assert_eq!(c.proxy, None);
        let c = up[1].credentials.as_ref().unwrap();
        assert_eq!(c.proxy_url().as_deref(), Some("http://proxy.lan:3128"));
        assert!(up[2].credentials.is_none());
        assert!(!format!("{up:?}").contains("s3cr3t"));
    }
}
