//! systemd units through `systemctl` and `journalctl`, found on the host's PATH.

use super::host::Host;

/// The unit OpenVPN runs a config under: `/etc/openvpn/server/NAME.conf` is
/// `openvpn-server@NAME`, `/etc/openvpn/NAME.conf` is `openvpn@NAME`; anything else has none
/// we know of.
pub fn unit_for(config: &str) -> Option<String> {
    let p = std::path::Path::new(config);
    let name = p.file_name()?.to_str()?.strip_suffix(".conf")?;
    match p.parent()?.to_str()? {
        "/etc/openvpn/server" => Some(format!("openvpn-server@{name}")),
        "/etc/openvpn" => Some(format!("openvpn@{name}")),
        _ => None,
    }
}

/// `systemctl is-active UNIT`: `active`, `inactive`, `failed`, … or `unknown` without systemctl.
pub fn state(host: &Host, unit: &str) -> String {
    match host.run("systemctl", &["is-active", unit]) {
        Some(r) => {
            let s = r.stdout.trim();
            if s.is_empty() {
                "unknown".into()
            } else {
                s.to_string()
            }
        }
        None => "unknown".into(),
    }
}

/// `systemctl restart UNIT`, then its state.
pub fn restart(host: &Host, unit: &str) -> Result<String, String> {
    match host.run("systemctl", &["restart", unit]) {
        None => Err("systemctl was not found on PATH".into()),
        Some(r) if !r.success => {
            let msg = r.stderr.trim();
            Err(if msg.is_empty() {
                format!(
                    "systemctl restart {unit} failed (exit {})",
                    r.code.unwrap_or(-1)
                )
            } else {
                msg.to_string()
            })
        }
        Some(_) => {
            let s = state(host, unit);
            if s == "active" || s == "activating" || s == "reloading" {
                Ok(s)
            } else {
                Err(format!("{unit} is {s} after the restart"))
            }
        }
    }
}

/// The last `n` lines of the unit's log (`journalctl -u UNIT -n N`), for a failed restart.
pub fn last_log_lines(host: &Host, unit: &str, n: usize) -> Vec<String> {
    let n = n.to_string();
    match host.run(
        "journalctl",
        &["-u", unit, "-n", &n, "--no-pager", "-o", "cat"],
    ) {
        Some(r) => r.stdout.lines().map(str::to_string).collect(),
        None => vec!["(journalctl not found on PATH)".into()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(
            unit_for("/etc/openvpn/server/server.conf").as_deref(),
            Some("openvpn-server@server")
        );
        assert_eq!(
            unit_for("/etc/openvpn/office.conf").as_deref(),
            Some("openvpn@office")
        );
        assert_eq!(unit_for("/opt/vpn/server.conf"), None);
        assert_eq!(unit_for("/etc/openvpn/server/x.ovpn"), None);
    }
}
