//! RFC 2822 dates for the signed `Date` header, without a calendar dependency.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Format Unix seconds as Duo's reference client does (`email.utils.formatdate()`: `-0000`).
pub fn rfc2822(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} -0000",
        DAYS[days.rem_euclid(7) as usize],
        d,
        MONTHS[(m - 1) as usize],
        y,
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Parse the dates this module and Duo's clients produce (`+0000`, `-0000`, `GMT`, any offset).
pub fn parse_rfc2822(s: &str) -> Option<i64> {
    let s = s.trim();
    let rest = match s.split_once(',') {
        Some((_, r)) => r.trim(),
        None => s,
    };
    let mut it = rest.split_whitespace();
    let d: i64 = it.next()?.parse().ok()?;
    let mon = it.next()?;
    let m = MONTHS.iter().position(|x| x.eq_ignore_ascii_case(mon))? as i64 + 1;
    let y: i64 = it.next()?.parse().ok()?;
    let mut hms = it.next()?.split(':');
    let (h, mi, se): (i64, i64, i64) = (
        hms.next()?.parse().ok()?,
        hms.next()?.parse().ok()?,
        hms.next().unwrap_or("0").parse().ok()?,
    );
    let zone = it.next().unwrap_or("GMT");
    let offset = match zone {
        "GMT" | "UT" | "UTC" | "Z" => 0,
        z if (z.starts_with('+') || z.starts_with('-')) && z.len() == 5 => {
            let n: i64 = z[1..].parse().ok()?;
            let secs = (n / 100) * 3600 + (n % 100) * 60;
            if z.starts_with('-') { -secs } else { secs }
        }
        _ => return None,
    };
    if !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400 + h * 3600 + mi * 60 + se - offset)
}

/// Current Unix time in seconds, shifted by a clock-skew correction.
pub fn now_unix(offset: i64) -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    now.as_secs() as i64 + offset
}

// Howard Hinnant's civil-from-days algorithms.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_the_reference_date() {
        assert_eq!(rfc2822(1_345_570_158), "Tue, 21 Aug 2012 17:29:18 -0000");
        assert_eq!(rfc2822(0), "Thu, 01 Jan 1970 00:00:00 -0000");
        assert_eq!(rfc2822(951_782_400), "Tue, 29 Feb 2000 00:00:00 -0000");
    }

    #[test]
    fn parses_what_clients_send() {
        assert_eq!(
            parse_rfc2822("Tue, 21 Aug 2012 17:29:18 -0000"),
            Some(1_345_570_158)
        );
        assert_eq!(
            parse_rfc2822("Tue, 21 Aug 2012 17:29:18 +0000"),
            Some(1_345_570_158)
        );
        assert_eq!(
            parse_rfc2822("Tue, 21 Aug 2012 18:29:18 +0100"),
            Some(1_345_570_158)
        );
        assert_eq!(
            parse_rfc2822("Tue, 21 Aug 2012 17:29:18 GMT"),
            Some(1_345_570_158)
        );
        assert_eq!(parse_rfc2822("yesterday"), None);
    }

    #[test]
    fn round_trips_over_a_range() {
        for t in (-100_000_000i64..4_000_000_000).step_by(7_777_777) {
            assert_eq!(parse_rfc2822(&rfc2822(t)), Some(t), "{t}");
        }
    }
}
