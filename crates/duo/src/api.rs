//! Typed Auth API v2 responses (the `response` member of Duo's `{"stat":"OK",…}` envelope).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Time {
    pub time: i64,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PreauthResult {
    /// The user must complete a second factor.
    Auth,
    /// Bypass: let in without a second factor.
    Allow,
    /// Refused (locked out, not allowed, …).
    Deny,
    /// Not enrolled: refused, with `enroll_portal_url`.
    Enroll,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Device {
    pub device: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub number: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub capabilities: Vec<String>,
}

impl Device {
    pub fn can(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }

    /// What to show a person: the display name, else the name, else the id.
    pub fn label(&self) -> &str {
        self.display_name
            .as_deref()
            .or(self.name.as_deref())
            .filter(|s| !s.is_empty())
            .unwrap_or(&self.device)
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct PreauthResponse {
    pub result: PreauthResult,
    #[serde(default)]
    pub status_msg: String,
    #[serde(default)]
    pub devices: Vec<Device>,
    #[serde(default)]
    pub enroll_portal_url: Option<String>,
    /// With `client_supports_verified_push=1`, for a user under Verified Duo Push: handed to
    /// `/auth`, which then issues the code the user types into Duo Mobile.
    #[serde(default)]
    pub txid: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AuthResult {
    Allow,
    Deny,
    Waiting,
}

/// `/auth/v2/auth` without `async`, and every `/auth/v2/auth_status` answer.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct AuthStatus {
    pub result: AuthResult,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub status_msg: String,
}

/// `/auth/v2/auth` with `async=1`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct AuthStarted {
    pub txid: String,
}

/// What `/auth/v2/auth` may answer: a transaction to poll, or (passcodes, sms) a result at once.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum AuthAnswer {
    Started(AuthStarted),
    Done(AuthStatus),
}

/// Duo's envelope. `code` sometimes arrives as a string (Duo's Go client tolerates both).
#[derive(Debug, Clone, Deserialize)]
pub struct Envelope {
    pub stat: String,
    #[serde(default)]
    pub response: Option<serde_json::Value>,
    #[serde(default)]
    pub code: Option<serde_json::Value>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub message_detail: Option<String>,
}

impl Envelope {
    pub fn code_number(&self) -> Option<i64> {
        match &self.code {
            Some(serde_json::Value::Number(n)) => n.as_i64(),
            Some(serde_json::Value::String(s)) => s.parse().ok(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_real_preauth_sample() {
        let v: PreauthResponse = serde_json::from_str(
            r#"{"devices":[{"capabilities":["auto","push","sms","mobile_otp"],"device":"DP80Z4GVU82OT8O1BNJF",
            "display_name":"Marx iPhone 13 (XXX-XXX-4788)","name":"","number":"XXX-XXX-4788","type":"phone"},
            {"device":"DHQOEFH4Q6KMAFU7Q8V4","name":"20361492","type":"token"}],"result":"auth","status_msg":"Account is active"}"#,
        )
        .unwrap();
        assert_eq!(v.result, PreauthResult::Auth);
        assert_eq!(v.devices.len(), 2);
        assert!(v.devices[0].can("push"));
        assert!(!v.devices[1].can("push"));
        assert_eq!(v.devices[0].label(), "Marx iPhone 13 (XXX-XXX-4788)");
        assert_eq!(v.devices[1].label(), "20361492");
    }

    #[test]
    fn auth_answer_is_either_txid_or_result() {
        let a: AuthAnswer = serde_json::from_str(r#"{"txid":"abc"}"#).unwrap();
        assert_eq!(a, AuthAnswer::Started(AuthStarted { txid: "abc".into() }));
        let b: AuthAnswer = serde_json::from_str(
            r#"{"result":"deny","status":"sent","status_msg":"New SMS passcodes sent"}"#,
        )
        .unwrap();
        assert!(matches!(
            b,
            AuthAnswer::Done(AuthStatus {
                result: AuthResult::Deny,
                ..
            })
        ));
    }

    #[test]
    fn envelope_code_as_number_or_string() {
        let e: Envelope =
            serde_json::from_str(r#"{"stat":"FAIL","code":"40103","message":"Invalid signature"}"#)
                .unwrap();
        assert_eq!(e.code_number(), Some(40103));
        let e: Envelope =
            serde_json::from_str(r#"{"stat":"FAIL","code":40103,"message":"x"}"#).unwrap();
        assert_eq!(e.code_number(), Some(40103));
    }
}
