//! Every run, each in a fresh process (so peaks such as VmHWM belong to that run alone), each
//! against a fresh Duo stand-in in its own process; then markdown tables.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};

use crate::login::Report;
use crate::mock::{Mock, MockBin};
use crate::setup_bench::{self, SetupReport};

#[derive(clap::Parser, Debug, Clone)]
#[command(name = "suite")]
pub struct SuiteArgs {
    /// The plugin [default: libduo_openvpn_plugin.so next to this binary].
    #[arg(long, value_name = "PATH")]
    pub so: Option<PathBuf>,
    /// The Duo stand-in: a path, or `self` [default: duo-mock next to this binary].
    #[arg(long)]
    pub mock: Option<String>,
    /// The duo-openvpn binary for setup/uninstall [default: next to this binary].
    #[arg(long, value_name = "PATH")]
    pub duo_openvpn: Option<PathBuf>,
    /// Logins started together, one run each (with the push delay, then with none); 0 skips.
    #[arg(long, value_delimiter = ',', default_value = "1,100,1000,10000")]
    pub logins: Vec<usize>,
    /// Seconds the stand-in waits before a push is approved: logins stay in flight this long.
    #[arg(long, default_value_t = 10.0)]
    pub push_delay: f64,
    /// Logins one after another, push delay 0 (connections reused: CPU without TLS
    /// handshakes); 0 skips.
    #[arg(long, default_value_t = 1000)]
    pub sequential: usize,
    /// Runs of the fork-per-login v2 test plugin (double fork, no Duo traffic); 0 skips.
    #[arg(long, value_delimiter = ',', default_value = "1,100,1000")]
    pub fork_logins: Vec<usize>,
    /// Runs of the v2 test plugin exec'ing a python3 one-liner per login; 0 skips.
    #[arg(long, value_delimiter = ',', default_value = "1,100")]
    pub python_logins: Vec<usize>,
    /// Client profiles for setup/uninstall; 0 skips.
    #[arg(long, default_value_t = 10_000)]
    pub profiles: usize,
    /// Poll interval of the control files.
    #[arg(long, default_value_t = 5)]
    pub poll_ms: u64,
    /// The name of the plugin in the tables.
    #[arg(long, default_value = "duo-openvpn")]
    pub label: String,
    /// Also write every report, as JSON, here.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
}

struct Run {
    label: String,
    push_delay: f64,
    report: Result<Report, String>,
    mock_rss_kb: Option<u64>,
    /// The plugin's log lines at level error or warning, counted by kind.
    log_summary: Vec<(usize, String)>,
}

/// Error and warning lines of a plugin log, with user names, addresses, numbers and times
/// taken out, counted by what is left.
fn summarize_log(path: &std::path::Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for line in text.lines() {
        let Some((_, msg)) = line.split_once("PLUGIN ") else {
            continue;
        };
        if msg.contains(": allowed") || msg.contains(" ready") {
            continue;
        }
        let mut out = String::new();
        let mut in_digits = false;
        for c in msg.chars() {
            if c.is_ascii_digit() {
                if !in_digits {
                    out.push('N');
                }
                in_digits = true;
            } else {
                in_digits = false;
                out.push(c);
            }
        }
        *counts.entry(out).or_default() += 1;
    }
    let mut v: Vec<(usize, String)> = counts.into_iter().map(|(k, n)| (n, k)).collect();
    v.sort_by_key(|b| std::cmp::Reverse(b.0));
    v.truncate(5);
    v
}

fn next_to_exe(name: &str) -> Option<PathBuf> {
    let p = std::env::current_exe().ok()?.parent()?.join(name);
    p.is_file().then_some(p)
}

/// `plugin-bench login ...` in a fresh process.
fn login_run(args: &[String]) -> Result<Report, String> {
    let out = Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .arg("login")
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    match text.lines().last().map(serde_json::from_str::<Report>) {
        Some(Ok(r)) => Ok(r),
        _ => Err(format!(
            "the run failed (exit {:?}): {}",
            out.status.code(),
            text.trim()
        )),
    }
}

fn python3() -> Option<PathBuf> {
    ["/usr/bin/python3", "/usr/local/bin/python3"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

pub fn run(a: &SuiteArgs) -> anyhow::Result<()> {
    crate::procfs::raise_nofile(); // inherited by the stand-in and every run
    let so = match &a.so {
        Some(p) => p.clone(),
        None => next_to_exe("libduo_openvpn_plugin.so")
            .context("libduo_openvpn_plugin.so is not next to plugin-bench: pass --so")?,
    };
    let so = so
        .canonicalize()
        .with_context(|| so.display().to_string())?;
    let mock_bin = MockBin::find(a.mock.as_deref());
    let work = tempfile::Builder::new()
        .prefix("plugin-bench-suite-")
        .tempdir()?;
    let poll = a.poll_ms.to_string();
    let mut runs: Vec<Run> = Vec::new();

    println!("{}", machine());
    println!("plugin     {}", so.display());
    println!(
        "Duo        {} (a separate process, HTTPS)",
        mock_bin.describe()
    );
    println!();

    let mut duo_run = |label: &str, n: usize, delay: f64, sequential: bool| -> anyhow::Result<()> {
        eprintln!(
            "plugin-bench: {label}: {n} logins, push delay {delay} s{} ...",
            if sequential {
                ", one after another"
            } else {
                ""
            }
        );
        let dir = tempfile::tempdir_in(work.path())?;
        let mock = Mock::spawn(&mock_bin, delay, dir.path())?;
        let toml = dir.path().join("duo.toml");
        mock.write_config(&toml)?;
        let log = dir.path().join("openvpn.log");
        let mut args = vec![
            "--so".into(),
            so.display().to_string(),
            "--arg".into(),
            toml.display().to_string(),
            "--log".into(),
            log.display().to_string(),
            "--logins".into(),
            n.to_string(),
            "--poll-ms".into(),
            poll.clone(),
        ];
        if sequential {
            args.push("--sequential".into());
        }
        let report = login_run(&args);
        let mock_rss_kb = Some(mock.stop());
        runs.push(Run {
            label: label.into(),
            push_delay: delay,
            report,
            mock_rss_kb,
            log_summary: summarize_log(&log),
        });
        Ok(())
    };
    for &n in a.logins.iter().filter(|&&n| n > 0) {
        duo_run(&a.label, n, a.push_delay, false)?;
    }
    for &n in a.logins.iter().filter(|&&n| n > 0) {
        duo_run(&a.label, n, 0.0, false)?;
    }
    if a.sequential > 0 {
        duo_run(
            &format!("{}, one after another", a.label),
            a.sequential,
            0.0,
            true,
        )?;
    }

    let v2 = PathBuf::from(env!("PLUGIN_BENCH_V2_SO"));
    let delay_ms = ((a.push_delay * 1000.0) as u64).to_string();
    for &n in a.fork_logins.iter().filter(|&&n| n > 0) {
        eprintln!("plugin-bench: fork per login: {n} logins ...");
        let args: Vec<String> = vec![
            "--so".into(),
            v2.display().to_string(),
            "--arg".into(),
            delay_ms.clone(),
            "--logins".into(),
            n.to_string(),
            "--poll-ms".into(),
            poll.clone(),
        ];
        runs.push(Run {
            label: "fork per login (v2 C test plugin, no Duo)".into(),
            push_delay: a.push_delay,
            report: login_run(&args),
            mock_rss_kb: None,
            log_summary: Vec::new(),
        });
    }
    if let Some(py) = python3().filter(|_| a.python_logins.iter().any(|&n| n > 0)) {
        let script = format!(
            "import os,time; time.sleep({}); fd=os.open(os.environ['auth_control_file'], os.O_WRONLY); os.write(fd, b'1')",
            a.push_delay
        );
        for &n in a.python_logins.iter().filter(|&&n| n > 0) {
            eprintln!("plugin-bench: fork + python3 per login: {n} logins ...");
            let mut args: Vec<String> = vec!["--so".into(), v2.display().to_string()];
            for w in ["0", &py.display().to_string(), "-c", &script] {
                args.push("--arg".into());
                args.push(w.to_string());
            }
            args.extend([
                "--logins".into(),
                n.to_string(),
                "--poll-ms".into(),
                poll.clone(),
            ]);
            runs.push(Run {
                label: "fork + exec python3 per login (v2, no Duo)".into(),
                push_delay: a.push_delay,
                report: login_run(&args),
                mock_rss_kb: None,
                log_summary: Vec::new(),
            });
        }
    }

    let setup = if a.profiles > 0 {
        eprintln!(
            "plugin-bench: setup/uninstall over {} client profiles ...",
            a.profiles
        );
        let duo_openvpn = a.duo_openvpn.clone().or_else(|| next_to_exe("duo-openvpn"));
        Some(match duo_openvpn {
            None => Err("duo-openvpn is not next to plugin-bench: pass --duo-openvpn".to_string()),
            Some(bin) => setup_bench::run(&setup_bench::SetupArgs {
                duo_openvpn: bin,
                so: so.clone(),
                profiles: a.profiles,
                mock: a.mock.clone(),
            })
            .map_err(|e| format!("{e:#}")),
        })
    } else {
        None
    };

    print_tables(&runs, setup.as_ref());
    if let Some(path) = &a.json {
        let all: Vec<serde_json::Value> = runs
            .iter()
            .map(|r| {
                serde_json::json!({
                    "label": r.label, "push_delay": r.push_delay, "mock_peak_rss_kb": r.mock_rss_kb,
                    "report": r.report.as_ref().ok(), "error": r.report.as_ref().err(),
                })
            })
            .collect();
        let setup_json = setup.as_ref().map(|s| match s {
            Ok(r) => serde_json::to_value(r).unwrap_or_default(),
            Err(e) => serde_json::json!({ "error": e }),
        });
        std::fs::write(
            path,
            serde_json::to_string_pretty(&serde_json::json!({ "runs": all, "setup": setup_json }))?,
        )?;
    }
    let failed = runs.iter().any(|r| match &r.report {
        Ok(rep) => !rep.problems.is_empty(),
        Err(_) => true,
    });
    if failed {
        bail!("some runs failed their checks (see the tables)");
    }
    Ok(())
}

fn first_line_of(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(str::to_string)
        })
        .unwrap_or_else(|| "(not installed)".into())
}

/// nproc, memory, kernel, CPU model, OpenVPN version.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| "?".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kb: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let nproc = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let openvpn = ["/usr/sbin/openvpn", "openvpn"]
        .iter()
        .map(|p| first_line_of(p, &["--version"]))
        .find(|l| l.starts_with("OpenVPN"))
        .unwrap_or_else(|| "(not installed)".into());
    format!(
        "machine    {nproc} CPUs ({model}), {:.1} GiB memory, Linux {}\nOpenVPN    {openvpn}",
        mem_kb as f64 / 1048576.0,
        kernel.trim()
    )
}

fn secs(ms: f64) -> String {
    if ms >= 10_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        format!("{ms:.1} ms")
    }
}

fn us(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.1} ms", v / 1000.0)
    } else {
        format!("{v:.1}")
    }
}

fn mb(kb: u64) -> String {
    format!("{:.1}", kb as f64 / 1024.0)
}

fn control(r: &Report) -> String {
    if r.problems.is_empty() {
        format!("{}/{} `1`, each once", r.control_one, r.logins)
    } else {
        format!("**{}**", r.problems.join("; "))
    }
}

fn print_tables(runs: &[Run], setup: Option<&Result<SetupReport, String>>) {
    let delay = |d: f64| format!("{d} s");
    println!("### What OpenVPN's thread and the clients see\n");
    println!(
        "| plugin | logins | push delay | verify call p50 / p99 / max (µs) | max CPU in one call (µs) | \
         first call: wall / CPU (µs) | all answered | logins/s | per-login latency p50 / p99 | control files |"
    );
    println!("|---|---:|---:|---|---:|---|---:|---:|---|---|");
    for run in runs {
        match &run.report {
            Ok(r) => println!(
                "| {} | {} | {} | {} / {} / {} | {} | {} / {} | {} | {:.0} | {} / {} | {} |",
                run.label,
                r.logins,
                delay(run.push_delay),
                us(r.verify.p50_us),
                us(r.verify.p99_us),
                us(r.verify.max_us),
                us(r.verify_cpu.max_us),
                us(r.verify_first_us),
                us(r.verify_first_cpu_us),
                secs(r.all_written_ms),
                r.logins_per_sec,
                secs(r.latency.p50_us / 1000.0),
                secs(r.latency.p99_us / 1000.0),
                control(r)
            ),
            Err(e) => println!(
                "| {} | | {} | **failed: {e}** | | | | | | |",
                run.label,
                delay(run.push_delay)
            ),
        }
    }
    println!("\n### What the server pays\n");
    println!(
        "| plugin | logins | push delay | RSS after open (MB) | peak RSS (MB) | RSS per login in flight (KB) | \
         live heap per login (KB) | threads: before open → after open → peak (created during run) | \
         processes created (peak alive) | TCP connections | peak fds | CPU per login (ms): verify + plugin threads + children = total |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---|");
    for run in runs {
        let Ok(r) = &run.report else { continue };
        let per = |ms: f64| ms / r.logins as f64;
        println!(
            "| {} | {} | {} | {} | {} | {:.1} | {:.1} | {} → {} → {} ({}) | {} ({}) | {} | {} | {:.3} + {:.3} + {:.3} = {:.3} |",
            run.label,
            r.logins,
            delay(run.push_delay),
            mb(r.rss_baseline_kb),
            mb(r.rss_peak_kb),
            r.rss_per_login_bytes / 1024.0,
            r.heap_per_login_bytes / 1024.0,
            r.threads_before_open,
            r.threads_after_open,
            r.threads_peak,
            r.threads_created_run,
            r.processes_created_run,
            r.children_peak_live,
            r.connects,
            r.fds_peak,
            per(r.cpu_verify_ms),
            per(r.cpu_plugin_threads_ms),
            per(r.cpu_children_ms),
            r.cpu_per_login_us / 1000.0,
        );
    }
    println!(
        "\nThreads before open are the harness's own (main, poller, inotify reader, sampler); \
         every run ended with as many as it began, after close_v1 and dlclose, unless listed under problems."
    );
    let children: Vec<String> = runs
        .iter()
        .filter_map(|r| {
            let rep = r.report.as_ref().ok()?;
            (rep.children_peak_live > 0).then(|| {
                format!(
                    "{} × {}: {} MB",
                    rep.logins,
                    r.label,
                    mb(rep.children_peak_pss_kb)
                )
            })
        })
        .collect();
    if !children.is_empty() {
        println!(
            "Memory of the child processes (summed PSS at the sampled peak, not in the RSS above): {}.",
            children.join(", ")
        );
    }
    let mocks: Vec<String> = runs
        .iter()
        .filter_map(|r| {
            Some(format!(
                "{} logins: {} MB",
                r.report.as_ref().ok()?.logins,
                mb(r.mock_rss_kb?)
            ))
        })
        .collect();
    if !mocks.is_empty() {
        println!(
            "The Duo stand-in's own peak RSS (a separate process, not counted above): {}.",
            mocks.join(", ")
        );
    }
    for run in runs {
        let Ok(r) = &run.report else { continue };
        if run.log_summary.is_empty() {
            continue;
        }
        println!(
            "\nPlugin log of {} × {} (push delay {}), errors and warnings by kind:",
            r.logins,
            run.label,
            delay(run.push_delay)
        );
        for (n, line) in &run.log_summary {
            println!("- {n} × `{line}`");
        }
    }
    if let Some(setup) = setup {
        println!("\n### setup --yes / uninstall --yes\n");
        match setup {
            Ok(s) => {
                println!("| command | client profiles | exit | wall time | peak RSS (MB) | CPU |");
                println!("|---|---:|---:|---:|---:|---:|");
                for (name, st) in [("setup --yes", &s.setup), ("uninstall --yes", &s.uninstall)] {
                    println!(
                        "| {name} | {} | {} | {} | {} | {} |",
                        s.profiles,
                        st.exit_code
                            .map(|c| c.to_string())
                            .unwrap_or_else(|| "signal".into()),
                        secs(st.wall_ms),
                        mb(st.max_rss_kb),
                        secs(st.cpu_ms)
                    );
                }
                println!(
                    "\nsetup changed {} of {} profiles and {} the server config; after uninstall {} files differ, \
                     {} are missing, {} were left behind{}",
                    s.profiles_changed,
                    s.profiles,
                    if s.server_config_changed {
                        "changed"
                    } else {
                        "did not change"
                    },
                    s.differing_after_uninstall,
                    s.missing_after_uninstall,
                    s.left_behind.len(),
                    if s.left_behind.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " ({})",
                            s.left_behind
                                .iter()
                                .take(5)
                                .cloned()
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                );
                for (name, st) in [("setup", &s.setup), ("uninstall", &s.uninstall)] {
                    if !st.output_tail.is_empty() {
                        println!("\n{name} output (tail):\n```\n{}\n```", st.output_tail);
                    }
                }
            }
            Err(e) => println!("**failed: {e}**"),
        }
    }
}
