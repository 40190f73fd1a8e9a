//! `osaurus-tray` / `osaurus-tray tray`: the menu-bar app.

use std::time::Duration;

use clap::Args;

use super::Outcome;
use crate::discovery::RuntimeDirs;
use crate::tray;

/// Run the menu-bar app.
#[derive(Debug, Args)]
pub struct Tray {
    /// Seconds between probes of running instances.
    #[arg(long, value_name = "S", default_value_t = 10.0, value_parser = super::watch::parse_interval)]
    pub probe_interval: f64,
}

impl Default for Tray {
    fn default() -> Self {
        Tray {
            probe_interval: 10.0,
        }
    }
}

impl Tray {
    /// Runs until Quit; never returns.
    pub fn run(&self, dirs: &RuntimeDirs) -> Outcome {
        let options = tray::Options {
            probe_interval: Duration::from_secs_f64(self.probe_interval),
            lan_title: true,
        };
        tray::run(dirs.clone(), options, Box::new(()))
    }
}
