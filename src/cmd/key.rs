//! `osaurus-tray key`: keep the access key where the system keeps secrets,
//! remove it, or say where it comes from. The key is never printed, but by
//! [`reveal`], which the command line uses to read the keychain through
//! the app (`osaurus-tray-app key reveal`, which no help, completion or
//! man page offers).

use std::io::{BufRead, IsTerminal};

use clap::{Args, Subcommand};

use super::{Failure, Outcome};
use crate::key::{AccessKey, ENV_VAR};
use crate::key_store::{self, Keychain, Source};
use crate::settings::Settings;

/// Keep, remove or locate the access key.
#[derive(Debug, Args)]
pub struct Key {
    #[command(subcommand)]
    pub action: KeyAction,
}

/// What `key` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub enum KeyAction {
    /// Keep the access key, read from standard input (not shown when typed),
    /// in the keychain (macOS; the Secret Service on Linux), else in a file
    /// only you can read.
    #[command(after_help = "Examples:\n  osaurus-tray key set\n  pass show osaurus | osaurus-tray key set")]
    Set,
    /// Remove the kept access key from the keychain and the file.
    #[command(after_help = "Examples:\n  osaurus-tray key clear")]
    Clear,
    /// Say where the access key comes from (never the key itself).
    #[command(after_help = "Examples:\n  osaurus-tray key status")]
    Status,
}

impl Key {
    /// Runs the action against `keychain` (`None`: there is none here, for
    /// the reason `no_keychain` gives) and the key file.
    pub fn run(&self, keychain: Option<&dyn Keychain>, no_keychain: &str) -> Outcome {
        let file = key_store::key_file()
            .ok_or_else(|| Failure::Other("cannot find this user's config folder (HOME is not set).".into()))?;
        let settings = Settings::default_path().map(|p| Settings::peek(&p)).unwrap_or_default();
        match self.action {
            KeyAction::Set => set(keychain, no_keychain, &file, &settings),
            KeyAction::Clear => clear(keychain, &file),
            KeyAction::Status => status(keychain, no_keychain, &file, &settings),
        }
    }
}

fn set(keychain: Option<&dyn Keychain>, no_keychain: &str, file: &std::path::Path, settings: &Settings) -> Outcome {
    let key = AccessKey::new(&read_key()?).map_err(|why| Failure::Other(format!("The key was not kept: {why}.")))?;
    let kept = match keychain.map(|chain| (chain.name(), chain.set(key.reveal()))) {
        Some((name, Ok(()))) => {
            // One place holds the key: an older file would come first.
            key_store::remove_key_file(file).map_err(|e| {
                Failure::Other(format!(
                    "The key is kept in {name}, but the old key file {} remains: {e}.",
                    file.display()
                ))
            })?;
            name
        }
        other => {
            let why = match other {
                Some((name, Err(why))) => format!("{name} could not keep it ({why})"),
                _ => no_keychain.to_owned(),
            };
            key_store::write_key_file(file, &key)
                .map_err(|e| Failure::Other(format!("The key was not kept: cannot write {}: {e}.", file.display())))?;
            format!("{} (readable by you only; {why})", file.display())
        }
    };
    let mut said = format!("The access key is kept in {kept}.\n");
    said.push_str(&precedence_notes(settings));
    super::emit(&said)
}

fn clear(keychain: Option<&dyn Keychain>, file: &std::path::Path) -> Outcome {
    let mut removed = Vec::new();
    if let Some(chain) = keychain {
        match chain.clear() {
            Ok(true) => removed.push(chain.name()),
            Ok(false) => {}
            Err(why) => say!("osaurus-tray: {} could not be asked: {why}", chain.name()),
        }
    }
    match key_store::remove_key_file(file) {
        Ok(true) => removed.push(format!("the file {}", file.display())),
        Ok(false) => {}
        Err(e) => return Err(Failure::Other(format!("cannot remove the key file {}: {e}.", file.display()))),
    }
    let mut said = match removed.as_slice() {
        [] => "No access key was kept.\n".to_owned(),
        _ => format!("Removed the access key from {}.\n", removed.join(" and ")),
    };
    if std::env::var_os(ENV_VAR).is_some_and(|v| !v.is_empty()) {
        said.push_str(&format!("{ENV_VAR} is still set in this environment.\n"));
    }
    super::emit(&said)
}

fn status(keychain: Option<&dyn Keychain>, no_keychain: &str, file: &std::path::Path, settings: &Settings) -> Outcome {
    let found = key_store::find(settings, Some(file), keychain);
    let mut said = match &found {
        Ok(Some(f)) => format!("The access key comes from {}.\n", f.source.describe()),
        Ok(None) => format!("No access key is configured: {}.\n", key_store::how_to_give()),
        Err(why) => format!("The access key given cannot be used: {why}\n"),
    };
    let chain = match keychain {
        Some(chain) => match chain.get() {
            Ok(Some(_)) => format!("{}: a key is kept", chain.name()),
            Ok(None) => format!("{}: no key kept", chain.name()),
            Err(why) => format!("{}: not reachable ({why})", chain.name()),
        },
        None => format!("keychain: none ({no_keychain})"),
    };
    let kept_file = match std::fs::symlink_metadata(file) {
        Ok(_) => "a key is kept",
        Err(_) => "none",
    };
    said.push_str(&format!("  {chain}\n  key file {}: {kept_file}\n", file.display()));
    if matches!(&found, Ok(Some(f)) if f.source != Source::Environment) {
        said.push_str(&precedence_notes(settings));
    }
    super::emit(&said)?;
    match found {
        Err(why) => Err(Failure::Other(why)),
        Ok(_) => Ok(()),
    }
}

/// The arguments that make the app print the key its keychain keeps
/// ([`reveal`]): the command line's way to the keychain, which only the app
/// links. Not a command of the parser, so not offered anywhere.
pub const REVEAL_ARGS: [&str; 2] = ["key", "reveal"];

/// Prints the key `keychain` keeps: exit 0 with the key, 1 when none is
/// kept, 3 when it cannot be read.
pub fn reveal(keychain: Option<&dyn Keychain>) -> Outcome {
    let Some(chain) = keychain else { return Err(Failure::Other("there is no keychain here.".into())) };
    match chain.get() {
        Ok(Some(key)) => super::emit(&format!("{}\n", key.trim())),
        Ok(None) => Err(Failure::NotFound(format!("No access key is kept in {}.", chain.name()))),
        Err(why) => Err(Failure::Other(format!("{} could not be read: {why}.", chain.name()))),
    }
}

/// What comes before a kept key, when it is set: said so that a key just
/// kept is not silently shadowed.
fn precedence_notes(settings: &Settings) -> String {
    let mut notes = String::new();
    if std::env::var_os(ENV_VAR).is_some_and(|v| !v.is_empty()) {
        notes.push_str(&format!("Note: {ENV_VAR} is set in this environment, and comes first.\n"));
    }
    if let Some(named) = &settings.api_key_file {
        notes.push_str(&format!(
            "Note: the settings name a key file ({}, apiKeyFile), which comes first.\n",
            named.display()
        ));
    }
    notes
}

/// The key from standard input: its first line. On a terminal it is asked
/// for on standard error and not shown as it is typed.
fn read_key() -> Result<String, Failure> {
    let stdin = std::io::stdin();
    let terminal = stdin.is_terminal();
    // Echo off before the prompt: a key typed (or pasted) at once is not
    // shown either.
    let _quiet = terminal.then(NoEcho::start).flatten();
    if terminal {
        say!("Access key (not shown as you type):");
    }
    let mut line = String::new();
    let read = stdin.lock().take_line(&mut line);
    drop(_quiet);
    if terminal {
        say!("");
    }
    read.map_err(|e| Failure::Other(format!("cannot read the key from standard input: {e}.")))?;
    Ok(line)
}

/// Reading one line, at most 8 KiB.
trait TakeLine {
    fn take_line(&mut self, line: &mut String) -> std::io::Result<usize>;
}

impl<R: BufRead> TakeLine for R {
    fn take_line(&mut self, line: &mut String) -> std::io::Result<usize> {
        use std::io::Read;
        self.take(8 * 1024).read_line(line)
    }
}

/// The terminal's echo turned off until dropped.
struct NoEcho(libc::termios);

impl NoEcho {
    fn start() -> Option<NoEcho> {
        // SAFETY: termios is plain data; tcgetattr fills it for a valid
        // descriptor, and tcsetattr is given what it filled.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(libc::STDIN_FILENO, &mut t) != 0 {
                return None;
            }
            let saved = t;
            t.c_lflag &= !libc::ECHO;
            (libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &t) == 0).then_some(NoEcho(saved))
        }
    }
}

impl Drop for NoEcho {
    fn drop(&mut self) {
        // SAFETY: restores the settings read in `start`.
        unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &self.0) };
    }
}
