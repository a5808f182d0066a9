//! The real client and login decision over HTTPS against the Duo stand-in (`duo-mock`).

use std::time::{Duration, Instant};

use duo::api::PreauthResult;
use duo::login::{Allowed, Denied, LoginRequest, Outcome, Progress, login};
use duo::{Client, DuoSettings, Error, Factor};
use duo_mock::{MockConfig, MockDuo, users};

const FAST: Duration = Duration::from_millis(150);

struct Fixture {
    mock: MockDuo,
    _dir: tempfile::TempDir,
    settings: DuoSettings,
}

fn fixture(cfg: MockConfig) -> Fixture {
    let mock = MockDuo::start(MockConfig {
        push_delay: FAST,
        ..cfg
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let settings = mock.settings(&dir.path().join("ca.pem"));
    Fixture {
        mock,
        _dir: dir,
        settings,
    }
}

fn mock() -> Fixture {
    fixture(MockConfig::default())
}

impl Fixture {
    fn client(&self) -> Client {
        Client::new(&self.settings).unwrap()
    }

    async fn login(&self, user: &str, password: &str) -> (Outcome, Vec<Progress>) {
        self.login_within(user, password, Duration::from_secs(10))
            .await
    }

    async fn login_within(
        &self,
        user: &str,
        password: &str,
        deadline: Duration,
    ) -> (Outcome, Vec<Progress>) {
        let client = self.client();
        let req = LoginRequest {
            username: user.into(),
            factor: Factor::parse(password),
            ipaddr: Some("203.0.113.7".into()),
        };
        let mut seen = Vec::new();
        let outcome = login(&client, &req, deadline, &mut |p| seen.push(p)).await;
        (outcome, seen)
    }
}

fn approved(o: &Outcome) -> bool {
    matches!(o, Outcome::Allowed(Allowed::Approved { .. }))
}

#[tokio::test]
async fn approvers_by_push_auto_and_phone() {
    let f = mock();
    for user in [
        users::APPROVES,
        users::NON_ASCII,
        users::WITH_SPACE,
        "user4242",
    ] {
        for password in ["", "push", "phone", "push1", "auto"] {
            let (o, _) = f.login(user, password).await;
            assert!(approved(&o), "{user} {password:?}: {o:?}");
        }
    }
    let reqs = f.mock.requests();
    assert!(!reqs.is_empty());
    assert!(
        reqs.iter().all(|r| r.signature_ok && r.status == 200),
        "{reqs:?}"
    );
    assert!(reqs.iter().any(|r| {
        r.params
            .contains(&("username".into(), users::NON_ASCII.into()))
    }));
    assert!(reqs.iter().any(|r| {
        r.params
            .contains(&("username".into(), users::WITH_SPACE.into()))
    }));
}

#[tokio::test]
async fn progress_shows_the_push_then_success() {
    let f = mock();
    let (o, seen) = f.login(users::APPROVES, "").await;
    assert!(approved(&o), "{o:?}");
    assert!(
        matches!(&seen[0], Progress::Preauth(p) if p.result == PreauthResult::Auth && p.devices.len() == 3)
    );
    assert!(matches!(&seen[1], Progress::Sent { factor, .. } if factor == "auto"));
    let statuses: Vec<&str> = seen
        .iter()
        .filter_map(|p| match p {
            Progress::Status(s) => Some(s.status.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(statuses, ["pushed", "allow"]);
}

#[tokio::test]
async fn push2_goes_to_the_second_push_device() {
    let f = mock();
    let client = f.client();
    let pre = client.preauth(users::APPROVES, None).await.unwrap();
    let second = pre
        .devices
        .iter()
        .filter(|d| d.can("push"))
        .nth(1)
        .unwrap()
        .clone();
    let (o, seen) = f.login(users::APPROVES, "push2").await;
    assert!(approved(&o), "{o:?}");
    assert!(
        seen.iter()
            .any(|p| matches!(p, Progress::Sent { device: Some(d), .. } if d == second.label()))
    );
    let auth = f
        .mock
        .requests()
        .into_iter()
        .find(|r| r.path == "/auth/v2/auth")
        .unwrap();
    assert!(
        auth.params
            .contains(&("device".into(), second.device.clone())),
        "{auth:?}"
    );
    let (o, _) = f.login(users::APPROVES, "push3").await;
    assert!(matches!(o, Outcome::Denied(Denied::BadFactor(_))), "{o:?}");
}

#[tokio::test]
async fn denier_is_denied() {
    let f = mock();
    let (o, _) = f.login(users::DENIES, "push").await;
    match o {
        Outcome::Denied(Denied::FactorDenied { status, status_msg }) => {
            assert_eq!(status, "deny");
            assert_eq!(status_msg, "Login request denied.");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn passcode_valid_once_then_denied_and_never_recorded() {
    let f = mock();
    let code = users::PASSCODES[0];
    let (o, _) = f.login(users::APPROVES, code).await;
    assert!(approved(&o), "{o:?}");
    let (o, _) = f.login(users::DENIES, code).await;
    match o {
        Outcome::Denied(Denied::PasscodeRejected { status_msg }) => {
            assert_eq!(status_msg, "Incorrect passcode. Please try again.")
        }
        other => panic!("{other:?}"),
    }
    // Users without devices still have passcodes.
    let (o, _) = f.login(users::NO_DEVICES, users::PASSCODES[1]).await;
    assert!(approved(&o), "{o:?}");
    let log = format!("{:?}", f.mock.requests());
    assert!(!log.contains(code), "{log}");
    assert!(log.contains("<redacted>"));
}

#[tokio::test]
async fn no_devices_cannot_push() {
    let f = mock();
    let (o, seen) = f.login(users::NO_DEVICES, "").await;
    assert!(matches!(&seen[0], Progress::Preauth(p) if p.devices.is_empty()));
    assert!(
        matches!(o, Outcome::Failed(Error::Request { status: 400, .. })),
        "{o:?}"
    );
}

#[tokio::test]
async fn sms_sends_passcodes_and_refuses() {
    let f = mock();
    let (o, _) = f.login(users::APPROVES, "sms").await;
    assert!(matches!(o, Outcome::Denied(Denied::SmsSent)), "{o:?}");
}

#[tokio::test]
async fn bypass_enroll_and_locked_out() {
    let f = mock();
    let (o, _) = f.login(users::BYPASS, "").await;
    assert!(
        matches!(o, Outcome::Allowed(Allowed::Bypass { .. })),
        "{o:?}"
    );
    for user in [users::ENROLL, "nobody-knows-me"] {
        match f.login(user, "").await.0 {
            Outcome::Denied(Denied::NotEnrolled { url: Some(url) }) => {
                assert!(
                    url.starts_with(&format!("https://{}/portal?", f.mock.host())),
                    "{url}"
                )
            }
            other => panic!("{user}: {other:?}"),
        }
    }
    match f.login(users::LOCKED_OUT, "").await.0 {
        Outcome::Denied(Denied::Refused { status_msg }) => {
            assert!(status_msg.contains("locked out"), "{status_msg}")
        }
        other => panic!("{other:?}"),
    }
    // Only the preauth went out for these.
    assert!(
        f.mock
            .requests()
            .iter()
            .all(|r| r.path == "/auth/v2/preauth")
    );
}

#[tokio::test]
async fn never_answered_times_out_at_the_deadline() {
    let f = mock();
    let t0 = Instant::now();
    let (o, seen) = f
        .login_within(users::NEVER_ANSWERS, "", Duration::from_millis(1500))
        .await;
    assert!(matches!(o, Outcome::Denied(Denied::TimedOut)), "{o:?}");
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    assert!(
        seen.iter()
            .any(|p| matches!(p, Progress::Status(s) if s.status == "pushed"))
    );
}

#[tokio::test]
async fn duo_own_push_timeout_and_short_long_polls() {
    let f = mock();
    f.mock.set_push_timeout(Duration::from_millis(1200));
    f.mock.set_long_poll_hold(Duration::from_millis(300));
    let (o, seen) = f.login(users::NEVER_ANSWERS, "push").await;
    assert!(matches!(o, Outcome::Denied(Denied::TimedOut)), "{o:?}");
    let statuses: Vec<(String, String)> = seen
        .iter()
        .filter_map(|p| match p {
            Progress::Status(s) => Some((format!("{:?}", s.result), s.status.clone())),
            _ => None,
        })
        .collect();
    // pushed, then `waiting` each time a hold ran out, then Duo's `timeout`.
    assert!(statuses.len() >= 3, "{statuses:?}");
    assert_eq!(statuses.last().unwrap().1, "timeout");
}

#[tokio::test]
async fn outage_is_unavailable_and_failmode_decides() {
    let f = mock();
    f.mock.set_outage(Some(503));
    let (o, _) = f.login(users::APPROVES, "").await;
    assert!(
        matches!(o, Outcome::Unavailable(Error::Server { status: 503, .. })),
        "{o:?}"
    );
    assert!(o.permits(duo::Failmode::Safe));
    assert!(!o.permits(duo::Failmode::Secure));
    f.mock.set_outage(None);
    assert!(approved(&f.login(users::APPROVES, "").await.0));
}

#[tokio::test]
async fn stopped_stand_in_is_unavailable_within_the_deadline() {
    let f = mock();
    let Fixture {
        mock,
        _dir,
        settings,
    } = f;
    mock.stop();
    let client = Client::new(&settings).unwrap();
    let req = LoginRequest {
        username: users::APPROVES.into(),
        factor: Factor::Auto,
        ipaddr: None,
    };
    let t0 = Instant::now();
    let o = login(&client, &req, Duration::from_secs(3), &mut |_| {}).await;
    assert!(t0.elapsed() < Duration::from_secs(4), "{:?}", t0.elapsed());
    assert!(
        matches!(o, Outcome::Unavailable(Error::Unreachable { .. })),
        "{o:?}"
    );
}

#[tokio::test]
async fn wrong_secret_key_is_a_credentials_failure() {
    let mut f = mock();
    f.settings.skey = duo::config::Secret::new("X".repeat(40));
    let (o, _) = f.login(users::APPROVES, "").await;
    assert!(
        matches!(
            o,
            Outcome::Failed(Error::Credentials {
                code: Some(40103),
                ..
            })
        ),
        "{o:?}"
    );
    let e = f.client().check().await.unwrap_err();
    assert!(matches!(e, Error::Credentials { .. }), "{e:?}");
    assert!(
        f.mock
            .requests()
            .iter()
            .all(|r| !r.signature_ok && r.status == 401)
    );
}

#[tokio::test]
async fn rate_limited_twice_then_answered() {
    let f = mock();
    f.mock.set_rate_limit(2);
    let t0 = Instant::now();
    f.client().check().await.unwrap();
    let took = t0.elapsed();
    // Retry-After: 1 plus up to a second of jitter, twice.
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(5),
        "{took:?}"
    );
    let statuses: Vec<u16> = f.mock.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 429, 200]);
}

#[tokio::test]
async fn clock_skew_is_detected_and_corrected() {
    let f = fixture(MockConfig {
        clock_skew_secs: 400,
        ..MockConfig::default()
    });
    let client = f.client();
    match client.check().await.unwrap_err() {
        Error::Credentials { code, message } => {
            assert_eq!(code, Some(40105));
            assert!(
                message.contains(" s behind the server's clock"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    let skew = client.clock_skew().await.unwrap();
    assert!((399..=401).contains(&skew), "{skew}");
    client.set_clock_offset(skew);
    client.check().await.unwrap();
    let pre = client.preauth(users::APPROVES, None).await.unwrap();
    assert_eq!(pre.result, PreauthResult::Auth);
}

#[tokio::test]
async fn ping_is_unsigned_and_check_is_signed() {
    let f = mock();
    let client = f.client();
    let t = client.ping().await.unwrap();
    assert!((t - duo::date::now_unix(0)).abs() <= 1);
    client.check().await.unwrap();
    let reqs = f.mock.requests();
    assert_eq!(reqs[0].path, "/auth/v2/ping");
    assert!(!reqs[0].signature_ok);
    assert_eq!(reqs[1].path, "/auth/v2/check");
    assert_eq!(
        (reqs[1].signature_ok, reqs[1].sig_version, reqs[1].digest),
        (true, Some(2), Some(duo::sign::Digest::Sha512))
    );
}

#[test]
fn works_from_synchronous_code_with_a_runtime_of_its_own() {
    let f = mock();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (o, _) = rt.block_on(f.login(users::APPROVES, ""));
    assert!(approved(&o), "{o:?}");
}

#[tokio::test]
async fn rate_limited_while_polling_still_ends_by_the_deadline() {
    let f = mock();
    f.mock.set_push_delay(Duration::from_secs(30));
    let client = f.client();
    let req = LoginRequest {
        username: users::APPROVES.into(),
        factor: Factor::Auto,
        ipaddr: None,
    };
    let mock = &f.mock;
    let t0 = Instant::now();
    // Once the push is out, every further request is answered 429.
    let o = login(&client, &req, Duration::from_secs(2), &mut |p| {
        if matches!(p, Progress::Sent { .. }) {
            mock.set_rate_limit(1000);
        }
    })
    .await;
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    assert!(!o.permits(duo::Failmode::Secure), "{o:?}");
}

/// Verified Duo Push: preauth declares support, its txid goes to /auth, the login stops at the
/// code the stand-in issued, and resuming the transaction gives the result.
#[tokio::test]
async fn verified_push_stops_at_the_code_and_resumes_to_the_result() {
    use duo::login::{Step, login_until_code, resume_until};
    let mut f = mock();
    f.settings.verified_push = true;
    let client = f.client();
    let end = || tokio::time::Instant::now() + Duration::from_secs(10);
    for (user, approves) in [
        (users::VERIFIED_APPROVES, true),
        (users::VERIFIED_DENIES, false),
    ] {
        let req = LoginRequest {
            username: user.into(),
            factor: Factor::Auto,
            ipaddr: None,
        };
        let Step::Code { code, txid } = login_until_code(&client, &req, end(), &mut |_| {}).await
        else {
            panic!("{user}: no code");
        };
        let issued = f.mock.verification_codes();
        assert_eq!(
            issued.last(),
            Some(&(user.to_string(), code.clone())),
            "{user}"
        );
        let o = resume_until(&client, &txid, &req.factor, end(), &mut |_| {}).await;
        assert_eq!(approved(&o), approves, "{user}: {o:?}");
    }
    let preauths: Vec<_> = f
        .mock
        .requests()
        .into_iter()
        .filter(|r| r.path == "/auth/v2/preauth")
        .collect();
    assert!(
        preauths.iter().all(|r| r
            .params
            .iter()
            .any(|(k, v)| k == "client_supports_verified_push" && v == "1")),
        "{preauths:?}"
    );
    // A user without verified push goes through as always, even when it is on.
    let (o, _) = {
        let req = LoginRequest {
            username: users::APPROVES.into(),
            factor: Factor::Auto,
            ipaddr: None,
        };
        match login_until_code(&client, &req, end(), &mut |_| {}).await {
            Step::Done(o) => (o, ()),
            s => panic!("{s:?}"),
        }
    };
    assert!(approved(&o), "{o:?}");
    // Without the declaration, the stand-in's verified-push user is refused by Duo.
    f.settings.verified_push = false;
    let (o, _) = f.login(users::VERIFIED_APPROVES, "").await;
    assert!(matches!(o, Outcome::Failed(_)), "{o:?}");
}
