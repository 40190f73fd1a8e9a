//! One tray at a time: an exclusive lock on a file in the user's runtime
//! folder, held for the tray's life and released by the OS when it exits,
//! even after a crash. Command-line subcommands never take it.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// Held while this process is the tray.
#[derive(Debug)]
pub struct TrayLock {
    _file: File,
}

/// The lock file: `$XDG_RUNTIME_DIR/osaurus-tray.lock`, else in the cache
/// folder, else in the temporary folder (named per user).
pub fn lock_path() -> PathBuf {
    if let Some(dir) = dirs::runtime_dir() {
        return dir.join("osaurus-tray.lock");
    }
    if let Some(dir) = dirs::cache_dir() {
        return dir.join("osaurus-tray").join("tray.lock");
    }
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    std::env::temp_dir().join(format!("osaurus-tray-{uid}.lock"))
}

/// Takes the lock at `path`, or says which process holds it.
pub fn acquire(path: &Path) -> Result<TrayLock, String> {
    if let Some(dir) = path.parent() {
        let _ = fs::create_dir_all(dir);
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| format!("Cannot open the lock file {}: {e}", path.display()))?;
    // SAFETY: the descriptor is valid for the life of `file`.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        let who = holder.trim().parse::<u32>().map(|pid| format!(" (pid {pid})")).unwrap_or_default();
        return Err(format!("osaurus-tray is already running{who}; only one tray runs at a time."));
    }
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = writeln!(file, "{}", std::process::id());
    Ok(TrayLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/tray.lock");
        let first = acquire(&path).unwrap();
        let err = acquire(&path).unwrap_err();
        assert!(err.contains("already running"), "{err}");
        assert!(err.contains(&format!("pid {}", std::process::id())), "{err}");
        drop(first);
        assert!(acquire(&path).is_ok());
    }
}
