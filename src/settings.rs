//! The user's choices, kept as JSON in the platform's config folder
//! (`~/.config/osaurus-tray/settings.json`, `~/Library/Application
//! Support/osaurus-tray/settings.json`).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Everything the menu lets users change. Launch at login is not here: it is
/// read back from the system each time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Settings {
    /// Desktop notifications on changes that matter.
    pub notifications: bool,
    /// Show `LAN` beside the icon while an instance is exposed (macOS).
    pub lan_title: bool,
    /// Seconds between hang checks of a running server (`OPTIONS`, which
    /// Osaurus does not log); liveness itself comes from the OS at once.
    pub probe_interval_secs: u32,
    /// A file holding the access key for `/v1/models` (used when
    /// `OSAURUS_API_KEY` is not set, before the key `osaurus-tray key set`
    /// keeps); it must not be readable by group or others. The key itself
    /// is never stored here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_file: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { notifications: true, lan_title: true, probe_interval_secs: 300, api_key_file: None }
    }
}

/// The hang-check intervals the menu offers, in seconds.
pub const PROBE_CHOICES: [u32; 4] = [30, 60, 300, 900];

impl Settings {
    /// The settings file under `config_dir` (the platform's config folder).
    pub fn path_in(config_dir: &Path) -> PathBuf {
        config_dir.join("osaurus-tray").join("settings.json")
    }

    /// The settings file in this user's config folder, if there is one.
    pub fn default_path() -> Option<PathBuf> {
        dirs::config_dir().map(|d| Settings::path_in(&d))
    }

    /// Reads the settings. A missing file gives the defaults. A file that
    /// cannot be understood is moved aside (never deleted) and the defaults
    /// are used; the message says so, for the user to be told once.
    pub fn load(path: &Path) -> (Settings, Option<String>) {
        let bytes = match read_bounded(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Settings::default(), None),
            Err(e) => {
                return (Settings::default(), Some(format!("Could not read {}: {e}; using defaults.", path.display())));
            }
        };
        match serde_json::from_slice::<Settings>(&bytes) {
            Ok(s) => (s.clamped(), None),
            Err(e) => {
                let aside = aside_path(path);
                let moved = fs::rename(path, &aside);
                let msg = match moved {
                    Ok(()) => format!("Settings were unreadable ({e}); moved to {} and reset.", aside.display()),
                    Err(m) => {
                        format!("Settings were unreadable ({e}) and could not be moved aside ({m}); using defaults.")
                    }
                };
                (Settings::default(), Some(msg))
            }
        }
    }

    /// Reads the settings without changing anything on disk (for the
    /// command line): the defaults when the file is missing or unreadable.
    pub fn peek(path: &Path) -> Settings {
        read_bounded(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Settings>(&bytes).ok())
            .map_or_else(Settings::default, Settings::clamped)
    }

    /// The access key to use: `OSAURUS_API_KEY`, else the key file named
    /// here, else the one `osaurus-tray key set` kept (its file, else
    /// `keychain`); see [`crate::key_store`]. `Err` says why the one given
    /// cannot be used.
    pub fn access_key(
        &self,
        keychain: Option<&dyn crate::key_store::Keychain>,
    ) -> Result<Option<crate::inspect::AccessKey>, String> {
        let file = crate::key_store::key_file();
        crate::key_store::find(self, file.as_deref(), keychain).map(|found| found.map(|f| f.key))
    }

    /// Writes the settings atomically: a temporary file, then a rename.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        let json = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        tmp.write_all(json.as_bytes())?;
        tmp.write_all(b"\n")?;
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }

    /// Keeps values within what the app can use.
    fn clamped(mut self) -> Settings {
        self.probe_interval_secs = self.probe_interval_secs.clamp(1, 86_400);
        self
    }
}

/// The largest settings file (or login entry) read.
const MAX_SETTINGS_BYTES: u64 = 1 << 20;

/// The bytes of the settings file: a regular file (a link to one is
/// followed, as dotfile managers make them) of at most 1 MiB. Opening it
/// never blocks (a FIFO is refused, not waited on), and a device such as
/// `/dev/zero` is refused, not read without end.
pub(crate) fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("it is not a regular file"));
    }
    let mut bytes = Vec::new();
    file.take(MAX_SETTINGS_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_SETTINGS_BYTES {
        return Err(std::io::Error::other(format!("it is over {} KiB", MAX_SETTINGS_BYTES / 1024)));
    }
    Ok(bytes)
}

/// `settings.json` → `settings.json.corrupt-<unix seconds>` (unique).
fn aside_path(path: &Path) -> PathBuf {
    let stamp = chrono::Utc::now().timestamp();
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "settings.json".into());
    let mut n = 0;
    loop {
        let suffix = if n == 0 { String::new() } else { format!("-{n}") };
        let candidate = path.with_file_name(format!("{name}.corrupt-{stamp}{suffix}"));
        if !candidate.exists() {
            return candidate;
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_a_device_or_an_oversized_file_is_refused_unread_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo.json");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let zero = dir.path().join("zero.json");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let big = dir.path().join("big.json");
        let mut text = " ".repeat(MAX_SETTINGS_BYTES as usize);
        text.push_str(r#"{"probeIntervalSecs": 30}"#);
        fs::write(&big, text).unwrap();
        for path in [&fifo, &zero, &big] {
            assert_eq!(Settings::peek(path), Settings::default(), "{}", path.display());
            let (s, msg) = Settings::load(path);
            assert_eq!(s, Settings::default());
            assert!(msg.is_some_and(|m| m.starts_with("Could not read")), "{}", path.display());
            assert!(fs::symlink_metadata(path).is_ok(), "never moved aside: {}", path.display());
        }
        let linked = dir.path().join("linked.json");
        fs::write(dir.path().join("real.json"), r#"{"probeIntervalSecs": 30}"#).unwrap();
        std::os::unix::fs::symlink(dir.path().join("real.json"), &linked).unwrap();
        assert_eq!(Settings::peek(&linked).probe_interval_secs, 30, "a link to a regular file is read");
    }

    #[test]
    fn missing_file_gives_defaults_silently() {
        let dir = tempfile::tempdir().unwrap();
        let (s, msg) = Settings::load(&dir.path().join("nope.json"));
        assert_eq!((s, msg), (Settings::default(), None));
    }

    #[test]
    fn save_then_load_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = Settings::path_in(dir.path());
        let s = Settings {
            notifications: false,
            lan_title: false,
            probe_interval_secs: 30,
            api_key_file: Some("/k".into()),
        };
        s.save(&path).unwrap();
        assert_eq!(Settings::load(&path), (s, None));
        // Nothing else is left in the folder (the temporary file was renamed).
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn unknown_and_missing_keys_are_tolerated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        fs::write(&path, r#"{"notifications": false, "future": 1}"#).unwrap();
        let (s, msg) = Settings::load(&path);
        assert!(!s.notifications && s.lan_title && s.probe_interval_secs == 300);
        assert_eq!(msg, None);
    }

    #[test]
    fn a_corrupt_file_is_moved_aside_and_defaults_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        fs::write(&path, "{ not json").unwrap();
        let (s, msg) = Settings::load(&path);
        assert_eq!(s, Settings::default());
        assert!(msg.unwrap().contains("moved to"));
        assert!(!path.exists());
        let kept: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(kept.len(), 1);
        assert_eq!(fs::read_to_string(&kept[0]).unwrap(), "{ not json", "the user's file is kept intact");
        // Loading again is quiet: the bad file is out of the way.
        assert_eq!(Settings::load(&path).1, None);
    }

    #[test]
    fn wrong_types_count_as_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        fs::write(&path, r#"{"notifications": "yes"}"#).unwrap();
        let (s, msg) = Settings::load(&path);
        assert_eq!(s, Settings::default());
        assert!(msg.is_some());
    }

    #[test]
    fn a_zero_interval_is_clamped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        fs::write(&path, r#"{"probeIntervalSecs": 0}"#).unwrap();
        assert_eq!(Settings::load(&path).0.probe_interval_secs, 1);
    }
}
