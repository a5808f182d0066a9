//! Checking a request's signature by recomputing it, as Duo does.
//!
//! Accepted: signature v2 (date, method, host, path, params) with HMAC-SHA512 or HMAC-SHA1;
//! v4 (v2 + `sha512hex(body)`) and v5 (v4 + `sha512hex` of the sorted `x-duo-*` headers) with
//! HMAC-SHA512. `X-Duo-Date` wins over `Date` when both are present.

use duo::sign::{self, Digest};
use sha2::Digest as _;

/// What the verifier needs from one request.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    pub method: &'a str,
    /// The `Host` header, as the client signed it (lower-cased for the canonical string).
    pub host: &'a str,
    pub path: &'a str,
    /// Query-string (GET) or form-body (POST) parameters; empty for a JSON body.
    pub params: &'a [(String, String)],
    /// The raw body (`""` for GET); v4/v5 hash it.
    pub body: &'a [u8],
    pub authorization: Option<&'a str>,
    /// `X-Duo-Date` if present, else `Date`.
    pub date: Option<&'a str>,
    /// Every `x-duo-*` header, names lower-cased, in any order.
    pub duo_headers: &'a [(String, String)],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub sig_version: u8,
    pub digest: Digest,
}

/// Why a request was refused; each maps onto Duo's 401 answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    MissingCredentials,
    MalformedCredentials,
    MissingDate,
    UnparsableDate(String),
    /// The integration key is unknown or the signature does not match.
    InvalidSignature,
    /// Signed correctly, but dated too far from the stand-in's clock (`skew` = date − clock).
    DateOutOfRange {
        skew: i64,
        allowed: i64,
    },
}

impl Rejection {
    pub fn code(&self) -> u32 {
        match self {
            Rejection::MissingCredentials | Rejection::MissingDate => 40101,
            Rejection::MalformedCredentials | Rejection::InvalidSignature => 40103,
            Rejection::UnparsableDate(_) | Rejection::DateOutOfRange { .. } => 40105,
        }
    }

    pub fn message(&self) -> &'static str {
        match self {
            Rejection::MissingCredentials | Rejection::MissingDate => "Missing request credentials",
            Rejection::MalformedCredentials | Rejection::InvalidSignature => {
                "Invalid signature in request credentials"
            }
            Rejection::UnparsableDate(_) | Rejection::DateOutOfRange { .. } => {
                "Request date out of range"
            }
        }
    }

    pub fn detail(&self) -> Option<String> {
        match self {
            Rejection::MissingCredentials => Some("Authorization header is missing".into()),
            Rejection::MissingDate => Some("Date or X-Duo-Date header is missing".into()),
            Rejection::MalformedCredentials => {
                Some("Authorization is not Basic base64(ikey:signature)".into())
            }
            Rejection::InvalidSignature => None,
            Rejection::UnparsableDate(d) => Some(format!("cannot parse the date {d:?}")),
            Rejection::DateOutOfRange { skew, allowed } => Some(format!(
                "the request is dated {} s {} the server's clock (allowed: {allowed} s); check the system clock",
                skew.abs(),
                if *skew < 0 { "behind" } else { "ahead of" }
            )),
        }
    }
}

/// Recompute the signature under every version a client may send and accept the first match;
/// then check the date against `now` (the stand-in's own, possibly skewed, clock).
pub fn verify(
    req: &SignedRequest,
    ikey: &str,
    skey: &str,
    now: i64,
    max_skew: i64,
) -> Result<Verified, Rejection> {
    let header = req.authorization.ok_or(Rejection::MissingCredentials)?;
    let (their_ikey, their_sig) =
        sign::parse_authorization(header).ok_or(Rejection::MalformedCredentials)?;
    let date = req.date.ok_or(Rejection::MissingDate)?;
    if !sign::constant_time_eq(&their_ikey, ikey) {
        return Err(Rejection::InvalidSignature);
    }
    let their_sig = their_sig.to_ascii_lowercase();
    let found = candidates(req, date)
        .into_iter()
        .find(|(canon, v)| {
            sign::constant_time_eq(&sign::hmac_hex(skey, canon, v.digest), &their_sig)
        })
        .map(|(_, v)| v)
        .ok_or(Rejection::InvalidSignature)?;
    let when = duo::date::parse_rfc2822(date)
        .ok_or_else(|| Rejection::UnparsableDate(date.to_string()))?;
    let skew = when - now;
    if skew.abs() > max_skew {
        return Err(Rejection::DateOutOfRange {
            skew,
            allowed: max_skew,
        });
    }
    Ok(found)
}

/// Every canonical string this request may have been signed over, with its version and digest.
fn candidates(req: &SignedRequest, date: &str) -> Vec<(String, Verified)> {
    let params: Vec<(&str, &str)> = req
        .params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let body_hash = sha512_hex(req.body);
    let headers_hash = headers_hash(req.duo_headers);
    let at = |sig_version, digest| Verified {
        sig_version,
        digest,
    };
    let mut out = Vec::new();
    for host in hosts(req.host) {
        let v2 = sign::canonicalize(date, req.method, host, req.path, &params);
        let v4 = format!("{v2}\n{body_hash}");
        let v5 = format!("{v4}\n{headers_hash}");
        out.extend([
            (v5, at(5, Digest::Sha512)),
            (v2.clone(), at(2, Digest::Sha512)),
            (v2, at(2, Digest::Sha1)),
            (v4, at(4, Digest::Sha512)),
        ]);
    }
    out
}

/// The `Host` header as sent, and without its port: clients sign the host they were given,
/// and Duo's reference client, given `port=`, signs the bare name while `Host` carries the port.
fn hosts(host: &str) -> Vec<&str> {
    match host.rsplit_once(':') {
        Some((name, port))
            if !name.is_empty()
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && (!name.contains(':') || name.ends_with(']')) =>
        {
            vec![host, name]
        }
        _ => vec![host],
    }
}

/// `sha512hex` of `name\0value\0name\0value…` over the lower-cased, sorted `x-duo-*` headers.
pub fn headers_hash(headers: &[(String, String)]) -> String {
    let mut sorted: Vec<(String, &str)> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str()))
        .collect();
    sorted.sort();
    let joined = sorted
        .iter()
        .flat_map(|(k, v)| [k.as_str(), *v])
        .collect::<Vec<_>>()
        .join("\0");
    sha512_hex(joined.as_bytes())
}

pub fn sha512_hex(data: &[u8]) -> String {
    sha2::Sha512::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const IKEY: &str = "DIWJ8X6AEYOR5OMC6TQ1";
    const SKEY: &str = "Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep";
    const HOST: &str = "api-XXXXXXXX.duosecurity.com";
    const DATE: &str = "Tue, 21 Aug 2012 17:29:18 -0000";
    const NOW: i64 = 1_345_570_158;

    fn owned(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn basic(sig: &str) -> String {
        use base64::Engine as _;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{IKEY}:{sig}"))
        )
    }

    fn request<'a>(
        method: &'a str,
        path: &'a str,
        params: &'a [(String, String)],
        body: &'a [u8],
        auth: &'a str,
        headers: &'a [(String, String)],
    ) -> SignedRequest<'a> {
        SignedRequest {
            method,
            host: HOST,
            path,
            params,
            body,
            authorization: Some(auth),
            date: Some(DATE),
            duo_headers: headers,
        }
    }

    const PUSH: [(&str, &str); 6] = [
        ("username", "alice"),
        ("factor", "push"),
        ("device", "auto"),
        ("async", "1"),
        ("ipaddr", "203.0.113.7"),
        ("pushinfo", "from=vpn.example.com&domain=example.com"),
    ];

    #[test]
    fn v2_reference_vectors_sha512_and_sha1() {
        let p = owned(&PUSH);
        let sha512 = basic(
            "46a29b1117d182a562f4d5a00af76738bc656aac996f4ae00de1b48beb16b68ed6eb7e697d269f5ef0287bebaf77785aef31ac9d081a0fe07970c66a0c7c2c92",
        );
        let r = request("POST", "/auth/v2/auth", &p, b"ignored", &sha512, &[]);
        assert_eq!(
            verify(&r, IKEY, SKEY, NOW, 300),
            Ok(Verified {
                sig_version: 2,
                digest: Digest::Sha512
            })
        );
        let sha1 = basic("995bbc1e1a4dba40bdd1479da0875e70dc66fe98");
        let r = request("POST", "/auth/v2/auth", &p, b"", &sha1, &[]);
        assert_eq!(
            verify(&r, IKEY, SKEY, NOW, 300).unwrap().digest,
            Digest::Sha1
        );
    }

    #[test]
    fn v2_get_vector_d() {
        let p = owned(&[("txid", "45f7c92b-f45f-4862-8545-e0f58e78075a")]);
        let a = basic(
            "b87b1075bc61e5c3393b5d14fc5ed0f9c8792ee90071ce76987ba519b0ff6f75776406fe25c6a0b2206a0ad3b9f1276d67ad416ae7a4a6f43dcef4cddf366df4",
        );
        let r = request("GET", "/auth/v2/auth_status", &p, b"", &a, &[]);
        assert_eq!(verify(&r, IKEY, SKEY, NOW, 300).unwrap().sig_version, 2);
    }

    const V5_BODY: &[u8] = br#"{"async":"1","device":"auto","factor":"push","ipaddr":"203.0.113.7","pushinfo":"from=vpn.example.com&domain=example.com","username":"alice"}"#;

    #[test]
    fn v5_reference_vector_c_and_tampering() {
        let a = basic(
            "c2360cff6ff3c059719626a879a27340349d7f473eeed6c0cd1adc63a9d995827cebd0bfd7b7286e42234c0f06fb6f4f75010cae0264dd9562836ec4599db6f1",
        );
        let r = request("POST", "/auth/v2/auth", &[], V5_BODY, &a, &[]);
        assert_eq!(
            verify(&r, IKEY, SKEY, NOW, 300),
            Ok(Verified {
                sig_version: 5,
                digest: Digest::Sha512
            })
        );
        // One byte of the body changed: rejected.
        let tampered = String::from_utf8(V5_BODY.to_vec())
            .unwrap()
            .replace("alice", "alicf");
        let r = request("POST", "/auth/v2/auth", &[], tampered.as_bytes(), &a, &[]);
        assert_eq!(
            verify(&r, IKEY, SKEY, NOW, 300),
            Err(Rejection::InvalidSignature)
        );
        // An x-duo header that was not signed: rejected.
        let extra = owned(&[("x-duo-extra", "1")]);
        let r = request("POST", "/auth/v2/auth", &[], V5_BODY, &a, &extra);
        assert_eq!(
            verify(&r, IKEY, SKEY, NOW, 300),
            Err(Rejection::InvalidSignature)
        );
    }

    #[test]
    fn v5_with_signed_headers() {
        let headers = owned(&[("X-Duo-B", "2"), ("x-duo-a", "1")]);
        assert_eq!(
            headers_hash(&headers),
            sha512_hex(b"x-duo-a\x001\x00x-duo-b\x002")
        );
        assert_eq!(
            headers_hash(&[]),
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
        );
        let canon = format!(
            "{}\n{}\n{}",
            sign::canonicalize(DATE, "POST", HOST, "/auth/v2/auth", &[]),
            sha512_hex(V5_BODY),
            headers_hash(&headers)
        );
        let a = sign::authorization(IKEY, SKEY, &canon, Digest::Sha512);
        let r = request("POST", "/auth/v2/auth", &[], V5_BODY, &a, &headers);
        assert_eq!(verify(&r, IKEY, SKEY, NOW, 300).unwrap().sig_version, 5);
        let fewer = owned(&[("x-duo-a", "1")]);
        let r = request("POST", "/auth/v2/auth", &[], V5_BODY, &a, &fewer);
        assert!(verify(&r, IKEY, SKEY, NOW, 300).is_err());
    }

    #[test]
    fn tampered_v2_params_wrong_keys_and_method() {
        let a = sign::sign(
            IKEY,
            SKEY,
            DATE,
            "POST",
            HOST,
            "/auth/v2/preauth",
            &[("username", "alice smith")],
            Digest::Sha512,
        );
        let ok = owned(&[("username", "alice smith")]);
        let r = request("POST", "/auth/v2/preauth", &ok, b"", &a, &[]);
        assert!(verify(&r, IKEY, SKEY, NOW, 300).is_ok());
        let bad = owned(&[("username", "alice smitH")]);
        let r = request("POST", "/auth/v2/preauth", &bad, b"", &a, &[]);
        assert_eq!(
            verify(&r, IKEY, SKEY, NOW, 300),
            Err(Rejection::InvalidSignature)
        );
        let r = request("GET", "/auth/v2/preauth", &ok, b"", &a, &[]);
        assert!(verify(&r, IKEY, SKEY, NOW, 300).is_err());
        let r = request("POST", "/auth/v2/preauth", &ok, b"", &a, &[]);
        assert!(verify(&r, "DIXXXXXXXXXXXXXXXXXX", SKEY, NOW, 300).is_err());
        assert!(verify(&r, IKEY, "another-secret", NOW, 300).is_err());
        // Upper-case host in the request, lower-case in the canonical string: still fine.
        let r = SignedRequest {
            host: "API-xxxxxxxx.DUOSECURITY.com",
            ..request("POST", "/auth/v2/preauth", &ok, b"", &a, &[])
        };
        assert!(verify(&r, IKEY, SKEY, NOW, 300).is_ok());
    }

    #[test]
    fn host_with_or_without_its_port() {
        assert_eq!(hosts("localhost:8443"), ["localhost:8443", "localhost"]);
        assert_eq!(hosts("[::1]:8443"), ["[::1]:8443", "[::1]"]);
        assert_eq!(hosts("::1"), ["::1"]);
        assert_eq!(hosts("api-x.duosecurity.com"), ["api-x.duosecurity.com"]);
        let a = sign::sign(
            IKEY,
            SKEY,
            DATE,
            "GET",
            "localhost",
            "/auth/v2/check",
            &[],
            Digest::Sha512,
        );
        let r = SignedRequest {
            host: "localhost:8443",
            ..request("GET", "/auth/v2/check", &[], b"", &a, &[])
        };
        assert!(verify(&r, IKEY, SKEY, NOW, 300).is_ok());
    }

    #[test]
    fn missing_pieces_and_dates() {
        let a = sign::sign(
            IKEY,
            SKEY,
            DATE,
            "GET",
            HOST,
            "/auth/v2/check",
            &[],
            Digest::Sha512,
        );
        let base = request("GET", "/auth/v2/check", &[], b"", &a, &[]);
        let no_auth = SignedRequest {
            authorization: None,
            ..base
        };
        assert_eq!(
            verify(&no_auth, IKEY, SKEY, NOW, 300),
            Err(Rejection::MissingCredentials)
        );
        assert_eq!(Rejection::MissingCredentials.code(), 40101);
        let no_date = SignedRequest { date: None, ..base };
        assert_eq!(
            verify(&no_date, IKEY, SKEY, NOW, 300),
            Err(Rejection::MissingDate)
        );
        let garbage = SignedRequest {
            authorization: Some("Bearer x"),
            ..base
        };
        assert_eq!(
            verify(&garbage, IKEY, SKEY, NOW, 300).unwrap_err().code(),
            40103
        );
        assert!(verify(&base, IKEY, SKEY, NOW + 300, 300).is_ok());
        let e = verify(&base, IKEY, SKEY, NOW + 400, 300).unwrap_err();
        assert_eq!(
            e,
            Rejection::DateOutOfRange {
                skew: -400,
                allowed: 300
            }
        );
        assert!(e.detail().unwrap().contains("400 s behind"), "{e:?}");
        assert_eq!(e.code(), 40105);
    }
}
