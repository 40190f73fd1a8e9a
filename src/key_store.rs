//! Where the access key is kept, and where it is found.
//!
//! `osaurus-tray key set` keeps the key where the system keeps secrets (the
//! macOS Keychain; on Linux the Secret Service, when one runs), else in a
//! file only its owner can read, beside the settings. The key is found, in
//! this order: `OSAURUS_API_KEY`; the key file the settings name
//! (`apiKeyFile`); the key file `key set` writes; the keychain. So the app
//! finds it however it was started (from Finder, at login, from a shell).
//!
//! The keychain itself is reached only by the app executable (the
//! [`Keychain`] it gives through [`crate::gui::Gui`]); the command line,
//! which links no desktop library, asks the app beside it
//! ([`AppKeychain`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::key::{AccessKey, ENV_VAR};
use crate::settings::Settings;

/// The keychain item's service name.
pub const SERVICE: &str = "io.github.osaurus-tray";
/// The keychain item's account name.
pub const ACCOUNT: &str = "access-key";

/// A store the system keeps secrets in.
pub trait Keychain {
    /// Its name, for people: "the macOS Keychain", "the Secret Service".
    fn name(&self) -> String;
    /// The key kept there: `Ok(None)` when none is, `Err` (why) when the
    /// store cannot be reached or read.
    fn get(&self) -> Result<Option<String>, String>;
    /// Keeps `key` there, replacing any other.
    fn set(&self, key: &str) -> Result<(), String>;
    /// Removes the key; true when there was one.
    fn clear(&self) -> Result<bool, String>;
}

/// The system's store of secrets, for people: where the app keeps the key.
pub const SYSTEM_STORE: &str = if cfg!(target_os = "macos") { "the macOS Keychain" } else { "the Secret Service" };

/// Where a key was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `OSAURUS_API_KEY`.
    Environment,
    /// The key file the settings name (`apiKeyFile`).
    NamedFile(PathBuf),
    /// The file `key set` writes where there is no keychain.
    File(PathBuf),
    /// The system's keychain, by its name.
    Keychain(String),
}

impl Source {
    /// Where, in words.
    pub fn describe(&self) -> String {
        match self {
            Source::Environment => format!("the environment ({ENV_VAR})"),
            Source::NamedFile(p) => format!("the key file {} (apiKeyFile in the settings)", p.display()),
            Source::File(p) => format!("the file {}", p.display()),
            Source::Keychain(name) => name.clone(),
        }
    }
}

/// A key, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub key: AccessKey,
    pub source: Source,
}

/// The file `key set` writes under `config_dir`, beside the settings.
pub fn key_file_in(config_dir: &Path) -> PathBuf {
    config_dir.join("osaurus-tray").join("access-key")
}

/// The file `key set` writes in this user's config folder.
pub fn key_file() -> Option<PathBuf> {
    dirs::config_dir().map(|d| key_file_in(&d))
}

/// How to give a key, naming the command and the file, for messages that
/// say one is needed.
pub fn how_to_give() -> String {
    let file = key_file().map_or_else(|| "a file beside the settings".to_owned(), |p| p.display().to_string());
    format!(
        "run `osaurus-tray key set` (it keeps the key in the keychain, else in {file}), \
         or set {ENV_VAR}"
    )
}

/// The key to use, and where it came from, in the order of this module's
/// documentation. `Ok(None)` when none is given anywhere; `Err` says why
/// the one given cannot be used. A keychain that cannot be reached is
/// passed over (`key status` says why).
pub fn find(
    settings: &Settings,
    file: Option<&Path>,
    keychain: Option<&dyn Keychain>,
) -> Result<Option<Found>, String> {
    if let Some(found) = AccessKey::from_env() {
        return found.map(|key| Some(Found { key, source: Source::Environment }));
    }
    if let Some(path) = &settings.api_key_file {
        return AccessKey::from_file(path).map(|key| Some(Found { key, source: Source::NamedFile(path.clone()) }));
    }
    if let Some(path) = file.filter(|p| std::fs::symlink_metadata(p).is_ok()) {
        return AccessKey::from_file(path).map(|key| Some(Found { key, source: Source::File(path.to_owned()) }));
    }
    if let Some(chain) = keychain {
        if let Ok(Some(text)) = chain.get() {
            let key = AccessKey::new(&text)
                .map_err(|why| format!("The access key in {} is not usable: {why}.", chain.name()))?;
            return Ok(Some(Found { key, source: Source::Keychain(chain.name()) }));
        }
    }
    Ok(None)
}

/// Writes `key` to `path`, readable and writable by its owner only, whole
/// or not at all (a temporary file renamed into place). Its folder is made
/// private when it is made.
pub fn write_key_file(path: &Path, key: &AccessKey) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    // A temporary file is created 0600.
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o600))?;
    tmp.write_all(key.reveal().as_bytes())?;
    tmp.write_all(b"\n")?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Removes the key file at `path`; true when there was one.
pub fn remove_key_file(path: &Path) -> std::io::Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// The keychain as the command line reaches it: through the app executable
/// beside it (`osaurus-tray-app key reveal`), which links the system's
/// libraries the command line does not. It only reads; `key set` and
/// `key clear` run in the app itself.
pub struct AppKeychain;

impl Keychain for AppKeychain {
    fn name(&self) -> String {
        SYSTEM_STORE.into()
    }

    fn get(&self) -> Result<Option<String>, String> {
        let app = crate::gui::app_path()?;
        let out = std::process::Command::new(&app)
            .args(["key", "reveal"])
            .env_remove(ENV_VAR)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("cannot start {}: {e}", app.display()))?;
        match out.status.code() {
            Some(0) => Ok(Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())),
            Some(1) => Ok(None),
            _ => Err(String::from_utf8_lossy(&out.stderr).trim().trim_start_matches("osaurus-tray: ").to_owned()),
        }
    }

    fn set(&self, _key: &str) -> Result<(), String> {
        Err("the keychain is reached through the menu-bar app, which is not installed here".into())
    }

    fn clear(&self) -> Result<bool, String> {
        Err("the keychain is reached through the menu-bar app, which is not installed here".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::os::unix::fs::PermissionsExt;

    /// A keychain in memory.
    #[derive(Default)]
    struct Memory(RefCell<Option<String>>, Option<String>);

    impl Keychain for Memory {
        fn name(&self) -> String {
            "the test keychain".into()
        }
        fn get(&self) -> Result<Option<String>, String> {
            match &self.1 {
                Some(why) => Err(why.clone()),
                None => Ok(self.0.borrow().clone()),
            }
        }
        fn set(&self, key: &str) -> Result<(), String> {
            *self.0.borrow_mut() = Some(key.into());
            Ok(())
        }
        fn clear(&self) -> Result<bool, String> {
            Ok(self.0.borrow_mut().take().is_some())
        }
    }

    // OSAURUS_API_KEY is read by `find`; these tests run where it is unset
    // (the integration tests cover it, each in a process of its own).
    fn no_env() -> bool {
        std::env::var_os(ENV_VAR).is_none_or(|v| v.is_empty())
    }

    #[test]
    fn the_file_comes_before_the_keychain_and_the_named_file_before_both() {
        if !no_env() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let file = key_file_in(dir.path());
        let chain = Memory::default();
        let settings = Settings::default();
        assert_eq!(find(&settings, Some(&file), Some(&chain)).unwrap(), None);
        chain.set("osk-chain").unwrap();
        let found = find(&settings, Some(&file), Some(&chain)).unwrap().unwrap();
        assert_eq!((found.key.reveal(), found.source), ("osk-chain", Source::Keychain("the test keychain".into())));
        write_key_file(&file, &AccessKey::new("osk-file").unwrap()).unwrap();
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        let found = find(&settings, Some(&file), Some(&chain)).unwrap().unwrap();
        assert_eq!((found.key.reveal(), found.source), ("osk-file", Source::File(file.clone())));
        let named = dir.path().join("named");
        std::fs::write(&named, "osk-named\n").unwrap();
        std::fs::set_permissions(&named, std::fs::Permissions::from_mode(0o600)).unwrap();
        let settings = Settings { api_key_file: Some(named.clone()), ..Settings::default() };
        let found = find(&settings, Some(&file), Some(&chain)).unwrap().unwrap();
        assert_eq!((found.key.reveal(), found.source), ("osk-named", Source::NamedFile(named)));
        assert!(remove_key_file(&file).unwrap() && !remove_key_file(&file).unwrap());
    }

    #[test]
    fn a_keychain_out_of_reach_is_passed_over_and_a_bad_key_file_is_said() {
        if !no_env() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let file = key_file_in(dir.path());
        let away = Memory(RefCell::new(Some("osk".into())), Some("no session bus".into()));
        assert_eq!(find(&Settings::default(), Some(&file), Some(&away)).unwrap(), None);
        write_key_file(&file, &AccessKey::new("osk-file").unwrap()).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let why = find(&Settings::default(), Some(&file), Some(&away)).unwrap_err();
        assert!(why.contains("chmod 600") && !why.contains("osk-file"), "{why}");
    }

    #[test]
    fn how_to_give_names_the_command_and_the_file() {
        let how = how_to_give();
        assert!(how.contains("osaurus-tray key set") && how.contains(ENV_VAR), "{how}");
        if let Some(file) = key_file() {
            assert!(how.contains(&file.display().to_string()), "{how}");
        }
    }
}
