//! osaurus-tray: find the Osaurus servers running on this machine, and show
//! them in the menu bar.
//!
//! The crate is a functional core with a thin imperative shell:
//!
//! - [`discovery`]: where Osaurus publishes its instances, how one instance
//!   folder is read, which instance is the best one (core + file reading).
//! - [`probe`]: loopback-only `/health` probes (shell).
//! - [`round`]: one probe round, the same for `list` and the watcher.
//! - [`leftover`]: the one rule for "is this folder a crash leftover".
//! - [`interfaces`]: this machine's interface addresses.
//! - [`key`]: the access key for `/v1/models`, kept out of every output.
//! - [`process`]: which process listens on a TCP port (shell; its table parsing is core).
//! - [`exposure`]: relay tunnels and CORS open to any website, from Osaurus's settings.
//! - [`snapshot`]: the set of instances at one moment, as every consumer sees it.
//! - [`watcher`]: keeps a [`snapshot::Snapshot`] current from file-system events (shell).
//! - [`listing`]: the table `list` and `watch` print for a person (core).
//! - [`menu_model`]: what the menu says for a snapshot (core).
//! - [`icon`]: the tray icon's artwork, drawn by code (core).
//! - [`gui`]: what the commands need of the menu-bar app, and starting it.
//! - [`browser`]: the one gate between a URL and the browser.
//! - [`demo`]: fake Osaurus servers for trying the app without Osaurus.
//! - [`settings`]: the user's choices, kept in the config folder.
//! - [`key_store`]: where the access key is kept (keychain, private file) and found.
//! - [`autostart`]: launch at login (XDG autostart, LaunchAgent).
//! - [`notifications`]: which changes deserve a desktop notification (core).
//! - [`single_instance`]: one tray at a time.
//! - [`control`]: the control messages Osaurus obeys, and whether they took (core + waiting).
//! - [`inspect`]: models, owning process, duplicates, exposure checks (core + probes).
//! - [`prune`]: removing crash leftovers, safely (shell).
//! - [`text`]: small formatting helpers shared by the command line and the menu.
//! - [`cli`]: the command line's flags, and running a command.
//! - [`cmd`]: one module per command-line subcommand.
//!
//! The menu-bar app itself (event loop, tray icon, clipboard) is the
//! `osaurus-tray-app` executable, `src/app/`, built on this crate.

pub use osaurus_discovery::{
    discovery, exposure, inspect, interfaces, key, leftover, probe, process, prune, round, snapshot, text, watcher,
};

pub mod autostart;
pub mod browser;
pub mod cli;
pub mod cmd;
pub mod control;
pub mod demo;
pub mod gui;
pub mod icon;
pub mod key_store;
pub mod listing;
pub mod menu_model;
pub mod notifications;
pub mod settings;
pub mod single_instance;
#[cfg(test)]
mod test_support;
pub mod vocabulary;
