//! TLS trust for Duo: by default only the 15 roots Duo's own clients pin, shipped in
//! `assets/duo-ca-roots.pem` (the maintained roots crates lack three of them).

use std::sync::Arc;

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::Error;

/// The CA bundle Duo's reference clients pin, byte for byte.
pub const DUO_ROOTS_PEM: &[u8] = include_bytes!("../../../assets/duo-ca-roots.pem");

/// Parse every certificate in a PEM bundle. `source` names it in errors.
pub fn certificates(pem: &[u8], source: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::Setup(format!("{source}: not a PEM certificate bundle ({e})")))?;
    if certs.is_empty() {
        return Err(Error::Setup(format!(
            "{source}: contains no PEM certificate"
        )));
    }
    Ok(certs)
}

/// A root store from a PEM bundle; every certificate must be usable as a trust anchor.
pub fn root_store(pem: &[u8], source: &str) -> Result<RootCertStore, Error> {
    let mut store = RootCertStore::empty();
    for (i, cert) in certificates(pem, source)?.into_iter().enumerate() {
        store.add(cert).map_err(|e| {
            Error::Setup(format!(
                "{source}: certificate #{} is not a usable CA ({e})",
                i + 1
            ))
        })?;
    }
    Ok(store)
}

/// A TLS 1.2+ client configuration trusting exactly `roots`, speaking HTTP/1.1.
pub fn client_config(roots: RootCertStore) -> Result<rustls::ClientConfig, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| Error::Setup(format!("TLS setup failed: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest as _;

    /// The fingerprints Duo's reference client pins (reference: "The 15 pinned roots").
    const PINNED: [&str; 15] = [
        "8ecde6884f3d87b1125ba31ac3fcb13d7016de7f57cc904fe1cb97c6ae98196e",
        "1ba5b2aa8c65401a82960118f80bec4f62304d83cec4713a19c39c011ea46db4",
        "18ce6cfe7bf14e60b2e347b8dfe868cb31d02ebb3ada271569f50343b46db3a4",
        "e35d28419ed02025cfa69038cd623962458da5c695fbdea3c22b0bfb25897092",
        "568d6905a2c88708a4b3025190edcfedb1974a606a13c6e5290fcb2ae63edab5",
        "7431e5f4c3c1ce4690774f0b61e05440883ba9a01ed00ba6abd7806ed3b118cf",
        "018e13f0772532cf809bd1b17281867283fc48c6e13be9c69812854a490c1b05",
        "371a00dc0533b3721a7eeb40e8419e70799d2b0a0f2c1d80693165f7cec4ad75",
        "4fa3126d8d3a11d1c4855a4f807cbad6cf919d3a5a88b03bea2c6372d93c40c9",
        "cbb9c44d84b8043e1050ea31a69f514955d7bfd2e2c6b49301019ad61d9f5058",
        "8d25cd97229dbf70356bda4eb3cc734031e24cf00fafcfd32dc76eb5841c7ea8",
        "349dfa4058c5e263123b398ae795573c4e1313c83fe68f93556cd5e8031b3c7d",
        "5d56499be4d2e08bcfcad08a3e38723d50503bde706948e42f55603019e528ae",
        "983d826ba9c87f653ff9e8384c5413e1d59acf19ddc9c98cecae5fdea2ac229c",
        "2ce1cb0bf9d2f9e102993fbe215152c3b2dd0cabde1c68e5319b839154dbb7f5",
    ];

    #[test]
    fn bundle_is_exactly_the_pinned_roots() {
        let certs = certificates(DUO_ROOTS_PEM, "bundled roots").unwrap();
        let mut got: Vec<String> = certs
            .iter()
            .map(|c| {
                sha2::Sha256::digest(c.as_ref())
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect()
            })
            .collect();
        got.sort();
        let mut want: Vec<String> = PINNED.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(got, want);
        assert_eq!(
            root_store(DUO_ROOTS_PEM, "bundled roots").unwrap().len(),
            15
        );
    }

    #[test]
    fn garbage_is_named() {
        let e = root_store(b"hello", "/tmp/x.pem").unwrap_err().to_string();
        assert!(e.contains("/tmp/x.pem"), "{e}");
    }
}
