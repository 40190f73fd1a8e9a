//! What the discovery guide's JavaScript sample does: find the newest running
//! Osaurus instance, then ask it for its models (`GET /v1/models`, sent to
//! 127.0.0.1 whatever address the file names).
//!
//! `cargo run -p osaurus-discovery --example models [-- RUNTIME_DIR]`

use osaurus_discovery::discovery::RuntimeDirs;
use osaurus_discovery::inspect::{fetch_models, AccessKey, Models};
use osaurus_discovery::probe::Prober;
use osaurus_discovery::snapshot::Snapshot;

fn main() {
    let dirs =
        RuntimeDirs::resolve(std::env::args_os().nth(1).map(Into::into), std::env::var_os("HOME").map(Into::into));
    let prober = Prober::default();
    let snapshot = Snapshot::take(&dirs, Some(&prober));
    let Some(instance) = snapshot.best() else {
        eprintln!("Osaurus not running");
        std::process::exit(1);
    };
    println!("Osaurus at {} LAN: {}", instance.url.as_deref().unwrap_or_default(), instance.exposed);
    let Some(port) = instance.port else { return };
    // The key, if OSAURUS_API_KEY gives one, goes only to 127.0.0.1.
    let key = AccessKey::from_env().and_then(Result::ok);
    match fetch_models(&prober, port, key.as_ref()) {
        Models::Listed(ids) => ids.iter().for_each(|id| println!("{id}")),
        Models::NeedsKey => eprintln!("The server wants an access key to list its models (set OSAURUS_API_KEY)."),
        Models::Unavailable(why) => eprintln!("No model list: {why}"),
        Models::Unknown => eprintln!("No model list"),
    }
}
