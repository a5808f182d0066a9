//! The cast: who the stand-in knows and how each of them behaves.
//!
//! | user            | preauth  | a push or call …                        |
//! |-----------------|----------|-----------------------------------------|
//! | `alice`         | `auth`   | is approved after the push delay        |
//! | `bob`           | `auth`   | is denied after the push delay          |
//! | `carol`         | `enroll` | (not enrolled; `enroll_portal_url`)     |
//! | `dave`          | `allow`  | (bypass)                                |
//! | `eve`           | `deny`   | (locked out)                            |
//! | `frank`         | `auth`   | is never answered (`timeout` after 60 s)|
//! | `grace`         | `auth`   | has no device: only passcodes work      |
//! | `victor`        | `auth`   | Verified Duo Push: a code, then approved|
//! | `vince`         | `auth`   | Verified Duo Push: a code, then denied  |
//! | `jürgen`, `alice smith`, `user1`…`user99999` | like `alice` |     |
//! | anyone else     | `enroll` |                                         |
//!
//! Every user in the `auth` state accepts each of [`PASSCODES`] once.
//!
//! Verified Duo Push (`victor`, `vince`): preauth with `client_supports_verified_push=1` answers
//! a `txid`, and a push or `auto` to `/auth` needs it (400 `txid` otherwise: what real Duo does
//! for a client that did not declare support is not known). The transaction first waits with
//! "Please enter verification code NNN into Duo Mobile..." (three random digits, kept for the
//! tests: `MockDuo::verification_codes`), then after the push delay allows or denies.

use serde_json::{Value, json};

pub const APPROVES: &str = "alice";
pub const DENIES: &str = "bob";
pub const ENROLL: &str = "carol";
pub const BYPASS: &str = "dave";
pub const LOCKED_OUT: &str = "eve";
pub const NEVER_ANSWERS: &str = "frank";
pub const NO_DEVICES: &str = "grace";
pub const NON_ASCII: &str = "jürgen";
pub const WITH_SPACE: &str = "alice smith";
pub const VERIFIED_APPROVES: &str = "victor";
pub const VERIFIED_DENIES: &str = "vince";

/// One-time passcodes: each is accepted once per running stand-in, for any user in `auth` state.
pub const PASSCODES: &[&str] = &[
    "123456", "234567", "345678", "456789", "567890", "678901", "789012", "890123", "901234",
    "111111", "222222", "333333", "444444", "555555", "666666", "777777", "888888", "999999",
];

/// `user1` … `user99999` approve like `alice` (for load tests).
pub fn is_numbered_approver(name: &str) -> bool {
    name.strip_prefix("user").is_some_and(|n| {
        !n.is_empty()
            && !n.starts_with('0')
            && n.len() <= 5
            && n.bytes().all(|b| b.is_ascii_digit())
    })
}

/// How a user answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Approves,
    Denies,
    NeverAnswers,
    NoDevices,
    Enroll,
    Bypass,
    LockedOut,
    /// Verified Duo Push, then approved or denied.
    VerifiedApproves,
    VerifiedDenies,
}

impl Kind {
    pub fn verified_push(self) -> bool {
        matches!(self, Kind::VerifiedApproves | Kind::VerifiedDenies)
    }
}

pub(crate) fn kind(name: &str) -> Kind {
    match name {
        APPROVES | NON_ASCII | WITH_SPACE => Kind::Approves,
        n if is_numbered_approver(n) => Kind::Approves,
        DENIES => Kind::Denies,
        NEVER_ANSWERS => Kind::NeverAnswers,
        NO_DEVICES => Kind::NoDevices,
        BYPASS => Kind::Bypass,
        LOCKED_OUT => Kind::LockedOut,
        VERIFIED_APPROVES => Kind::VerifiedApproves,
        VERIFIED_DENIES => Kind::VerifiedDenies,
        _ => Kind::Enroll,
    }
}

/// One enrolled device as preauth lists it.
#[derive(Debug, Clone)]
pub(crate) struct Device {
    pub id: String,
    pub kind: &'static str,
    pub name: &'static str,
    pub number: String,
    pub display_name: String,
    pub capabilities: &'static [&'static str],
}

impl Device {
    pub fn can(&self, capability: &str) -> bool {
        self.capabilities.contains(&capability)
    }

    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "device": self.id,
            "type": self.kind,
            "name": self.name,
        });
        if self.kind == "phone" {
            v["number"] = json!(self.number);
            v["display_name"] = json!(self.display_name);
            v["capabilities"] = json!(self.capabilities);
        }
        v
    }
}

/// A user's devices: a phone that does everything, a tablet that only pushes, a hardware token.
pub(crate) fn devices(name: &str) -> Vec<Device> {
    match kind(name) {
        Kind::Approves
        | Kind::Denies
        | Kind::NeverAnswers
        | Kind::VerifiedApproves
        | Kind::VerifiedDenies => {}
        _ => return Vec::new(),
    }
    let tag = id_tag(name);
    let last4 = format!(
        "{:04}",
        u64::from_str_radix(&tag[..8], 16).unwrap_or(0) % 10_000
    );
    vec![
        Device {
            id: format!("DP{tag}01"),
            kind: "phone",
            name: "iPhone",
            number: format!("XXX-XXX-{last4}"),
            display_name: format!("iOS (XXX-XXX-{last4})"),
            capabilities: &["auto", "push", "sms", "phone", "mobile_otp"],
        },
        Device {
            id: format!("DP{tag}02"),
            kind: "phone",
            name: "Tablet",
            number: String::new(),
            display_name: "Tablet".into(),
            capabilities: &["auto", "push"],
        },
        Device {
            id: format!("DH{tag}03"),
            kind: "token",
            name: "20361492",
            number: String::new(),
            display_name: String::new(),
            capabilities: &[],
        },
    ]
}

/// 16 upper-case hex characters derived from the name (FNV-1a), so device ids are 20 long
/// and differ between users.
pub(crate) fn id_tag(name: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016X}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_approvers() {
        assert!(is_numbered_approver("user1"));
        assert!(is_numbered_approver("user99999"));
        assert!(!is_numbered_approver("user0"));
        assert!(!is_numbered_approver("user01"));
        assert!(!is_numbered_approver("user100000"));
        assert!(!is_numbered_approver("user"));
        assert!(!is_numbered_approver("user1a"));
        assert_eq!(kind("user42"), Kind::Approves);
        assert_eq!(kind("mallory"), Kind::Enroll);
    }

    #[test]
    fn devices_look_like_duo() {
        let d = devices(APPROVES);
        assert_eq!(d.len(), 3);
        assert!(d.iter().all(|d| d.id.len() == 20));
        assert_ne!(devices(APPROVES)[0].id, devices(DENIES)[0].id);
        assert!(d[0].can("push") && d[0].can("sms") && d[0].can("phone"));
        assert!(d[1].can("push") && !d[1].can("phone"));
        assert!(d[2].to_json().get("capabilities").is_none());
        assert!(devices(NO_DEVICES).is_empty());
        assert_eq!(devices(NON_ASCII).len(), 3);
    }
}
