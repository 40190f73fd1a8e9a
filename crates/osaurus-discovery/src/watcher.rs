//! Keeps a [`Snapshot`] current from file-system events.
//!
//! One thread, the watcher's, owns the state and runs one flat loop
//! (`Worker::run`): it waits for a message or the earliest deadline (a
//! burst's end, a folder's retry, an `updatedAt` from the future that comes
//! due) and hands each to one method. The state lives in rooms, one job each:
//!
//! - `burst.rs`: how a burst of events becomes one change (pure, time passed in);
//! - `watches.rs`: the only code that talks to notify (inotify on Linux,
//!   FSEvents on macOS, the poll watcher when the OS refuses), and the stat
//!   poll for what a stream may not watch;
//! - `folders.rs`: the entries, the runtime folders' warnings and the
//!   retries; it re-reads only what changed, so the cost of one change does
//!   not grow with the number of instances;
//! - `probing.rs`: liveness from the socket table and exit events, the
//!   rare request, the details (models, owners, leftover marks) and the
//!   look-up thread; `liveness.rs` holds its rules (pure, time passed in);
//! - `entries.rs`: the store of entries, kept ranked one change at a time;
//! - `inotify.rs` (Linux): the lean inotify backend.
//!
//! The consumer is called with a new snapshot only when the snapshot changes.

mod anchors;
mod backend;
mod burst;
mod entries;
mod folders;
#[cfg(target_os = "linux")]
mod inotify;
mod liveness;
mod probing;
mod watches;

use std::collections::BTreeSet;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::discovery::RuntimeDirs;
use crate::inspect::AccessKey;
use crate::snapshot::Snapshot;
use burst::{Burst, Dirty};
use entries::FolderKey;
use folders::Folders;
use probing::{Answer, Probing};
use watches::{completes_a_configuration, Event, Watches};

/// How the watcher behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// Follow running instances' servers: liveness from the operating
    /// system, one `/health` per new server, models, the LAN check.
    pub probe: bool,
    /// How often a known server gets the hang check (`OPTIONS`, which
    /// Osaurus does not log).
    pub probe_interval: Duration,
    /// Use notify's poll watcher instead of the native one (testing aid; also
    /// chosen automatically when the OS refuses a native watch).
    pub force_poll: bool,
    /// The access key for `/v1/models`, sent only to 127.0.0.1.
    pub access_key: Option<AccessKey>,
}

impl Default for Options {
    fn default() -> Self {
        Options { probe: true, probe_interval: HANG_CHECK_EVERY, force_poll: false, access_key: None }
    }
}

/// How often a known server gets the hang check by default.
pub const HANG_CHECK_EVERY: Duration = Duration::from_secs(300);

/// A running watcher. Dropping it stops its threads.
pub struct Watcher {
    tx: Sender<Msg>,
    worker: Option<JoinHandle<()>>,
}

impl Watcher {
    /// A person asks (a command, the menu opening): every running server is
    /// asked `/health` again, and model lists older than a minute are
    /// renewed. The answer comes as a new snapshot, if anything changed.
    pub fn ask(&self) {
        let _ = self.tx.send(Msg::Ask);
    }

    /// A handle that asks ([`Watcher::ask`]) from any thread, for as long
    /// as the watcher runs.
    pub fn asker(&self) -> Asker {
        Asker(self.tx.clone())
    }
}

/// Asks a watcher from another thread (see [`Watcher::asker`]).
#[derive(Clone)]
pub struct Asker(Sender<Msg>);

impl Asker {
    /// [`Watcher::ask`]; nothing once the watcher has stopped.
    pub fn ask(&self) {
        let _ = self.0.send(Msg::Ask);
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.tx.send(Msg::Stop);
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

/// What reaches the watcher's thread.
enum Msg {
    /// A file-system event, from notify's thread.
    Fs(Event),
    /// A watched process exited.
    Exited(u32),
    /// A person asks.
    Ask,
    /// What the look-up thread found for one round.
    Answers(Vec<Answer>),
    Stop,
}

/// Starts watching `dirs`. `consumer` is called at once with the current
/// snapshot, then with each changed one, on the watcher's thread.
pub fn spawn(dirs: RuntimeDirs, options: Options, consumer: impl FnMut(&Snapshot) + Send + 'static) -> Watcher {
    let (tx, rx) = mpsc::channel();
    let worker_tx = tx.clone();
    let worker = std::thread::Builder::new()
        .name("watcher".into())
        .spawn(move || Worker::start(dirs, options, worker_tx, Box::new(consumer)).run(rx))
        .expect("spawn the watcher thread");
    Watcher { tx, worker: Some(worker) }
}

struct Worker {
    consumer: Box<dyn FnMut(&Snapshot) + Send>,
    watches: Watches,
    burst: Burst,
    folders: Folders,
    /// With probes only.
    probing: Option<Probing>,
    last: Option<Snapshot>,
}

impl Worker {
    /// Watches and reads every runtime folder, probes, and publishes the
    /// first snapshot.
    fn start(
        dirs: RuntimeDirs,
        options: Options,
        tx: Sender<Msg>,
        consumer: Box<dyn FnMut(&Snapshot) + Send>,
    ) -> Worker {
        let fs_tx = tx.clone();
        let watches = Watches::start(dirs.bases.clone(), options.force_poll, move |ev| {
            let _ = fs_tx.send(Msg::Fs(ev));
        });
        let probing = options.probe.then(|| {
            let (exit_tx, answers_tx) = (tx.clone(), tx);
            Probing::start(
                options.probe_interval,
                options.access_key,
                move |pid| exit_tx.send(Msg::Exited(pid)).is_ok(),
                move |found| answers_tx.send(Msg::Answers(found)).is_ok(),
            )
        });
        let mut w =
            Worker { consumer, watches, burst: Burst::default(), folders: Folders::new(dirs), probing, last: None };
        w.folders.apply(Dirty::everything(), &mut w.watches);
        w.folders.patient_rescans = true;
        w.probe(None);
        w.publish();
        w
    }

    /// The loop: wait for a message or the earliest deadline, hand it on.
    fn run(mut self, rx: Receiver<Msg>) {
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
            match msg {
                Some(Msg::Fs(event)) => self.on_event(event),
                Some(Msg::Exited(pid)) => self.on_exit(pid),
                Some(Msg::Ask) => self.on_ask(),
                Some(Msg::Answers(found)) => self.on_answers(found),
                Some(Msg::Stop) => return,
                None => {}
            }
            // What the stat poll found, or a restart of the native stream
            // may have lost, is read as a burst of its own.
            let now = Instant::now();
            let unannounced = self.watches.take_pending(now);
            if !unannounced.is_empty() {
                self.burst.add_event(unannounced, false, now);
            }
            self.on_time(now);
        }
    }

    /// The next moment there is work without a message: the end of the
    /// open burst; else a folder's retry, an `updatedAt` from the future
    /// that begins to count (the order changes, and is published), the
    /// watches' stat poll or re-read, or a server's due look.
    fn next_wake(&self) -> Option<Instant> {
        if self.burst.is_open() {
            return self.burst.next_tick();
        }
        let reorder = self.folders.entries.reorders_at().and_then(|at| {
            let wait = (at - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO);
            Instant::now().checked_add(wait)
        });
        let looks = self.probing.as_ref().and_then(Probing::next_wake);
        self.folders.next_retry().into_iter().chain(reorder).chain(self.watches.next_wake()).chain(looks).min()
    }

    /// One file-system event joins the burst; a file it completes is read
    /// and published at once (the leading edge): what the file says first,
    /// then the probe's answer if it differs.
    fn on_event(&mut self, event: Event) {
        let dirty = self.watches.change_of(&event);
        self.burst.add_event(dirty, completes_a_configuration(&event), Instant::now());
        if let Some(lead) = self.burst.take_leading() {
            let changed = self.folders.apply(lead, &mut self.watches);
            if !changed.is_empty() {
                self.publish();
                self.probe(Some(&changed));
                self.publish();
            }
        }
    }

    /// The look-up thread's answers: merged, and published.
    fn on_answers(&mut self, found: Vec<Answer>) {
        if let Some(p) = self.probing.as_mut() {
            p.take_answers(found, &self.folders.entries);
        }
        self.publish();
    }

    /// A watched process exited: its entries are looked at, and published.
    fn on_exit(&mut self, pid: u32) {
        if let Some(p) = self.probing.as_mut() {
            p.exited(&mut self.folders.entries, pid);
        }
        self.publish();
    }

    /// A person asks: every server is asked again.
    fn on_ask(&mut self) {
        if let Some(p) = self.probing.as_mut() {
            p.ask_all(&mut self.folders.entries);
        }
        self.publish();
    }

    /// Once no burst is open: re-reads what the burst made dirty and the
    /// folders due a retry, looks at what changed and at the servers due a
    /// look, and publishes.
    fn on_time(&mut self, now: Instant) {
        let mut dirty = match self.burst.is_open() {
            true => match self.burst.debounced(now) {
                Some(dirty) => dirty,
                None => return,
            },
            false => Dirty::default(),
        };
        dirty.folders.extend(self.folders.due(now));
        let changed = self.folders.apply(dirty, &mut self.watches);
        if !changed.is_empty() {
            self.probe(Some(&changed));
        }
        if let Some(p) = self.probing.as_mut() {
            p.due(&mut self.folders.entries, Instant::now());
        }
        self.publish();
    }

    /// A look at the entries among `keys` (all with `None`).
    fn probe(&mut self, keys: Option<&BTreeSet<FolderKey>>) {
        if let Some(p) = self.probing.as_mut() {
            p.look(&mut self.folders.entries, keys);
        }
    }

    /// The snapshot the entries make: the first base wins for each id. It
    /// shares every entry with the store, so it costs a pointer per entry.
    fn snapshot(&self) -> Snapshot {
        Snapshot {
            instances: self.folders.entries.ranked().into(),
            warnings: self.folders.warnings.iter().flatten().cloned().collect(),
            details: self.probing.as_ref().map(Probing::details).unwrap_or_default(),
        }
    }

    /// Hands the snapshot to the consumer if it changed.
    fn publish(&mut self) {
        self.folders.entries.catch_up(chrono::Utc::now());
        // Unchanged entries are the same objects: comparing them costs a
        // pointer comparison each.
        let snap = self.snapshot();
        if self.last.as_ref() != Some(&snap) {
            (self.consumer)(&snap);
            self.last = Some(snap);
        }
    }
}
