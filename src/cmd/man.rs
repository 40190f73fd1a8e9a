//! `osaurus-tray man`: the man page, generated from the clap definitions.

use clap::{Args, CommandFactory};

use super::{Failure, Outcome};
use crate::cli::Cli;

/// Print the man page.
#[derive(Debug, Args)]
pub struct Man {}

impl Man {
    /// Writes the roff man page to stdout.
    pub fn run(&self) -> Outcome {
        clap_mangen::Man::new(Cli::command())
            .render(&mut std::io::stdout())
            .map_err(|e| Failure::Other(format!("cannot write the man page: {e}")))
    }
}
