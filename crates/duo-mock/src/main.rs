//! `duo-mock [--port N] [--ca-out PATH] [--push-delay SECS]`: serve the stand-in until killed.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use duo_mock::{MOCK_IKEY, MOCK_SKEY, MockConfig, MockDuo, users};

const USAGE: &str = "usage: duo-mock [--port N] [--ca-out PATH] [--push-delay SECS]";

struct Args {
    port: u16,
    ca_out: PathBuf,
    push_delay: Duration,
}

fn parse(mut args: impl Iterator<Item = String>) -> anyhow::Result<Args> {
    let mut out = Args {
        port: 0,
        ca_out: std::env::temp_dir().join("duo-mock-ca.pem"),
        push_delay: Duration::from_secs(1),
    };
    while let Some(flag) = args.next() {
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (flag.clone(), None),
        };
        if name == "-h" || name == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = match inline.or_else(|| args.next()) {
            Some(v) => v,
            None => bail!("{name} needs a value\n{USAGE}"),
        };
        match name.as_str() {
            "--port" => out.port = value.parse().with_context(|| format!("--port {value:?}"))?,
            "--ca-out" => out.ca_out = PathBuf::from(value),
            "--push-delay" => {
                let secs: f64 = value
                    .parse()
                    .with_context(|| format!("--push-delay {value:?}"))?;
                out.push_delay = Duration::try_from_secs_f64(secs)
                    .with_context(|| format!("--push-delay {value:?}"))?;
            }
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    Ok(out)
}

fn main() -> anyhow::Result<()> {
    let args = parse(std::env::args().skip(1))?;
    let cfg = MockConfig {
        push_delay: args.push_delay,
        ..MockConfig::default()
    };
    let mock = MockDuo::start_on(cfg, SocketAddr::from(([127, 0, 0, 1], args.port)))?;
    mock.write_ca(&args.ca_out)
        .with_context(|| format!("cannot write the CA to {}", args.ca_out.display()))?;
    println!("duo-mock: a Duo Auth API stand-in (HTTPS, every signature checked)");
    println!("  host      {}", mock.host());
    println!(
        "  address   {}   (the same, for systems without /etc/hosts)",
        mock.addr_host()
    );
    println!("  ikey      {MOCK_IKEY}");
    println!("  skey      {MOCK_SKEY}   (a fixed test key, not a secret)");
    println!("  CA        {}", args.ca_out.display());
    println!("  pushes    answered after {:?}", args.push_delay);
    println!("users:");
    for (name, what) in [
        (users::APPROVES, "approves pushes and calls"),
        (users::DENIES, "denies pushes and calls"),
        (users::ENROLL, "not enrolled (enroll_portal_url)"),
        (users::BYPASS, "bypass: allowed without a second factor"),
        (users::LOCKED_OUT, "locked out"),
        (users::NEVER_ANSWERS, "never answers (timeout after 60 s)"),
        (users::NO_DEVICES, "no devices: passcodes only"),
        (
            users::VERIFIED_APPROVES,
            "Verified Duo Push: a code, then approves",
        ),
        (
            users::VERIFIED_DENIES,
            "Verified Duo Push: a code, then denies",
        ),
        (users::NON_ASCII, "like alice"),
        (users::WITH_SPACE, "like alice"),
        ("user1..user99999", "like alice (load tests)"),
    ] {
        println!("  {name:<18} {what}");
    }
    println!(
        "passcodes (each valid once): {}",
        users::PASSCODES.join(" ")
    );
    println!("serving until killed");
    loop {
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> anyhow::Result<Args> {
        parse(s.split_whitespace().map(String::from))
    }

    #[test]
    fn flags() {
        let a = args("--port 8443 --ca-out /tmp/x.pem --push-delay=0.5").unwrap();
        assert_eq!(a.port, 8443);
        assert_eq!(a.ca_out, PathBuf::from("/tmp/x.pem"));
        assert_eq!(a.push_delay, Duration::from_millis(500));
        assert_eq!(args("").unwrap().port, 0);
        assert!(args("--port").is_err());
        assert!(args("--port x").is_err());
        assert!(args("--push-delay -1").is_err());
        assert!(args("--frobnicate 1").is_err());
    }
}
