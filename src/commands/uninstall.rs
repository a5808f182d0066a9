//! `duo-openvpn uninstall`: undo exactly what setup recorded in its manifest.

use std::io::{BufRead, IsTerminal, Write};

use crate::cli::{UninstallArgs, exit};
use crate::commands::setup::plan::unified;
use crate::system::files::SysPath;
use crate::system::host::Host;
use crate::system::install;
use crate::system::lock;
use crate::system::manifest;
use crate::system::receipt::{MANIFEST_PATH, Manifest, STATE_DIR, manifest_path};
use crate::system::service;

pub fn run(args: UninstallArgs) -> u8 {
    let mut host = Host::new(&args.root);
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
            return match undo(&host, false) {
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
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            eprintln!(
                "error: no terminal to confirm on; run again with --yes to undo without asking"
            );
            return exit::USAGE;
        }
        print!("Undo all of this? [y/N] ");
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        if stdin.lock().read_line(&mut line).is_err() || !matches!(line.trim(), "y" | "Y" | "yes") {
            println!("Nothing changed.");
            return exit::OK;
        }
    }
    match undo(&host, !args.no_restart) {
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
        let current = match std::fs::read(host.path(&e.path)) {
            Ok(b) => b,
            Err(err) => {
                out.push_str(&format!("{}: cannot read: {err}\n", e.path));
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

/// Undo everything in the manifest; one line per file on what was done. Takes the lock: a
/// setup running now is waited for, or this changes nothing.
pub fn undo(host: &Host, restart: bool) -> Result<Vec<String>, String> {
    let tree = host.root.tree();
    if tree
        .entry(&SysPath::normalize(STATE_DIR))
        .map_err(|e| format!("{e:#}"))?
        .is_none()
    {
        return Ok(vec!["nothing to undo".into()]);
    }
    let _lock = lock::acquire(&tree, lock::wait(), &mut |_| Ok(()))
        .map_err(|e| format!("{e:#}"))?
        .map_err(|busy| busy.to_string())?;
    undo_locked(host, restart)
}

/// [`undo`] for a caller that holds the lock (setup's rollback).
pub fn undo_locked(host: &Host, restart: bool) -> Result<Vec<String>, String> {
    let tree = host.root.tree();
    let state_dir = SysPath::normalize(STATE_DIR);
    let Some(m) = Manifest::load(host)? else {
        // A setup that died before its first record: only our state folder can be left.
        return Ok(
            match tree
                .clear_tree(&state_dir)
                .map(|_| tree.remove_empty_dir(&state_dir))
            {
                Ok(true) => vec![format!(
                    "{}: removed (no manifest in it: setup stopped before changing anything else)",
                    host.display_path(STATE_DIR)
                )],
                _ => vec!["nothing to undo".into()],
            },
        );
    };
    let mut out = Vec::new();
    let mut problems = Vec::new();
    if let Some(r) = &m.access_server {
        let sacli = access_server::SacliCommand::new(&r.sacli);
        match access_server::uninstall(&sacli, r, None) {
            Ok(rep) => {
                out.push(
                    format!("Access Server post-auth script: {:?}", rep.outcome).to_lowercase(),
                );
                out.extend(rep.notes.iter().map(|n| format!("  {n}")));
            }
            Err(e) => {
                // Keep the manifest: it holds what is needed to try again.
                return Err(format!("Access Server: {e}; nothing was undone"));
            }
        }
    }
    // Every edited and installed file, all or nothing (system::manifest).
    let reports = manifest::uninstall(&tree, &m).map_err(|e| format!("{e:#}"))?;
    out.extend(reports.iter().map(|r| r.to_string()));
    // The manifest first (a crash after it leaves only our own folder, which a second
    // uninstall removes), then the state folder whole (backups, lock), then the folders setup
    // created.
    tree.remove(&manifest_path())
        .map_err(|e| format!("{e:#}"))?;
    let kept: Vec<&String> = reports
        .iter()
        .filter_map(|r| match r {
            manifest::FileReport::Missing {
                backup: Some(b), ..
            }
            | manifest::FileReport::Unreachable { backup: b, .. } => Some(b),
            _ => None,
        })
        .collect();
    if kept.is_empty() {
        // Everything in our own folder (backups, the lock, what a crash left); a run waiting
        // for the lock may create its own lock file meanwhile, which is then its own.
        if let Err(e) = tree.clear_tree(&state_dir) {
            out.push(format!(
                "{}: not emptied: {e:#}",
                host.display_path(STATE_DIR)
            ));
        }
    } else {
        // The only copy of a file that is gone stays; every other backup goes.
        let backups = m
            .edited
            .iter()
            .map(|e| &e.backup)
            .chain(m.installed.iter().filter_map(|i| i.backup.as_ref()));
        for b in backups.filter(|b| !kept.contains(b)) {
            let _ = tree.remove(&SysPath::normalize(b));
        }
    }
    for d in install::remove_empty_dirs(&tree, &m.created_dirs) {
        out.push(format!("{d}: removed (empty)"));
    }
    tree.remove_empty_dir(&state_dir);
    if restart && let Some(u) = &m.unit {
        match service::restart(host, u) {
            Ok(state) => out.push(format!("{u}: restarted, {state}")),
            Err(e) => problems.push(format!("{u}: {e}")),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        out.extend(problems.iter().map(|p| format!("problem: {p}")));
        Err(out.join("\n"))
    }
}
