//! Conformance with Duo's own reference client, `duo_client` (Python, `pip install duo_client`):
//! (a) our signing equals `duo_client.client.sign()` over a table of awkward requests, and the
//!     stand-in's verifier accepts each of those signatures (v2 SHA-1/SHA-512, v5);
//! (b) `duo_client.Auth` is served correctly by the stand-in, end to end over HTTPS;
//! (c) requests signed with a wrong key are refused.
//!
//! Needs `python3` with `duo_client`; fails loudly without them unless
//! `DUO_OPENVPN_SKIP_PYTHON=1` is set.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use duo::sign::{self, Digest};
use duo_mock::verify::{self, SignedRequest};
use duo_mock::{MOCK_IKEY, MOCK_SKEY, MockConfig, MockDuo, users};
use serde_json::{Value, json};

const IKEY: &str = "DIWJ8X6AEYOR5OMC6TQ1";
const SKEY: &str = "Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep";
const DATE: &str = "Tue, 21 Aug 2012 17:29:18 -0000";
const NOW: i64 = 1_345_570_158;

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance")
        .join(name)
}

/// `true` when the reference client is available; panics with the fix when it is not,
/// unless skipping was asked for explicitly.
fn python_ready() -> bool {
    let probe = Command::new("python3")
        .args(["-c", "import duo_client; print(duo_client.__file__)"])
        .output();
    let problem = match probe {
        Ok(o) if o.status.success() => return true,
        Ok(o) => format!(
            "python3 cannot import duo_client: {}",
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .last()
                .unwrap_or("")
                .trim()
        ),
        Err(e) => format!("python3 cannot be run: {e}"),
    };
    if std::env::var("DUO_OPENVPN_SKIP_PYTHON").as_deref() == Ok("1") {
        eprintln!("SKIPPED (DUO_OPENVPN_SKIP_PYTHON=1): {problem}");
        return false;
    }
    panic!(
        "{problem}\nThese conformance tests need Duo's reference client: `pip install duo_client`.\n\
         Set DUO_OPENVPN_SKIP_PYTHON=1 to skip them explicitly."
    );
}

struct Case {
    name: &'static str,
    method: &'static str,
    host: &'static str,
    path: &'static str,
    params: Vec<(&'static str, &'static str)>,
    digest: Digest,
    sig_version: u8,
    headers: Vec<(&'static str, &'static str)>,
}

fn case(
    name: &'static str,
    method: &'static str,
    path: &'static str,
    params: &[(&'static str, &'static str)],
) -> Case {
    Case {
        name,
        method,
        host: "api-XXXXXXXX.duosecurity.com",
        path,
        params: params.to_vec(),
        digest: Digest::Sha512,
        sig_version: 2,
        headers: vec![],
    }
}

fn table() -> Vec<Case> {
    let push = [
        ("username", "alice"),
        ("factor", "push"),
        ("device", "auto"),
        ("async", "1"),
        ("ipaddr", "203.0.113.7"),
        ("pushinfo", "from=vpn.example.com&domain=example.com"),
    ];
    let docs = [("realname", "First Last"), ("username", "root")];
    vec![
        Case {
            digest: Digest::Sha1,
            ..case("docs example, SHA1", "POST", "/admin/v1/users", &docs)
        },
        case("docs example, SHA512", "POST", "/admin/v1/users", &docs),
        case(
            "space in user name",
            "POST",
            "/auth/v2/preauth",
            &[("username", "alice smith"), ("ipaddr", "203.0.113.7")],
        ),
        case("pushinfo with & and =", "POST", "/auth/v2/auth", &push),
        Case {
            digest: Digest::Sha1,
            ..case("pushinfo, SHA1", "POST", "/auth/v2/auth", &push)
        },
        case(
            "printable ASCII",
            "POST",
            "/auth/v2/preauth",
            &[("username", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")],
        ),
        case(
            "non-ASCII",
            "POST",
            "/auth/v2/preauth",
            &[("username", "jürgen"), ("hostname", "服务器-😀")],
        ),
        case(
            "tilde in key and value",
            "POST",
            "/auth/v2/preauth",
            &[("user~name", "~al~ice~")],
        ),
        case(
            "repeated key",
            "GET",
            "/admin/v1/users",
            &[("k", "b"), ("k", "a"), ("k", "a b")],
        ),
        case(
            "prefix keys",
            "POST",
            "/auth/v2/auth",
            &[
                ("a-b", "1"),
                ("a", "2"),
                ("a.b", "3"),
                ("a_b", "4"),
                ("ab", "5"),
            ],
        ),
        case(
            "empty value",
            "POST",
            "/auth/v2/preauth",
            &[("username", "alice"), ("ipaddr", "")],
        ),
        case("no params", "GET", "/auth/v2/check", &[]),
        Case {
            host: "API-Mixed.DuoSecurity.COM",
            ..case("upper-case host", "GET", "/auth/v2/check", &[])
        },
        case(
            "GET with a txid",
            "GET",
            "/auth/v2/auth_status",
            &[("txid", "45f7c92b-f45f-4862-8545-e0f58e78075a")],
        ),
        case(
            "lower-case method",
            "post",
            "/auth/v2/preauth",
            &[("username", "alice")],
        ),
        Case {
            sig_version: 5,
            ..case("v5 JSON body", "POST", "/auth/v2/auth", &push)
        },
        Case {
            sig_version: 5,
            ..case(
                "v5 JSON non-ASCII",
                "POST",
                "/auth/v2/preauth",
                &[("username", "jürgen ~ x")],
            )
        },
        Case {
            sig_version: 5,
            ..case(
                "v5 GET with params",
                "GET",
                "/auth/v2/auth_status",
                &[("txid", "a b/c")],
            )
        },
        Case {
            sig_version: 5,
            headers: vec![("X-Duo-B", "2"), ("x-duo-a", "1")],
            ..case("v5 with X-Duo headers", "GET", "/auth/v2/check", &[])
        },
    ]
}

fn run_python(script_name: &str, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new("python3")
        .arg(script(script_name))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_signatures_equal_the_reference_client() {
    if !python_ready() {
        return;
    }
    let cases = table();
    let input: Vec<Value> = cases
        .iter()
        .map(|c| {
            json!({
                "ikey": IKEY, "skey": SKEY, "date": DATE,
                "method": c.method, "host": c.host, "path": c.path,
                "params": c.params,
                "digest": match c.digest { Digest::Sha1 => "sha1", Digest::Sha512 => "sha512" },
                "sig_version": c.sig_version,
                "headers": c.headers,
            })
        })
        .collect();
    let (ok, stdout, stderr) = run_python("sign_table.py", &[], &Value::from(input).to_string());
    assert!(ok, "sign_table.py failed:\n{stderr}");
    let theirs: Vec<Value> = serde_json::from_str(&stdout).expect("sign_table.py prints JSON");
    assert_eq!(theirs.len(), cases.len());

    println!(
        "{:<26} {:>3} {:<6} {:<18} {:<18} mock verifier",
        "case", "v", "digest", "duo_client", "duo (Rust)"
    );
    let mut failures = Vec::new();
    for (c, t) in cases.iter().zip(&theirs) {
        let their_auth = t["authorization"].as_str().unwrap();
        let (_, their_sig) = sign::parse_authorization(their_auth).unwrap();
        let params: Vec<(String, String)> = c
            .params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        // Our own signer (v2 only: the client never sends v5).
        let ours = (c.sig_version == 2).then(|| {
            let canon = sign::canonicalize(DATE, c.method, c.host, c.path, &c.params);
            if canon != t["canonical"].as_str().unwrap() {
                failures.push(format!(
                    "{}: canonical differs:\n ours  {canon:?}\n theirs {:?}",
                    c.name, t["canonical"]
                ));
            }
            sign::hmac_hex(SKEY, &canon, c.digest)
        });
        // The stand-in's verifier, fed what the reference client would put on the wire.
        let body = t["body"].as_str().unwrap_or("").to_string();
        let json_body = c.sig_version == 5 && c.method.eq_ignore_ascii_case("post");
        let headers: Vec<(String, String)> = c
            .headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect();
        let request = SignedRequest {
            method: &c.method.to_ascii_uppercase(),
            host: c.host,
            path: c.path,
            params: if json_body { &[] } else { &params },
            body: body.as_bytes(),
            authorization: Some(their_auth),
            date: Some(DATE),
            duo_headers: &headers,
        };
        let verdict = verify::verify(&request, IKEY, SKEY, NOW, 300);
        let short = |s: &str| s.chars().take(16).collect::<String>();
        println!(
            "{:<26} {:>3} {:<6} {:<18} {:<18} {}",
            c.name,
            c.sig_version,
            format!("{:?}", c.digest),
            short(&their_sig),
            ours.as_deref()
                .map(short)
                .unwrap_or_else(|| "(v5: n/a)".into()),
            match &verdict {
                Ok(v) => format!("accepted as v{} {:?}", v.sig_version, v.digest),
                Err(e) => format!("REJECTED {e:?}"),
            }
        );
        if ours.as_ref().is_some_and(|ours| *ours != their_sig) {
            failures.push(format!("{}: signature {ours:?} != {their_sig}", c.name));
        }
        match verdict {
            Ok(v) if v.sig_version == c.sig_version && v.digest == c.digest => {}
            other => failures.push(format!("{}: verifier said {other:?}", c.name)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn b_c_the_reference_client_against_the_stand_in() {
    if !python_ready() {
        return;
    }
    let mock = MockDuo::start(MockConfig {
        push_delay: std::time::Duration::from_millis(200),
        ..MockConfig::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    mock.write_ca(&ca).unwrap();
    let port = mock.port().to_string();
    let (ok, stdout, stderr) = run_python(
        "client_flow.py",
        &[
            &port,
            ca.to_str().unwrap(),
            MOCK_IKEY,
            MOCK_SKEY,
            users::PASSCODES[0],
            users::PASSCODES[1],
        ],
        "",
    );
    println!("{stdout}");
    assert!(ok, "client_flow.py failed:\n{stdout}\n{stderr}");
    assert!(stdout.trim_end().ends_with("OK"));

    let reqs = mock.requests();
    let refused: Vec<_> = reqs.iter().filter(|r| r.status == 401).collect();
    // (c) exactly the two deliberately mis-signed requests were refused, and nothing else.
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(
        refused
            .iter()
            .all(|r| !r.signature_ok && r.path == "/auth/v2/check")
    );
    for r in reqs
        .iter()
        .filter(|r| r.status != 401 && r.path != "/auth/v2/ping")
    {
        assert!(r.signature_ok, "{r:?}");
    }
    let versions = |v: u8, d: Digest| {
        reqs.iter()
            .filter(|r| r.sig_version == Some(v) && r.digest == Some(d))
            .count()
    };
    println!(
        "requests: {} (v5 SHA512: {}, v2 SHA512: {}, v2 SHA1: {})",
        reqs.len(),
        versions(5, Digest::Sha512),
        versions(2, Digest::Sha512),
        versions(2, Digest::Sha1)
    );
    assert!(versions(5, Digest::Sha512) > 10);
    assert!(versions(2, Digest::Sha512) >= 2);
    assert!(versions(2, Digest::Sha1) >= 2);
    // Passcodes never reach the log.
    assert!(!format!("{reqs:?}").contains(users::PASSCODES[0]));
}
