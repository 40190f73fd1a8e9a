//! The access key Osaurus wants for `/v1/models` (0.12.5 and later; from
//! 0.14.17 even on loopback while the server is exposed).
//!
//! A key comes from `OSAURUS_API_KEY` or from a key file the user names,
//! which must not be readable by group or others. It is sent as
//! `Authorization: Bearer …` only to `http://127.0.0.1:<port>/v1/models`
//! (see [`crate::probe::Prober::models`]), and it is never printed: the type
//! has no `Display`, its `Debug` hides it, and it does not serialise.

use std::fmt;
use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

/// The environment variable that gives an access key.
pub const ENV_VAR: &str = "OSAURUS_API_KEY";
/// The longest key accepted.
const MAX_KEY_BYTES: u64 = 4096;

/// An access key. Only [`crate::probe::Prober::models`] reads it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKey(String);

impl fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessKey(hidden)")
    }
}

impl AccessKey {
    /// A key from text; surrounding whitespace (a file's final newline) is
    /// dropped. Refused when empty, over 4 KiB (as a key file is, so that
    /// `OSAURUS_API_KEY` cannot be a 100 KiB header either) or holding
    /// anything but visible ASCII.
    pub fn new(text: &str) -> Result<AccessKey, String> {
        let key = text.trim();
        if key.is_empty() {
            return Err("it is empty".into());
        }
        if key.len() as u64 > MAX_KEY_BYTES {
            return Err(format!("it is over {MAX_KEY_BYTES} bytes"));
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("it holds spaces, control or non-ASCII characters, which a key cannot have".into());
        }
        Ok(AccessKey(key.to_owned()))
    }

    /// The key in `OSAURUS_API_KEY`, if set (an empty value counts as unset).
    pub fn from_env() -> Option<Result<AccessKey, String>> {
        let value = std::env::var_os(ENV_VAR).filter(|v| !v.is_empty())?;
        Some(match value.to_str() {
            Some(text) => AccessKey::new(text).map_err(|why| format!("{ENV_VAR} is not a usable key: {why}.")),
            None => Err(format!("{ENV_VAR} is not a usable key: it is not valid UTF-8.")),
        })
    }

    /// The key in the file at `path`, which must be a regular file that
    /// neither group nor others can read.
    pub fn from_file(path: &Path) -> Result<AccessKey, String> {
        let shown = path.display();
        let refuse = |why: String| format!("The key file {shown} is not used: {why}.");
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .map_err(|e| refuse(crate::discovery::read::io_reason(&e)))?;
        let meta = file.metadata().map_err(|e| refuse(crate::discovery::read::io_reason(&e)))?;
        if !meta.is_file() {
            return Err(refuse("it is not a regular file".into()));
        }
        let mode = meta.mode() & 0o777;
        if mode & 0o044 != 0 {
            return Err(refuse(format!(
                "group or others can read it (mode {mode:03o}); make it private with chmod 600 {shown}"
            )));
        }
        if meta.len() > MAX_KEY_BYTES {
            return Err(refuse(format!("it is over {MAX_KEY_BYTES} bytes")));
        }
        let mut text = String::new();
        file.take(MAX_KEY_BYTES).read_to_string(&mut text).map_err(|_| refuse("it is not text".into()))?;
        AccessKey::new(&text).map_err(refuse)
    }

    /// The key to use: `OSAURUS_API_KEY` first, else the key file if one is
    /// named. `Ok(None)` when neither gives one; `Err` with the reason when
    /// the one given cannot be used.
    pub fn find(key_file: Option<&Path>) -> Result<Option<AccessKey>, String> {
        if let Some(found) = AccessKey::from_env() {
            return found.map(Some);
        }
        match key_file {
            Some(path) => AccessKey::from_file(path).map(Some),
            None => Ok(None),
        }
    }

    /// The key itself, for `osaurus-tray env --with-key`: the one place a
    /// person asks for it to be printed. Nothing else prints it.
    pub fn reveal(&self) -> &str {
        &self.0
    }

    /// Whether `text` holds the key, in any case: a server that echoes the
    /// key back (as a model id) must not get it printed or copied.
    pub fn appears_in(&self, text: &str) -> bool {
        text.to_ascii_lowercase().contains(&self.0.to_ascii_lowercase())
    }

    /// The `Authorization` header's value.
    pub(crate) fn bearer(&self) -> String {
        format!("Bearer {}", self.0)
    }
}

/// How to give a key, for messages that say one is needed.
pub const HOW_TO_GIVE: &str =
    "run `osaurus-tray key set`, set OSAURUS_API_KEY, or name a key file (chmod 600) as \"apiKeyFile\" in the settings";

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_key_never_shows_in_debug() {
        let k = AccessKey::new(" osk-secret\n").unwrap();
        assert_eq!(format!("{k:?}"), "AccessKey(hidden)");
        assert_eq!(k.bearer(), "Bearer osk-secret");
        assert!(AccessKey::new("  ").is_err());
        assert!(AccessKey::new("a b").is_err());
        assert!(AccessKey::new("a\r\nX-Evil: 1").is_err());
        assert!(AccessKey::new(&"k".repeat(4096)).is_ok() && AccessKey::new(&"k".repeat(4097)).is_err());
        assert!(k.appears_in("model-OSK-Secret-v2") && !k.appears_in("osk-secre"));
    }

    #[test]
    fn a_key_file_others_can_read_is_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "osk-secret\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let why = AccessKey::from_file(&path).unwrap_err();
        assert!(why.contains("group or others can read it (mode 644)") && why.contains("chmod 600"), "{why}");
        assert!(!why.contains("osk-secret"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(AccessKey::from_file(&path).is_err());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(AccessKey::from_file(&path).unwrap(), AccessKey::new("osk-secret").unwrap());
        assert!(AccessKey::from_file(dir.path()).unwrap_err().contains("not a regular file"));
        assert!(AccessKey::from_file(&dir.path().join("none")).is_err());
    }
}
