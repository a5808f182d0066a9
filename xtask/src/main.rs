//! Build chores for the packages:
//!
//! ```text
//! cargo run -p xtask -- man OUT           # duo-openvpn.1 and one page per subcommand
//! cargo run -p xtask -- completions OUT   # duo-openvpn.bash, _duo-openvpn (zsh), duo-openvpn.fish
//! ```
//!
//! Both come from the clap definitions in `src/cli.rs`, through the library the binary is built on,
//! so a flag cannot be added, renamed or removed without the pages and completions following.
//! The few hand-written parts (examples, files, environment) are checked against the flags and
//! the source by the tests below.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;
use roff::{Roff, bold, italic, roman};

use duo_openvpn::cli;

/// The binary's name, as installed.
const BIN: &str = "duo-openvpn";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["man", out] => write_man(Path::new(out)),
        ["completions", out] => write_completions(Path::new(out)),
        _ => {
            eprintln!(
                "usage: cargo run -p xtask -- man OUT_DIR\n       cargo run -p xtask -- completions OUT_DIR"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(files) => {
            for f in files {
                println!("{}", f.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn write_man(out: &Path) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    man_pages()
        .into_iter()
        .map(|p| {
            let path = out.join(&p.file);
            std::fs::write(&path, p.roff).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(path)
        })
        .collect()
}

/// The completion scripts' file names, as the shells look them up.
const COMPLETIONS: [(Shell, &str); 3] = [
    (Shell::Bash, "duo-openvpn.bash"),
    (Shell::Zsh, "_duo-openvpn"),
    (Shell::Fish, "duo-openvpn.fish"),
];

fn write_completions(out: &Path) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    COMPLETIONS
        .iter()
        .map(|(shell, file)| {
            let path = out.join(file);
            std::fs::write(&path, completion(*shell))
                .map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(path)
        })
        .collect()
}

fn completion(shell: Shell) -> Vec<u8> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cli::Cli::command(), BIN, &mut buf);
    if shell == Shell::Bash {
        // clap_complete 4.6 spells the subcommand states of a hyphenated binary one way where it
        // sets them (`duo__openvpn__subcmd__setup`) and another in the `case` arms
        // (`duo__subcmd__openvpn__subcmd__setup`), so no subcommand's flags ever complete
        // (clap-rs/clap#6421). Spell the arms as the states; a no-op once clap_complete is fixed.
        let script = String::from_utf8(buf).expect("completions are UTF-8");
        buf = script
            .replace("duo__subcmd__openvpn", "duo__openvpn")
            .into_bytes();
    }
    buf
}

/// One manual page.
struct Page {
    /// `duo-openvpn.1`, `duo-openvpn-setup.1`, …
    file: String,
    /// The subcommand (`None`: the top page).
    #[cfg_attr(not(test), allow(dead_code))]
    sub: Option<String>,
    roff: String,
}

/// The command as the pages describe it (no `help` subcommand page, as clap_mangen does).
fn command() -> clap::Command {
    let mut cmd = cli::Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

fn man_pages() -> Vec<Page> {
    let cmd = command();
    let mut pages = vec![page(&cmd, None)];
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        pages.push(page(sub, Some(sub.get_name())));
    }
    pages
}

fn page(cmd: &clap::Command, sub: Option<&str>) -> Page {
    let man = clap_mangen::Man::new(cmd.clone())
        .title(cmd.get_display_name().unwrap_or(BIN).to_uppercase())
        .source(format!("{BIN} {}", env!("CARGO_PKG_VERSION")))
        .manual("duo-openvpn manual");
    let file = man.get_filename();
    let mut out = Vec::new();
    man.render(&mut out).expect("rendering into memory");
    let generated = String::from_utf8(out).expect("roff is UTF-8");
    // clap's after-help comes out as "EXTRA".
    let generated = generated.replace("\n.SH EXTRA\n", "\n.SH NOTES\n");
    // No hyphenation and a ragged right margin: flags and paths stay whole and greppable.
    let generated = generated.replacen("\n.SH NAME\n", "\n.nh\n.ad l\n.SH NAME\n", 1);
    // Our sections go before VERSION; the apostrophe preamble is already at the top.
    let extra = extra_sections(sub).render();
    let extra = extra
        .lines()
        .skip_while(|l| l.starts_with(".ie \\n(.g") || l.starts_with(".el .ds Aq"))
        .map(|l| format!("{l}\n"))
        .collect::<String>();
    let roff = match generated.find("\n.SH VERSION\n") {
        Some(at) => format!("{}\n{extra}{}", &generated[..at], &generated[at + 1..]),
        None => format!("{generated}{extra}"),
    };
    Page {
        file,
        sub: sub.map(str::to_owned),
        roff,
    }
}

/// What clap does not know: examples, files, environment, exit status, see also.
fn extra_sections(sub: Option<&str>) -> Roff {
    let mut r = Roff::new();
    let examples = examples(sub);
    if !examples.is_empty() {
        r.control("SH", ["EXAMPLES"]);
        for (what, command) in examples {
            r.control("PP", []);
            r.text([roman(what)]);
            r.control("RS", ["4"]);
            r.control("EX", []);
            r.text([roman(command)]);
            r.control("EE", []);
            r.control("RE", []);
        }
    }
    if sub.is_none() {
        r.control("SH", ["FILES"]);
        for (path, what) in FILES {
            r.control("TP", []);
            r.text([italic(path)]);
            r.text([roman(what)]);
        }
        r.control("SH", ["ENVIRONMENT"]);
        for (var, what) in ENVIRONMENT {
            r.control("TP", []);
            r.text([bold(var)]);
            r.text([roman(what)]);
        }
    }
    if sub.is_none() || sub == Some("test") {
        r.control("SH", ["EXIT STATUS"]);
        for (code, what) in exit_codes() {
            r.control("TP", []);
            r.text([bold(code.to_string())]);
            r.text([roman(what)]);
        }
    }
    r.control("SH", ["SEE ALSO"]);
    let mut see: Vec<String> = Vec::new();
    if sub.is_some() {
        see.push(format!("{BIN}(1)"));
    }
    for s in command().get_subcommands() {
        if Some(s.get_name()) != sub {
            see.push(format!("{BIN}-{}(1)", s.get_name()));
        }
    }
    see.push("openvpn(8)".into());
    r.text([roman(see.join(", "))]);
    r.control("PP", []);
    r.text([roman(
        "The README in /usr/share/doc/duo-openvpn/ covers what VPN users type, \
         static challenge, failmode, troubleshooting and migrating from Duo's own plugin.",
    )]);
    r
}

/// `(what it does, the command)` for a page.
fn examples(sub: Option<&str>) -> Vec<(&'static str, &'static str)> {
    match sub {
        None => vec![
            ("The wizard, on a terminal, as root:", "duo-openvpn setup"),
            (
                "The whole wizard in a throw-away sandbox with a Duo stand-in:",
                "duo-openvpn setup --demo",
            ),
            (
                "A live push to a user, with the installed configuration:",
                "duo-openvpn test alice",
            ),
        ],
        Some("setup") => vec![
            ("The wizard:", "duo-openvpn setup"),
            (
                "Without a terminal (configuration management), every answer from flags; \
                 the secret key is read from a file:",
                "duo-openvpn setup --yes --target community \\\n\
                 \x20 --ikey DIXXXXXXXXXXXXXXXXXX --skey-file /root/duo-skey \\\n\
                 \x20 --host api-xxxxxxxx.duosecurity.com \\\n\
                 \x20 --server-config /etc/openvpn/server/server.conf \\\n\
                 \x20 --client-config /root/ovpns",
            ),
            (
                "The same, printing the plan and every diff without changing anything:",
                "duo-openvpn setup --dry-run --yes --ikey DIXXXXXXXXXXXXXXXXXX \\\n\
                 \x20 --skey-file /root/duo-skey --host api-xxxxxxxx.duosecurity.com",
            ),
            (
                "OpenVPN Access Server:",
                "DUO_SKEY=$(cat /root/duo-skey) duo-openvpn setup --yes --target access-server \\\n\
                 \x20 --ikey DIXXXXXXXXXXXXXXXXXX --host api-xxxxxxxx.duosecurity.com",
            ),
            ("A throw-away sandbox:", "duo-openvpn setup --demo --yes"),
        ],
        Some("uninstall") => vec![
            (
                "Show what would be undone:",
                "duo-openvpn uninstall --dry-run",
            ),
            ("Undo it, without asking:", "duo-openvpn uninstall --yes"),
            (
                "Undo the demo's changes:",
                "duo-openvpn uninstall --root /tmp/duo-openvpn-demo-XXXXXX --yes",
            ),
        ],
        Some("status") => vec![
            (
                "What is installed and whether Duo answers:",
                "duo-openvpn status",
            ),
            ("For monitoring:", "duo-openvpn status --json"),
        ],
        Some("test") => vec![
            (
                "A push (or whatever Duo picks) to alice:",
                "duo-openvpn test alice",
            ),
            (
                "A push to alice's second device:",
                "duo-openvpn test alice --factor push2",
            ),
            (
                "A passcode, read from the environment rather than the command line:",
                "DUO_PASSCODE=123456 duo-openvpn test alice --factor passcode",
            ),
            (
                "With another configuration file:",
                "duo-openvpn test alice --config /tmp/duo.toml",
            ),
        ],
        Some(_) => vec![],
    }
}

/// Files the tool reads and writes. The tests check each path against the source.
const FILES: [(&str, &str); 6] = [
    (
        "/etc/duo-openvpn/duo.toml",
        "The configuration: Duo's integration key, secret key and API host, failmode, \
         timeout, and which OpenVPN identity is the Duo user. Written by setup, owned by \
         root and the group OpenVPN runs as, mode 0640 (it holds the secret key). \
         Comments added to it survive later runs of setup.",
    ),
    (
        "/etc/duo-openvpn/ca.pem",
        "The CA bundle given with setup --ca-file, which replaces the roots Duo pins.",
    ),
    (
        "/usr/lib/duo-openvpn/libduo_openvpn_plugin.so",
        "The OpenVPN plugin (Community server), loaded by the plugin line setup adds to the \
         server config.",
    ),
    (
        "/var/lib/duo-openvpn/manifest.json",
        "What setup changed, with backups beside it under /var/lib/duo-openvpn/backup/; read \
         by uninstall and status.",
    ),
    (
        "/usr/share/doc/duo-openvpn/duo.toml.example",
        "An annotated configuration file.",
    ),
    (
        "/var/log/openvpnas.log",
        "Access Server's log, where the post-auth script writes.",
    ),
];

/// Environment variables the tool reads. The tests check each name against the source.
const ENVIRONMENT: [(&str, &str); 3] = [
    (
        "DUO_SKEY",
        "The Duo secret key for setup, instead of --skey-file (a flag value would be visible \
         to every user of the machine).",
    ),
    (
        "DUO_PASSCODE",
        "The passcode for test --factor passcode, instead of the prompt.",
    ),
    (
        "DUO_OPENVPN_PLUGIN_SO",
        "The plugin library setup installs, instead of --plugin-so.",
    ),
];

fn exit_codes() -> [(u8, &'static str); 4] {
    [
        (cli::exit::OK, "Done; for test: the login was allowed."),
        (
            cli::exit::DENIED,
            "test: the login was denied (including not enrolled and locked out); setup \
             --test-user: the test push was refused (after the changes).",
        ),
        (
            cli::exit::USAGE,
            "Usage or configuration error: bad or missing flags, unreadable or invalid files, \
             credentials Duo refuses.",
        ),
        (
            cli::exit::UNAVAILABLE,
            "Duo could not be reached or answered with an error; setup: the OpenVPN service did \
             not restart (what was done is recorded for uninstall).",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every long flag and positional of the command, as written on its page.
    fn flags(cmd: &clap::Command) -> Vec<String> {
        cmd.get_arguments()
            .filter(|a| !a.is_hide_set())
            .flat_map(|a| {
                let mut v = Vec::new();
                if let Some(l) = a.get_long() {
                    v.push(format!("--{l}"));
                }
                if let Some(s) = a.get_short() {
                    v.push(format!("-{s}"));
                }
                if a.is_positional() {
                    v.push(a.get_id().as_str().to_uppercase());
                }
                v
            })
            .collect()
    }

    /// roff writes `-` as `\-`.
    fn in_roff(roff: &str, flag: &str) -> bool {
        roff.contains(&flag.replace('-', "\\-"))
    }

    #[test]
    fn every_subcommand_has_a_page_that_names_every_flag() {
        let cmd = command();
        let pages = man_pages();
        let names: Vec<&str> = pages.iter().map(|p| p.file.as_str()).collect();
        let mut expected = vec!["duo-openvpn.1".to_string()];
        expected.extend(
            cmd.get_subcommands()
                .map(|s| format!("duo-openvpn-{}.1", s.get_name())),
        );
        assert_eq!(names, expected);
        assert!(expected.len() >= 5, "setup, uninstall, status, test");
        for sub in cmd.get_subcommands() {
            let page = pages
                .iter()
                .find(|p| p.sub.as_deref() == Some(sub.get_name()))
                .unwrap();
            let flags = flags(sub);
            assert!(flags.len() > 1, "{}: {flags:?}", sub.get_name());
            for f in flags {
                assert!(
                    in_roff(&page.roff, &f),
                    "{} does not mention {f}",
                    page.file
                );
            }
            assert!(
                page.roff.contains(&format!(
                    ".TH DUO-OPENVPN-{} 1",
                    sub.get_name().to_uppercase()
                )),
                "{}",
                &page.roff[..200]
            );
        }
        // The top page lists the subcommands.
        for sub in cmd.get_subcommands() {
            assert!(in_roff(&pages[0].roff, sub.get_name()));
        }
    }

    #[test]
    fn examples_use_only_flags_the_command_has() {
        let cmd = command();
        for page in man_pages() {
            let sub = page.sub.as_deref().map(|s| cmd.find_subcommand(s).unwrap());
            for (_, example) in examples(page.sub.as_deref()) {
                let words: Vec<&str> = example.split_whitespace().collect();
                assert_eq!(
                    words.iter().find(|w| w.starts_with("duo-openvpn")),
                    Some(&BIN)
                );
                let used_sub = words
                    .iter()
                    .skip_while(|w| **w != BIN)
                    .nth(1)
                    .and_then(|w| cmd.find_subcommand(w))
                    .unwrap_or_else(|| panic!("{example}: no subcommand"));
                if let Some(s) = sub {
                    assert_eq!(s.get_name(), used_sub.get_name(), "{example}");
                }
                let known = flags(used_sub);
                for w in words.iter().filter(|w| w.starts_with('-')) {
                    assert!(
                        known.contains(&w.to_string()),
                        "{example}: {w} is not a flag"
                    );
                }
                // And clap accepts the whole line.
                let argv: Vec<&str> = words
                    .iter()
                    .skip_while(|w| **w != BIN)
                    .filter(|w| **w != "\\")
                    .copied()
                    .collect();
                cli::Cli::command()
                    .try_get_matches_from(&argv)
                    .unwrap_or_else(|e| panic!("{example}: {e}"));
            }
        }
    }

    #[test]
    fn files_and_variables_on_the_page_are_the_ones_the_tool_uses() {
        let src = [
            include_str!("../../src/setup/plan.rs"),
            include_str!("../../src/setup/answers.rs"),
            include_str!("../../src/commands/setup/mod.rs"),
            include_str!("../../src/commands/test.rs"),
            include_str!("../../src/system/root.rs"),
            include_str!("../../src/system/receipt.rs"),
            include_str!("../../src/wizard/mod.rs"),
            include_str!("../../crates/access-server/src/lib.rs"),
            include_str!("../../crates/access-server/src/render.rs"),
            include_str!("../../assets/access-server/duo_post_auth.py"),
        ]
        .concat();
        for (path, _) in FILES {
            if path.starts_with("/usr/share/doc/") {
                let cargo = include_str!("../../Cargo.toml");
                let name = Path::new(path).file_name().unwrap().to_str().unwrap();
                assert!(cargo.contains(name), "{path} is not packaged");
                continue;
            }
            // Constants are written as the full path, or as a directory and a name.
            let (dir, name) = path.rsplit_once('/').unwrap();
            assert!(
                src.contains(&format!("\"{path}\"")) || (src.contains(dir) && src.contains(name)),
                "{path} is not in the source"
            );
        }
        for (var, _) in ENVIRONMENT {
            assert!(src.contains(&format!("\"{var}\"")), "{var} is not read");
        }
    }

    /// Every state the bash script can be in has its `case` arm (clap-rs/clap#6421).
    #[test]
    fn bash_completion_states_have_their_arms() {
        let script = String::from_utf8(completion(Shell::Bash)).unwrap();
        let states: Vec<&str> = script
            .lines()
            .filter_map(|l| l.trim().strip_prefix("cmd=\""))
            .filter_map(|l| l.strip_suffix('"'))
            .filter(|l| !l.is_empty())
            .collect();
        assert!(states.len() > 5, "{states:?}");
        for state in states {
            assert!(
                script.contains(&format!("\n        {state})\n")),
                "no case arm for {state}"
            );
        }
    }

    #[test]
    fn completions_know_every_subcommand_and_flag() {
        let cmd = command();
        for (shell, _) in COMPLETIONS {
            let script = String::from_utf8(completion(shell)).unwrap();
            for sub in cmd.get_subcommands() {
                assert!(
                    script.contains(sub.get_name()),
                    "{shell}: {}",
                    sub.get_name()
                );
                for f in flags(sub).iter().filter(|f| f.starts_with("--")) {
                    // fish writes `-l skey-file`, the others `--skey-file`.
                    let bare = f.trim_start_matches('-');
                    assert!(script.contains(bare), "{shell}: {f}");
                }
            }
        }
    }
}
