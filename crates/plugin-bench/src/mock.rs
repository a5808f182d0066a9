//! The Duo stand-in, in its own process so that its threads, memory and CPU stay out of the
//! figures: the `duo-mock` binary, or this binary's `mock` subcommand (the same library) when
//! that is not built.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail};

/// Where the stand-in comes from.
#[derive(Debug, Clone)]
pub enum MockBin {
    Exe(PathBuf),
    /// `plugin-bench mock`.
    SelfExe,
}

impl MockBin {
    /// `duo-mock` next to this executable (`target/<profile>/`), else this binary.
    pub fn find(explicit: Option<&str>) -> MockBin {
        match explicit {
            Some("self") => MockBin::SelfExe,
            Some(p) => MockBin::Exe(PathBuf::from(p)),
            None => std::env::current_exe()
                .ok()
                .and_then(|e| Some(e.parent()?.join("duo-mock")))
                .filter(|p| p.is_file())
                .map(MockBin::Exe)
                .unwrap_or(MockBin::SelfExe),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            MockBin::Exe(p) => p.display().to_string(),
            MockBin::SelfExe => "plugin-bench mock (duo-mock library)".into(),
        }
    }
}

pub struct Mock {
    child: Child,
    pub host: String,
    pub ca: PathBuf,
}

impl Mock {
    /// Start the stand-in on a free port, its CA written into `dir`.
    pub fn spawn(bin: &MockBin, push_delay: f64, dir: &Path) -> anyhow::Result<Mock> {
        let ca = dir.join("duo-mock-ca.pem");
        let mut cmd = match bin {
            MockBin::Exe(p) => Command::new(p),
            MockBin::SelfExe => {
                let mut c = Command::new(std::env::current_exe()?);
                c.arg("mock");
                c
            }
        };
        cmd.args(["--port", "0", "--ca-out"])
            .arg(&ca)
            .args(["--push-delay", &push_delay.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", bin.describe()))?;
        let out = child.stdout.take().expect("piped");
        let mut host = None;
        for line in BufReader::new(out).lines() {
            let line = line?;
            let mut words = line.split_whitespace();
            if words.next() == Some("host") {
                host = words.next().map(str::to_string);
            }
            if line.contains("serving until killed") {
                break;
            }
        }
        let Some(host) = host else {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{} did not print its host", bin.describe());
        };
        Ok(Mock { child, host, ca })
    }

    /// Kill it; returns its peak RSS (kB) from wait4.
    pub fn stop(mut self) -> u64 {
        let pid = self.child.id() as libc::pid_t;
        let _ = self.child.kill();
        let mut status = 0;
        // SAFETY: wait4 on our own child, into a local rusage.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        ru.ru_maxrss as u64
    }

    /// A duo.toml pointing at the stand-in.
    pub fn write_config(&self, path: &Path) -> anyhow::Result<()> {
        let text = format!(
            "[duo]\nikey = \"{}\"\nskey = \"{}\"\nhost = \"{}\"\nca_file = \"{}\"\n\
             failmode = \"secure\"\ntimeout_secs = 60\n\n[openvpn]\nusername_from = \"common_name\"\n",
            duo_mock::MOCK_IKEY,
            duo_mock::MOCK_SKEY,
            self.host,
            self.ca.display()
        );
        std::fs::write(path, text)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        Ok(())
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `plugin-bench mock`: the duo-mock binary's interface, served by the same library.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    #[arg(long, default_value_t = 0)]
    port: u16,
    #[arg(long)]
    ca_out: PathBuf,
    #[arg(long, default_value_t = 1.0)]
    push_delay: f64,
}

pub fn serve(a: &ServeArgs) -> anyhow::Result<()> {
    crate::procfs::raise_nofile();
    let cfg = duo_mock::MockConfig {
        push_delay: Duration::try_from_secs_f64(a.push_delay).context("--push-delay")?,
        ..duo_mock::MockConfig::default()
    };
    let mock = duo_mock::MockDuo::start_on(cfg, SocketAddr::from(([127, 0, 0, 1], a.port)))?;
    mock.write_ca(&a.ca_out)?;
    println!("duo-mock (in plugin-bench)");
    println!("  host      {}", mock.host());
    println!("serving until killed");
    loop {
        std::thread::park();
    }
}
