//! `osaurus-tray-app`, the menu-bar app: every command of `osaurus-tray`,
//! and the tray itself for `tray`, `demo` and no command.

mod keychain;
mod tray;

use std::any::Any;

use osaurus_tray::discovery::RuntimeDirs;
use osaurus_tray::gui::{Gui, Options};
use osaurus_tray::key_store::Keychain;
use osaurus_tray::single_instance::TrayLock;

struct App;

impl Gui for App {
    fn lock(&self) -> Result<TrayLock, String> {
        tray::lock()
    }

    fn run(&self, dirs: RuntimeDirs, options: Options, lock: TrayLock, keep_alive: Box<dyn Any>) -> ! {
        tray::run(dirs, options, lock, keep_alive)
    }

    fn post(&self, message: osaurus_tray::control::Message) -> Result<(), String> {
        tray::platform::post(message)
    }

    fn keychain(&self) -> Option<Box<dyn Keychain>> {
        Some(Box::new(keychain::SystemKeychain))
    }
}

fn main() {
    tray::platform::before_toolkit();
    osaurus_tray::cli::main(Some(&App))
}
