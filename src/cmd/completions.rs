//! `osaurus-tray completions SHELL`: shell completions from the clap definitions.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::Outcome;
use crate::cli::Cli;

/// Print shell completions.
#[derive(Debug, Args)]
pub struct Completions {
    /// The shell to complete for.
    pub shell: Shell,
}

impl Completions {
    /// Writes the completion script to stdout.
    pub fn run(&self) -> Outcome {
        // Made in memory first: clap_complete panics when a write fails.
        let mut script = Vec::new();
        clap_complete::generate(self.shell, &mut Cli::command(), "osaurus-tray", &mut script);
        super::emit(&String::from_utf8_lossy(&script))
    }
}
