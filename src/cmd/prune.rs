//! `osaurus-tray prune`: remove instance folders left behind by a crash.

use std::thread::sleep;

use clap::Args;

use super::{Failure, Outcome};
use crate::discovery::{Instance, RuntimeDirs};
use crate::inspect::LEFTOVER_AFTER;
use crate::probe::{Outcome as Probe, Prober};
use crate::snapshot::Snapshot;

/// Remove crash leftovers: folders that say running, whose port refuses
/// connections twice, 10 s apart.
#[derive(Debug, Args)]
pub struct Prune {
    /// Only list what would be removed.
    #[arg(long)]
    pub dry_run: bool,
}

impl Prune {
    /// Finds the leftovers (taking about 10 s) and removes them.
    pub fn run(&self, dirs: &RuntimeDirs) -> Outcome {
        let prober = Prober::default();
        let snap = Snapshot::take(dirs, None);
        super::print_warnings(&snap);
        let refused = |i: &Instance| i.port.is_some_and(|p| prober.health(p) == Probe::Refused);
        let suspects: Vec<&Instance> = snap.running().filter(|i| refused(i)).collect();
        if suspects.is_empty() {
            eprintln!("No leftovers: every running entry's port accepts connections.");
            return Ok(());
        }
        eprintln!(
            "{} entr{} refused connections; checking again in {} s…",
            suspects.len(),
            if suspects.len() == 1 { "y" } else { "ies" },
            LEFTOVER_AFTER.as_secs()
        );
        sleep(LEFTOVER_AFTER);
        let leftovers: Vec<&Instance> = suspects.into_iter().filter(|i| refused(i)).collect();
        if leftovers.is_empty() {
            eprintln!("No leftovers: the servers came back.");
            return Ok(());
        }
        let mut kept = 0;
        for i in leftovers {
            let what = format!("{} {}", i.short_id(), i.dir.display());
            if self.dry_run {
                println!("would remove {what}");
                continue;
            }
            match crate::prune::remove(i, &prober) {
                Ok(()) => println!("removed {what}"),
                Err(why) => {
                    eprintln!("osaurus-tray: {why}");
                    kept += 1;
                }
            }
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
