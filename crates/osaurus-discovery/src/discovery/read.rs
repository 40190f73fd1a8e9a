//! Reading one instance folder from disk, safely.
//!
//! Only a regular file is read, at most [`MAX_CONFIG_BYTES`] of it, opened so
//! that it can neither follow a symbolic link nor block on a FIFO.

use std::fs::{self, File, Metadata, OpenOptions};
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::time::UNIX_EPOCH;

use chrono::{DateTime, Utc};

use super::config::{self, Origin, MAX_CONFIG_BYTES};
use super::instance::Instance;

/// The file Osaurus writes into each instance folder.
pub const CONFIG_FILE: &str = "configuration.json";

/// Reads the instance folder `dir`, whose name is `instance_id`. Never fails:
/// anything unusable comes back as an [`Instance`] in state `invalid`.
pub fn read_instance(dir: &Path, instance_id: String) -> Instance {
    read(dir, instance_id, false)
}

/// Like [`read_instance`]; `known_folder` when a directory listing or a
/// look just showed the entry to be a real folder (not a link), which saves
/// one `lstat` per folder in a scan.
pub fn read_listed_folder(dir: &Path, instance_id: String, known_folder: bool) -> Instance {
    read(dir, instance_id, known_folder)
}

fn read(dir: &Path, instance_id: String, known_folder: bool) -> Instance {
    let origin = Origin { instance_id, dir: dir.to_path_buf() };
    match load(dir, known_folder) {
        Ok(bytes) => config::parse(&bytes, origin, || folder_mtime(dir)),
        Err(problem) => {
            let mut i = Instance::invalid(origin.instance_id, origin.dir, problem);
            i.updated_at = folder_mtime(dir).and_then(config::rfc3339_time);
            i
        }
    }
}

/// Like [`read_instance`], reading through `folder`, a handle on the
/// instance folder `dir` opened without following links: the file read is
/// the one in that folder whatever the path names meanwhile.
pub fn read_through(folder: &File, dir: &Path, instance_id: String) -> Instance {
    let origin = Origin { instance_id, dir: dir.to_path_buf() };
    let mtime = || folder.metadata().ok().and_then(|m| mtime_of(&m));
    let name = std::ffi::CString::new(CONFIG_FILE).expect("no NUL in the file name");
    // SAFETY: a valid directory descriptor and a NUL-terminated name; the
    // descriptor returned is owned by the File below.
    let fd = unsafe {
        libc::openat(
            folder.as_raw_fd(),
            name.as_ptr(),
            libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC,
        )
    };
    let loaded = if fd < 0 {
        Err(open_problem_at(&std::io::Error::last_os_error()))
    } else {
        // SAFETY: `fd` was just opened and is owned by nothing else.
        check_and_read(unsafe { File::from_raw_fd(fd) })
    };
    match loaded {
        Ok(bytes) => config::parse(&bytes, origin, mtime),
        Err(problem) => {
            let mut i = Instance::invalid(origin.instance_id, origin.dir, problem);
            i.updated_at = mtime().and_then(config::rfc3339_time);
            i
        }
    }
}

fn open_problem_at(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::NotFound {
        return format!("no {CONFIG_FILE} in the folder");
    }
    if e.raw_os_error() == Some(libc::ELOOP) {
        return format!("{CONFIG_FILE} is a symbolic link; only regular files are read");
    }
    format!("cannot open {CONFIG_FILE}: {}", io_reason(e))
}

/// The folder's modification time, which stands in for a missing `updatedAt`.
/// `None` when the time is beyond what chrono can hold (tmpfs keeps any 64-bit
/// time): `DateTime::from(SystemTime)` would panic there.
pub fn folder_mtime(dir: &Path) -> Option<DateTime<Utc>> {
    mtime_of(&fs::symlink_metadata(dir).ok()?)
}

/// The modification time in `meta`, when chrono can hold it.
fn mtime_of(meta: &Metadata) -> Option<DateTime<Utc>> {
    let modified = meta.modified().ok()?;
    let (secs, nanos) = match modified.duration_since(UNIX_EPOCH) {
        Ok(d) => (i64::try_from(d.as_secs()).ok()?, d.subsec_nanos()),
        Err(e) => {
            let d = e.duration();
            let secs = i64::try_from(d.as_secs()).ok()?;
            match d.subsec_nanos() {
                0 => (-secs, 0),
                n => (-secs - 1, 1_000_000_000 - n),
            }
        }
    };
    DateTime::from_timestamp(secs, nanos)
}

/// Why a folder's file could not be read, in one line.
fn load(dir: &Path, known_folder: bool) -> Result<Vec<u8>, String> {
    if !known_folder {
        let meta = fs::symlink_metadata(dir).map_err(|e| format!("cannot read the folder: {}", io_reason(&e)))?;
        if meta.file_type().is_symlink() {
            return Err("the entry is a symbolic link; only real folders are read".into());
        }
        if !meta.is_dir() {
            return Err(format!("the entry is {}, not a folder", kind(&meta)));
        }
    }
    let path = dir.join(CONFIG_FILE);
    let file = OpenOptions::new()
        .read(true)
        // O_NOFOLLOW: a symlinked configuration.json fails with ELOOP instead of
        // being followed. O_NONBLOCK: opening a FIFO cannot hang.
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&path);
    let file = match file {
        Ok(f) => f,
        Err(e) => return Err(open_problem(&path, &e)),
    };
    check_and_read(file)
}

/// Reads `file` if it is a regular file within the size limit.
fn check_and_read(file: File) -> Result<Vec<u8>, String> {
    let meta = file.metadata().map_err(|e| format!("cannot read {CONFIG_FILE}: {}", io_reason(&e)))?;
    if !meta.is_file() {
        return Err(format!("{CONFIG_FILE} is {}, not a regular file", kind(&meta)));
    }
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(format!("{CONFIG_FILE} is {} bytes, over the 64 KiB limit", meta.len()));
    }
    read_bounded(file)
}

fn read_bounded(file: File) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::with_capacity(512);
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {CONFIG_FILE}: {}", io_reason(&e)))?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(format!("{CONFIG_FILE} grew over the 64 KiB limit while being read"));
    }
    Ok(bytes)
}

fn open_problem(path: &Path, e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::NotFound {
        return format!("no {CONFIG_FILE} in the folder");
    }
    if e.raw_os_error() == Some(libc::ELOOP) {
        return format!("{CONFIG_FILE} is a symbolic link; only regular files are read");
    }
    match fs::symlink_metadata(path) {
        Ok(m) if !m.is_file() => format!("{CONFIG_FILE} is {}, not a regular file", kind(&m)),
        _ => format!("cannot open {CONFIG_FILE}: {}", io_reason(e)),
    }
}

fn kind(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_symlink() {
        "a symbolic link"
    } else if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a named pipe (FIFO)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else if t.is_file() {
        "a regular file"
    } else {
        "an unusual file"
    }
}

/// An I/O error as a short phrase without the "(os error N)" suffix.
pub fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_lowercase(),
        None => s,
    }
}
