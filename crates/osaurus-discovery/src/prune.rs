//! Removing crash leftovers: instance folders whose file says running but
//! whose server is gone (the rule is [`crate::leftover`]).
//!
//! Removal is an explicit user action and deletes only a folder that, read
//! again right before deleting, holds nothing but its `configuration.json`
//! (and perhaps the temporary file of an interrupted atomic write,
//! `.dat.nosync…`), still says the same thing, and on whose port one more
//! look finds no server ([`crate::leftover::no_server`]).
//! Anything else is refused with the reason.
//!
//! Osaurus copies the old Application Support folders into `~/.osaurus` at
//! every launch, so a leftover removed from one base folder only comes back:
//! [`remove_everywhere`] removes every copy of an id.

use std::ffi::{CStr, CString, OsStr, OsString};
use std::fs::{self, File};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use crate::discovery::read::{read_instance, read_through, CONFIG_FILE};
use crate::discovery::{Instance, RuntimeDirs, State};
use crate::probe::Prober;
use crate::text::sanitize;

/// What [`remove_checked`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// It removed the folder (or, at least, its configuration).
    Removed,
    /// The folder was no longer there (another `prune` removed it, or it
    /// was moved away): nothing was removed.
    AlreadyGone,
}

/// Deletes the leftover instance folder `seen` describes, after checking
/// that nothing changed. Returns why it was refused otherwise. A folder
/// already gone counts as removed; [`remove_checked`] tells the two apart.
pub fn remove(seen: &Instance, prober: &Prober) -> Result<(), String> {
    remove_checked(seen, prober).map(|_| ())
}

/// Deletes the leftover instance folder `seen` describes, after checking
/// that nothing changed, and says whether it removed it or found it gone.
/// Returns why it was refused otherwise.
///
/// Every check and every removal goes through a handle on the folder,
/// opened without following symbolic links: the file removed is the one
/// checked, by name inside that folder, so a folder swapped for a link
/// meanwhile can make the removal fail but never redirect it.
pub fn remove_checked(seen: &Instance, prober: &Prober) -> Result<Removal, String> {
    let dir = &seen.dir;
    let what = format!("{} ({})", sanitize(seen.short_id(), 96), sanitize(&dir.display().to_string(), 400));
    let kept = |why: String| format!("Kept {what}: {why}.");
    if seen.state != State::Running {
        return Err(kept(format!("it is {}, not a running entry", seen.state.as_str())));
    }
    let port = seen.port.ok_or_else(|| kept("it has no port".into()))?;
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
        return Err(kept("it is not a folder in a runtime folder".into()));
    };
    let parent = match open_dir(None, parent.as_os_str(), true) {
        Ok(p) => p,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Removal::AlreadyGone),
        Err(e) => return Err(kept(format!("cannot open its runtime folder ({})", reason(&e)))),
    };
    let folder = match open_dir(Some(&parent), name, false) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Removal::AlreadyGone),
        Err(e) if matches!(e.raw_os_error(), Some(libc::ELOOP | libc::ENOTDIR)) => {
            return Err(kept("it is not a folder (a symbolic link or a file)".into()))
        }
        Err(e) => return Err(kept(format!("cannot open it ({})", reason(&e)))),
    };
    let meta = folder.metadata().map_err(|e| kept(format!("cannot read it ({})", reason(&e))))?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    if !meta.is_dir() || meta.uid() != unsafe { libc::geteuid() } {
        return Err(kept("it is not a folder of this user".into()));
    }
    let listing = list(&folder).map_err(|e| kept(format!("cannot list it ({})", reason(&e))))?;
    if listing.is_empty() {
        // Another removal emptied it between its two steps.
        return remove_folder(&parent, name, &meta).map_err(kept);
    }
    let temps = only_the_configuration(&listing).map_err(kept)?;
    let now = read_through(&folder, dir, seen.instance_id.clone());
    if !says_the_same(seen, &now) {
        return Err(kept("its configuration changed since it was checked".into()));
    }
    let outcome = prober.health(port);
    let table = crate::process::Listeners::read();
    crate::leftover::no_server_of_its_own(seen, &outcome, table.as_ref()).map_err(kept)?;
    let mut removed_any = false;
    for temp in temps.iter().map(OsString::as_os_str).chain([OsStr::new(CONFIG_FILE)]) {
        match unlink_at(&folder, temp, false) {
            Ok(()) => removed_any = true,
            // Another removal got there first.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("Could not remove {what}: {}", reason(&e))),
        }
    }
    match remove_folder(&parent, name, &meta) {
        Ok(Removal::AlreadyGone) if removed_any => Ok(Removal::Removed),
        Ok(done) => Ok(done),
        Err(why) => Err(format!("Removed the configuration of {what}, but kept the folder: {why}.")),
    }
}

/// An I/O error as a short phrase.
fn reason(e: &io::Error) -> String {
    crate::discovery::read::io_reason(e)
}

fn c_name(name: &OsStr) -> io::Result<CString> {
    CString::new(name.as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// Opens the folder `name` (relative to `at`, or a path), following a
/// symbolic link only when `follow` (a runtime folder may be a link; an
/// instance folder may not).
fn open_dir(at: Option<&File>, name: &OsStr, follow: bool) -> io::Result<File> {
    let c = c_name(name)?;
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC | if follow { 0 } else { libc::O_NOFOLLOW };
    let base = at.map_or(libc::AT_FDCWD, AsRawFd::as_raw_fd);
    // SAFETY: a valid descriptor (or AT_FDCWD) and a NUL-terminated name.
    let fd = unsafe { libc::openat(base, c.as_ptr(), flags) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened and is owned by nothing else.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// One entry of a folder: its name and whether it is a regular file.
type Entry = (OsString, bool);

/// The entries of the folder behind `folder`, read through the handle.
fn list(folder: &File) -> io::Result<Vec<Entry>> {
    // SAFETY: fcntl duplicates a valid descriptor; fdopendir takes the copy,
    // closedir releases it; every dirent is read before the next readdir.
    unsafe {
        let fd = libc::fcntl(folder.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let stream = libc::fdopendir(fd);
        if stream.is_null() {
            let e = io::Error::last_os_error();
            libc::close(fd);
            return Err(e);
        }
        let mut out = Vec::new();
        loop {
            let entry = libc::readdir(stream);
            if entry.is_null() {
                break;
            }
            let name = CStr::from_ptr((*entry).d_name.as_ptr());
            let bytes = name.to_bytes();
            if bytes == b"." || bytes == b".." {
                continue;
            }
            let mut st: libc::stat = std::mem::zeroed();
            let regular = libc::fstatat(folder.as_raw_fd(), name.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) == 0
                && (st.st_mode & libc::S_IFMT) == libc::S_IFREG;
            out.push((OsStr::from_bytes(bytes).to_os_string(), regular));
        }
        libc::closedir(stream);
        Ok(out)
    }
}

/// Removes `name` inside the folder behind `folder` (a folder when `dir`).
fn unlink_at(folder: &File, name: &OsStr, dir: bool) -> io::Result<()> {
    let c = c_name(name)?;
    // SAFETY: a valid directory descriptor and a NUL-terminated name.
    let r = unsafe { libc::unlinkat(folder.as_raw_fd(), c.as_ptr(), if dir { libc::AT_REMOVEDIR } else { 0 }) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Removes the (empty) folder `name` in `parent`, only if it is still the
/// folder `checked` describes: a folder swapped in meanwhile is kept.
#[allow(clippy::unnecessary_cast)] // st_dev and st_ino differ in type across platforms
fn remove_folder(parent: &File, name: &OsStr, checked: &fs::Metadata) -> Result<Removal, String> {
    let c = c_name(name).map_err(|e| reason(&e))?;
    // SAFETY: a valid directory descriptor, a NUL-terminated name, a zeroed stat to fill.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::fstatat(parent.as_raw_fd(), c.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) } != 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::NotFound { Ok(Removal::AlreadyGone) } else { Err(reason(&e)) };
    }
    if st.st_dev as u64 != checked.dev() || st.st_ino as u64 != checked.ino() {
        return Err("another entry took its place".into());
    }
    match unlink_at(parent, name, true) {
        Ok(()) => Ok(Removal::Removed),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Removal::AlreadyGone),
        Err(e) => Err(reason(&e)),
    }
}

/// The prefix of the temporary file Foundation's atomic write leaves in the
/// folder when the app dies mid-write: `.dat.nosync<pid-hex>.<random>`.
pub const ATOMIC_TEMP_PREFIX: &str = ".dat.nosync";

/// Checks that the folder holds one regular file, configuration.json, and
/// at most the temporary files of interrupted atomic writes, whose names
/// it returns.
fn only_the_configuration(listing: &[Entry]) -> Result<Vec<OsString>, String> {
    let mut others = Vec::new();
    let mut temps = Vec::new();
    let mut config = None;
    for (name, regular) in listing {
        let shown = name.to_string_lossy();
        if name.as_bytes() == CONFIG_FILE.as_bytes() {
            config = Some(*regular);
        } else if *regular && name.as_bytes().starts_with(ATOMIC_TEMP_PREFIX.as_bytes()) {
            temps.push(name.clone());
        } else {
            others.push(sanitize(&shown, 80));
        }
    }
    if !others.is_empty() {
        others.sort();
        return Err(format!("it holds other files ({})", others.join(", ")));
    }
    match config {
        None => Err(format!("it holds no {CONFIG_FILE}")),
        Some(false) => Err(format!("its {CONFIG_FILE} is not a regular file")),
        Some(true) => Ok(temps),
    }
}

/// Every copy of `instance` in the base folders of `dirs`, in their order:
/// the entries with its folder's name (as raw bytes) that exist (links
/// included, to be refused).
pub fn copies(dirs: &RuntimeDirs, instance: &Instance) -> Vec<PathBuf> {
    let Some(name) = instance.dir.file_name() else {
        return Vec::new();
    };
    dirs.bases.iter().map(|b| b.join(name)).filter(|p| fs::symlink_metadata(p).is_ok()).collect()
}

/// Removes every copy of the leftover `seen` across `dirs`, each with the
/// re-checks of [`remove`]. A copy elsewhere must say what `seen` says;
/// otherwise it is kept with the reason (`prune` checks such a copy on its
/// own). Returns each copy's path with what happened.
pub fn remove_everywhere(seen: &Instance, dirs: &RuntimeDirs, prober: &Prober) -> Vec<(PathBuf, Result<(), String>)> {
    copies(dirs, seen)
        .into_iter()
        .map(|path| {
            if path == seen.dir {
                return (path, remove(seen, prober));
            }
            let copy = read_instance(&path, seen.instance_id.clone());
            let same = Instance { dir: seen.dir.clone(), ..copy.as_written() } == seen.as_written();
            let result = if same {
                remove(&copy, prober)
            } else {
                Err(format!(
                    "Kept {} ({}): this copy says something else than the leftover that was checked.",
                    sanitize(seen.short_id(), 96),
                    sanitize(&path.display().to_string(), 400)
                ))
            };
            (path, result)
        })
        .collect()
}

/// The same entry, leaving aside what probes add.
fn says_the_same(a: &Instance, b: &Instance) -> bool {
    a.as_written() == b.as_written()
}
