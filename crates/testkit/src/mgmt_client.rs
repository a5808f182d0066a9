//! A client that behaves like OpenVPN GUI towards a 2.6 server: it announces `crtext`
//! (`setenv IV_SSO crtext`, `push-peer-info`), types its user name and password through the
//! management interface, and answers the server's `>INFOMSG:CR_TEXT:<flags>:<text>` with
//! `cr-response <base64 answer>` — or, to play a user who walks away, never answers.

use std::io;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use base64::Engine as _;

use crate::client::{Client, ClientOptions, converse};
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
