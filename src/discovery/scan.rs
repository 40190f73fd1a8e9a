//! Reading every instance folder of every runtime folder.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::instance::Instance;
use super::read::{io_reason, read_instance};
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
            Ok(entries) => todo.extend(entries.into_iter().filter(|(id, _)| seen.insert(id.clone()))),
            Err(Some(warning)) => out.warnings.push(warning),
            Err(None) => {}
        }
    }
    out.instances = read_all(todo);
    out
}

/// Folders read by one thread before another is worth starting.
const PER_THREAD: usize = 512;

/// Reads the folders, on a few threads when there are many, keeping order.
fn read_all(todo: Vec<(String, PathBuf)>) -> Vec<Instance> {
    let threads =
        std::thread::available_parallelism().map_or(1, |n| n.get()).min(4).min(todo.len() / PER_THREAD).max(1);
    if threads == 1 {
        return todo.into_iter().map(|(id, dir)| read_instance(&dir, id)).collect();
    }
    let chunk = todo.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = todo
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || part.iter().map(|(id, dir)| read_instance(dir, id.clone())).collect::<Vec<_>>())
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("reading a folder never panics")).collect()
    })
}

/// The instance folders directly under `base`, as (id, path), sorted by id.
/// Names starting with `.` are skipped: atomic writers use them for temporary
/// files. `Err(None)` means the folder does not exist, which is normal.
pub fn instance_folders(base: &Path) -> Result<Vec<(String, PathBuf)>, Option<String>> {
    let entries = match fs::read_dir(base) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(None),
        Err(e) => {
            let why = if base.is_file() { "it is a file, not a folder".to_owned() } else { io_reason(&e) };
            return Err(Some(format!("cannot read runtime folder {}: {why}", base.display())));
        }
    };
    let mut out: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            (!is_ignored(&name)).then(|| (name, entry.path()))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// True for names the scan never looks at (hidden and temporary entries).
pub fn is_ignored(name: &str) -> bool {
    name.starts_with('.')
}
