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

    /// Runs `demo` here (see [`crate::cmd::demo::run`]); only the app
    /// executable carries the demo's fake servers.
    fn demo(&self, no_tray: bool) -> crate::cmd::Outcome;
}

/// Where the app executable is: beside this one.
pub fn app_path() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| format!("cannot find this program's path: {e}"))?;
    Ok(app_beside(&me))
}

/// The app executable beside `exe`, the file a link to it leads to. On
/// macOS `current_exe` is the path the program was started by, so a link on
/// PATH (`ln -s ".../Osaurus Tray.app/Contents/MacOS/osaurus-tray"`, or
/// Homebrew's) would otherwise look for the app in the link's folder.
pub fn app_beside(exe: &std::path::Path) -> PathBuf {
    std::fs::canonicalize(exe).unwrap_or_else(|_| exe.to_path_buf()).with_file_name(APP_EXE)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_link_to_the_command_line_finds_the_app_beside_the_real_file() {
        let dir = tempfile::tempdir().unwrap();
        let macos = dir.path().join("Osaurus Tray.app/Contents/MacOS");
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&macos).unwrap();
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(macos.join("osaurus-tray"), b"").unwrap();
        std::os::unix::fs::symlink(macos.join("osaurus-tray"), bin.join("osaurus-tray")).unwrap();

        let found = app_beside(&bin.join("osaurus-tray"));
        assert_eq!(found, std::fs::canonicalize(&macos).unwrap().join(APP_EXE));
        // A path that cannot be resolved is taken as it is.
        let gone = dir.path().join("gone/osaurus-tray");
        assert_eq!(app_beside(&gone), dir.path().join("gone").join(APP_EXE));
    }
}
