//! `osaurus-tray list`: the instances, best first.

use chrono::Utc;
use clap::Args;

use super::{Failure, Outcome};
use crate::cli::ProbeArgs;
use crate::discovery::{Instance, RuntimeDirs};
use crate::exposure::{self, Exposure};
use crate::listing::{exposure_lines, human};
use crate::snapshot::Snapshot;
use crate::text::sanitize;

/// List running instances, best first.
#[derive(Debug, Args)]
pub struct List {
    #[command(flatten)]
    pub place: crate::cli::Place,
    /// Print one JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also show starting, restarting, unknown and invalid entries, with the reason.
    #[arg(long)]
    pub all: bool,
    /// With --json: one object {"instances": [...], "exposure": {...}}
    /// instead of the array, adding relay tunnels and CORS from Osaurus's settings.
    #[arg(long, requires = "json")]
    pub exposure: bool,
    #[command(flatten)]
    pub probe: ProbeArgs,
}

impl List {
    /// Prints the list; fails with "none found" when it is empty.
    pub fn run(&self, dirs: &RuntimeDirs) -> Outcome {
        let snap = super::snapshot(dirs, self.probe);
        super::print_warnings(&snap);
        let shown = selection(&snap, self.all);
        let web = read_exposure(dirs, &snap);
        for p in &web.problems {
            say!("osaurus-tray: {}", sanitize(p, 240));
        }
        if self.json && self.exposure {
            super::emit(&format!("{}\n", with_exposure(&shown, &web)))?;
        } else if self.json {
            super::emit(&format!("{}\n", to_json(&shown)))?;
        } else if !shown.is_empty() {
            super::emit(&human(&shown, self.all, Utc::now()))?;
        }
        if !self.json {
            for line in exposure_lines(&web) {
                super::emit(&format!("{line}\n"))?;
            }
        }
        if shown.is_empty() {
            return Err(match self.all {
                true => {
                    super::missing_folder(dirs).or_else(|| super::unread_folders(dirs, &snap)).unwrap_or_else(|| {
                        Failure::NotFound(format!("No Osaurus instance folders found in {}.", dirs.describe()))
                    })
                }
                false => super::none_running(dirs, &snap),
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

/// Osaurus's settings beside `snap`: in effect when an instance runs.
pub fn read_exposure(dirs: &RuntimeDirs, snap: &Snapshot) -> Exposure {
    let read = exposure::data_root(dirs).map(|root| exposure::read(&root)).unwrap_or_default();
    read.while_running(snap.running().next().is_some())
}

/// The object `list --json --exposure` prints.
pub fn with_exposure(instances: &[&Instance], exposure: &Exposure) -> String {
    let v = serde_json::json!({ "instances": instances, "exposure": exposure });
    serde_json::to_string_pretty(&v).expect("instances always serialise")
}
