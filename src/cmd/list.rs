//! `osaurus-tray list`: the instances, best first.

use chrono::Utc;
use clap::Args;

use super::{Failure, Outcome};
use crate::cli::ProbeArgs;
use crate::discovery::{Instance, RuntimeDirs};
use crate::listing::human;
use crate::snapshot::Snapshot;

/// List running instances, best first.
#[derive(Debug, Args)]
pub struct List {
    /// Print one JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also show starting, restarting, unknown and invalid entries, with the reason.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub probe: ProbeArgs,
}

impl List {
    /// Prints the list; fails with "none found" when it is empty.
    pub fn run(&self, dirs: &RuntimeDirs) -> Outcome {
        let snap = super::snapshot(dirs, self.probe);
        super::print_warnings(&snap);
        let shown = selection(&snap, self.all);
        if self.json {
            super::emit(&format!("{}\n", to_json(&shown)))?;
        } else if !shown.is_empty() {
            super::emit(&human(&shown, self.all, Utc::now()))?;
        }
        if shown.is_empty() {
            return Err(match self.all {
                true => Failure::NotFound(format!("No Osaurus instance folders found in {}.", dirs.describe())),
                false => super::none_running(dirs),
            });
        }
        Ok(())
    }
}

/// The entries `list` shows: running ones, or with `all` every entry.
pub fn selection(snap: &Snapshot, all: bool) -> Vec<&Instance> {
    snap.all().filter(|i| all || i.is_running()).collect()
}

/// The JSON array `list --json` prints.
pub fn to_json(instances: &[&Instance]) -> String {
    serde_json::to_string_pretty(instances).expect("instances always serialise")
}
