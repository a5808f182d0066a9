//! How long one login may take, so that its answer always reaches OpenVPN in time.
//!
//! OpenVPN gives a deferred login `min(hand-window, reneg-sec / 2)` from the start of the key
//! state (`auth_deferred_expire`; `hand-window` defaults to 60 s and setup sets `reneg-sec 0`).
//! It does not watch the control file: it re-reads it on a backoff of 0,0,0,0,0,1,1,2,2,4,8 s
//! (`cache_intervals` in `ssl_verify.c`; Debian builds have no inotify), comparing whole
//! seconds with `>=`, so late in a login it looks only every 9 s, and a cached "pending" past
//! the deadline is a failure even if the file already says `1`. The client, for its part,
//! abandons its PUSH_REQUESTs `hand-window` (its own, 60 s by default, not pushable) after its
//! TLS handshake.
//!
//! So an answer written later than `hand-window` − 9 s after the handshake began may be read
//! too late. Take off a few seconds for the TLS handshake before our call and clock
//! granularity, and every login gets at most [`max_login`]`(hand-window)` (45 s with OpenVPN's
//! default 60), whatever `timeout_secs` says; a shorter `timeout_secs` is honoured. A login
//! that runs out is refused with a reason ("Duo login timed out") well before OpenVPN would
//! refuse it silently.
//!
//! The plugin cannot see OpenVPN's options, so it takes `hand-window` from duo.toml's
//! `hand_window_secs`: setup writes the same figure into server.conf and each client profile,
//! `duo-openvpn status` warns when they differ, and without the key OpenVPN's default is
//! assumed.

use std::time::Duration;

/// OpenVPN's default `hand-window`.
pub const OPENVPN_HAND_WINDOW: Duration = Duration::from_secs(60);
/// The longest OpenVPN goes without reading a pending control file (8 s cache, `>=`).
pub const OPENVPN_POLL_LATENCY: Duration = Duration::from_secs(9);
/// The TLS handshake before the verify call, and whole-second rounding.
pub const MARGIN: Duration = Duration::from_secs(6);
/// The most one login may take under OpenVPN's default `hand-window`.
pub const MAX_LOGIN: Duration = max_login(OPENVPN_HAND_WINDOW);
/// The shortest cap, whatever `hand-window` says (duo.toml refuses one below 30 s).
pub const MIN_LOGIN: Duration = Duration::from_secs(5);

/// The most one login may take when OpenVPN's `hand-window` is `hand_window`.
pub const fn max_login(hand_window: Duration) -> Duration {
    let off = OPENVPN_POLL_LATENCY.as_secs() + MARGIN.as_secs();
    let secs = hand_window.as_secs().saturating_sub(off);
    if secs < MIN_LOGIN.as_secs() {
        MIN_LOGIN
    } else {
        Duration::from_secs(secs)
    }
}

/// The most Duo may take to answer preauth, or the start of an auth, once the request is
/// written (real answers take well under a second).
pub const MAX_REQUEST: Duration = Duration::from_secs(10);

/// How long Duo gets to answer each of preauth and auth once written (the client's call
/// timeout): a third of the login at most, so that both fit in it with a third to spare.
pub fn request_budget(login: Duration) -> Duration {
    (login / 3).min(MAX_REQUEST)
}

/// A login still queued inside the plugin this long before its end is refused as busy rather
/// than started: what is left then is what preauth and auth need for their own deadlines, so
/// neither budget shrinks however long the queue (see `duo::login::login_until`).
pub fn admission_reserve(login: Duration) -> Duration {
    2 * request_budget(login)
}

/// The deadline for one login given `timeout_secs` and `hand_window_secs`, and whether the
/// cap lowered it.
pub fn login_deadline(configured: Duration, hand_window: Duration) -> (Duration, bool) {
    let cap = max_login(hand_window);
    if configured > cap {
        (cap, true)
    } else {
        (configured, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_timeout_is_capped_under_the_hand_window() {
        assert_eq!(MAX_LOGIN, Duration::from_secs(45));
        let default = Duration::from_secs(duo::config::DEFAULT_TIMEOUT_SECS);
        assert_eq!(
            login_deadline(default, OPENVPN_HAND_WINDOW),
            (MAX_LOGIN, true)
        );
        let short = Duration::from_secs(20);
        assert_eq!(login_deadline(short, OPENVPN_HAND_WINDOW), (short, false));
    }

    #[test]
    fn the_cap_follows_the_hand_window_setup_writes() {
        let secs = Duration::from_secs;
        let written = secs(duo::config::DEFAULT_HAND_WINDOW_SECS);
        // Setup's hand-window lets the default timeout run whole, and no further.
        let default = secs(duo::config::DEFAULT_TIMEOUT_SECS);
        assert_eq!(max_login(written), default);
        assert_eq!(login_deadline(default, written), (default, false));
        assert_eq!(login_deadline(secs(300), written), (default, true));
        assert_eq!(login_deadline(secs(900), secs(600)), (secs(585), true));
        // Always read by OpenVPN in time: written ≥ poll latency + margin before its deadline.
        for hw in duo::config::HAND_WINDOW_RANGE {
            let cap = max_login(secs(hw));
            assert!(cap + OPENVPN_POLL_LATENCY + MARGIN <= secs(hw), "{hw}");
        }
        assert_eq!(max_login(secs(10)), MIN_LOGIN, "never zero");
    }

    #[test]
    fn preauth_and_auth_keep_their_budgets_inside_the_login() {
        for secs in [5, 6, 20, 30, 45] {
            let login = Duration::from_secs(secs);
            let r = request_budget(login);
            assert!(r <= MAX_REQUEST && !r.is_zero(), "{secs}: {r:?}");
            assert_eq!(admission_reserve(login), 2 * r);
            // Admission may still take some of the login, and both requests fit after it.
            assert!(admission_reserve(login) < login, "{secs}");
        }
        assert_eq!(request_budget(MAX_LOGIN), MAX_REQUEST);
    }
}
