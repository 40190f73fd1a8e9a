//! Removing crash leftovers: instance folders whose file says running but
//! whose server is gone (see [`crate::inspect::Leftovers`]).
//!
//! Removal is an explicit user action and deletes only a folder that, read
//! again right before deleting, holds nothing but its `configuration.json`
//! (and perhaps the temporary file of an interrupted atomic write,
//! `.dat.nosync…`), still says the same thing, and on whose port no Osaurus
//! answers (the connection is refused, or another program answers).
//! Anything else is refused with the reason.
//!
//! Osaurus copies the old Application Support folders into `~/.osaurus` at
//! every launch, so a leftover removed from one base folder only comes back:
//! [`remove_everywhere`] removes every copy of an id.

use std::fs;
use std::path::{Path, PathBuf};

use crate::discovery::read::{read_instance, CONFIG_FILE};
use crate::discovery::{Instance, RuntimeDirs, State};
use crate::probe::Prober;

/// Deletes the leftover instance folder `seen` describes, after checking
/// that nothing changed. Returns why it was refused otherwise.
pub fn remove(seen: &Instance, prober: &Prober) -> Result<(), String> {
    let dir = &seen.dir;
    let what = format!("{} ({})", seen.short_id(), dir.display());
    if seen.state != State::Running {
        return Err(format!("Kept {what}: it is {}, not a running entry.", seen.state.as_str()));
    }
    let temps = only_the_configuration(dir).map_err(|why| format!("Kept {what}: {why}."))?;
    let now = read_instance(dir, seen.instance_id.clone());
    if !says_the_same(seen, &now) {
        return Err(format!("Kept {what}: its configuration changed since it was checked."));
    }
    let port = seen.port.ok_or_else(|| format!("Kept {what}: it has no port."))?;
    match prober.health(port) {
        gone if crate::inspect::is_gone(&gone) => {}
        other => return Err(format!("Kept {what}: port {port} is not refusing connections now (it {other}).")),
    }
    for temp in temps {
        fs::remove_file(dir.join(&temp)).map_err(|e| format!("Could not remove {what}: {e}"))?;
    }
    fs::remove_file(dir.join(CONFIG_FILE)).map_err(|e| format!("Could not remove {what}: {e}"))?;
    // remove_dir (not remove_dir_all) fails if anything appeared meanwhile.
    fs::remove_dir(dir).map_err(|e| format!("Removed the configuration of {what}, but kept the folder: {e}"))
}

/// The prefix of the temporary file Foundation's atomic write leaves in the
/// folder when the app dies mid-write: `.dat.nosync<pid-hex>.<random>`.
pub const ATOMIC_TEMP_PREFIX: &str = ".dat.nosync";

/// Checks that the folder holds one regular file, configuration.json, and
/// at most the temporary files of interrupted atomic writes, whose names
/// it returns.
fn only_the_configuration(dir: &Path) -> Result<Vec<std::ffi::OsString>, String> {
    let meta = fs::symlink_metadata(dir).map_err(|e| format!("cannot read it ({e})"))?;
    if !meta.is_dir() {
        return Err("it is not a folder".into());
    }
    let mut others = Vec::new();
    let mut temps = Vec::new();
    let mut config = false;
    for entry in fs::read_dir(dir).map_err(|e| format!("cannot list it ({e})"))? {
        let entry = entry.map_err(|e| format!("cannot list it ({e})"))?;
        let name = entry.file_name();
        let shown = name.to_string_lossy();
        let regular = entry.file_type().is_ok_and(|t| t.is_file());
        if shown == CONFIG_FILE && name.to_str().is_some() {
            config = true;
        } else if regular && shown.starts_with(ATOMIC_TEMP_PREFIX) && name.to_str().is_some() {
            temps.push(name);
        } else {
            others.push(crate::text::sanitize(&shown, 80));
        }
    }
    if !others.is_empty() {
        others.sort();
        return Err(format!("it holds other files ({})", others.join(", ")));
    }
    if !config {
        return Err(format!("it holds no {CONFIG_FILE}"));
    }
    let file = fs::symlink_metadata(dir.join(CONFIG_FILE)).map_err(|e| format!("cannot read it ({e})"))?;
    if !file.is_file() {
        return Err(format!("its {CONFIG_FILE} is not a regular file"));
    }
    Ok(temps)
}

/// Every copy of instance `id` in the base folders of `dirs`, in their
/// order: the entries named `id` that exist (links included, to be refused).
pub fn copies(dirs: &RuntimeDirs, id: &str) -> Vec<PathBuf> {
    dirs.bases.iter().map(|b| b.join(id)).filter(|p| fs::symlink_metadata(p).is_ok()).collect()
}

/// Removes every copy of the leftover `seen` across `dirs`, each with the
/// re-checks of [`remove`]. A copy elsewhere must say what `seen` says;
/// otherwise it is kept with the reason (`prune` checks such a copy on its
/// own). Returns each copy's path with what happened.
pub fn remove_everywhere(seen: &Instance, dirs: &RuntimeDirs, prober: &Prober) -> Vec<(PathBuf, Result<(), String>)> {
    copies(dirs, &seen.instance_id)
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
                    seen.short_id(),
                    path.display()
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
