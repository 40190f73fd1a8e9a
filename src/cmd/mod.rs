//! One module per subcommand, each with its flags and its `run`.

pub mod completions;
pub mod demo;
pub mod env;
pub mod list;
pub mod man;
pub mod models;
pub mod open;
pub mod prune;
pub mod tray;
pub mod url;
pub mod watch;

use std::fmt;

use crate::cli::ProbeArgs;
use crate::discovery::{Instance, RuntimeDirs};
use crate::probe::Prober;
use crate::snapshot::Snapshot;

/// Why a command did not succeed; `main` prints it and exits with its code.
#[derive(Debug)]
pub enum Failure {
    /// No instance qualifies (exit 1).
    NotFound(String),
    /// Anything else that went wrong (exit 1).
    Other(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::NotFound(m) | Failure::Other(m) => f.write_str(m),
        }
    }
}

/// What every command returns.
pub type Outcome = Result<(), Failure>;

/// Takes a snapshot, probing unless `--no-probe` was given.
pub fn snapshot(dirs: &RuntimeDirs, probe: ProbeArgs) -> Snapshot {
    let prober = (!probe.no_probe).then(Prober::default);
    Snapshot::take(dirs, prober.as_ref())
}

/// The sentence used when nothing runs.
pub fn none_running(dirs: &RuntimeDirs) -> Failure {
    Failure::NotFound(format!("No running Osaurus instance found in {}.", dirs.describe()))
}

/// The best running instance, or the "none found" failure.
pub fn best(dirs: &RuntimeDirs, probe: ProbeArgs) -> Result<Instance, Failure> {
    let snap = snapshot(dirs, probe);
    print_warnings(&snap);
    snap.best().cloned().ok_or_else(|| none_running(dirs))
}

/// Prints problems with the runtime folders themselves on stderr.
pub fn print_warnings(snap: &Snapshot) {
    for w in &snap.warnings {
        eprintln!("osaurus-tray: {w}");
    }
}
