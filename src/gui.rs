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

    /// Posts a control message to the Osaurus apps of this user (macOS,
    /// where the app links Foundation); says why not otherwise.
    fn post(&self, message: crate::control::Message) -> Result<(), String>;

    /// Where the system keeps secrets (the macOS Keychain, the Secret
    /// Service), which only the app executable links; `None` where there
    /// is no such store.
    fn keychain(&self) -> Option<Box<dyn crate::key_store::Keychain>> {
        None
    }
}

/// The keychain for the commands that read the key: the app's own, or,
/// from the command line, the app's through [`crate::key_store::AppKeychain`].
pub fn keychain(gui: Option<&dyn Gui>) -> Option<Box<dyn crate::key_store::Keychain>> {
    match gui {
        Some(gui) => gui.keychain(),
        None => Some(Box::new(crate::key_store::AppKeychain)),
    }
}

/// Where the app executable is: beside this one.
pub fn app_path() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| format!("cannot find this program's path: {e}"))?;
    Ok(app_beside(&me))
}

/// The app executable beside `exe`, symbolic links resolved first: a
/// command line linked onto PATH (`ln -s "…/Contents/MacOS/osaurus-tray"
/// /usr/local/bin/`) finds the app in the bundle, not in /usr/local/bin.
/// macOS gives `current_exe` as the program was started; Linux resolves it.
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

/// The command line without the process serial number LaunchServices may
/// add when the app is opened from Finder (`-psn_0_12345`, macOS): clap
/// would refuse it, and the app would exit with a message nobody sees.
/// Every other argument is kept, in order.
pub fn without_process_serial_number(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let is_psn = |a: &OsString| {
        a.to_str().and_then(|a| a.strip_prefix("-psn_")).is_some_and(|n| {
            !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit() || b == b'_') && n.bytes().any(|b| b.is_ascii_digit())
        })
    };
    let mut args = args.into_iter();
    args.next().into_iter().chain(args.filter(|a| !is_psn(a))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    #[cfg(unix)]
    fn a_command_line_linked_from_elsewhere_finds_the_app_beside_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let macos = dir.path().join("Osaurus Tray.app/Contents/MacOS");
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&macos).unwrap();
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(macos.join("osaurus-tray"), "").unwrap();
        // Two links deep, the first relative, as package managers make them.
        std::os::unix::fs::symlink(macos.join("osaurus-tray"), dir.path().join("cellar-osaurus-tray")).unwrap();
        std::os::unix::fs::symlink("../cellar-osaurus-tray", bin.join("osaurus-tray")).unwrap();
        let want = std::fs::canonicalize(&macos).unwrap().join(APP_EXE);
        assert_eq!(app_beside(&bin.join("osaurus-tray")), want);
        assert_eq!(app_beside(&macos.join("osaurus-tray")), want);
        // A path that cannot be resolved is taken as it is.
        assert_eq!(app_beside(&bin.join("gone")), bin.join(APP_EXE));
    }

    #[test]
    fn a_process_serial_number_from_launch_services_is_dropped() {
        let got = without_process_serial_number(os(&["/App/osaurus-tray-app", "-psn_0_1234567"]));
        assert_eq!(got, os(&["/App/osaurus-tray-app"]));
        let got = without_process_serial_number(os(&["app", "tray", "-psn_0_42", "--probe-interval", "5"]));
        assert_eq!(got, os(&["app", "tray", "--probe-interval", "5"]));
    }

    #[test]
    fn other_arguments_and_the_program_name_are_kept() {
        for args in [
            &["app", "list", "--json"][..],
            &["-psn_0_1"],
            &["app", "-psn_"],
            &["app", "-psn_x"],
            &["app", "--runtime-dir", "-psn_0_1/x"],
            &["app"],
        ] {
            assert_eq!(without_process_serial_number(os(args)), os(args), "{args:?}");
        }
        assert_eq!(without_process_serial_number(Vec::<OsString>::new()), Vec::<OsString>::new());
    }
}
