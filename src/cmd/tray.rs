//! `osaurus-tray` / `osaurus-tray tray`: the menu-bar app.

use std::time::Duration;

use clap::Args;

use super::{Failure, Outcome};
use crate::discovery::RuntimeDirs;
use crate::gui::{self, Gui};

/// Run the menu-bar app.
#[derive(Debug, Args, Default)]
pub struct Tray {
    #[command(flatten)]
    pub place: crate::cli::Place,
    /// Seconds between hang checks of a running server (default: the saved setting, 300).
    #[arg(long, value_name = "S", value_parser = crate::cli::parse_interval)]
    pub probe_interval: Option<f64>,
}

impl Tray {
    /// Runs until Quit; never returns unless another tray is running.
    /// Without `gui` (the command-line executable), starts the app instead.
    pub fn run(&self, dirs: &RuntimeDirs, gui: Option<&dyn Gui>) -> Outcome {
        let Some(gui) = gui else { return Err(Failure::Other(gui::exec_app())) };
        let lock = gui.lock().map_err(Failure::Other)?;
        let options =
            gui::Options { probe_interval: self.probe_interval.map(Duration::from_secs_f64), settings_path: None };
        gui.run(dirs.clone(), options, lock, Box::new(()))
    }
}
