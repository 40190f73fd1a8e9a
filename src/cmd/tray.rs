//! todo
use super::Outcome;
use crate::discovery::RuntimeDirs;
use clap::Args;

/// todo
#[derive(Debug, Args, Default)]
pub struct Tray {}

impl Tray {
    /// todo
    pub fn run(&self, _dirs: &RuntimeDirs) -> Outcome {
        Ok(())
    }
}
