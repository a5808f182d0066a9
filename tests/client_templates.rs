//! The templates of the popular installers (Nyr's and angristan's openvpn-install, PiVPN), from
//! which every profile added later is made: `setup --yes` edits them like profiles, names them
//! as templates, leaves them alone with `--no-client-templates`, and uninstall gives them back.
//! Each sandbox is laid out as that installer leaves a server: its server config, its template
//! (the text its script writes), and a profile where it writes them, made its way.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{ASSETS, Sandbox, text, write};
use duo_mock::{MockConfig, MockDuo};

struct Layout {
    installer: &'static str,
    server: &'static str,
    server_text: &'static str,
    template: &'static str,
    template_text: &'static str,
    profile: &'static str,
    /// What the installer appends to the template to make a profile.
    keys: &'static str,
    /// The installer makes a profile with `grep -v '^#'` over the template (Nyr's).
    strips_comments: bool,
}

const NYR_SERVER: &str = "local 203.0.113.10
port 1194
proto udp
dev tun
ca ca.crt
cert server.crt
key server.key
dh dh.pem
auth SHA512
tls-crypt tc.key
topology subnet
server 10.8.0.0 255.255.255.0
push \"redirect-gateway def1 bypass-dhcp\"
ifconfig-pool-persist ipp.txt
push \"dhcp-option DNS 1.1.1.1\"
push \"dhcp-option DNS 1.0.0.1\"
push \"block-outside-dns\"
keepalive 10 120
user nobody
group nogroup
persist-key
persist-tun
verb 3
crl-verify crl.pem
explicit-exit-notify
";

/// openvpn-install.sh, "client-common.txt is created so we have a template to add further users".
const NYR_TEMPLATE: &str = "client
dev tun
proto udp
remote 203.0.113.10 1194
resolv-retry infinite
nobind
persist-key
persist-tun
remote-cert-tls server
auth SHA512
ignore-unknown-option block-outside-dns
verb 3
";

const NYR_KEYS: &str = "<ca>
-----BEGIN CERTIFICATE-----
(test CA)
-----END CERTIFICATE-----
</ca>
<cert>
-----BEGIN CERTIFICATE-----
(test client certificate)
-----END CERTIFICATE-----
</cert>
<key>
-----BEGIN PRIVATE KEY-----
(test client key)
-----END PRIVATE KEY-----
</key>
<tls-crypt>
-----BEGIN OpenVPN Static key V1-----
(test tls-crypt key)
-----END OpenVPN Static key V1-----
</tls-crypt>
";

const ANGRISTAN_SERVER: &str = "port 1194
proto udp
dev tun
user nobody
group nogroup
persist-key
persist-tun
keepalive 10 120
topology subnet
server 10.8.0.0 255.255.255.0
ifconfig-pool-persist ipp.txt
push \"dhcp-option DNS 1.0.0.1\"
push \"dhcp-option DNS 1.1.1.1\"
push \"redirect-gateway def1 bypass-dhcp\"
dh none
ecdh-curve prime256v1
tls-crypt tls-crypt.key
crl-verify crl.pem
ca ca.crt
cert server_x1.crt
key server_x1.key
auth SHA256
cipher AES-128-GCM
ignore-unknown-option data-ciphers
data-ciphers AES-128-GCM
ncp-ciphers AES-128-GCM
tls-server
tls-version-min 1.2
remote-cert-tls client
tls-cipher TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256
client-config-dir /etc/openvpn/ccd
status /var/log/openvpn/status.log
verb 3
";

/// openvpn-install.sh, "client-template.txt is created so we have a template to add further users".
const ANGRISTAN_TEMPLATE: &str = "client
proto udp
explicit-exit-notify
remote 203.0.113.10 1194
dev tun
resolv-retry infinite
nobind
persist-key
persist-tun
remote-cert-tls server
verify-x509-name server_x1 name
auth SHA256
auth-nocache
cipher AES-128-GCM
ignore-unknown-option data-ciphers
data-ciphers AES-128-GCM
ncp-ciphers AES-128-GCM
tls-client
tls-version-min 1.2
tls-cipher TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256
ignore-unknown-option block-outside-dns
setenv opt block-outside-dns # Prevent Windows 10 DNS leak
verb 3
";

/// PiVPN's files/etc/openvpn/server_config.txt (its `group openvpn` becomes a group this host
/// has, see [`sandbox`]).
const PIVPN_SERVER: &str = "dev tun
proto udp
port 1194
ca /etc/openvpn/easy-rsa/pki/ca.crt
cert /etc/openvpn/easy-rsa/pki/issued/server.crt
key /etc/openvpn/easy-rsa/pki/private/server.key
dh /etc/openvpn/easy-rsa/pki/dh2048.pem
topology subnet
server 10.8.0.0 255.255.255.0
# Set your primary domain name server address for clients
push \"dhcp-option DNS 9.9.9.9\"
push \"dhcp-option DNS 149.112.112.112\"
# Prevent DNS leaks on Windows
push \"block-outside-dns\"
push \"redirect-gateway def1\"
client-to-client
client-config-dir /etc/openvpn/ccd
keepalive 15 120
remote-cert-tls client
tls-version-min 1.2
tls-auth /etc/openvpn/easy-rsa/pki/ta.key 0
cipher AES-256-CBC
auth SHA256
user openvpn
group openvpn
persist-key
persist-tun
crl-verify /etc/openvpn/crl.pem
status /var/log/openvpn-status.log 20
status-version 3
syslog
verb 3
#DuplicateCNs allow access control on a less-granular, per user basis.
#Remove # if you will manage access by user instead of device. 
#duplicate-cn
# Generated for use by PiVPN.io
";

/// PiVPN's files/etc/openvpn/easy-rsa/pki/Default.txt after its installer's `sed`s.
const PIVPN_TEMPLATE: &str = "client
dev tun
proto udp
remote 203.0.113.10 1194
resolv-retry infinite
nobind
key-direction 1
remote-cert-tls server
tls-version-min 1.2
verify-x509-name raspberrypi_1f2e3d name
cipher AES-256-CBC
auth SHA256
auth-nocache
verb 3
";

const PIVPN_KEYS: &str = "<ca>
-----BEGIN CERTIFICATE-----
(test CA)
-----END CERTIFICATE-----
</ca>
<cert>
-----BEGIN CERTIFICATE-----
(test client certificate)
-----END CERTIFICATE-----
</cert>
<key>
-----BEGIN ENCRYPTED PRIVATE KEY-----
(test client key)
-----END ENCRYPTED PRIVATE KEY-----
</key>
<tls-auth>
-----BEGIN OpenVPN Static key V1-----
(test tls-auth key)
-----END OpenVPN Static key V1-----
</tls-auth>
";

const NYR: Layout = Layout {
    installer: "Nyr's openvpn-install",
    server: "/etc/openvpn/server/server.conf",
    server_text: NYR_SERVER,
    template: "/etc/openvpn/server/client-common.txt",
    template_text: NYR_TEMPLATE,
    profile: "/root/alice.ovpn",
    keys: NYR_KEYS,
    strips_comments: true,
};

/// Before its 2019 move to /etc/openvpn/server/.
const NYR_OLD: Layout = Layout {
    server: "/etc/openvpn/server.conf",
    template: "/etc/openvpn/client-common.txt",
    ..NYR
};

/// Before its December 2025 move to /etc/openvpn/server/.
const ANGRISTAN_OLD: Layout = Layout {
    installer: "angristan's openvpn-install",
    server: "/etc/openvpn/server.conf",
    server_text: ANGRISTAN_SERVER,
    template: "/etc/openvpn/client-template.txt",
    template_text: ANGRISTAN_TEMPLATE,
    profile: "/home/alice/alice.ovpn",
    keys: NYR_KEYS,
    strips_comments: false,
};

const ANGRISTAN: Layout = Layout {
    server: "/etc/openvpn/server/server.conf",
    template: "/etc/openvpn/server/client-template.txt",
    profile: "/root/bob.ovpn",
    ..ANGRISTAN_OLD
};

const PIVPN: Layout = Layout {
    installer: "PiVPN",
    server: "/etc/openvpn/server.conf",
    server_text: PIVPN_SERVER,
    template: "/etc/openvpn/easy-rsa/pki/Default.txt",
    template_text: PIVPN_TEMPLATE,
    profile: "/home/pi/ovpns/phone.ovpn",
    keys: PIVPN_KEYS,
    strips_comments: false,
};

const ALL: [&Layout; 5] = [&NYR, &NYR_OLD, &ANGRISTAN, &ANGRISTAN_OLD, &PIVPN];

impl Layout {
    /// A profile as the installer makes it from `template`.
    fn profile_from(&self, template: &str) -> String {
        let body: String = if self.strips_comments {
            template
                .lines()
                .filter(|l| !l.starts_with('#'))
                .map(|l| format!("{l}\n"))
                .collect()
        } else {
            template.to_string()
        };
        format!("{body}{}", self.keys)
    }
}

fn group_exists(name: &str) -> bool {
    std::fs::read_to_string("/etc/group")
        .unwrap_or_default()
        .lines()
        .any(|l| l.split(':').next() == Some(name))
}

fn sandbox(l: &Layout) -> Sandbox {
    let s = Sandbox {
        dir: tempfile::tempdir().unwrap(),
        bin: tempfile::tempdir().unwrap(),
        inputs: tempfile::tempdir().unwrap(),
    };
    std::fs::set_permissions(s.root(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // duo.toml goes to OpenVPN's group, which must exist here.
    let server = if group_exists("openvpn") {
        l.server_text.to_string()
    } else {
        l.server_text.replace("group openvpn", "group nogroup")
    };
    write(&s.path(l.server), server.as_bytes(), 0o644);
    write(&s.path(l.template), l.template_text.as_bytes(), 0o644);
    write(
        &s.path(l.profile),
        l.profile_from(l.template_text).as_bytes(),
        0o600,
    );
    for prog in ["systemctl", "openvpn", "journalctl"] {
        let bytes = std::fs::read(std::path::Path::new(ASSETS).join("bin").join(prog)).unwrap();
        write(&s.bin.path().join(prog), &bytes, 0o755);
    }
    s
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// The lines setup gives every client, each a directive on a line of its own.
fn carries_the_client_lines(what: &str, text: &str) {
    for line in [
        "auth-user-pass",
        "auth-retry interact",
        "reneg-sec 0",
        "hand-window 75",
    ] {
        assert!(
            text.lines().any(|l| l.trim() == line),
            "{what}: no `{line}` line:\n{text}"
        );
    }
}

fn setup_edits_the_template_and_uninstall_restores_it(l: &Layout) {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let s = sandbox(l);
    let before = s.tree();
    let args = s.setup_args(&mock, &[l.profile]);

    let o = s.run(&strs(&args));
    assert_eq!(o.status.code(), Some(0), "{}: {}", l.installer, text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let named = format!(
        "  {} (4 changes)\n    template of {}: profiles made from now on carry the lines\n",
        l.template, l.installer
    );
    assert!(
        out.contains(&named),
        "{}: wanted\n{named}in\n{out}",
        l.installer
    );
    let template = std::fs::read_to_string(s.path(l.template)).unwrap();
    carries_the_client_lines(l.template, &template);
    assert!(
        template.starts_with(l.template_text),
        "{}: the installer's lines come first, unchanged:\n{template}",
        l.template
    );
    carries_the_client_lines(
        l.profile,
        &std::fs::read_to_string(s.path(l.profile)).unwrap(),
    );
    // The next profile the installer makes, its way: the lines are in, and its keys still
    // begin on a line of their own.
    let next = l.profile_from(&template);
    carries_the_client_lines("a profile made now", &next);
    assert!(next.contains("\n<ca>\n"), "{next}");

    // Twice: the template is named as already carrying the lines.
    let after_first = s.tree();
    let o = s.run(&strs(&args));
    assert_eq!(o.status.code(), Some(0), "{}: {}", l.installer, text(&o));
    assert_eq!(
        s.tree(),
        after_first,
        "{}: a second run changed files",
        l.installer
    );
    let unchanged = format!(
        "  {} (template of {}: already carries the lines, unchanged)\n",
        l.template, l.installer
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&unchanged),
        "{}: wanted {unchanged}in {}",
        l.installer,
        text(&o)
    );

    let root = s.root().display().to_string();
    let o = s.run(&["status", "--root", &root, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}: {}", l.installer, text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["healthy"], true, "{}: {v}", l.installer);

    let o = s.run(&["uninstall", "--root", &root, "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}: {}", l.installer, text(&o));
    // Profiles made from the template meanwhile are not setup's to undo: uninstall says so.
    let said = format!(
        "(the template of {}: profiles made from it since setup",
        l.installer
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&said),
        "{}: wanted {said} in {}",
        l.installer,
        text(&o)
    );
    assert_eq!(
        std::fs::read_to_string(s.path(l.template)).unwrap(),
        l.template_text,
        "{}: the template is not given back",
        l.installer
    );
    assert_eq!(
        s.tree(),
        before,
        "{}: uninstall must give back exactly what was there",
        l.installer
    );
}

#[test]
fn nyrs_template_is_edited_and_restored() {
    setup_edits_the_template_and_uninstall_restores_it(&NYR);
}

#[test]
fn nyrs_template_before_2019_is_edited_and_restored() {
    setup_edits_the_template_and_uninstall_restores_it(&NYR_OLD);
}

#[test]
fn angristans_template_is_edited_and_restored() {
    setup_edits_the_template_and_uninstall_restores_it(&ANGRISTAN);
}

#[test]
fn angristans_template_before_december_2025_is_edited_and_restored() {
    setup_edits_the_template_and_uninstall_restores_it(&ANGRISTAN_OLD);
}

#[test]
fn pivpns_template_is_edited_and_restored() {
    setup_edits_the_template_and_uninstall_restores_it(&PIVPN);
}

#[test]
fn no_client_templates_leaves_each_template_byte_identical() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    for l in ALL {
        let s = sandbox(l);
        let mut args = s.setup_args(&mock, &[l.profile]);
        args.push("--no-client-templates".into());
        let o = s.run(&strs(&args));
        assert_eq!(o.status.code(), Some(0), "{}: {}", l.installer, text(&o));
        assert_eq!(
            std::fs::read(s.path(l.template)).unwrap(),
            l.template_text.as_bytes(),
            "{}: --no-client-templates edited the template",
            l.installer
        );
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(!out.contains("template of"), "{}: {out}", l.installer);
        // The profile named is still edited.
        carries_the_client_lines(
            l.profile,
            &std::fs::read_to_string(s.path(l.profile)).unwrap(),
        );
    }
}

#[test]
fn a_template_without_a_client_line_is_still_edited_as_a_client() {
    // Some administrators trim the template; the installer's profiles still work as clients,
    // and so must setup's edit of it.
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let trimmed = NYR_TEMPLATE.replace("client\n", "");
    let s = sandbox(&NYR);
    write(&s.path(NYR.template), trimmed.as_bytes(), 0o644);
    let o = s.run(&strs(&s.setup_args(&mock, &[])));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    carries_the_client_lines(
        NYR.template,
        &std::fs::read_to_string(s.path(NYR.template)).unwrap(),
    );
    // Only the template: setup says the profiles made before need the lines too.
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("profiles made before now still need"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_template_in_a_folder_another_user_can_change_is_not_preselected() {
    let mock = MockDuo::start(MockConfig::default()).unwrap();
    let s = sandbox(&PIVPN);
    let pki = s.path("/etc/openvpn/easy-rsa/pki");
    // Another user's folder: owned by uid 1000 when the test may chown, else writable by a
    // group (the test user's own, not root's).
    if unsafe { geteuid() } == 0 {
        std::os::unix::fs::chown(&pki, Some(1000), Some(1000)).unwrap();
    } else {
        std::fs::set_permissions(&pki, std::fs::Permissions::from_mode(0o775)).unwrap();
    }
    let o = s.run(&strs(&s.setup_args(&mock, &[PIVPN.profile])));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        std::fs::read(s.path(PIVPN.template)).unwrap(),
        PIVPN_TEMPLATE.as_bytes(),
        "a template another user can swap was edited without being asked for"
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!out.contains(PIVPN.template), "{out}");
    carries_the_client_lines(
        PIVPN.profile,
        &std::fs::read_to_string(s.path(PIVPN.profile)).unwrap(),
    );

    // Asked for by name, it is edited (through handles that follow no swapped-in link).
    let o = s.run(&strs(&s.setup_args(&mock, &[PIVPN.template])));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    carries_the_client_lines(
        PIVPN.template,
        &std::fs::read_to_string(s.path(PIVPN.template)).unwrap(),
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("template of PiVPN"),
        "{}",
        text(&o)
    );
}

unsafe extern "C" {
    fn geteuid() -> u32;
}
