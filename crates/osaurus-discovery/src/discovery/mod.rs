//! Discovery: which Osaurus instances exist on this machine.
//!
//! [`runtime_dir`] says where to look, [`config`] turns the bytes of one
//! `configuration.json` into an [`Instance`] (pure), [`read`] reads one
//! instance folder safely, [`scan`] reads them all, and [`select`] orders them
//! best first (pure).

pub mod config;
pub mod instance;
pub mod read;
pub mod runtime_dir;
pub mod scan;
pub mod select;

pub use instance::{Instance, LanAccess, State};
pub use runtime_dir::RuntimeDirs;
