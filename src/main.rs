//! `osaurus-tray`, the command line: every command, no GUI library. The
//! menu-bar commands start `osaurus-tray-app` (see `osaurus_tray::gui`).

fn main() {
    osaurus_tray::cli::main(None)
}
