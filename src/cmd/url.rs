//! `osaurus-tray url`: print the best instance's URL.

use clap::Args;

use super::Outcome;
use crate::cli::ProbeArgs;
use crate::discovery::RuntimeDirs;

/// Print the URL of the best running instance.
#[derive(Debug, Args)]
pub struct Url {
    #[command(flatten)]
    pub place: crate::cli::Place,
    #[command(flatten)]
    pub probe: ProbeArgs,
}

impl Url {
    /// Prints the URL and a newline.
    pub fn run(&self, dirs: &RuntimeDirs) -> Outcome {
        let best = super::best(dirs, self.probe)?;
        super::emit(&format!("{}\n", best.usable_url().unwrap_or_default()))
    }
}
