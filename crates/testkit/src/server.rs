//! A real OpenVPN server with the plugin, on 127.0.0.1, as Debian runs it: dropping to
//! `nobody`/`nogroup` under `prlimit --nproc=10:10`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::pki::Pki;
use crate::process::{find_program, read_log, tail, terminate};

/// What the server config says. Build with [`ServerOptions::new`], adjust fields, [`start`].
///
/// [`start`]: ServerOptions::start
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Where `server.conf`, `server.log` and the clients' directories go.
    pub dir: PathBuf,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// `server 10.8.N.0 255.255.255.0`: one N per test, so servers never share a subnet.
    pub subnet: u8,
    pub port: u16,
    pub plugin: PathBuf,
    /// The words after the library path on the `plugin` line.
    pub plugin_args: Vec<String>,
    /// `true`: `verify-client-cert require`. `false`: `verify-client-cert none` and
    /// `username-as-common-name` (the typed user name is the identity).
    pub client_certs: bool,
    /// Several clients may share a certificate (`duplicate-cn`).
    pub duplicate_cn: bool,
    /// `prlimit --nproc=N:N`; `None` runs without it.
    pub nproc: Option<u32>,
    /// Drop to `nobody`/`nogroup` after start-up.
    pub drop_privileges: bool,
    /// `dev-node` to a private 0666 copy of `/dev/net/tun` (see [`ServerOptions::start`]).
    pub private_tun_node: bool,
    /// More config lines, verbatim.
    pub extra: Vec<String>,
}

impl ServerOptions {
    /// Certificates from `pki`, the plugin from [`crate::plugin_so`] with `duo_toml`, a free
    /// port, client certificates required, nobody/nogroup, nproc 10.
    pub fn new(pki: &Pki, subnet: u8, duo_toml: impl Into<PathBuf>) -> ServerOptions {
        ServerOptions {
            dir: pki.dir.parent().unwrap_or(&pki.dir).to_path_buf(),
            ca: pki.ca.clone(),
            cert: pki.server_cert.clone(),
            key: pki.server_key.clone(),
            subnet,
            port: crate::free_udp_port(),
            plugin: crate::plugin_so(),
            plugin_args: vec![duo_toml.into().display().to_string()],
            client_certs: true,
            duplicate_cn: false,
            nproc: Some(10),
            drop_privileges: true,
            private_tun_node: true,
            extra: Vec::new(),
        }
    }

    /// The config file's text.
    pub fn config_text(&self) -> String {
        let q = |p: &Path| quote(&p.display().to_string());
        let mut lines = vec![
            "dev tun".to_string(),
            "proto udp".into(),
            "local 127.0.0.1".into(),
            format!("port {}", self.port),
            "topology subnet".into(),
            format!("server 10.8.{}.0 255.255.255.0", self.subnet),
            format!("ca {}", q(&self.ca)),
            format!("cert {}", q(&self.cert)),
            format!("key {}", q(&self.key)),
            "dh none".into(),
            "reneg-sec 0".into(),
            "verb 3".into(),
            // Keep the tun device across SIGHUP: re-creating it needs root, which is gone.
            "persist-tun".into(),
            "persist-key".into(),
            format!("log {}", q(&self.log_path())),
        ];
        if self.client_certs {
            lines.push("verify-client-cert require".into());
        } else {
            lines.push("verify-client-cert none".into());
            lines.push("username-as-common-name".into());
        }
        if self.private_tun_node {
            lines.push(format!("dev-node {}", q(&self.tun_node_path())));
        }
        if self.duplicate_cn {
            lines.push("duplicate-cn".into());
        }
        if self.drop_privileges {
            lines.push("user nobody".into());
            lines.push(format!("group {}", group_name()));
        }
        let mut plugin = format!("plugin {}", q(&self.plugin));
        for a in &self.plugin_args {
            plugin.push(' ');
            plugin.push_str(&quote(a));
        }
        lines.push(plugin);
        lines.extend(self.extra.iter().cloned());
        lines.join("\n") + "\n"
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join(format!("server-{}.log", self.port))
    }

    fn tun_node_path(&self) -> PathBuf {
        self.dir.join(format!("tun-{}", self.port))
    }

    /// Write the config, start OpenVPN and wait (20 s at most) for it to be ready.
    ///
    /// After SIGHUP, OpenVPN (now `nobody`, keeping CAP_NET_ADMIN) re-opens its tun device
    /// through `/dev/net/tun`, which is 0666 on a stock system but often 0600 in containers.
    /// Rather than change the host's node, the server gets its own 0666 node (`dev-node`).
    pub fn start(self) -> io::Result<Server> {
        if self.private_tun_node {
            make_tun_node(&self.tun_node_path())?;
        }
        let conf = self.dir.join(format!("server-{}.conf", self.port));
        fs::write(&conf, self.config_text())?;
        let openvpn =
            find_program("openvpn").ok_or_else(|| io::Error::other("openvpn not found"))?;
        let stdio = self.dir.join(format!("server-{}.stdout", self.port));
        let mut cmd = match self.nproc {
            Some(n) => {
                let mut c = Command::new(find_program("prlimit").unwrap_or("prlimit".into()));
                c.arg(format!("--nproc={n}:{n}")).arg(openvpn);
                c
            }
            None => Command::new(openvpn),
        };
        let out = fs::File::create(&stdio)?;
        cmd.arg("--config")
            .arg(&conf)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stderr(out.try_clone()?)
            .stdout(out);
        let child = cmd.spawn()?;
        let mut server = Server::new(child, self);
        if !server.wait_for_log(
            "Initialization Sequence Completed",
            1,
            Duration::from_secs(20),
        ) {
            let msg = format!(
                "OpenVPN server did not start:\n{}\n{}",
                tail(&server.log, 30),
                read_log(&stdio)
            );
            server.stop();
            return Err(io::Error::other(msg));
        }
        Ok(server)
    }
}

/// A running server: killed (and its log tail printed, if the test is failing) on drop.
pub struct Server {
    child: Child,
    pub options: ServerOptions,
    pub log: PathBuf,
    max_threads: Arc<AtomicUsize>,
    sampling: Arc<AtomicBool>,
    sampler: Option<JoinHandle<()>>,
}

impl Server {
    fn new(child: Child, options: ServerOptions) -> Server {
        let max_threads = Arc::new(AtomicUsize::new(0));
        let sampling = Arc::new(AtomicBool::new(true));
        let pid = child.id();
        let sampler = {
            let (max, on) = (max_threads.clone(), sampling.clone());
            std::thread::spawn(move || {
                while on.load(Ordering::Relaxed) {
                    if let Some(n) = threads_of(pid) {
                        max.fetch_max(n, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        };
        Server {
            log: options.log_path(),
            child,
            options,
            max_threads,
            sampling,
            sampler: Some(sampler),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn port(&self) -> u16 {
        self.options.port
    }

    /// `Threads:` of the OpenVPN process now.
    pub fn threads(&self) -> Option<usize> {
        threads_of(self.pid())
    }

    /// The most threads seen so far (sampled every 20 ms since start).
    pub fn max_threads(&self) -> usize {
        self.max_threads.load(Ordering::Relaxed)
    }

    pub fn log_text(&self) -> String {
        read_log(&self.log)
    }

    /// Lines of the log containing `needle`.
    pub fn log_lines(&self, needle: &str) -> Vec<String> {
        self.log_text()
            .lines()
            .filter(|l| l.contains(needle))
            .map(str::to_string)
            .collect()
    }

    /// Wait until `needle` appears `count` times in the log. False on timeout or exit.
    pub fn wait_for_log(&mut self, needle: &str, count: usize, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        loop {
            if self.log_text().matches(needle).count() >= count {
                return true;
            }
            if Instant::now() >= end || matches!(self.child.try_wait(), Ok(Some(_))) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `kill -HUP`: OpenVPN closes and re-opens the plugin, now as `nobody`.
    pub fn hup(&self) {
        // SAFETY: kill on our own child's pid.
        unsafe { libc::kill(self.pid() as i32, libc::SIGHUP) };
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn stop(&mut self) {
        self.sampling.store(false, Ordering::Relaxed);
        if let Some(t) = self.sampler.take() {
            let _ = t.join();
        }
        terminate(&mut self.child);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!(
                "--- {} (last 60 lines) ---\n{}\n---",
                self.log.display(),
                tail(&self.log, 60)
            );
        }
    }
}

/// A character device like `/dev/net/tun` (10, 200), mode 0666.
fn make_tun_node(path: &Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let _ = fs::remove_file(path);
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())?;
    // SAFETY: mknod with a valid path; (10, 200) is the tun clone device.
    if unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(10, 200)) } != 0 {
        return Err(io::Error::last_os_error());
    }
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o666))
}

fn threads_of(pid: u32) -> Option<usize> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
}

fn group_name() -> &'static str {
    let gid = crate::nogroup_gid();
    // SAFETY: getgrgid with a gid that exists; read at once.
    let g = unsafe { libc::getgrgid(gid) };
    // SAFETY: non-NULL result.
    if !g.is_null() && unsafe { std::ffi::CStr::from_ptr((*g).gr_name) }.to_bytes() == b"nogroup" {
        "nogroup"
    } else {
        "nobody"
    }
}

/// OpenVPN's double-quoted form: `\` and `"` escaped.
pub(crate) fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
