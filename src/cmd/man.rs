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
        let mut page = Vec::new();
        clap_mangen::Man::new(Cli::command())
            .render(&mut page)
            .map_err(|e| Failure::Other(format!("cannot make the man page: {e}")))?;
        super::emit(&String::from_utf8_lossy(&page))
    }
}
