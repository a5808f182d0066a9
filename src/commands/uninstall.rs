//! `duo-openvpn uninstall`: undo exactly what setup recorded in its manifest.

use crate::cli::{UninstallArgs, exit};
use crate::setup::plan::unified;
use crate::system::host::Host;
use crate::system::process::Process;
use crate::system::receipt::{MANIFEST_PATH, Manifest};

pub fn run(args: UninstallArgs, process: &Process) -> u8 {
    let mut host = Host::new(&args.root, process);
    let manifest = match Manifest::load(&host) {
        Ok(Some(m)) => {
            if let Some(d) = &m.bin_dir {
                host = host.with_path_first(std::path::Path::new(d));
            }
            m
        }
        Ok(None) => {
            println!(
                "Nothing to undo: no manifest at {}.",
                host.display_path(MANIFEST_PATH)
            );
            if args.dry_run {
                return exit::OK;
            }
            // A setup killed before its first record leaves at most our own state folder.
            return match crate::setup::undo::undo(&host, false) {
                Ok(lines) => {
                    for l in lines.iter().filter(|l| *l != "nothing to undo") {
                        println!("{l}");
                    }
                    exit::OK
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    exit::USAGE
                }
            };
        }
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    println!("{}", describe(&host, &manifest));
    if args.dry_run {
        let diffs = undo_diffs(&host, &manifest);
        if !diffs.is_empty() {
            println!("{diffs}");
        }
        println!("(dry run: nothing changed)");
        return exit::OK;
    }
    if !args.yes {
        if !host.process.stdin_terminal {
            eprintln!(
                "error: no terminal to confirm on; run again with --yes to undo without asking"
            );
            return exit::USAGE;
        }
        crate::ui::line::init(&host.process);
        match crate::ui::line::confirm(
            "Undo all of this?",
            false,
            Some("y undoes it, n (or Enter) changes nothing"),
        ) {
            Ok(true) => {}
            Ok(false) | Err(crate::ui::line::Stop::Quit) => {
                println!("Nothing changed.");
                return exit::OK;
            }
            Err(crate::ui::line::Stop::Failed(e)) => {
                eprintln!("error: {e}; run again with --yes to undo without asking");
                return exit::USAGE;
            }
        }
    }
    match crate::setup::undo::undo(&host, !args.no_restart) {
        Ok(lines) => {
            for l in lines {
                println!("{l}");
            }
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::USAGE
        }
    }
}

/// What uninstall will do, for the confirmation.
pub fn describe(host: &Host, m: &Manifest) -> String {
    let mut s = format!(
        "Recorded by setup in {}:\n",
        host.display_path(MANIFEST_PATH)
    );
    for e in &m.edited {
        s.push_str(&format!(
            "  {}: undo {} change{}\n",
            e.path,
            e.changes.len(),
            if e.changes.len() == 1 { "" } else { "s" }
        ));
        for c in &e.changes {
            s.push_str(&format!("    {c}\n"));
        }
        if let Some(who) = crate::system::detect::template_of(e.path.as_str()) {
            s.push_str(&format!(
                "    (the template of {who}: profiles made from it since setup keep the Duo \
                 lines; edit them by hand if those users should log in without Duo)\n"
            ));
        }
    }
    for i in &m.installed {
        match &i.backup {
            Some(_) => s.push_str(&format!(
                "  {}: {}; put back what was there before\n",
                i.path, i.what
            )),
            None => s.push_str(&format!("  {}: {}; removed\n", i.path, i.what)),
        }
    }
    if let Some(r) = &m.access_server {
        s.push_str(&format!(
            "  Access Server: remove our post-auth script{} ({} start)\n",
            if r.previous.is_some() {
                " and put the previous one back"
            } else {
                ""
            },
            r.sacli.display()
        ));
        // The script put back is described, never quoted: it may carry someone's secret key.
        if let Some(prev) = r.previous.as_deref().filter(|p| !p.trim().is_empty()) {
            for l in access_server::ScriptSummary::of(prev).lines() {
                s.push_str(&format!("    {l}\n"));
            }
        }
    }
    if let Some(u) = &m.unit {
        s.push_str(&format!("  then restart {u}\n"));
    }
    s
}

/// What undoing the recorded changes does to each edited file as it is now, as diffs with the
/// secrets masked (plan::unified), for `--dry-run`. A file that cannot be read is named.
fn undo_diffs(host: &Host, m: &Manifest) -> String {
    let mut out = String::new();
    for e in &m.edited {
        let current = match host.root.tree().read(&e.target()) {
            Ok((b, _)) => b,
            Err(err) => {
                out.push_str(&format!("{}: {err:#}\n", e.path));
                continue;
            }
        };
        match ovpn_config::Document::from_bytes(&current) {
            Ok(mut doc) => {
                ovpn_config::undo_all(&mut doc, &e.changes);
                out.push_str(&unified(&e.path, &current, &doc.render()));
            }
            Err(err) => out.push_str(&format!("{}: {err}\n", e.path)),
        }
    }
    out
}
