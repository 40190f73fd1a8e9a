//! `osaurus-tray demo`: the tray against fake Osaurus servers.

use std::sync::mpsc;
use std::time::Duration;

use clap::Args;

use super::{Failure, Outcome};
use crate::demo;
use crate::discovery::RuntimeDirs;
use crate::gui::{self, Gui};

/// Run two fake Osaurus servers and the menu-bar app against them.
#[derive(Debug, Args)]
pub struct Demo {
    /// Stay in the foreground without a tray; Ctrl-C ends the demo.
    #[arg(long)]
    pub no_tray: bool,
}

impl Demo {
    /// Runs until Quit, Ctrl-C or SIGTERM, then removes everything it made.
    /// Only the app executable runs the demo (it needs the fake servers and,
    /// unless `--no-tray`, the tray); the command line starts the app.
    pub fn run(&self, gui: Option<&dyn Gui>) -> Outcome {
        match gui {
            Some(gui) => run(gui, self.no_tray),
            None => Err(Failure::Other(gui::exec_app())),
        }
    }
}

/// The demo, in the app executable: `gui` shows the tray unless `no_tray`.
pub fn run(gui: &dyn Gui, no_tray: bool) -> Outcome {
    let gui = (!no_tray).then_some(gui);
    // Take the tray lock before starting anything, so a refused demo
    // leaves nothing behind.
    let lock = match gui {
        Some(g) => Some(g.lock().map_err(Failure::Other)?),
        None => None,
    };
    let demo = demo::Demo::start(Duration::from_millis(1500))
        .map_err(|e| Failure::Other(format!("cannot start the demo: {e}")))?;
    let dir = demo.runtime_dir().to_path_buf();
    let ports = demo.ports();
    say!("osaurus-tray demo: runtime folder {}", dir.display());
    say!(
        "osaurus-tray demo: Osaurus's settings in {} (config/relay.json: the agent {} tunnelled; config/server.json: any website)",
        demo.data_root().display(),
        demo::AGENT_NAME
    );
    say!(
        "osaurus-tray demo: servers on http://127.0.0.1:{} and http://127.0.0.1:{} (the second claims LAN exposure)",
        ports[0],
        ports[1]
    );
    say!("osaurus-tray demo: try `osaurus-tray --runtime-dir {} list`", dir.display());
    if let (Some(gui), Some(lock)) = (gui, lock) {
        gui.run(RuntimeDirs::explicit(dir), gui::Options::default(), lock, Box::new(demo));
    }
    let (tx, rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = tx.send(());
    })
    .map_err(|e| Failure::Other(format!("cannot handle signals: {e}")))?;
    let _ = rx.recv();
    drop(demo);
    say!("osaurus-tray demo: stopped and cleaned up");
    Ok(())
}
