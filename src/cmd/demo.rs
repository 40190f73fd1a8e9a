//! todo
use super::Outcome;
use clap::Args;

/// todo
#[derive(Debug, Args, Default)]
pub struct Demo {}

impl Demo {
    /// todo
    pub fn run(&self) -> Outcome {
        Ok(())
    }
}
