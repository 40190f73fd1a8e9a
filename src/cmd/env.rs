//! `osaurus-tray env`: shell exports for OpenAI-compatible clients.

use clap::Args;

use super::Outcome;
use crate::cli::ProbeArgs;
use crate::discovery::{Instance, RuntimeDirs};
use crate::text::export_line;

/// Print `export` lines for `eval "$(osaurus-tray env)"`.
#[derive(Debug, Args)]
pub struct Env {
    #[command(flatten)]
    pub probe: ProbeArgs,
}

impl Env {
    /// Prints the exports for the best instance.
    pub fn run(&self, dirs: &RuntimeDirs) -> Outcome {
        let best = super::best(dirs, self.probe)?;
        super::emit(&exports(&best))
    }
}

/// The lines `env` prints for `instance`.
pub fn exports(instance: &Instance) -> String {
    let base = instance.openai_base_url().unwrap_or_default();
    format!("{}\n{}\n", export_line("OPENAI_BASE_URL", &base), export_line("OPENAI_API_BASE", &base))
}
