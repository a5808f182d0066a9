//! What the integration tests share: finding python3.

use std::process::Command;

/// `true` when python3 runs. Without it the test fails with a clear message, unless
/// `DUO_OPENVPN_SKIP_PYTHON=1` asks to skip (then `false`).
pub fn python3_available(test: &str) -> bool {
    if std::env::var("DUO_OPENVPN_SKIP_PYTHON").as_deref() == Ok("1") {
        eprintln!("{test}: skipped (DUO_OPENVPN_SKIP_PYTHON=1)");
        return false;
    }
    match Command::new("python3").arg("--version").output() {
        Ok(o) if o.status.success() => true,
        Ok(o) => panic!(
            "{test}: `python3 --version` failed ({}): {}\nThis test runs Python (Access Server's \
             post-auth script and a fake sacli). Install python3, or set \
             DUO_OPENVPN_SKIP_PYTHON=1 to skip it.",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!(
            "{test}: python3 was not found on PATH ({e}).\nThis test runs Python (Access \
             Server's post-auth script and a fake sacli). Install python3, or set \
             DUO_OPENVPN_SKIP_PYTHON=1 to skip it."
        ),
    }
}
