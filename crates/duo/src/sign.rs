//! Request signing exactly as Duo's reference client (`duo_client.client.sign`) does it.
//!
//! Only the canonical string must be exact: the wire body may encode spaces as `+` or `%20`.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// RFC 3986 unreserved characters stay as they are (`~` included); everything else is `%XX`.
const DUO_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The HMAC digest. SHA-512 is what Duo's clients have sent since 2022; SHA-1 remains for
/// legacy endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Digest {
    Sha1,
    #[default]
    Sha512,
}

/// Percent-encode one key or value the way Duo canonicalises parameters.
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, DUO_ENCODE).to_string()
}

/// Canonical parameter line: encode, sort by key then value, join with `&`.
pub fn canon_params(params: &[(&str, &str)]) -> String {
    let mut encoded: Vec<(String, String)> =
        params.iter().map(|(k, v)| (encode(k), encode(v))).collect();
    // Sorting (key, value) tuples, not "k=v" strings: a key that is a prefix of another
    // must sort first regardless of the following character.
    encoded.sort();
    encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The signature v2 canonical string: date, method, lowercase host, path, params.
pub fn canonicalize(
    date: &str,
    method: &str,
    host: &str,
    path: &str,
    params: &[(&str, &str)],
) -> String {
    [
        date.to_string(),
        method.to_ascii_uppercase(),
        host.to_ascii_lowercase(),
        path.to_string(),
        canon_params(params),
    ]
    .join("\n")
}

/// The signature v1 canonical string (legacy `/rest/v1`): no date line.
pub fn canonicalize_v1(method: &str, host: &str, path: &str, params: &[(&str, &str)]) -> String {
    [
        method.to_ascii_uppercase(),
        host.to_ascii_lowercase(),
        path.to_string(),
        canon_params(params),
    ]
    .join("\n")
}

/// Lowercase hex HMAC of `canon` keyed with the secret key.
pub fn hmac_hex(skey: &str, canon: &str, digest: Digest) -> String {
    let bytes = match digest {
        Digest::Sha1 => {
            let mut mac = Hmac::<sha1::Sha1>::new_from_slice(skey.as_bytes())
                .expect("hmac accepts any key length");
            mac.update(canon.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        Digest::Sha512 => {
            let mut mac = Hmac::<sha2::Sha512>::new_from_slice(skey.as_bytes())
                .expect("hmac accepts any key length");
            mac.update(canon.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
    };
    to_hex(&bytes)
}

/// The `Authorization` header value: `Basic base64(ikey:hexsig)`.
pub fn authorization(ikey: &str, skey: &str, canon: &str, digest: Digest) -> String {
    let sig = hmac_hex(skey, canon, digest);
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{ikey}:{sig}"));
    format!("Basic {token}")
}

/// Sign a v2 request; returns the `Authorization` header value.
pub fn sign(
    ikey: &str,
    skey: &str,
    date: &str,
    method: &str,
    host: &str,
    path: &str,
    params: &[(&str, &str)],
    digest: Digest,
) -> String {
    authorization(
        ikey,
        skey,
        &canonicalize(date, method, host, path, params),
        digest,
    )
}

/// Split a `Basic` authorization header into (ikey, signature hex). `None` when malformed.
pub fn parse_authorization(header: &str) -> Option<(String, String)> {
    let token = header.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (ikey, sig) = text.split_once(':')?;
    Some((ikey.to_string(), sig.to_string()))
}

/// Constant-time comparison of two signatures, so a verifier does not leak how much matched.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const IKEY: &str = "DIWJ8X6AEYOR5OMC6TQ1";
    const SKEY: &str = "Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep";
    const HOST: &str = "api-XXXXXXXX.duosecurity.com";
    const DATE: &str = "Tue, 21 Aug 2012 17:29:18 -0000";

    fn sig(method: &str, path: &str, params: &[(&str, &str)], d: Digest) -> String {
        hmac_hex(SKEY, &canonicalize(DATE, method, HOST, path, params), d)
    }

    #[test]
    fn printable_ascii_vector() {
        assert_eq!(
            encode("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
            "%21%22%23%24%25%26%27%28%29%2A%2B%2C-.%2F%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E_%60%7B%7C%7D~"
        );
        assert_eq!(encode("a b"), "a%20b");
        assert_eq!(encode("é"), "%C3%A9");
    }

    #[test]
    fn vector_0_docs_example_sha1_and_sha512() {
        let p = [("realname", "First Last"), ("username", "root")];
        assert_eq!(
            canonicalize(DATE, "POST", HOST, "/admin/v1/users", &p),
            "Tue, 21 Aug 2012 17:29:18 -0000\nPOST\napi-xxxxxxxx.duosecurity.com\n/admin/v1/users\nrealname=First%20Last&username=root"
        );
        assert_eq!(
            sig("POST", "/admin/v1/users", &p, Digest::Sha1),
            "c1ef43767c3eb3b3258dbddca6f8d0941e085b92"
        );
        assert_eq!(
            authorization(
                IKEY,
                SKEY,
                &canonicalize(DATE, "POST", HOST, "/admin/v1/users", &p),
                Digest::Sha1
            ),
            "Basic RElXSjhYNkFFWU9SNU9NQzZUUTE6YzFlZjQzNzY3YzNlYjNiMzI1OGRiZGRjYTZmOGQwOTQxZTA4NWI5Mg=="
        );
        assert_eq!(
            sig("POST", "/admin/v1/users", &p, Digest::Sha512),
            "a2c781990efe0a72a515271f7c8a3efa331b9a15701efbf1197a94e1355d9b1f3a8d8e889228cfe366d6cb63e55214f3d3ce39ebd020aa65abc5ed25f75abd90"
        );
    }

    #[test]
    fn vector_a_preauth() {
        let p = [("username", "alice smith"), ("ipaddr", "203.0.113.7")];
        assert_eq!(
            sig("POST", "/auth/v2/preauth", &p, Digest::Sha512),
            "e0687c85ebc8e0ea001ef602c80f1205e6a56227d2287e8323f8c7cfa5333697f43c02b13662b11ddc276d6172efc2080bd5ba212d2d9c5b43c8409969b4f3bc"
        );
    }

    #[test]
    fn vector_b_auth_push() {
        let p = [
            ("username", "alice"),
            ("factor", "push"),
            ("device", "auto"),
            ("async", "1"),
            ("ipaddr", "203.0.113.7"),
            ("pushinfo", "from=vpn.example.com&domain=example.com"),
        ];
        assert_eq!(
            sig("POST", "/auth/v2/auth", &p, Digest::Sha512),
            "46a29b1117d182a562f4d5a00af76738bc656aac996f4ae00de1b48beb16b68ed6eb7e697d269f5ef0287bebaf77785aef31ac9d081a0fe07970c66a0c7c2c92"
        );
        assert_eq!(
            sig("POST", "/auth/v2/auth", &p, Digest::Sha1),
            "995bbc1e1a4dba40bdd1479da0875e70dc66fe98"
        );
    }

    #[test]
    fn vector_d_auth_status() {
        let p = [("txid", "45f7c92b-f45f-4862-8545-e0f58e78075a")];
        assert_eq!(
            sig("GET", "/auth/v2/auth_status", &p, Digest::Sha512),
            "b87b1075bc61e5c3393b5d14fc5ed0f9c8792ee90071ce76987ba519b0ff6f75776406fe25c6a0b2206a0ad3b9f1276d67ad416ae7a4a6f43dcef4cddf366df4"
        );
    }

    #[test]
    fn vector_e_legacy_v1() {
        let p = [
            ("user", "alice"),
            ("factor", "auto"),
            ("auto", "push2"),
            ("ipaddr", "203.0.113.7"),
        ];
        assert_eq!(
            hmac_hex(
                SKEY,
                &canonicalize_v1("POST", HOST, "/rest/v1/auth", &p),
                Digest::Sha512
            ),
            "51f423dca095f9eb766871954c6345827ed9abedf10638266cb1960bfb58be3343ca35c432f003ef010a77aeb9f4dd514bcb687f9fcb0f5a3c257ec1a54e03f1"
        );
    }

    #[test]
    fn sorting_is_by_key_then_value_not_by_joined_string() {
        // "a" < "a-b" as keys, although "a=" > "a-" as strings.
        assert_eq!(canon_params(&[("a-b", "1"), ("a", "2")]), "a=2&a-b=1");
        assert_eq!(canon_params(&[("k", "2"), ("k", "1")]), "k=1&k=2");
        assert_eq!(canon_params(&[]), "");
    }

    #[test]
    fn authorization_round_trips() {
        let h = authorization(IKEY, SKEY, "x", Digest::Sha512);
        let (ikey, sig) = parse_authorization(&h).unwrap();
        assert_eq!(ikey, IKEY);
        assert!(constant_time_eq(&sig, &hmac_hex(SKEY, "x", Digest::Sha512)));
        assert!(!constant_time_eq(&sig, "00"));
    }
}
