//! The folders: what each instance folder says (the entries), the runtime
//! folders' warnings, and the folders to read again because they read as
//! invalid (perhaps mid-write). Only what changed is read again, and a
//! folder is watched before it is read, so that nothing written in between
//! is missed.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::time::{Duration, Instant};

use super::burst::Dirty;
use super::entries::{Entries, FolderKey};
use super::watches::Watches;
use crate::discovery::read::read_listed_folder;
use crate::discovery::scan::{folder_path, instance_folders, Listed};
use crate::discovery::{Instance, RuntimeDirs, State};

/// A folder that reads as invalid (perhaps mid-write) is read again this often...
const RETRY_EVERY: Duration = Duration::from_millis(40);
/// ...this many times (the settle time, 1 s) before its new state is
/// believed, even over a running entry.
const RETRIES: u8 = 25;
/// A rescan reads folders in batches of this many (bounding what is held
/// at once)...
const READ_BATCH: usize = 4096;
/// ...on up to this many threads...
const READ_THREADS: usize = 8;
/// ...when there are at least twice this many; fewer are read on the
/// watcher's thread.
const READ_ALONE: usize = 64;

/// The next look at a folder that read as invalid.
#[derive(Debug, Clone, Copy)]
struct Retry {
    /// Looks left before what it reads is believed.
    left: u8,
    /// When to look again.
    at: Instant,
}

/// The entries of every runtime folder, and what is pending about them.
pub(crate) struct Folders {
    dirs: RuntimeDirs,
    /// Entries by instance id and base index (lower wins), and the
    /// effective ones ranked.
    pub(crate) entries: Entries,
    /// Each base folder's problem, if it cannot be read.
    pub(crate) warnings: Vec<Option<String>>,
    /// Folders that read as invalid, with retries left and when to retry.
    retry: HashMap<FolderKey, Retry>,
    /// A folder read by a rescan that reads as invalid gets the patience of
    /// one read after an event (set after the first scan: an overflow can
    /// land mid-write).
    pub(crate) patient_rescans: bool,
}

impl Folders {
    pub(crate) fn new(dirs: RuntimeDirs) -> Folders {
        let n = dirs.bases.len();
        Folders {
            dirs,
            entries: Entries::new(chrono::Utc::now()),
            warnings: vec![None; n],
            retry: HashMap::new(),
            patient_rescans: false,
        }
    }

    /// The next moment a folder that read as invalid is due a look.
    pub(crate) fn next_retry(&self) -> Option<Instant> {
        self.retry.values().map(|r| r.at).min()
    }

    /// The folders due a look at `now`.
    pub(crate) fn due(&self, now: Instant) -> impl Iterator<Item = FolderKey> + '_ {
        self.retry.iter().filter(move |(_, r)| r.at <= now).map(|(k, _)| k.clone())
    }

    /// Re-reads what is dirty. Returns the keys of entries that changed.
    pub(crate) fn apply(&mut self, dirty: Dirty, watches: &mut Watches) -> BTreeSet<FolderKey> {
        let mut changed = BTreeSet::new();
        if dirty.is_empty() {
            return changed;
        }
        let bases: BTreeSet<usize> = if dirty.everything { (0..self.dirs.bases.len()).collect() } else { dirty.bases };
        if !bases.is_empty() {
            self.entries.defer();
        }
        for &b in &bases {
            watches.rewatch(b, || self.entries.ids_in(b).cloned().collect());
            changed.extend(self.rescan_base(b, watches));
        }
        for key in dirty.folders {
            if bases.contains(&key.base) {
                continue;
            }
            if self.reread(key.base, &key.id, true, watches) {
                changed.insert(key);
            }
        }
        self.entries.settle();
        changed
    }

    /// Reads every folder of base `b` afresh. Returns the keys that changed.
    fn rescan_base(&mut self, b: usize, watches: &mut Watches) -> Vec<FolderKey> {
        let base = self.dirs.bases[b].clone();
        let found = match instance_folders(&base) {
            Ok(list) => {
                self.warnings[b] = None;
                list
            }
            Err(w) => {
                self.warnings[b] = w;
                Vec::new()
            }
        };
        // `found` is sorted by id.
        let listed = |id: &str| found.binary_search_by(|f| f.id.as_str().cmp(id)).ok();
        let gone: Vec<String> = self.entries.ids_in(b).filter(|id| listed(id).is_none()).cloned().collect();
        let gone_paths: Vec<_> = gone.iter().map(|id| folder_path(&base, id)).collect();
        let mut changed = Vec::new();
        for id in gone {
            self.entries.remove(b, &id);
            changed.push(FolderKey { base: b, id });
        }
        // Watch each folder before reading it, so that nothing written in
        // between is missed (afresh: the folder by a name may be a new one);
        // stop watching folders that went, all in one batch. (A watch whose
        // folder was deleted went with it.)
        let is_folder: Vec<bool> =
            found.iter().map(|f| f.plain || fs::symlink_metadata(&f.path).is_ok_and(|m| m.is_dir())).collect();
        let unwatch = gone_paths.iter().map(|p| (p.as_path(), false));
        watches
            .watch_folders(b, unwatch.chain(found.iter().zip(is_folder).map(|(f, folder)| (f.path.as_path(), folder))));
        // After the first scan, a folder that reads as invalid gets the same
        // patience as after an event: an overflow can land mid-write.
        let patient = self.patient_rescans;
        for batch in found.chunks(READ_BATCH) {
            for (f, fresh) in batch.iter().zip(read_all(batch)) {
                if self.accept(b, &f.id, fresh, patient) {
                    changed.push(FolderKey::new(b, &f.id));
                }
            }
        }
        changed
    }

    /// Re-reads one instance folder. Returns true if its entry changed.
    /// `patient` (after an event) gives a folder that reads as invalid a few
    /// more looks before believing it: it may be mid-write.
    fn reread(&mut self, b: usize, id: &str, patient: bool, watches: &mut Watches) -> bool {
        let dir = folder_path(&self.dirs.bases[b], id);
        match fs::symlink_metadata(&dir) {
            Err(_) => {
                self.retry.remove(&FolderKey::new(b, id));
                watches.unwatch_folder(b, id);
                self.entries.remove(b, id)
            }
            Ok(m) => {
                if m.is_dir() {
                    watches.watch_folder(b, id);
                }
                let fresh = read_listed_folder(&dir, id.to_owned(), m.is_dir());
                self.accept(b, id, fresh, patient)
            }
        }
    }

    /// Takes in `fresh`, what instance folder `id` of base `b` reads as now.
    /// Returns true if its entry changed.
    fn accept(&mut self, b: usize, id: &str, mut fresh: Instance, patient: bool) -> bool {
        let key = FolderKey::new(b, id);
        let old = self.entries.get(b, id);
        if fresh.state != State::Invalid {
            self.retry.remove(&key);
        } else {
            let was_valid = old.is_none_or(|o| o.state != State::Invalid);
            let left = self.retry.get(&key).map_or(RETRIES, |r| r.left);
            if patient && was_valid && left > 0 {
                self.retry.insert(key, Retry { left: left - 1, at: Instant::now() + RETRY_EVERY });
                return false;
            }
            // Invalid on every look for the whole settle time (or found so
            // by a first scan): believed, even over a running entry. A torn
            // write is whole again long before, so it never hides one.
            self.retry.remove(&key);
        }
        if let Some(old) = old {
            if old.is_running() && fresh.is_running() && old.port == fresh.port {
                fresh.keep_probed(old);
            }
        }
        if fresh.is_running() && fresh.exposed {
            // Whether its address is still this machine's: asked of the OS
            // (not the network) whenever the file is read.
            let interfaces = crate::interfaces::read().unwrap_or_default();
            crate::inspect::check_addresses(std::slice::from_mut(&mut fresh), &interfaces);
        }
        if old.is_some_and(|old| **old == fresh) {
            return false;
        }
        self.entries.set(b, fresh);
        true
    }
}

/// Reads the listed folders `batch`, in order, on as many threads as there
/// are cores (up to [`READ_THREADS`]) when there are enough of them.
fn read_all(batch: &[Listed]) -> Vec<Instance> {
    let read = |f: &Listed| read_listed_folder(&f.path, f.id.clone(), f.plain);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(READ_THREADS);
    if threads < 2 || batch.len() < 2 * READ_ALONE {
        return batch.iter().map(read).collect();
    }
    let share = batch.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let parts: Vec<_> =
            batch.chunks(share).map(|part| scope.spawn(move || part.iter().map(read).collect::<Vec<_>>())).collect();
        parts.into_iter().flat_map(|part| part.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    })
}
