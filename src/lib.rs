//! osaurus-tray: find the Osaurus servers running on this machine, and show
//! them in the menu bar.
//!
//! The crate is a functional core with a thin imperative shell:
//!
//! - [`discovery`]: where Osaurus publishes its instances, how one instance
//!   folder is read, which instance is the best one (core + file reading).
//! - [`probe`]: loopback-only `/health` probes (shell).
//! - [`process`]: which process listens on a TCP port (shell; its table parsing is core).
//! - [`snapshot`]: the set of instances at one moment, as every consumer sees it.
//! - [`watcher`]: keeps a [`snapshot::Snapshot`] current from file-system events (shell).
//! - [`menu_model`]: what the menu says for a snapshot (core).
//! - [`icon`]: the tray icon's artwork, drawn by code (core).
//! - [`tray`]: the menu-bar app: event loop, tray icon, clipboard, browser (shell).
//! - [`demo`]: fake Osaurus servers for trying the app without Osaurus.
//! - [`settings`]: the user's choices, kept in the config folder.
//! - [`autostart`]: launch at login (XDG autostart, LaunchAgent).
//! - [`notifications`]: which changes deserve a desktop notification (core).
//! - [`single_instance`]: one tray at a time.
//! - [`inspect`]: models, owning process, duplicates and crash leftovers (core + probes).
//! - [`prune`]: removing crash leftovers, safely (shell).
//! - [`text`]: small formatting helpers shared by the command line and the menu.
//! - [`cmd`]: one module per command-line subcommand.

pub use osaurus_discovery::{
    discovery, inspect, interfaces, key, leftover, probe, process, prune, round, snapshot, text, watcher,
};

pub mod autostart;
pub mod browser;
pub mod cli;
pub mod cmd;
pub mod demo;
pub mod gui;
pub mod icon;
pub mod menu_model;
pub mod notifications;
pub mod settings;
pub mod single_instance;
