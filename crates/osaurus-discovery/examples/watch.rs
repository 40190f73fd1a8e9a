//! Keeps the answer current: prints the best instance's URL (or "none")
//! each time it changes, as the runtime files come and go.
//!
//! `cargo run -p osaurus-discovery --example watch [-- RUNTIME_DIR]`

use osaurus_discovery::discovery::RuntimeDirs;
use osaurus_discovery::watcher::{self, Options};

fn main() {
    let dirs =
        RuntimeDirs::resolve(std::env::args_os().nth(1).map(Into::into), std::env::var_os("HOME").map(Into::into));
    let mut last = None;
    // The watcher calls back on its own thread with each new snapshot.
    let _watcher = watcher::spawn(dirs, Options::default(), move |snapshot| {
        let best = snapshot.best().and_then(|i| i.url.clone());
        if best != last {
            println!("{}", best.as_deref().unwrap_or("none"));
            last = best;
        }
    });
    loop {
        std::thread::park();
    }
}
