//! What the discovery guide's Swift sample does: find the newest running
//! Osaurus instance and print its URL, or say that none runs.
//!
//! `cargo run -p osaurus-discovery --example discover [-- RUNTIME_DIR]`

use osaurus_discovery::discovery::RuntimeDirs;
use osaurus_discovery::probe::Prober;
use osaurus_discovery::snapshot::Snapshot;

fn main() {
    // ~/.osaurus/runtime and the legacy folders, or the folder given.
    let dirs =
        RuntimeDirs::resolve(std::env::args_os().nth(1).map(Into::into), std::env::var_os("HOME").map(Into::into));
    // Probing (on 127.0.0.1 only) puts an answering instance before a crash
    // leftover that still says "running".
    let snapshot = Snapshot::take(&dirs, Some(&Prober::default()));
    match snapshot.best() {
        Some(instance) => {
            let url = instance.url.as_deref().unwrap_or_default();
            println!("Osaurus at: {url} (LAN: {})", instance.exposed);
        }
        None => {
            eprintln!("No running Osaurus instance found in {}", dirs.describe());
            std::process::exit(1);
        }
    }
}
