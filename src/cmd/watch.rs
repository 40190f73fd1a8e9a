//! todo
use super::Outcome;
use crate::discovery::RuntimeDirs;
use clap::Args;

/// todo
#[derive(Debug, Args, Default)]
pub struct Watch {}

impl Watch {
    /// todo
    pub fn run(&self, _dirs: &RuntimeDirs) -> Outcome {
        Ok(())
    }
}
