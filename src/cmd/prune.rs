//! `osaurus-tray prune`: remove instance folders left behind by a crash.

use std::thread::sleep;
use std::time::Instant;

use clap::Args;

use super::{Failure, Outcome};
use crate::discovery::read::read_instance;
use crate::discovery::{Instance, RuntimeDirs};
use crate::leftover::{no_server, Leftovers, LEFTOVER_AFTER};
use crate::probe::Prober;
use crate::prune::Removal;
use crate::snapshot::Snapshot;
use crate::text::sanitize;

/// Remove crash leftovers: folders that say running, on whose port no
/// Osaurus answers (refused, or another program answers) twice, 10 s apart;
/// every copy, in every base folder.
#[derive(Debug, Args)]
pub struct Prune {
    /// Only list what would be removed.
    #[arg(long)]
    pub dry_run: bool,
}

impl Prune {
    /// Finds the leftovers (taking about 10 s) and removes every copy of
    /// each, in every base folder.
    pub fn run(&self, dirs: &RuntimeDirs) -> Outcome {
        let prober = Prober::default();
        let snap = Snapshot::take(dirs, None);
        super::print_warnings(&snap);
        // Every copy of every running id: Osaurus copies old folders back
        // into ~/.osaurus at launch, so each copy is judged on its own.
        let copies: Vec<Instance> = snap
            .running()
            .flat_map(|i| crate::prune::copies(dirs, i).into_iter().map(move |p| (i, p)))
            .map(|(i, path)| if path == i.dir { i.clone() } else { read_instance(&path, i.instance_id.clone()) })
            .filter(Instance::is_running)
            .collect();
        // One look at each copy's port, by the one leftover rule; two looks
        // LEFTOVER_AFTER apart make a leftover.
        let mut looks = Leftovers::default();
        let mut look = |i: &Instance, say: bool| {
            let Some(port) = i.port else { return (false, false) };
            let outcome = prober.health(port);
            let found = no_server(port, &outcome, crate::process::Listeners::read().as_ref());
            if let (Err(live), true) = (&found, say && crate::leftover::is_gone(&outcome)) {
                say!("osaurus-tray: kept {}: {live}", shown(i));
            }
            let leftover = looks.observe(&i.dir.to_string_lossy(), port, found.is_ok(), Instant::now());
            (found.is_ok(), leftover)
        };
        let suspects: Vec<&Instance> = copies.iter().filter(|i| look(i, true).0).collect();
        if suspects.is_empty() && !snap.warnings.is_empty() {
            return Err(Failure::Other("Some runtime folders could not be read (see above); nothing removed.".into()));
        }
        if suspects.is_empty() {
            say!("No leftovers: a server answers or listens on every running entry's port.");
            return Ok(());
        }
        say!(
            "{} entr{} had no Osaurus on {} port; checking again in {} s…",
            suspects.len(),
            if suspects.len() == 1 { "y" } else { "ies" },
            if suspects.len() == 1 { "its" } else { "their" },
            LEFTOVER_AFTER.as_secs()
        );
        sleep(LEFTOVER_AFTER);
        let leftovers: Vec<&Instance> = suspects.into_iter().filter(|i| look(i, false).1).collect();
        if leftovers.is_empty() {
            say!("No leftovers: the servers came back.");
            return Ok(());
        }
        let mut kept = 0;
        for i in leftovers {
            let what = shown(i);
            let gone =
                || say!("osaurus-tray: {what} is no longer there (moved or removed meanwhile); nothing was removed");
            if self.dry_run {
                match std::fs::symlink_metadata(&i.dir) {
                    Ok(_) => super::emit(&format!("would remove {what}\n"))?,
                    Err(_) => gone(),
                }
                continue;
            }
            match crate::prune::remove_checked(i, &prober) {
                Ok(Removal::Removed) => super::emit(&format!("removed {what}\n"))?,
                Ok(Removal::AlreadyGone) => gone(),
                Err(why) => {
                    say!("osaurus-tray: {why}");
                    kept += 1;
                }
            }
        }
        if kept == 0 && !snap.warnings.is_empty() {
            return Err(Failure::Other("Some runtime folders could not be read (see above).".into()));
        }
        match kept {
            0 => Ok(()),
            n => Err(Failure::Other(format!(
                "{n} leftover entr{} kept (see above).",
                if n == 1 { "y was" } else { "ies were" }
            ))),
        }
    }
}

/// An entry as `prune` names it: its short id and its folder, sanitised.
fn shown(i: &Instance) -> String {
    format!("{} {}", sanitize(i.short_id(), 96), sanitize(&i.dir.display().to_string(), 400))
}
