//! A client that behaves like OpenVPN GUI towards a 2.6 server: it announces `crtext`
//! (`setenv IV_SSO crtext`, `push-peer-info`), types its user name and password through the
//! management interface, and answers the server's `>INFOMSG:CR_TEXT:<flags>:<text>` with
//! `cr-response <base64 answer>` — or, to play a user who walks away, never answers.
//!
//! [`Crv1Client`] plays a client answering a dynamic challenge (Verified Duo Push): with
//! `auth-retry interact`, the refusal `>PASSWORD:Verification Failed: 'Auth' ['CRV1:…']` is
//! followed by a new `>PASSWORD:Need 'Auth' username/password`, answered as OpenVPN GUI does
//! with the challenge's user name and `CRV1::<state id>::<answer>`.

use std::io;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use base64::Engine as _;

use crate::client::{Client, ClientOptions, Outcome, converse};
use crate::server::quote;

/// A running CR_TEXT client: the [`Client`] and the prompts it was shown.
pub struct CrTextClient {
    pub client: Client,
    prompts: Arc<Mutex<Vec<String>>>,
}

impl CrTextClient {
    /// `options`' client announcing `crtext`; each CR_TEXT prompt is answered with `answer`
    /// (`None`: never answered).
    pub fn start(options: ClientOptions, answer: Option<&str>) -> io::Result<CrTextClient> {
        let mut options = options;
        options.extra.push("setenv IV_SSO crtext".into());
        options.extra.push("push-peer-info".into());
        let (user, password) = (options.username.clone(), options.password.clone());
        let answer = answer.map(|a| base64::engine::general_purpose::STANDARD.encode(a));
        let prompts = Arc::new(Mutex::new(Vec::new()));
        let seen = prompts.clone();
        let client = options.start_with(move |port, stop: Arc<AtomicBool>| {
            converse(port, &stop, |line| {
                if line.starts_with(">HOLD:") {
                    Some("hold release\n".to_string())
                } else if line.starts_with(">PASSWORD:Need 'Auth'") {
                    Some(format!(
                        "username \"Auth\" {}\npassword \"Auth\" {}\n",
                        quote(&user),
                        quote(&password)
                    ))
                } else if let Some(prompt) = line.strip_prefix(">INFOMSG:") {
                    if !prompt.starts_with("CR_TEXT:") {
                        return None;
                    }
                    seen.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(prompt.to_string());
                    // Quoted: an empty answer is `cr-response ""`, as the GUI sends it.
                    answer
                        .as_ref()
                        .map(|a| format!("cr-response {}\n", quote(a)))
                } else {
                    None
                }
            })
        })?;
        Ok(CrTextClient { client, prompts })
    }

    /// The CR_TEXT messages received so far (`CR_TEXT:R,E:…`).
    pub fn prompts(&self) -> Vec<String> {
        self.prompts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// A running client that answers one CRV1 challenge: the [`Client`] and the challenges seen.
pub struct Crv1Client {
    pub client: Client,
    challenges: Arc<Mutex<Vec<String>>>,
}

/// `CRV1:<flags>:<state id>:<base64 user>:<text>` split into (state id, user name).
fn challenge_fields(challenge: &str) -> Option<(String, String)> {
    let mut parts = challenge.strip_prefix("CRV1:")?.splitn(4, ':');
    let (_flags, id, user) = (parts.next()?, parts.next()?, parts.next()?);
    parts.next()?;
    let user = base64::engine::general_purpose::STANDARD
        .decode(user)
        .ok()?;
    Some((id.to_string(), String::from_utf8(user).ok()?))
}

impl Crv1Client {
    /// `options`' client with `auth-retry interact`. It types its user name and password once;
    /// a CRV1 challenge is answered once, with an empty answer and the challenge's state id,
    /// or `forged_id` instead when given; after that it types nothing more.
    pub fn start(options: ClientOptions, forged_id: Option<&str>) -> io::Result<Crv1Client> {
        Crv1Client::start_as(options, forged_id, false)
    }

    /// [`Crv1Client::start`] for a client that also announces `crtext`, as OpenVPN GUI does,
    /// and answers a CR_TEXT prompt by pressing Enter (an empty answer: a push).
    pub fn start_crtext(options: ClientOptions) -> io::Result<Crv1Client> {
        Crv1Client::start_as(options, None, true)
    }

    fn start_as(
        options: ClientOptions,
        forged_id: Option<&str>,
        crtext: bool,
    ) -> io::Result<Crv1Client> {
        let mut options = options;
        options.extra.push("auth-retry interact".into());
        if crtext {
            options.extra.push("setenv IV_SSO crtext".into());
            options.extra.push("push-peer-info".into());
        }
        let (user, password) = (options.username.clone(), options.password.clone());
        let forged = forged_id.map(str::to_string);
        let challenges = Arc::new(Mutex::new(Vec::new()));
        let seen = challenges.clone();
        let client = options.start_with(move |port, stop: Arc<AtomicBool>| {
            let mut typed = false;
            let mut pending: Option<(String, String)> = None;
            converse(port, &stop, |line| {
                if line.starts_with(">HOLD:") {
                    return Some("hold release\n".to_string());
                }
                if crtext && line.starts_with(">INFOMSG:CR_TEXT:") {
                    return Some("cr-response \"\"\n".to_string());
                }
                if let Some(rest) = line.strip_prefix(">PASSWORD:Verification Failed: 'Auth' ['") {
                    let challenge = rest.strip_suffix("']").unwrap_or(rest);
                    if let Some(fields) = challenge_fields(challenge) {
                        seen.lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(challenge.to_string());
                        if seen.lock().map(|v| v.len()).unwrap_or(0) == 1 {
                            pending = Some(fields);
                        }
                    }
                    return None;
                }
                if !line.starts_with(">PASSWORD:Need 'Auth'") {
                    return None;
                }
                if let Some((id, challenge_user)) = pending.take() {
                    let id = forged.clone().unwrap_or(id);
                    return Some(format!(
                        "username \"Auth\" {}\npassword \"Auth\" {}\n",
                        quote(&challenge_user),
                        quote(&format!("CRV1::{id}::"))
                    ));
                }
                if typed {
                    return None;
                }
                typed = true;
                Some(format!(
                    "username \"Auth\" {}\npassword \"Auth\" {}\n",
                    quote(&user),
                    quote(&password)
                ))
            })
        })?;
        Ok(Crv1Client { client, challenges })
    }

    /// The CRV1 challenges received so far (`CRV1:R,E:…`).
    pub fn challenges(&self) -> Vec<String> {
        self.challenges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// How the login ended after the challenge: connected, or the first refusal that is not a
    /// challenge itself.
    pub fn wait_outcome(&mut self, timeout: std::time::Duration) -> Outcome {
        let end = std::time::Instant::now() + timeout;
        loop {
            let text = self.client.log_text();
            if let Some(line) = text
                .lines()
                .find(|l| l.contains("AUTH_FAILED") && !l.contains("AUTH_FAILED,CRV1:"))
            {
                return Outcome::AuthFailed(line.to_string());
            }
            if text.contains("Initialization Sequence Completed") {
                return Outcome::Connected;
            }
            if !self.client.is_running() {
                return Outcome::Exited(crate::tail(&self.client.log, 20));
            }
            if std::time::Instant::now() >= end {
                return Outcome::TimedOut(crate::tail(&self.client.log, 20));
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn challenge_fields() {
        assert_eq!(
            super::challenge_fields("CRV1:R,E:abc123:dmljdG9y:Duo: enter 376, then Enter"),
            Some(("abc123".into(), "victor".into()))
        );
        assert_eq!(super::challenge_fields("CRV1:R,E:abc123:dmljdG9y"), None);
        assert_eq!(super::challenge_fields("Duo push denied"), None);
    }
}
