//! Uninstall, the engine: everything the manifest records, undone (all or nothing for the
//! files, see `system::manifest::uninstall`), then our state folder and the folders setup made,
//! then a restart. `duo-openvpn uninstall` and the wizard's rollback after a failed restart run
//! this; both hold the lock while it runs.

use crate::system::files::SysPath;
use crate::system::host::Host;
use crate::system::install;
use crate::system::lock;
use crate::system::manifest;
use crate::system::receipt::{Manifest, STATE_DIR, manifest_path};
use crate::system::service;

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
    let _lock = lock::acquire(&tree, &host.process, lock::wait(&host.process), &mut |_| {
        Ok(())
    })
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
