//! Reading every instance folder of every runtime folder.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::instance::Instance;
use super::read::{io_reason, read_instance, read_listed_folder};
use super::runtime_dir::RuntimeDirs;

/// Everything found in the runtime folders, not yet ordered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    /// One entry per instance id; the first runtime folder wins.
    pub instances: Vec<Instance>,
    /// Problems with the runtime folders themselves (not a folder, unreadable).
    pub warnings: Vec<String>,
}

/// Reads all instance folders under `dirs`, each once.
pub fn scan(dirs: &RuntimeDirs) -> Scan {
    let mut out = Scan::default();
    let mut seen = HashSet::new();
    let mut todo = Vec::new();
    for base in &dirs.bases {
        match instance_folders(base) {
            Ok(entries) => todo.extend(entries.into_iter().filter(|(id, _, _)| seen.insert(id.clone()))),
            Err(Some(warning)) => out.warnings.push(warning),
            Err(None) => {}
        }
    }
    out.instances = todo
        .into_iter()
        .map(|(id, dir, plain)| if plain { read_listed_folder(&dir, id) } else { read_instance(&dir, id) })
        .collect();
    out
}

/// The entries directly under `base`, as (id, path, is a plain folder),
/// sorted by id; "plain folder" comes from the listing itself (no extra
/// system call) and is false when unknown.
/// Names starting with `.` are skipped: atomic writers use them for temporary
/// files. `Err(None)` means the folder does not exist, which is normal.
pub fn instance_folders(base: &Path) -> Result<Vec<(String, PathBuf, bool)>, Option<String>> {
    let entries = match fs::read_dir(base) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(None),
        Err(e) => {
            let why = if base.is_file() { "it is a file, not a folder".to_owned() } else { io_reason(&e) };
            return Err(Some(format!("cannot read runtime folder {}: {why}", base.display())));
        }
    };
    let mut out: Vec<(String, PathBuf, bool)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let plain = entry.file_type().is_ok_and(|t| t.is_dir());
            (!is_ignored(&name)).then(|| (name, entry.path(), plain))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// True for names the scan never looks at (hidden and temporary entries).
pub fn is_ignored(name: &str) -> bool {
    name.starts_with('.')
}
