//! Find the [Osaurus](https://github.com/osaurus-ai/osaurus) servers running
//! on this machine.
//!
//! Osaurus publishes where its server listens in small JSON files,
//! `~/.osaurus/runtime/<instanceId>/configuration.json` (and, for older
//! versions, two legacy folders). This crate is the one home of the rules for
//! reading them: which folders to look in, how one file is read and
//! validated, which instance is the best one, whether it answers (on
//! 127.0.0.1 only), what else is known about it, and how to keep all of it
//! current as the files change. It has no GUI dependency.
//!
//! ```no_run
//! use osaurus_discovery::{discovery::RuntimeDirs, probe::Prober, snapshot::Snapshot};
//!
//! let dirs = RuntimeDirs::resolve(None, std::env::var_os("HOME").map(Into::into));
//! let snapshot = Snapshot::take(&dirs, Some(&Prober::default()));
//! match snapshot.best().and_then(|best| best.url.as_deref()) {
//!     Some(url) => println!("Osaurus is at {url}"),
//!     None => eprintln!("Osaurus is not running"),
//! }
//! ```
//!
//! The modules, a functional core with a thin shell of side effects:
//!
//! - [`discovery`]: where Osaurus publishes its instances, how one instance
//!   folder is read, which instance is the best one (core + file reading).
//! - [`probe`]: loopback-only `/health` probes (shell).
//! - [`round`]: one probe round, the same for `list` and the watcher.
//! - [`leftover`]: the one rule for "is this folder a crash leftover" (core).
//! - [`interfaces`]: this machine's interface addresses (shell; its rules are core).
//! - [`key`]: the access key for `/v1/models`, kept out of every output.
//! - [`process`]: which process listens on a TCP port (shell; its table parsing is core).
//! - [`inspect`]: models, owning process, duplicates, exposure checks (core + probes).
//! - [`exposure`]: agents tunnelled to the internet and CORS open to any
//!   website, from Osaurus's settings (core + file reading + a small watch).
//! - [`snapshot`]: the set of instances at one moment, as every consumer sees it.
//! - [`watcher`]: keeps a [`snapshot::Snapshot`] current from file-system events (shell).
//! - [`prune`]: removing crash leftovers, safely (shell).
//! - [`text`]: making what files say safe to show, and shell quoting.
//!
//! The examples `discover` (the best instance's URL), `watch` (every
//! change) and `models` do what the discovery guide's Swift and JavaScript
//! samples do.

#![deny(missing_docs)]

pub mod discovery;
pub mod exposure;
pub mod inspect;
pub mod interfaces;
pub mod key;
pub mod leftover;
pub mod probe;
pub mod process;
pub mod prune;
pub mod round;
pub mod snapshot;
pub mod text;
pub mod watcher;
