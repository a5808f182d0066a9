//! What a VPN user types in the password field, and how it maps onto `/auth/v2/auth`.
//!
//! - empty or `auto`: a push (or call) to the default device;
//! - `push`, `phone`, `sms`, optionally followed by N (`push2`: the 2nd device that can push);
//! - anything else: a passcode.

use std::fmt;

use base64::Engine as _;

use crate::api::Device;

#[derive(Clone, PartialEq, Eq)]
pub enum Factor {
    Auto,
    Push(Option<u32>),
    Phone(Option<u32>),
    Sms(Option<u32>),
    Passcode(String),
}

impl fmt::Debug for Factor {
    // A passcode is a secret: it never reaches a log through `{:?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Factor::Passcode(_) => f.write_str("Passcode(<redacted>)"),
            other => f.write_str(&other.describe()),
        }
    }
}

impl Factor {
    pub fn parse(input: &str) -> Factor {
        let s = input.trim();
        if s.is_empty() || s.eq_ignore_ascii_case("auto") {
            return Factor::Auto;
        }
        let lower = s.to_ascii_lowercase();
        for (word, make) in [
            ("push", Factor::Push as fn(Option<u32>) -> Factor),
            ("phone", Factor::Phone),
            ("sms", Factor::Sms),
        ] {
            if let Some(rest) = lower.strip_prefix(word) {
                if rest.is_empty() {
                    return make(None);
                }
                if let Ok(n) = rest.parse::<u32>() {
                    if n >= 1 {
                        return make(Some(n));
                    }
                }
            }
        }
        Factor::Passcode(s.to_string())
    }

    /// Duo's factor name.
    pub fn name(&self) -> &'static str {
        match self {
            Factor::Auto => "auto",
            Factor::Push(_) => "push",
            Factor::Phone(_) => "phone",
            Factor::Sms(_) => "sms",
            Factor::Passcode(_) => "passcode",
        }
    }

    /// For logs and screens: never the passcode itself.
    pub fn describe(&self) -> String {
        match self {
            Factor::Push(Some(n)) | Factor::Phone(Some(n)) | Factor::Sms(Some(n)) => {
                format!("{}{n}", self.name())
            }
            _ => self.name().to_string(),
        }
    }

    /// The device this factor goes to: `auto`, or the id of the Nth device with the capability.
    pub fn device<'a>(&self, devices: &'a [Device]) -> Result<Option<&'a Device>, String> {
        let n = match self {
            Factor::Push(Some(n)) | Factor::Phone(Some(n)) | Factor::Sms(Some(n)) => *n as usize,
            _ => return Ok(None),
        };
        let capable: Vec<&Device> = devices.iter().filter(|d| d.can(self.name())).collect();
        capable.get(n - 1).copied().map(Some).ok_or_else(|| {
            format!(
                "{} asks for device {n}, but only {} device(s) can {}",
                self.describe(),
                capable.len(),
                self.name()
            )
        })
    }

    /// The `/auth/v2/auth` parameters for this factor (without username, ipaddr, async).
    pub fn auth_params(&self, devices: &[Device]) -> Result<Vec<(&'static str, String)>, String> {
        Ok(match self {
            Factor::Passcode(code) => {
                vec![("factor", "passcode".into()), ("passcode", code.clone())]
            }
            Factor::Auto => vec![("factor", "auto".into()), ("device", "auto".into())],
            other => {
                let device = other
                    .device(devices)?
                    .map(|d| d.device.clone())
                    .unwrap_or_else(|| "auto".into());
                vec![("factor", other.name().into()), ("device", device)]
            }
        })
    }
}

/// The static-challenge password `SCRV1:<base64 password>:<base64 response>`.
pub struct StaticChallenge {
    pub password: String,
    pub response: String,
}

impl fmt::Debug for StaticChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaticChallenge(<redacted>)")
    }
}

impl StaticChallenge {
    /// `None` when `password` is not in the SCRV1 form; `Err` when it is but does not decode.
    pub fn parse(password: &str) -> Option<Result<StaticChallenge, String>> {
        let rest = password.strip_prefix("SCRV1:")?;
        let decode = |part: &str| -> Result<String, String> {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(part)
                .map_err(|_| "static-challenge password is not valid base64".to_string())?;
            String::from_utf8(bytes)
                .map_err(|_| "static-challenge password is not UTF-8".to_string())
        };
        Some((|| {
            let (pw, resp) = rest
                .split_once(':')
                .ok_or("static-challenge password lacks the response part")?;
            Ok(StaticChallenge {
                password: decode(pw)?,
                response: decode(resp)?,
            })
        })())
    }
}

/// The answer to a CR_TEXT prompt (`crresponse`, base64 as the client sent it): the same
/// grammar as the password field; nothing typed is an automatic push. The error never
/// carries the answer.
pub fn from_cr_response(b64: &[u8]) -> Result<Factor, String> {
    let b64 = b64.trim_ascii();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| "the answer to the Duo prompt is not valid base64".to_string())?;
    let text = String::from_utf8(bytes)
        .map_err(|_| "the answer to the Duo prompt is not UTF-8".to_string())?;
    Ok(Factor::parse(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cr_responses() {
        assert_eq!(from_cr_response(b"").unwrap(), Factor::Auto);
        assert_eq!(from_cr_response(b"cHVzaA==").unwrap(), Factor::Push(None));
        assert_eq!(
            from_cr_response(b"cGhvbmUy").unwrap(),
            Factor::Phone(Some(2))
        );
        assert_eq!(
            from_cr_response(b"MTIzNDU2").unwrap(),
            Factor::Passcode("123456".into())
        );
        assert_eq!(
            from_cr_response(b"cHVzaA==\r\n").unwrap(),
            Factor::Push(None)
        );
        assert_eq!(from_cr_response(b"ICA=").unwrap(), Factor::Auto);
        let e = from_cr_response(b"%%%").unwrap_err();
        assert!(!e.contains("%%%"), "{e}");
        assert!(from_cr_response(b"/w==").is_err());
    }

    fn dev(id: &str, caps: &[&str]) -> Device {
        Device {
            device: id.into(),
            kind: "phone".into(),
            name: None,
            number: None,
            display_name: None,
            capabilities: caps.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn grammar() {
        assert_eq!(Factor::parse(""), Factor::Auto);
        assert_eq!(Factor::parse("  "), Factor::Auto);
        assert_eq!(Factor::parse("AUTO"), Factor::Auto);
        assert_eq!(Factor::parse("push"), Factor::Push(None));
        assert_eq!(Factor::parse("Push2"), Factor::Push(Some(2)));
        assert_eq!(Factor::parse("phone1"), Factor::Phone(Some(1)));
        assert_eq!(Factor::parse("sms"), Factor::Sms(None));
        assert_eq!(Factor::parse("123456"), Factor::Passcode("123456".into()));
        assert_eq!(Factor::parse("push0"), Factor::Passcode("push0".into()));
        assert_eq!(Factor::parse("pushy"), Factor::Passcode("pushy".into()));
    }

    #[test]
    fn passcodes_are_never_printed() {
        let f = Factor::parse("987654");
        assert!(!format!("{f:?}").contains("987654"));
        assert!(!f.describe().contains("987654"));
    }

    #[test]
    fn nth_device_with_the_capability() {
        let devices = [
            dev("D1", &["push", "sms"]),
            dev("T1", &[]),
            dev("D2", &["push", "phone"]),
        ];
        let p = Factor::parse("push2").auth_params(&devices).unwrap();
        assert_eq!(
            p,
            vec![("factor", "push".to_string()), ("device", "D2".to_string())]
        );
        let p = Factor::parse("phone1").auth_params(&devices).unwrap();
        assert_eq!(p[1].1, "D2");
        assert!(
            Factor::parse("sms2")
                .auth_params(&devices)
                .unwrap_err()
                .contains("only 1 device")
        );
        assert_eq!(
            Factor::parse("push").auth_params(&devices).unwrap()[1].1,
            "auto"
        );
        assert_eq!(
            Factor::parse("").auth_params(&devices).unwrap()[0].1,
            "auto"
        );
    }

    #[test]
    fn static_challenge() {
        let sc = StaticChallenge::parse("SCRV1:aHVudGVyMg==:cHVzaA==")
            .unwrap()
            .unwrap();
        assert_eq!(sc.password, "hunter2");
        assert_eq!(sc.response, "push");
        let sc = StaticChallenge::parse("SCRV1::").unwrap().unwrap();
        assert_eq!((sc.password.as_str(), sc.response.as_str()), ("", ""));
        assert!(StaticChallenge::parse("push").is_none());
        assert!(StaticChallenge::parse("SCRV1:%%%:x").unwrap().is_err());
        assert!(StaticChallenge::parse("SCRV1:abc").unwrap().is_err());
    }
}
