//! The Auth API v2 endpoints: what each answers, for each user of the cast.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::params::{Params, one};
use crate::state::State;
use crate::transactions::Status;
use crate::users::{self, Kind};

/// An answer before it becomes HTTP: status, JSON body, optional `Retry-After`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Value,
    pub retry_after: Option<u32>,
}

impl Reply {
    pub fn ok(response: Value) -> Reply {
        Reply {
            status: 200,
            body: json!({"stat": "OK", "response": response}),
            retry_after: None,
        }
    }

    pub fn fail(status: u16, code: u32, message: &str, detail: Option<String>) -> Reply {
        let mut body = json!({"stat": "FAIL", "code": code, "message": message});
        if let Some(d) = detail {
            body["message_detail"] = json!(d);
        }
        Reply {
            status,
            body,
            retry_after: None,
        }
    }

    /// 400 40002, naming the offending parameter.
    pub fn bad(param: &str) -> Reply {
        Reply::fail(
            400,
            40002,
            "Invalid request parameters",
            Some(param.to_string()),
        )
    }
}

const SUCCESS: &str = "Success. Logging you in...";
const PUSHED: &str = "Pushed a login request to your device...";
const DENIED: &str = "Login request denied.";
const TIMED_OUT: &str = "Login timed out.";

pub(crate) fn time(state: &State) -> Reply {
    Reply::ok(json!({"time": state.now()}))
}

fn user(params: &Params) -> Result<&str, Reply> {
    let username = one(params, "username").map_err(|k| Reply::bad(&k))?;
    let user_id = one(params, "user_id").map_err(|k| Reply::bad(&k))?;
    match (username, user_id) {
        (Some(u), None) | (None, Some(u)) if !u.is_empty() => Ok(u),
        (Some(_), Some(_)) => Err(Reply::bad("username and user_id are exclusive")),
        _ => Err(Reply::bad("username")),
    }
}

pub(crate) fn preauth(state: &State, params: &Params) -> Reply {
    let name = match user(params) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let supports_verified = match one(params, "client_supports_verified_push") {
        Ok(v) => v == Some("1"),
        Err(k) => return Reply::bad(&k),
    };
    Reply::ok(match users::kind(name) {
        k @ (Kind::Approves
        | Kind::Denies
        | Kind::NeverAnswers
        | Kind::NoDevices
        | Kind::VerifiedApproves
        | Kind::VerifiedDenies) => {
            let mut v = json!({
                "result": "auth",
                "status_msg": "Account is active",
                "devices": users::devices(name).iter().map(|d| d.to_json()).collect::<Vec<_>>(),
            });
            if k.verified_push() && supports_verified {
                v["txid"] = json!(state.verified_preauth(name));
            }
            v
        }
        Kind::Enroll => json!({
            "result": "enroll",
            "status_msg": "Enroll an authentication device to proceed",
            "enroll_portal_url": format!(
                "https://{}/portal?code={}&akey=DAMOCK00000000000000",
                state.host,
                users::id_tag(name).to_ascii_lowercase()
            ),
        }),
        Kind::Bypass => json!({"result": "allow", "status_msg": "Allowing bypass user"}),
        Kind::LockedOut => json!({
            "result": "deny",
            "status_msg": "Your account is locked out. Contact your administrator.",
        }),
    })
}

/// Where a transaction starts and the (delay, status) steps it then takes.
type Plan = (Status, Vec<(Duration, Status)>);

pub(crate) async fn auth(state: &State, params: &Params) -> Reply {
    let plan = match plan(state, params) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let asynchronous = match one(params, "async") {
        Ok(None | Some("0")) => false,
        Ok(Some("1")) => true,
        _ => return Reply::bad("async"),
    };
    let (initial, script) = plan;
    if !asynchronous && script.is_empty() {
        return Reply::ok(initial.as_sync().to_json());
    }
    let (txid, txn) = state.txns.start(initial, script);
    if asynchronous {
        Reply::ok(json!({"txid": txid}))
    } else {
        Reply::ok(txn.finished().await.as_sync().to_json())
    }
}

fn plan(state: &State, params: &Params) -> Result<Plan, Reply> {
    let name = user(params)?;
    let factor = one(params, "factor")
        .map_err(|k| Reply::bad(&k))?
        .ok_or_else(|| Reply::bad("factor"))?;
    let kind = users::kind(name);
    match kind {
        Kind::Enroll => return Err(Reply::bad("username")),
        Kind::Bypass => {
            return Ok((
                Status::new("allow", "bypass", "Allowing bypass user"),
                vec![],
            ));
        }
        Kind::LockedOut => {
            return Ok((
                Status::new("deny", "locked_out", "Your account is locked out."),
                vec![],
            ));
        }
        _ => {}
    }
    if factor == "passcode" {
        let code = one(params, "passcode")
            .map_err(|k| Reply::bad(&k))?
            .ok_or_else(|| Reply::bad("passcode"))?;
        let status = if state.consume_passcode(code) {
            Status::new("allow", "allow", SUCCESS)
        } else {
            Status::new("deny", "deny", "Incorrect passcode. Please try again.")
        };
        return Ok((status, vec![]));
    }
    let wanted: &[&str] = match factor {
        "auto" => &["push", "phone"],
        "push" => &["push"],
        "phone" => &["phone"],
        "sms" => &["sms"],
        _ => return Err(Reply::bad("factor")),
    };
    let device = one(params, "device")
        .map_err(|k| Reply::bad(&k))?
        .unwrap_or("auto");
    let devices = users::devices(name);
    let (dev, how) = devices
        .iter()
        .filter(|d| device == "auto" || d.id == device)
        .find_map(|d| wanted.iter().find(|c| d.can(c)).map(|c| (d, *c)))
        .ok_or_else(|| Reply::bad("device"))?;
    let delay = state.push_delay();
    if kind.verified_push() && how == "push" {
        let txid = one(params, "txid").map_err(|k| Reply::bad(&k))?;
        if !txid.is_some_and(|t| state.take_verified_preauth(t, name)) {
            return Err(Reply::bad("txid"));
        }
        let code = state.issue_code(name);
        let end = match kind {
            Kind::VerifiedDenies => Status::new("deny", "deny", DENIED),
            _ => Status::new("allow", "allow", SUCCESS),
        };
        return Ok((
            Status::new(
                "waiting",
                "pushed",
                format!("Please enter verification code {code} into Duo Mobile..."),
            ),
            vec![(delay, end)],
        ));
    }
    let outcome = match kind {
        Kind::Denies | Kind::VerifiedDenies => (delay, Status::new("deny", "deny", DENIED)),
        Kind::NeverAnswers => (
            state.push_timeout(),
            Status::new("waiting", "timeout", TIMED_OUT),
        ),
        _ => (delay, Status::new("allow", "allow", SUCCESS)),
    };
    Ok(match how {
        "sms" => (
            Status::new("deny", "sent", "New SMS passcodes sent"),
            vec![],
        ),
        "phone" => (
            Status::new("waiting", "calling", format!("Calling {}...", dev.number)),
            vec![
                (
                    outcome.0 / 2,
                    Status::new("waiting", "answered", "Answered. Press any key to log in."),
                ),
                (outcome.0 - outcome.0 / 2, outcome.1),
            ],
        ),
        _ => (Status::new("waiting", "pushed", PUSHED), vec![outcome]),
    })
}

pub(crate) async fn auth_status(state: &State, params: &Params) -> Reply {
    let txid = match one(params, "txid") {
        Ok(Some(t)) => t,
        _ => return Reply::bad("txid"),
    };
    let Some(txn) = state.txns.get(txid) else {
        return Reply::bad("txid");
    };
    let _held = Held::new(&state.held);
    Reply::ok(txn.poll(state.hold()).await.to_json())
}

/// Counts a request while it is held, even when its client goes away mid-poll.
struct Held<'a>(&'a AtomicUsize);

impl<'a> Held<'a> {
    fn new(n: &'a AtomicUsize) -> Held<'a> {
        n.fetch_add(1, Ordering::Relaxed);
        Held(n)
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MockConfig;
    use crate::params::form;

    fn state() -> State {
        State::new(
            &MockConfig {
                push_delay: Duration::from_millis(10),
                ..MockConfig::default()
            },
            "localhost:1".into(),
        )
    }

    fn response(r: &Reply) -> &Value {
        assert_eq!(r.status, 200, "{r:?}");
        &r.body["response"]
    }

    #[test]
    fn preauth_for_the_cast() {
        let s = state();
        let r = preauth(&s, &form("username=alice").unwrap());
        assert_eq!(response(&r)["result"], "auth");
        assert_eq!(response(&r)["devices"].as_array().unwrap().len(), 3);
        let r = preauth(&s, &form("username=carol").unwrap());
        assert_eq!(response(&r)["result"], "enroll");
        assert!(
            response(&r)["enroll_portal_url"]
                .as_str()
                .unwrap()
                .starts_with("https://localhost:1/portal?code=")
        );
        for (u, want) in [("dave", "allow"), ("eve", "deny"), ("grace", "auth")] {
            let r = preauth(&s, &form(&format!("username={u}")).unwrap());
            assert_eq!(response(&r)["result"], want, "{u}");
            assert!(response(&r)["status_msg"].is_string());
        }
        let r = preauth(&s, &form("ipaddr=1.2.3.4").unwrap());
        assert_eq!((r.status, &r.body["code"]), (400, &json!(40002)));
        assert_eq!(
            preauth(&s, &form("username=a&user_id=b").unwrap()).status,
            400
        );
    }

    #[tokio::test]
    async fn passcodes_once_sms_and_bad_devices() {
        let s = state();
        let p = form("username=alice&factor=passcode&passcode=123456").unwrap();
        assert_eq!(response(&auth(&s, &p).await)["result"], "allow");
        let again = auth(&s, &p).await;
        assert_eq!(response(&again)["result"], "deny");
        assert_eq!(
            response(&again)["status_msg"],
            "Incorrect passcode. Please try again."
        );
        let r = auth(&s, &form("username=alice&factor=sms&device=auto").unwrap()).await;
        assert_eq!(response(&r)["status"], "sent");
        for bad in [
            "username=alice&factor=push&device=DPNOPE",
            "username=alice&factor=bogus",
            "username=alice",
            "username=grace&factor=push",
            "username=carol&factor=push",
            "username=alice&factor=push&async=yes",
            "username=alice&factor=passcode",
        ] {
            assert_eq!(auth(&s, &form(bad).unwrap()).await.status, 400, "{bad}");
        }
        // The tablet cannot take a phone call.
        let tablet = &users::devices("alice")[1].id;
        let r = auth(
            &s,
            &form(&format!("username=alice&factor=phone&device={tablet}")).unwrap(),
        )
        .await;
        assert_eq!(r.status, 400);
    }

    #[tokio::test]
    async fn synchronous_and_asynchronous_pushes() {
        let s = state();
        let r = auth(&s, &form("username=bob&factor=push").unwrap()).await;
        assert_eq!(response(&r)["result"], "deny");
        let r = auth(&s, &form("username=alice&factor=auto&async=1").unwrap()).await;
        let txid = response(&r)["txid"].as_str().unwrap().to_string();
        let poll = form(&format!("txid={txid}")).unwrap();
        let first = auth_status(&s, &poll).await;
        assert_eq!(response(&first)["status"], "pushed");
        let second = auth_status(&s, &poll).await;
        assert_eq!(response(&second)["result"], "allow");
        assert_eq!(
            auth_status(&s, &form("txid=nope").unwrap()).await.status,
            400
        );
        let r = auth(
            &s,
            &form("username=alice&factor=phone&device=auto").unwrap(),
        )
        .await;
        assert_eq!(response(&r)["result"], "allow");
        let r = auth(&s, &form("username=eve&factor=push").unwrap()).await;
        assert_eq!(response(&r)["status"], "locked_out");
    }

    #[tokio::test]
    async fn verified_push_issues_a_code_for_the_preauths_txid() {
        let s = state();
        // No txid unless the client says it can show a code.
        let r = preauth(&s, &form("username=victor").unwrap());
        assert!(response(&r).get("txid").is_none(), "{r:?}");
        let r = preauth(
            &s,
            &form("username=alice&client_supports_verified_push=1").unwrap(),
        );
        assert!(
            response(&r).get("txid").is_none(),
            "not a verified-push user"
        );
        let r = preauth(
            &s,
            &form("username=victor&client_supports_verified_push=1").unwrap(),
        );
        let pre = response(&r)["txid"].as_str().unwrap().to_string();
        // Without it, with another user's, or twice: refused.
        let push = "username=victor&factor=push&async=1";
        assert_eq!(auth(&s, &form(push).unwrap()).await.status, 400);
        let vince = format!("username=vince&factor=push&async=1&txid={pre}");
        assert_eq!(auth(&s, &form(&vince).unwrap()).await.status, 400);
        let r = auth(&s, &form(&format!("{push}&txid={pre}")).unwrap()).await;
        let txid = response(&r)["txid"].as_str().unwrap().to_string();
        assert_eq!(
            auth(&s, &form(&format!("{push}&txid={pre}")).unwrap())
                .await
                .status,
            400,
            "used once"
        );
        let poll = form(&format!("txid={txid}")).unwrap();
        let first = auth_status(&s, &poll).await;
        let codes = s.codes();
        assert_eq!(codes.len(), 1);
        assert_eq!(codes[0].0, "victor");
        assert_eq!(codes[0].1.len(), 3);
        assert_eq!(
            response(&first)["status_msg"],
            format!(
                "Please enter verification code {} into Duo Mobile...",
                codes[0].1
            )
        );
        assert_eq!(response(&first)["result"], "waiting");
        assert_eq!(response(&auth_status(&s, &poll).await)["result"], "allow");
        // Passcodes need no txid.
        let p = form("username=victor&factor=passcode&passcode=234567").unwrap();
        assert_eq!(response(&auth(&s, &p).await)["result"], "allow");
    }
}
