//! Removing crash leftovers: instance folders whose file says running but
//! whose server is gone (see [`crate::inspect::Leftovers`]).
//!
//! Removal is an explicit user action and deletes only a folder that, read
//! again right before deleting, holds nothing but its `configuration.json`,
//! still says the same thing, and whose port still refuses connections.
//! Anything else is refused with the reason.

use std::fs;
use std::path::Path;

use crate::discovery::read::{read_instance, CONFIG_FILE};
use crate::discovery::{Instance, State};
use crate::probe::{Outcome, Prober};

/// Deletes the leftover instance folder `seen` describes, after checking
/// that nothing changed. Returns why it was refused otherwise.
pub fn remove(seen: &Instance, prober: &Prober) -> Result<(), String> {
    let dir = &seen.dir;
    let what = format!("{} ({})", seen.short_id(), dir.display());
    if seen.state != State::Running {
        return Err(format!("Kept {what}: it is {}, not a running entry.", seen.state.as_str()));
    }
    only_the_configuration(dir).map_err(|why| format!("Kept {what}: {why}."))?;
    let now = read_instance(dir, seen.instance_id.clone());
    if !says_the_same(seen, &now) {
        return Err(format!("Kept {what}: its configuration changed since it was checked."));
    }
    let port = seen.port.ok_or_else(|| format!("Kept {what}: it has no port."))?;
    match prober.health(port) {
        Outcome::Refused => {}
        other => return Err(format!("Kept {what}: port {port} is not refusing connections now ({other:?}).")),
    }
    fs::remove_file(dir.join(CONFIG_FILE)).map_err(|e| format!("Could not remove {what}: {e}"))?;
    // remove_dir (not remove_dir_all) fails if anything appeared meanwhile.
    fs::remove_dir(dir).map_err(|e| format!("Removed the configuration of {what}, but kept the folder: {e}"))
}

/// True when the folder holds exactly one regular file, configuration.json.
fn only_the_configuration(dir: &Path) -> Result<(), String> {
    let meta = fs::symlink_metadata(dir).map_err(|e| format!("cannot read it ({e})"))?;
    if !meta.is_dir() {
        return Err("it is not a folder".into());
    }
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| format!("cannot list it ({e})"))? {
        let entry = entry.map_err(|e| format!("cannot list it ({e})"))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    if names != [CONFIG_FILE] {
        return Err(format!("it holds other files ({})", names.join(", ")));
    }
    let file = fs::symlink_metadata(dir.join(CONFIG_FILE)).map_err(|e| format!("cannot read it ({e})"))?;
    if !file.is_file() {
        return Err(format!("its {CONFIG_FILE} is not a regular file"));
    }
    Ok(())
}

/// The same entry, leaving aside what probes add.
fn says_the_same(a: &Instance, b: &Instance) -> bool {
    let strip = |i: &Instance| Instance { reachable: None, ..i.clone() };
    strip(a) == strip(b)
}
