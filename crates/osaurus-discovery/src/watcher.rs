//! Keeps a [`Snapshot`] current from file-system events.
//!
//! One worker thread owns the state. notify (inotify on Linux, FSEvents on
//! macOS) feeds it events; an event re-reads only the instance folder it
//! touches, so the cost of one change does not grow with the number of
//! instances. Only what can hold instances is watched: each base folder and
//! each instance folder's top level, never deeper. An event that completes a
//! `configuration.json` (a rename into place, a close after writing) is read
//! and published at once; what follows it is coalesced. A full rescan happens
//! at start, on notify's rescan signal (a queue overflow) and on a watcher
//! error; it leaves every unchanged watch alone, so it cannot set off another.
//! The consumer is called with a new snapshot only when the snapshot changes.
//!
//! A second thread is the probe timer (tao's timers are unreliable on Linux);
//! it sleeps on a channel, without waking, while no instance runs.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, ModifyKind};
use notify::{EventKind, RecursiveMode, Watcher as _};

use crate::discovery::read::read_listed_folder;
use crate::discovery::scan::{folder_path, instance_folders, is_ignored};
use crate::discovery::{Instance, RuntimeDirs, State};
use crate::entries::Entries;
use crate::inspect::{self, AccessKey, Details};
use crate::leftover::Leftovers;
use crate::probe::Prober;
use crate::snapshot::Snapshot;

/// How the watcher behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// Probe running instances on change and every `probe_interval`.
    pub probe: bool,
    /// How often running instances are probed again.
    pub probe_interval: Duration,
    /// Use notify's poll watcher instead of the native one (testing aid; also
    /// chosen automatically when the OS refuses a native watch).
    pub force_poll: bool,
    /// The access key for `/v1/models`, sent only to 127.0.0.1.
    pub access_key: Option<AccessKey>,
}

impl Default for Options {
    fn default() -> Self {
        Options { probe: true, probe_interval: Duration::from_secs(10), force_poll: false, access_key: None }
    }
}

/// A burst ends after this much quiet...
const QUIET: Duration = Duration::from_millis(6);
/// ...or this long after its first event, whichever comes first.
const MAX_COALESCE: Duration = Duration::from_millis(25);
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
/// worker's thread.
const READ_ALONE: usize = 64;
/// The poll watcher's period when native watching is refused.
const POLL_PERIOD: Duration = Duration::from_secs(2);

/// A running watcher. Dropping it stops its threads.
pub struct Watcher {
    tx: Sender<Msg>,
    worker: Option<JoinHandle<()>>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.tx.send(Msg::Stop);
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

enum Msg {
    Fs(notify::Result<notify::Event>),
    ProbeTick,
    /// What the look-up thread found for one round.
    Looked(Vec<Looked>),
    Stop,
}

/// The slow questions about one running instance, asked off the worker's
/// thread: which process owns its port (a walk over every process's
/// descriptors) and which models it serves (an HTTP request that may hang
/// until its timeout).
struct Lookup {
    instance: Instance,
    owner: bool,
    models: bool,
    listeners: Option<crate::process::Listeners>,
}

/// The answers to a [`Lookup`], for the instance it was asked about.
struct Looked {
    id: String,
    port: Option<u16>,
    owner: Option<Option<crate::process::Owner>>,
    models: Option<inspect::Models>,
}

/// Starts watching `dirs`. `consumer` is called at once with the current
/// snapshot, then with each changed one, on the watcher's thread.
pub fn spawn(dirs: RuntimeDirs, options: Options, consumer: impl FnMut(&Snapshot) + Send + 'static) -> Watcher {
    let (tx, rx) = mpsc::channel();
    let worker_tx = tx.clone();
    let worker = std::thread::Builder::new()
        .name("watcher".into())
        .spawn(move || Worker::new(dirs, options, worker_tx, Box::new(consumer)).run(rx))
        .expect("spawn the watcher thread");
    Watcher { tx, worker: Some(worker) }
}

/// How gathering a burst ended.
enum Burst {
    /// Quiet, or the burst's time is up: apply what it made dirty.
    Over,
    /// An event completed a `configuration.json`: read it now, then go on.
    Completed,
    /// The watcher is stopping.
    Stop,
}

/// What one burst of events asks to be re-read.
#[derive(Default)]
struct Dirty {
    folders: BTreeSet<(usize, String)>,
    bases: BTreeSet<usize>,
    everything: bool,
}

impl Dirty {
    fn is_empty(&self) -> bool {
        self.folders.is_empty() && self.bases.is_empty() && !self.everything
    }
}

struct Worker {
    dirs: RuntimeDirs,
    options: Options,
    tx: Sender<Msg>,
    consumer: Box<dyn FnMut(&Snapshot) + Send>,
    watcher: Option<Box<dyn notify::Watcher + Send>>,
    polling: bool,
    /// What each base folder's watch is set on: the base itself when it
    /// exists, plus its nearest existing ancestor to see it appear, vanish or
    /// be replaced. Every watch is non-recursive.
    wants: Vec<Vec<PathBuf>>,
    /// The base-level watches in force.
    active: BTreeSet<PathBuf>,
    /// Each base with symbolic links resolved, as notify reports its events.
    real: Vec<Option<PathBuf>>,
    /// Entries by instance id and base index (lower wins), and the
    /// effective ones ranked.
    entries: Entries,
    warnings: Vec<Option<String>>,
    /// Folders that read as invalid, with retries left and when to retry.
    retry: HashMap<(usize, String), (u8, Instant)>,
    prober: Option<Prober>,
    /// Models, owners and leftover marks by running instance id (with
    /// probes only), shared with the snapshots made from them.
    details: Arc<BTreeMap<String, Details>>,
    leftovers: Leftovers,
    timer: Option<Sender<bool>>,
    timer_active: bool,
    last: Option<Snapshot>,
    /// The look-up thread, started with the first look-up.
    lookups: Option<Sender<Vec<Lookup>>>,
}

impl Worker {
    fn new(dirs: RuntimeDirs, options: Options, tx: Sender<Msg>, consumer: Box<dyn FnMut(&Snapshot) + Send>) -> Worker {
        let n = dirs.bases.len();
        let prober = options.probe.then(Prober::default);
        Worker {
            dirs,
            options,
            tx,
            consumer,
            watcher: None,
            polling: false,
            wants: vec![Vec::new(); n],
            active: BTreeSet::new(),
            real: vec![None; n],
            entries: Entries::new(chrono::Utc::now()),
            warnings: vec![None; n],
            retry: HashMap::new(),
            prober,
            details: Arc::default(),
            leftovers: Leftovers::default(),
            timer: None,
            timer_active: false,
            last: None,
            lookups: None,
        }
    }

    fn run(mut self, rx: Receiver<Msg>) {
        self.start_watcher(self.options.force_poll);
        if self.options.probe {
            self.timer = Some(spawn_timer(self.tx.clone(), self.options.probe_interval));
        }
        self.entries.defer();
        for b in 0..self.dirs.bases.len() {
            self.rewatch(b);
            self.rescan_base(b);
        }
        self.entries.settle();
        self.probe_changed(None);
        self.publish();

        loop {
            let msg = match self.next_wake() {
                Some(at) => match rx.recv_timeout(at.saturating_duration_since(Instant::now())) {
                    Ok(m) => Some(m),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return,
                },
                None => match rx.recv() {
                    Ok(m) => Some(m),
                    Err(_) => return,
                },
            };
            let mut dirty = Dirty::default();
            let mut tick = false;
            match msg {
                Some(Msg::Stop) => return,
                Some(Msg::ProbeTick) => tick = true,
                Some(Msg::Looked(found)) => self.merge_looked(found),
                Some(Msg::Fs(ev)) => {
                    let mut lead = completes_a_configuration(&ev);
                    self.classify(ev, &mut dirty);
                    let deadline = Instant::now() + MAX_COALESCE;
                    let mut led = false;
                    loop {
                        if lead && !led && !dirty.everything && dirty.bases.is_empty() {
                            // A file is whole: read it and publish now, once
                            // a burst; the rest of the burst is coalesced and
                            // still ends in one true state.
                            led = true;
                            let changed = self.apply(std::mem::take(&mut dirty));
                            if !changed.is_empty() {
                                // What the file says goes out before the
                                // probe's answer, which follows if it differs.
                                self.publish();
                                self.probe_changed(Some(&changed));
                                self.publish();
                            }
                        }
                        match self.coalesce(&rx, &mut dirty, &mut tick, deadline) {
                            Burst::Stop => return,
                            Burst::Over => break,
                            Burst::Completed => lead = true,
                        }
                    }
                }
                None => {}
            }
            let now = Instant::now();
            let due: Vec<(usize, String)> =
                self.retry.iter().filter(|(_, (_, at))| *at <= now).map(|(k, _)| k.clone()).collect();
            dirty.folders.extend(due);
            let changed = self.apply(dirty);
            if tick {
                self.probe_changed(None);
            } else if !changed.is_empty() {
                self.probe_changed(Some(&changed));
            }
            self.publish();
        }
    }

    /// Gathers the rest of a burst: until [`QUIET`] passes with no event, or
    /// `deadline` ([`MAX_COALESCE`] after the first), or an event completes a
    /// `configuration.json` (to be read at once).
    fn coalesce(&mut self, rx: &Receiver<Msg>, dirty: &mut Dirty, tick: &mut bool, deadline: Instant) -> Burst {
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Burst::Over;
            }
            match rx.recv_timeout(QUIET.min(deadline - now)) {
                Ok(Msg::Fs(ev)) => {
                    let completes = completes_a_configuration(&ev);
                    self.classify(ev, dirty);
                    if completes {
                        return Burst::Completed;
                    }
                }
                Ok(Msg::ProbeTick) => *tick = true,
                Ok(Msg::Looked(found)) => self.merge_looked(found),
                Ok(Msg::Stop) => return Burst::Stop,
                Err(RecvTimeoutError::Timeout) => return Burst::Over,
                Err(RecvTimeoutError::Disconnected) => return Burst::Stop,
            }
        }
    }

    /// The next moment there is work without an event: a file read to
    /// retry, or an `updatedAt` from the future that begins to count (the
    /// order changes, and is published).
    fn next_wake(&self) -> Option<Instant> {
        let retry = self.retry.values().map(|(_, at)| *at).min();
        let reorder = self.entries.reorders_at().and_then(|at| {
            let wait = (at - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO);
            Instant::now().checked_add(wait)
        });
        retry.into_iter().chain(reorder).min()
    }

    /// Maps one notify event to the folders it makes dirty.
    fn classify(&self, event: notify::Result<notify::Event>, dirty: &mut Dirty) {
        let event = match event {
            Ok(e) => e,
            Err(_) => {
                dirty.everything = true;
                return;
            }
        };
        if event.need_rescan() || (event.paths.is_empty() && !matches!(event.kind, EventKind::Access(_))) {
            dirty.everything = true;
            return;
        }
        if matches!(event.kind, EventKind::Access(a) if a != AccessKind::Close(AccessMode::Write)) {
            return;
        }
        for path in &event.paths {
            for (b, base) in self.dirs.bases.iter().enumerate() {
                let inside = path.strip_prefix(base).or_else(|e| match &self.real[b] {
                    Some(real) => path.strip_prefix(real),
                    None => Err(e),
                });
                match inside {
                    Ok(rest) => match rest.components().next() {
                        None => {
                            dirty.bases.insert(b);
                        }
                        Some(first) => {
                            let id = crate::discovery::scan::folder_id(first.as_os_str());
                            if !is_ignored(&id) {
                                dirty.folders.insert((b, id));
                            }
                        }
                    },
                    // An event above the base (its parent, or an ancestor
                    // being created) may mean the base appeared or vanished.
                    Err(_) if base.starts_with(path) => {
                        dirty.bases.insert(b);
                    }
                    Err(_) => {}
                }
            }
        }
    }

    /// Re-reads what is dirty. Returns the keys of entries that changed.
    fn apply(&mut self, dirty: Dirty) -> BTreeSet<(usize, String)> {
        let mut changed = BTreeSet::new();
        if dirty.is_empty() {
            return changed;
        }
        let bases: BTreeSet<usize> = if dirty.everything { (0..self.dirs.bases.len()).collect() } else { dirty.bases };
        if !bases.is_empty() {
            self.entries.defer();
        }
        for &b in &bases {
            self.rewatch(b);
            changed.extend(self.rescan_base(b));
        }
        for (b, id) in dirty.folders {
            if bases.contains(&b) {
                continue;
            }
            if self.reread(b, &id, true) {
                changed.insert((b, id));
            }
        }
        self.entries.settle();
        changed
    }

    /// Reads every folder of base `b` afresh. Returns the keys that changed.
    fn rescan_base(&mut self, b: usize) -> Vec<(usize, String)> {
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
        let listed = |id: &str| found.binary_search_by(|(f, _, _)| f.as_str().cmp(id)).ok();
        let gone: Vec<String> = self.entries.ids_in(b).filter(|id| listed(id).is_none()).cloned().collect();
        let mut changed = Vec::new();
        for id in gone {
            self.unwatch_folder(b, &id);
            self.entries.remove(b, &id);
            changed.push((b, id));
        }
        // Watch each folder before reading it, so that nothing written in
        // between is missed (afresh: the folder by a name may be a new one);
        // stop watching folders that went.
        let is_folder: Vec<bool> = found
            .iter()
            .map(|(_, path, plain)| *plain || fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()))
            .collect();
        // (A watch whose folder was deleted went with it.)
        for ((id, path, _), folder) in found.iter().zip(is_folder) {
            if folder {
                self.watch_folder_at(b, path);
            } else {
                self.unwatch_folder(b, id);
            }
        }
        // After the first scan, a folder that reads as invalid gets the same
        // patience as after an event: an overflow can land mid-write.
        let patient = self.last.is_some();
        for batch in found.chunks(READ_BATCH) {
            for ((id, _, _), fresh) in batch.iter().zip(read_all(batch)) {
                if self.accept(b, id, fresh, patient) {
                    changed.push((b, id.clone()));
                }
            }
        }
        changed
    }

    /// Watches (afresh) the top level of instance folder `id` of base `b`:
    /// the folder by that name may be a new one (removed and re-created),
    /// which an old watch does not see.
    fn watch_folder(&mut self, b: usize, id: &str) {
        let Some(real) = &self.real[b] else { return };
        let path = folder_path(real, id);
        self.watch_folder_at(b, &path);
    }

    /// Watches (afresh) the instance folder of base `b` found at `path`,
    /// under the base as given or as resolved.
    fn watch_folder_at(&mut self, b: usize, path: &Path) {
        if let (Some(real), Some(name), Some(watcher)) = (&self.real[b], path.file_name(), self.watcher.as_mut()) {
            let _ = watcher.watch(&real.join(name), RecursiveMode::NonRecursive);
        }
    }

    /// Stops watching instance folder `id` of base `b`, if it was watched.
    fn unwatch_folder(&mut self, b: usize, id: &str) {
        if let (Some(real), Some(watcher)) = (&self.real[b], self.watcher.as_mut()) {
            // Fails when it was not watched, or the folder went first (the
            // kernel dropped the watch then).
            let _ = watcher.unwatch(&folder_path(real, id));
        }
    }

    /// Re-reads one instance folder. Returns true if its entry changed.
    /// `patient` (after an event) gives a folder that reads as invalid a few
    /// more looks before believing it: it may be mid-write.
    fn reread(&mut self, b: usize, id: &str, patient: bool) -> bool {
        let dir = folder_path(&self.dirs.bases[b], id);
        match fs::symlink_metadata(&dir) {
            Err(_) => {
                self.retry.remove(&(b, id.to_owned()));
                self.unwatch_folder(b, id);
                self.entries.remove(b, id)
            }
            Ok(m) => {
                if m.is_dir() {
                    self.watch_folder(b, id);
                }
                let fresh = read_listed_folder(&dir, id.to_owned(), m.is_dir());
                self.accept(b, id, fresh, patient)
            }
        }
    }

    /// Takes in `fresh`, what instance folder `id` of base `b` reads as now.
    /// Returns true if its entry changed.
    fn accept(&mut self, b: usize, id: &str, mut fresh: Instance, patient: bool) -> bool {
        let key = (b, id.to_owned());
        let old = self.entries.get(b, id);
        if fresh.state != State::Invalid {
            self.retry.remove(&key);
        } else {
            let was_valid = old.is_none_or(|o| o.state != State::Invalid);
            let left = self.retry.get(&key).map_or(RETRIES, |(n, _)| *n);
            if patient && was_valid && left > 0 {
                self.retry.insert(key, (left - 1, Instant::now() + RETRY_EVERY));
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
            inspect::check_addresses(std::slice::from_mut(&mut fresh), &interfaces);
        }
        if old.is_some_and(|old| **old == fresh) {
            return false;
        }
        self.entries.set(b, fresh);
        true
    }

    /// Probes the running entries among `keys` (all of them with `None`),
    /// then refreshes what is known about them: leftover marks, models,
    /// owning processes and duplicates. With `keys`, nothing is done for the
    /// entries not among them.
    fn probe_changed(&mut self, keys: Option<&BTreeSet<(usize, String)>>) {
        let Some(prober) = &self.prober else { return };
        // The entries a probe round touches: those whose server may listen.
        let chosen: Vec<(usize, Arc<Instance>)> = match keys {
            None => {
                self.entries.all().filter(|(_, i)| inspect::may_listen(i)).map(|(b, i)| (b, Arc::clone(i))).collect()
            }
            Some(keys) => keys
                .iter()
                .filter_map(|(b, id)| {
                    self.entries.get(*b, id).filter(|i| inspect::may_listen(i)).map(|i| (*b, Arc::clone(i)))
                })
                .collect(),
        };
        let mut probed: Vec<Instance> = chosen.iter().map(|(_, i)| Instance::clone(i)).collect();
        let round = crate::round::probe_round(prober, &mut probed);
        let now = Instant::now();
        let mut refused = BTreeSet::new();
        for (n, outcome) in &round.outcomes {
            let i = &probed[*n];
            if *outcome == crate::probe::Outcome::Refused {
                refused.insert(i.instance_id.clone());
            }
            if let Some(port) = i.port {
                let gone = crate::leftover::no_server(port, outcome, round.listeners.as_ref()).is_ok();
                self.leftovers.observe(&i.instance_id, port, gone, now);
            }
        }
        for ((b, old), i) in chosen.iter().zip(probed) {
            if i != **old {
                self.entries.set(*b, i);
            }
        }
        let listeners = round.listeners;

        // Details of the effective running instances. The leftover mark is
        // decided here; owners and models are asked for on the look-up
        // thread and merged when they come (`merge_looked`), so a server
        // that hangs never holds up the next change.
        let ids: BTreeSet<String> = match keys {
            None => self
                .details
                .keys()
                .cloned()
                .chain(self.entries.ranked().iter().filter(|i| i.is_running()).map(|i| i.instance_id.clone()))
                .collect(),
            Some(keys) => keys.iter().map(|(_, id)| id.clone()).collect(),
        };
        let mut asks = Vec::new();
        let mut owners_changed = false;
        for id in ids {
            let Some(i) = self.entries.effective(&id).filter(|i| i.is_running()).cloned() else {
                // No longer running: nothing more to know about it.
                if self.details.contains_key(&id) {
                    owners_changed |= self.details[&id].owner.is_some();
                    Arc::make_mut(&mut self.details).remove(&id);
                }
                self.leftovers.retain(|x| x != id);
                continue;
            };
            let old = self.details.get(&id).cloned().unwrap_or_default();
            // A refused connection means nothing listens: no owner to look
            // for. Instances that did not change wait for the next round.
            let refused_now = refused.contains(&id);
            asks.push(Lookup {
                instance: Instance::clone(&i),
                owner: i.port.is_some() && !refused_now,
                models: true,
                listeners: listeners.clone(),
            });
            let d = Details {
                // Until the look-up answers, what was known stays shown.
                models: old.models.clone(),
                owner: if refused_now { None } else { old.owner.clone() },
                duplicate: old.duplicate,
                leftover: i.port.is_some_and(|p| self.leftovers.is_leftover(&id, p, now)),
            };
            if d != old || !self.details.contains_key(&id) {
                owners_changed |= d.owner != old.owner;
                Arc::make_mut(&mut self.details).insert(id, d);
            }
        }
        if owners_changed {
            self.mark_duplicates();
        }
        if !asks.is_empty() {
            self.ask(asks);
        }
    }

    /// Marks the instances served by different processes of one program.
    fn mark_duplicates(&mut self) {
        let owners: BTreeMap<String, crate::process::Owner> =
            self.details.iter().filter_map(|(id, d)| Some((id.clone(), d.owner.clone()?))).collect();
        let duplicates = inspect::duplicates(&owners);
        if self.details.iter().any(|(id, d)| d.duplicate != duplicates.contains(id)) {
            for (id, d) in Arc::make_mut(&mut self.details).iter_mut() {
                d.duplicate = duplicates.contains(id);
            }
        }
    }

    /// Hands `asks` to the look-up thread, starting it the first time.
    fn ask(&mut self, asks: Vec<Lookup>) {
        if self.prober.is_none() {
            return;
        }
        let lookups = self.lookups.get_or_insert_with(|| {
            let (tx, rx) = mpsc::channel::<Vec<Lookup>>();
            let back = self.tx.clone();
            let key = self.options.access_key.clone();
            std::thread::Builder::new()
                .name("lookups".into())
                .spawn(move || {
                    let prober = Prober::default();
                    while let Ok(round) = rx.recv() {
                        let found = round
                            .into_iter()
                            .map(|ask| Looked {
                                id: ask.instance.instance_id.clone(),
                                port: ask.instance.port,
                                owner: ask.owner.then(|| {
                                    let port = ask.instance.port?;
                                    match &ask.listeners {
                                        Some(l) => l.owner(port),
                                        None => crate::process::listener(port),
                                    }
                                }),
                                models: ask.models.then(|| inspect::models_for(&prober, &ask.instance, key.as_ref())),
                            })
                            .collect();
                        if back.send(Msg::Looked(found)).is_err() {
                            return;
                        }
                    }
                })
                .expect("spawn the look-up thread");
            tx
        });
        let _ = lookups.send(asks);
    }

    /// Takes in what the look-up thread found, for instances still running
    /// on the port they were asked about, and publishes.
    fn merge_looked(&mut self, found: Vec<Looked>) {
        let mut owners_changed = false;
        for looked in found {
            let current = self.entries.effective(&looked.id);
            if current.is_none_or(|i| !i.is_running() || i.port != looked.port) {
                continue;
            }
            let Some(old) = self.details.get(&looked.id) else { continue };
            let mut d = old.clone();
            if let Some(owner) = looked.owner {
                d.owner = owner;
            }
            if let Some(models) = looked.models {
                d.models = models;
            }
            if d != *old {
                owners_changed |= d.owner != old.owner;
                Arc::make_mut(&mut self.details).insert(looked.id, d);
            }
        }
        if owners_changed {
            self.mark_duplicates();
        }
        self.publish();
    }

    /// The snapshot the entries make: the first base wins for each id. It
    /// shares every entry with the store, so it costs a pointer per entry.
    fn snapshot(&self) -> Snapshot {
        Snapshot {
            instances: self.entries.ranked().into(),
            warnings: self.warnings.iter().flatten().cloned().collect(),
            details: Arc::clone(&self.details),
        }
    }

    fn publish(&mut self) {
        self.entries.catch_up(chrono::Utc::now());
        let active = self.entries.ranked().first().is_some_and(|i| i.is_running());
        if let Some(timer) = self.timer.as_ref().filter(|_| active != self.timer_active) {
            let _ = timer.send(active);
            self.timer_active = active;
        }
        // Unchanged entries are the same objects: comparing them costs a
        // pointer comparison each.
        let snap = self.snapshot();
        if self.last.as_ref() != Some(&snap) {
            (self.consumer)(&snap);
            self.last = Some(snap);
        }
    }

    fn start_watcher(&mut self, poll: bool) {
        let tx = self.tx.clone();
        let handler = move |ev: notify::Result<notify::Event>| {
            let _ = tx.send(Msg::Fs(ev));
        };
        // Never follow links while walking: a hostile instance folder linked
        // to / must not make us watch the whole disk.
        let config = notify::Config::default().with_follow_symlinks(false).with_poll_interval(POLL_PERIOD);
        let watcher: notify::Result<Box<dyn notify::Watcher + Send>> = if poll {
            notify::PollWatcher::new(handler, config).map(|w| Box::new(w) as _)
        } else {
            native_watcher(handler, config)
        };
        match watcher {
            Ok(w) => {
                self.watcher = Some(w);
                self.polling = poll;
                if poll {
                    eprintln!("osaurus-tray: watching by polling every {} s", POLL_PERIOD.as_secs());
                }
            }
            Err(e) if !poll => {
                eprintln!("osaurus-tray: file watching refused ({e}); falling back to polling");
                self.start_watcher(true);
            }
            Err(e) => eprintln!("osaurus-tray: cannot watch the runtime folders: {e}"),
        }
    }

    /// Points base `b`'s watches at the base (if it exists) and its nearest
    /// existing ancestor. Falls back to polling if the OS refuses a watch.
    fn rewatch(&mut self, b: usize) {
        let base = self.dirs.bases[b].clone();
        let mut wanted = Vec::new();
        if let Some(anchor) = nearest_existing_ancestor(&base) {
            wanted.push(anchor);
        }
        // notify does not follow a symlinked root: watch the real folder.
        let real = fs::canonicalize(&base).ok().filter(|p| p.is_dir());
        if real != self.real[b] {
            // A different folder now: its instance folders are watched anew.
            let ids: Vec<String> = self.entries.ids_in(b).cloned().collect();
            for id in ids {
                self.unwatch_folder(b, &id);
            }
        }
        self.real[b] = real;
        if let Some(real) = &self.real[b] {
            wanted.push(real.clone());
        }
        self.wants[b] = wanted;
        let renew = self.real[b].clone();
        if let Err(e) = self.sync_watches(renew.as_deref()) {
            if !self.polling {
                eprintln!("osaurus-tray: file watching refused ({e}); falling back to polling");
                self.watcher = None;
                self.active.clear();
                self.start_watcher(true);
                let _ = self.sync_watches(None);
            }
        }
    }

    /// Makes the watches in force the union of what every base wants. An
    /// unchanged watch is left alone (dropping it even for a moment could
    /// miss a folder being re-created); `renew` is watched afresh, since the
    /// folder by that name may be a new one.
    fn sync_watches(&mut self, renew: Option<&Path>) -> notify::Result<()> {
        let desired: BTreeSet<PathBuf> = self.wants.iter().flatten().cloned().collect();
        let Some(watcher) = self.watcher.as_mut() else {
            return Ok(());
        };
        let stale: Vec<PathBuf> =
            self.active.iter().filter(|p| !desired.contains(*p) || Some(p.as_path()) == renew).cloned().collect();
        for p in stale {
            let _ = watcher.unwatch(&p);
            self.active.remove(&p);
        }
        let mut refused = Ok(());
        for path in desired {
            if self.active.contains(&path) {
                continue;
            }
            match watcher.watch(&path, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.active.insert(path);
                }
                // A folder that vanished meanwhile is not a refusal; the
                // event that removed it brings us back here.
                Err(e) if path.exists() => refused = Err(e),
                Err(_) => {}
            }
        }
        refused
    }
}

/// Reads the listed folders `batch`, in order, on as many threads as there
/// are cores (up to [`READ_THREADS`]) when there are enough of them.
fn read_all(batch: &[(String, PathBuf, bool)]) -> Vec<Instance> {
    let read = |(id, path, plain): &(String, PathBuf, bool)| read_listed_folder(path, id.clone(), *plain);
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

/// Whether `event` says a `configuration.json` was completed: renamed into
/// place (how Osaurus writes) or closed after writing.
fn completes_a_configuration(event: &notify::Result<notify::Event>) -> bool {
    let Ok(event) = event else { return false };
    let completing = matches!(
        event.kind,
        EventKind::Modify(ModifyKind::Name(_)) | EventKind::Access(AccessKind::Close(AccessMode::Write))
    );
    completing && event.paths.last().is_some_and(|p| p.file_name().is_some_and(|n| n == "configuration.json"))
}

/// The native watcher. On Linux, the lean inotify watcher of
/// `inotify.rs`: no open or read events, so reading every folder in a rescan
/// queues nothing and the rescan after an overflow cannot overflow again.
#[cfg(target_os = "linux")]
fn native_watcher(
    handler: impl notify::EventHandler,
    config: notify::Config,
) -> notify::Result<Box<dyn notify::Watcher + Send>> {
    crate::inotify::LeanInotify::new(handler, config).map(|w| Box::new(w) as _)
}

/// The native watcher (FSEvents on macOS), asked for each path once.
#[cfg(not(target_os = "linux"))]
fn native_watcher(
    handler: impl notify::EventHandler,
    config: notify::Config,
) -> notify::Result<Box<dyn notify::Watcher + Send>> {
    WatchOnce::<notify::RecommendedWatcher>::new(handler, config).map(|w| Box::new(w) as _)
}

/// A watcher that passes each path on once: watching a path it watches, or
/// unwatching one it does not, does nothing. A rescan asks again for every
/// folder it lists; FSEvents restarts its stream on every `watch` and
/// `unwatch` (copying its whole table) and keeps a path added twice twice.
/// It watches paths, not folders, so a folder re-created under a watched
/// path is still seen.
#[cfg(any(not(target_os = "linux"), test))]
struct WatchOnce<W> {
    inner: W,
    paths: std::collections::HashSet<PathBuf>,
}

#[cfg(any(not(target_os = "linux"), test))]
impl<W: notify::Watcher> notify::Watcher for WatchOnce<W> {
    fn new<F: notify::EventHandler>(handler: F, config: notify::Config) -> notify::Result<Self> {
        W::new(handler, config).map(|inner| WatchOnce { inner, paths: Default::default() })
    }

    fn watch(&mut self, path: &Path, mode: RecursiveMode) -> notify::Result<()> {
        if !self.paths.contains(path) {
            self.inner.watch(path, mode)?;
            self.paths.insert(path.to_path_buf());
        }
        Ok(())
    }

    fn unwatch(&mut self, path: &Path) -> notify::Result<()> {
        if !self.paths.remove(path) {
            return Err(notify::Error::watch_not_found().add_path(path.to_path_buf()));
        }
        // notify's FSEvents watcher drops every path equal to this one
        // ignoring case: forget those too, so that the next watch of one (a
        // folder renamed by case) asks again instead of believing it holds.
        let folded = path.to_string_lossy().to_lowercase();
        self.paths.retain(|p| p.to_string_lossy().to_lowercase() != folded);
        self.inner.unwatch(path)
    }

    fn configure(&mut self, option: notify::Config) -> notify::Result<bool> {
        self.inner.configure(option)
    }

    fn kind() -> notify::WatcherKind {
        W::kind()
    }
}

/// The closest ancestor of `path` that exists (not `path` itself).
fn nearest_existing_ancestor(path: &Path) -> Option<PathBuf> {
    path.ancestors().skip(1).find(|p| p.is_dir()).map(Path::to_path_buf)
}

/// The probe timer: while told `true` (instances run) it sends a tick every
/// `every`; while `false` it blocks without waking. Ends when the worker does.
fn spawn_timer(tx: Sender<Msg>, every: Duration) -> Sender<bool> {
    let (ctl_tx, ctl_rx) = mpsc::channel::<bool>();
    std::thread::Builder::new()
        .name("probe-timer".into())
        .spawn(move || {
            let mut next_tick: Option<Instant> = None;
            loop {
                let told = match next_tick {
                    Some(at) => match ctl_rx.recv_timeout(at.saturating_duration_since(Instant::now())) {
                        Ok(active) => active,
                        Err(RecvTimeoutError::Timeout) => {
                            if tx.send(Msg::ProbeTick).is_err() {
                                return;
                            }
                            next_tick = Some(Instant::now() + every);
                            continue;
                        }
                        Err(RecvTimeoutError::Disconnected) => return,
                    },
                    None => match ctl_rx.recv() {
                        Ok(active) => active,
                        Err(_) => return,
                    },
                };
                next_tick = match (told, next_tick) {
                    (false, _) => None,
                    (true, Some(at)) => Some(at),
                    (true, None) => Some(Instant::now() + every),
                };
            }
        })
        .expect("spawn the probe timer");
    ctl_tx
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A model of notify 8.2.2's FSEvents watcher (`append_path`,
    /// `remove_path`): a watch appends the path, even twice, and fails for a
    /// path that is gone (here, under `/gone`); an unwatch removes every path
    /// equal to it ignoring case. It records each call it gets.
    #[derive(Default)]
    struct FsEventsModel {
        asked: Vec<String>,
        paths: Vec<String>,
    }

    impl notify::Watcher for FsEventsModel {
        fn new<F: notify::EventHandler>(_: F, _: notify::Config) -> notify::Result<Self> {
            Ok(FsEventsModel::default())
        }
        fn watch(&mut self, path: &Path, _: RecursiveMode) -> notify::Result<()> {
            self.asked.push(format!("watch {}", path.display()));
            if path.starts_with("/gone") {
                return Err(notify::Error::path_not_found());
            }
            self.paths.push(path.to_string_lossy().into_owned());
            Ok(())
        }
        fn unwatch(&mut self, path: &Path) -> notify::Result<()> {
            self.asked.push(format!("unwatch {}", path.display()));
            let gone = path.to_string_lossy().to_lowercase();
            self.paths.retain(|p| p.to_lowercase() != gone);
            Ok(())
        }
        fn kind() -> notify::WatcherKind {
            notify::WatcherKind::NullWatcher
        }
    }

    fn watch_once() -> WatchOnce<FsEventsModel> {
        WatchOnce::new(|_: notify::Result<notify::Event>| {}, notify::Config::default()).unwrap()
    }

    #[test]
    fn a_folder_renamed_by_case_stays_watched_after_the_next_rescan() {
        let mut w = watch_once();
        // `abc` renamed `ABC`: the event watches `ABC`; the rescan unwatches
        // the entry gone (`abc`) and watches the one listed (`ABC`).
        w.watch(Path::new("/rt/abc"), RecursiveMode::NonRecursive).unwrap();
        w.watch(Path::new("/rt/ABC"), RecursiveMode::NonRecursive).unwrap();
        w.unwatch(Path::new("/rt/abc")).unwrap();
        w.watch(Path::new("/rt/ABC"), RecursiveMode::NonRecursive).unwrap();
        assert_eq!(w.inner.paths, ["/rt/ABC"], "the folder listed is watched");
    }

    #[test]
    fn each_path_reaches_the_watcher_inside_once() {
        let mut w = watch_once();
        let (a, b, gone) = (Path::new("/rt/a"), Path::new("/rt/b"), Path::new("/gone/c"));
        // Three rescans of the same two folders.
        for _ in 0..3 {
            w.watch(a, RecursiveMode::NonRecursive).unwrap();
            w.watch(b, RecursiveMode::NonRecursive).unwrap();
        }
        assert!(w.watch(gone, RecursiveMode::NonRecursive).is_err(), "a refusal is passed on");
        assert!(w.unwatch(gone).is_err(), "a path refused is not watched");
        assert!(w.unwatch(Path::new("/rt/not-a-folder")).is_err(), "never watched");
        w.unwatch(a).unwrap();
        assert!(w.unwatch(a).is_err(), "already unwatched");
        w.watch(a, RecursiveMode::NonRecursive).unwrap();
        assert_eq!(w.inner.asked, ["watch /rt/a", "watch /rt/b", "watch /gone/c", "unwatch /rt/a", "watch /rt/a"]);
        assert_eq!(w.inner.paths, ["/rt/b", "/rt/a"], "each path held once");
    }
}
