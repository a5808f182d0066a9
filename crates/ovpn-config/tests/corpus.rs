//! Every config in `tests/corpus/` (Debian's samples, the shapes popular install scripts write,
//! Windows and 2.3-era files, upstream Duo setups) keeps its bytes through parse, edit and undo.

mod common;

use std::path::PathBuf;

use ovpn_config::{Document, IdentityHint, Role};

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

fn parsed(name: &str) -> Document {
    let (_, bytes) = corpus().into_iter().find(|(n, _)| n == name).unwrap();
    Document::from_bytes(&bytes).unwrap()
}

#[test]
fn every_file_survives_edit_and_undo() {
    let files = corpus();
    assert!(files.len() >= 25, "corpus has {} files", files.len());
    let mut changes = 0;
    for (name, bytes) in &files {
        changes += common::check_cycle(name, bytes).changes;
    }
    println!(
        "{} corpus files, {changes} changes applied and undone",
        files.len()
    );
}

#[test]
fn roles_are_recognised() {
    // A point-to-point TLS pair: tls-client without pull, and tls-server.
    let unknown = ["debian-loopback-client"];
    for (name, bytes) in corpus() {
        let role = Document::from_bytes(&bytes).unwrap().role();
        let expected = if unknown.contains(&name.as_str()) {
            Role::Unknown
        } else if name.ends_with(".ovpn") || name.contains("client") {
            Role::Client
        } else {
            Role::Server
        };
        assert_eq!(role, expected, "{name}");
    }
}

#[test]
fn what_setup_reads() {
    let d = parsed("upstream-duo-bare-proxy.conf");
    let up = &d.upstream_duo()[0];
    let c = up.credentials.as_ref().unwrap();
    assert_eq!(c.ikey, "DIWJ8X6AEYOR5OMC6TQ1");
    assert_eq!(c.host, "api-xxxxxxxx.duosecurity.com");
    assert_eq!(
        c.proxy_url().as_deref(),
        Some("http://proxy.corp.example:3128")
    );
    let c = parsed("upstream-duo-server.conf").upstream_duo()[0]
        .credentials
        .clone()
        .unwrap();
    assert_eq!(c.skey, "Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep");
    assert!(c.proxy.is_none());

    let d = parsed("other-auth-server.conf");
    let includes: Vec<String> = d.config_includes().into_iter().map(|i| i.path).collect();
    assert_eq!(
        includes,
        ["/etc/openvpn/common.conf", "extra settings.conf"]
    );
    assert_eq!(d.plugins().len(), 2);
    assert_eq!(
        d.plugins()[0].argv[1..],
        ["openvpn", "login", "USERNAME", "password", "PASSWORD"]
    );
    assert_eq!(
        d.auth_user_pass_verify()[0].args,
        ["/etc/openvpn/verify.sh", "via-file"]
    );
    assert_eq!(d.identity_hint(), IdentityHint::Username);

    let d = parsed("mode-server-identity.conf");
    assert_eq!(d.verify_client_cert(), Some("none"));
    assert!(d.duplicate_cn());
    let d = parsed("angristan-server.conf");
    assert_eq!((d.user(), d.group()), (Some("nobody"), Some("nogroup")));
    assert_eq!(d.identity_hint(), IdentityHint::CommonName);

    let d = parsed("quoted-paths-server.conf");
    assert_eq!(d.last("ca").unwrap().args, ["/etc/openvpn/my keys/ca.crt"]);
    assert_eq!(
        d.last("key").unwrap().args,
        ["/etc/openvpn/my keys/server.key"]
    );
    assert_eq!(
        d.last("status").unwrap().args,
        ["/var/log/openvpn/status \"main\".log"]
    );

    let d = parsed("windows-crlf-client.ovpn");
    assert!(d.has_bom());
    assert_eq!(
        d.last("ca").unwrap().args,
        ["C:\\Program Files\\OpenVPN\\config\\ca.crt"]
    );
    assert_eq!(d.auth_retry(), Some("nointeract"));

    let d = parsed("comments-everywhere.conf");
    assert_eq!(d.last("dev").unwrap().args, ["tun#not-a-comment"]);
    assert!(d.plugins().is_empty());
    assert!(d.reneg_sec().is_none());

    let d = parsed("connection-blocks-client.ovpn");
    assert_eq!(
        d.directives().iter().filter(|x| x.name == "remote").count(),
        2
    );
    assert_eq!(
        d.find("remote").count(),
        0,
        "remotes live in the <connection> blocks"
    );
}

/// The masker (a line scanner) hides every secret block the parser finds, in every corpus file,
/// and its line origins add up to the file.
#[test]
fn masking_hides_every_secret_block_the_parser_sees() {
    let mut hidden = 0;
    for (name, bytes) in corpus() {
        let Ok(doc) = Document::from_bytes(&bytes) else {
            continue;
        };
        let text = String::from_utf8(bytes).unwrap();
        let m = ovpn_config::mask_secrets(&text);
        assert_eq!(
            m.original_lines(0..m.text.split_inclusive('\n').count()),
            0..doc.line_count(),
            "{name}"
        );
        for b in doc.inline_blocks() {
            if ovpn_config::secret_block_label(&b.name).is_none() {
                continue;
            }
            hidden += 1;
            for line in doc.inline_body(b).lines().filter(|l| l.trim().len() > 8) {
                assert!(
                    !m.text.contains(line),
                    "{name}: `{line}` shown:\n{}",
                    m.text
                );
            }
        }
    }
    assert!(hidden >= 6, "only {hidden} secret blocks in the corpus");
}
