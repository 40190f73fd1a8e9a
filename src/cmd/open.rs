//! `osaurus-tray open`: open the best instance in the browser.

use clap::Args;

use super::{Failure, Outcome};
pub use crate::browser::{browser_url, open_in_browser};
use crate::cli::ProbeArgs;
use crate::discovery::RuntimeDirs;

/// Open the best running instance in the default browser.
#[derive(Debug, Args)]
pub struct Open {
    #[command(flatten)]
    pub place: crate::cli::Place,
    #[command(flatten)]
    pub probe: ProbeArgs,
}

impl Open {
    /// Opens the chosen URL; refuses anything but http(s).
    pub fn run(&self, dirs: &RuntimeDirs) -> Outcome {
        let best = super::best(dirs, self.probe)?;
        let url = best.usable_url().unwrap_or_default().to_owned();
        open_in_browser(&url).map_err(Failure::Other)
    }
}
