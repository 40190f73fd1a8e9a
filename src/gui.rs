//! What the command line needs from the menu-bar app, and how it reaches it.
//!
//! The command-line executable (`osaurus-tray`) links no GUI library: for
//! the menu-bar commands (none, `tray`, `demo`) it starts the app executable
//! installed beside it (`osaurus-tray-app`, the same folder; in the macOS
//! bundle, `Contents/MacOS`) with the same arguments. The app executable
//! runs every command itself, the menu-bar ones through [`Gui`].

use std::any::Any;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use crate::discovery::RuntimeDirs;
use crate::single_instance::TrayLock;

/// The file name of the menu-bar app's executable.
pub const APP_EXE: &str = "osaurus-tray-app";

/// How the tray behaves beyond the saved settings.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Probe this often instead of the saved setting (not saved).
    pub probe_interval: Option<Duration>,
    /// Where settings are kept; `None` for the platform's config folder.
    pub settings_path: Option<PathBuf>,
}

/// The menu-bar app, as the commands that start it see it.
pub trait Gui {
    /// Checks that a tray can be shown here, then takes the
    /// one-tray-at-a-time lock; says why not in one sentence otherwise.
    fn lock(&self) -> Result<TrayLock, String>;

    /// Runs the menu-bar app until Quit; does not return. `keep_alive` is
    /// dropped when it ends, before the process exits, and so is `lock`.
    fn run(&self, dirs: RuntimeDirs, options: Options, lock: TrayLock, keep_alive: Box<dyn Any>) -> !;
}

/// Where the app executable is: beside this one.
pub fn app_path() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| format!("cannot find this program's path: {e}"))?;
    Ok(me.with_file_name(APP_EXE))
}

/// Replaces this process with the app executable, given this process's
/// arguments. Returns only on failure, with the reason.
pub fn exec_app() -> String {
    let app = match app_path() {
        Ok(p) => p,
        Err(e) => return e,
    };
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let mut command = std::process::Command::new(&app);
    command.args(&args);
    #[cfg(unix)]
    let error = {
        use std::os::unix::process::CommandExt;
        command.exec()
    };
    #[cfg(not(unix))]
    let error = match command.status() {
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
        Err(e) => e,
    };
    if error.kind() == std::io::ErrorKind::NotFound {
        format!(
            "the menu-bar app is not installed: {} is missing (the command-line commands work without it)",
            app.display()
        )
    } else {
        format!("cannot start the menu-bar app {}: {error}", app.display())
    }
}
