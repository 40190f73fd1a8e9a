//! Launch at login as a file: an XDG autostart entry on Linux, a LaunchAgent
//! on macOS before 13 (from 13 on, the app registers its bundle with
//! `SMAppService` instead, in its platform module). The state shown in the
//! menu is always read back from these files, never remembered.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Where and how this user's login items are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Autostart {
    /// `$XDG_CONFIG_HOME/autostart/osaurus-tray.desktop`.
    Xdg {
        /// The autostart entry's path.
        file: PathBuf,
    },
    /// `~/Library/LaunchAgents/<label>.plist`.
    LaunchAgent {
        /// The agent's plist path.
        file: PathBuf,
    },
}

/// The LaunchAgent label (and bundle identifier) of this app: our own.
pub const AGENT_LABEL: &str = "io.github.osaurus-tray";

impl Autostart {
    /// The XDG autostart entry under `config_dir` (`$XDG_CONFIG_HOME`).
    pub fn xdg(config_dir: &Path) -> Autostart {
        Autostart::Xdg { file: config_dir.join("autostart").join("osaurus-tray.desktop") }
    }

    /// The LaunchAgent under `home`.
    pub fn launch_agent(home: &Path) -> Autostart {
        Autostart::LaunchAgent { file: home.join("Library/LaunchAgents").join(format!("{AGENT_LABEL}.plist")) }
    }

    /// This platform's mechanism for this user.
    pub fn for_this_user() -> Option<Autostart> {
        if cfg!(target_os = "macos") {
            dirs::home_dir().map(|h| Autostart::launch_agent(&h))
        } else {
            dirs::config_dir().map(|c| Autostart::xdg(&c))
        }
    }

    /// The file that holds the login item.
    pub fn file(&self) -> &Path {
        match self {
            Autostart::Xdg { file } | Autostart::LaunchAgent { file } => file,
        }
    }

    /// True when the system will start the app at login, as read from disk.
    pub fn is_enabled(&self) -> bool {
        // Bounded, and never waiting on a FIFO by that name.
        let Some(text) = crate::settings::read_bounded(self.file()).ok().and_then(|b| String::from_utf8(b).ok()) else {
            return false;
        };
        match self {
            Autostart::Xdg { .. } => {
                let key_is = |key: &str, value: &str| {
                    text.lines().any(|l| {
                        l.trim().strip_prefix(key).and_then(|r| r.trim().strip_prefix('=')).map(str::trim)
                            == Some(value)
                    })
                };
                !key_is("Hidden", "true") && !key_is("X-GNOME-Autostart-enabled", "false")
            }
            Autostart::LaunchAgent { .. } => {
                text.contains(AGENT_LABEL) && !text.contains("<key>Disabled</key>\n\t<true/>")
            }
        }
    }

    /// Turns launch at login on (for `exe`) or off.
    pub fn set(&self, enabled: bool, exe: &Path) -> io::Result<()> {
        if !enabled {
            return match fs::remove_file(self.file()) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            };
        }
        let body = match self {
            Autostart::Xdg { .. } => desktop_entry(exe),
            Autostart::LaunchAgent { .. } => launch_agent_plist(exe),
        };
        let dir = self.file().parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir)?;
        let tmp = dir.join(".osaurus-tray.autostart.tmp");
        fs::write(&tmp, body)?;
        fs::rename(&tmp, self.file())
    }
}

/// The XDG autostart entry that starts `exe`.
pub fn desktop_entry(exe: &Path) -> String {
    format!(
        "[Desktop Entry]\nType=Application\nName=Osaurus Tray\nComment=Menu-bar companion for Osaurus\nExec={}\nIcon=osaurus-tray\nTerminal=false\nX-GNOME-Autostart-enabled=true\n",
        desktop_exec_quote(&exe.to_string_lossy())
    )
}

/// Quotes an Exec= argument as the Desktop Entry spec asks.
fn desktop_exec_quote(s: &str) -> String {
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+".contains(c)) {
        return s.to_owned();
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        if matches!(c, '"' | '`' | '$' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The LaunchAgent that starts `exe` at login.
pub fn launch_agent_plist(exe: &Path) -> String {
    let exe = xml_escape(&exe.to_string_lossy());
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>{AGENT_LABEL}</string>
	<key>ProgramArguments</key>
	<array>
		<string>{exe}</string>
	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>ProcessType</key>
	<string>Interactive</string>
</dict>
</plist>
"#
    )
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// What macOS says of the app as its own login item (`SMAppService`'s
/// status), as plain data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginStatus {
    /// Registered and allowed: the app starts at login.
    Enabled,
    /// Not registered.
    NotRegistered,
    /// Registered, waiting for the user's approval in System Settings
    /// (or turned off there).
    RequiresApproval,
    /// The system cannot find the app to register (not in a folder it
    /// knows, or a copy macOS moved).
    NotFound,
}

/// Whether the app runs from the read-only copy macOS makes of an app
/// opened where it was downloaded (App Translocation): a login item made
/// from there would name a folder that is gone after the next restart.
pub fn is_translocated(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == "AppTranslocation")
}

/// Moving the app out of App Translocation, in one sentence.
pub const TRANSLOCATED: &str = "Osaurus Tray runs from a temporary copy macOS made of it: \
                                move it to /Applications and open it from there to launch it at login.";

/// What the menu says beside Launch at Login, if anything: why it cannot be
/// on, or what the user must do for it.
pub fn login_note(status: LoginStatus, translocated: bool) -> Option<String> {
    if translocated {
        return Some(TRANSLOCATED.into());
    }
    match status {
        LoginStatus::Enabled | LoginStatus::NotRegistered => None,
        LoginStatus::RequiresApproval => Some(
            "Launch at Login waits for your approval: allow Osaurus Tray in System Settings, General, Login Items."
                .into(),
        ),
        LoginStatus::NotFound => Some(
            "macOS cannot find Osaurus Tray to start it at login: move it to /Applications and open it from there."
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_run_from_app_translocation_is_recognised() {
        let moved = Path::new("/private/var/folders/x/T/AppTranslocation/1A2B/d/Osaurus Tray.app/Contents/MacOS/x");
        assert!(is_translocated(moved));
        assert!(!is_translocated(Path::new("/Applications/Osaurus Tray.app/Contents/MacOS/osaurus-tray-app")));
        assert!(!is_translocated(Path::new("/Users/me/AppTranslocationNotes/Osaurus Tray.app")));
    }

    #[test]
    fn the_menu_explains_a_login_item_that_cannot_be_on() {
        assert_eq!(login_note(LoginStatus::Enabled, false), None);
        assert_eq!(login_note(LoginStatus::NotRegistered, false), None);
        let approval = login_note(LoginStatus::RequiresApproval, false).unwrap();
        assert!(approval.contains("System Settings") && approval.contains("Login Items"), "{approval}");
        let not_found = login_note(LoginStatus::NotFound, false).unwrap();
        assert!(not_found.contains("/Applications"), "{not_found}");
        for status in [LoginStatus::Enabled, LoginStatus::NotFound, LoginStatus::RequiresApproval] {
            assert_eq!(login_note(status, true).as_deref(), Some(TRANSLOCATED), "{status:?}");
        }
        assert!(TRANSLOCATED.contains("/Applications") && !TRANSLOCATED.contains("  "));
    }

    #[test]
    fn a_login_entry_that_is_a_fifo_is_off_and_never_waited_on() {
        let dir = tempfile::tempdir().unwrap();
        let a = Autostart::xdg(dir.path());
        fs::create_dir_all(a.file().parent().unwrap()).unwrap();
        assert!(std::process::Command::new("mkfifo").arg(a.file()).status().unwrap().success());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(a.is_enabled()));
        assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(5)), Ok(false), "is_enabled waited on a FIFO");
    }

    #[test]
    fn xdg_entry_round_trips_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = Autostart::xdg(dir.path());
        assert!(!a.is_enabled());
        a.set(true, Path::new("/opt/my apps/osaurus-tray")).unwrap();
        assert!(a.is_enabled());
        let text = fs::read_to_string(a.file()).unwrap();
        assert!(text.contains("Exec=\"/opt/my apps/osaurus-tray\""), "{text}");
        a.set(false, Path::new("/x")).unwrap();
        assert!(!a.is_enabled());
        a.set(false, Path::new("/x")).unwrap();
    }

    #[test]
    fn a_hidden_or_disabled_entry_is_off() {
        let dir = tempfile::tempdir().unwrap();
        let a = Autostart::xdg(dir.path());
        fs::create_dir_all(a.file().parent().unwrap()).unwrap();
        fs::write(a.file(), "[Desktop Entry]\nExec=x\nHidden=true\n").unwrap();
        assert!(!a.is_enabled());
        fs::write(a.file(), "[Desktop Entry]\nExec=x\nX-GNOME-Autostart-enabled = false\n").unwrap();
        assert!(!a.is_enabled());
        fs::write(a.file(), "[Desktop Entry]\nExec=x\n").unwrap();
        assert!(a.is_enabled());
    }

    #[test]
    fn launch_agent_names_our_label_and_the_binary() {
        let home = tempfile::tempdir().unwrap();
        let a = Autostart::launch_agent(home.path());
        a.set(true, Path::new("/Applications/Osaurus Tray.app/Contents/MacOS/osaurus-tray")).unwrap();
        assert!(a.file().ends_with("Library/LaunchAgents/io.github.osaurus-tray.plist"));
        let text = fs::read_to_string(a.file()).unwrap();
        assert!(text.contains("<string>/Applications/Osaurus Tray.app/Contents/MacOS/osaurus-tray</string>"));
        assert!(a.is_enabled());
    }
}
