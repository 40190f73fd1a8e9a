//! The watches: the only code that talks to notify or the inotify backend.
//!
//! Only what can hold instances is watched, each non-recursively: each
//! runtime folder when it exists (symbolic links resolved: notify does not
//! follow a linked root), its nearest existing ancestor (the anchor, so the
//! folder can appear, vanish and return), the folder holding each symbolic
//! link on the way to it (so a link repointed is seen), and each instance
//! folder's top level. The native watcher is [`LeanInotify`](super::inotify)
//! on Linux and FSEvents through [`WatchOnce`] elsewhere; when the OS refuses
//! a watch for another reason than permission, notify's poll watcher takes
//! over until a later rescan finds native watching working again.
//!
//! FSEvents streams are recursive (every file written under a watched folder
//! wakes the app), so on macOS nothing above a base's [`watch_ceiling`] is
//! watched: a base whose anchor is above it, or with a link on the way, is
//! looked at with a cheap stat poll instead ([`POLL_PERIOD`]). The same poll
//! covers, on any system, a folder whose watch was refused for want of
//! permission. FSEvents reports resolved paths (`/private/var/…`), so events
//! are compared with both spellings ([`spellings`]). [`Watches::change_of`]
//! says what one event makes dirty.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, ModifyKind};
use notify::{EventKind, RecursiveMode};

use super::anchors::{denied, links_on_the_way, look, nearest_existing_ancestor, spellings, watch_ceiling, Look};
use super::backend::native_watcher;
#[cfg(test)]
use super::backend::WatchOnce;
use super::burst::Dirty;
use super::entries::FolderKey;
use crate::discovery::scan::{folder_id, folder_path, is_ignored};

/// What notify hands on: one event, or an error (which asks for a rescan).
pub(crate) type Event = notify::Result<notify::Event>;

/// The poll watcher's period when native watching is refused, and the stat
/// poll's.
const POLL_PERIOD: Duration = Duration::from_secs(2);

/// After the native stream restarted, every base is read again at once,
/// then at most this often (a path the stream keeps refusing restarts it at
/// each rescan).
const GAP_READ_EVERY: Duration = Duration::from_secs(1);

/// While polling because the OS refused, native watching is tried again at
/// a rescan at most this often.
const RETRY_NATIVE: Duration = Duration::from_secs(30);

/// The watches in force, and where the events go.
pub(crate) struct Watches {
    bases: Vec<PathBuf>,
    send: Arc<dyn Fn(Event) + Send + Sync>,
    watcher: Option<Box<dyn notify::Watcher + Send>>,
    polling: bool,
    /// Polling was asked for (`force_poll`): never leave it.
    forced: bool,
    /// When native watching was last tried again while polling.
    tried_native: Option<Instant>,
    /// The native watcher's streams are recursive (FSEvents): nothing above a
    /// base's ceiling is watched, its base is stat-polled instead. It watches
    /// paths, not folders: a folder re-created under a path is still seen.
    recursive_streams: bool,
    home: Option<PathBuf>,
    /// What each base folder's watch is set on: the base itself when it
    /// exists, its nearest existing ancestor to see it appear, vanish or be
    /// replaced, and the folders holding links on the way. Every watch is
    /// non-recursive.
    wants: Vec<Vec<PathBuf>>,
    /// The base-level watches in force, each with what it resolved to when
    /// it was set (a link repointed under it asks for a new watch).
    active: BTreeMap<PathBuf, Option<PathBuf>>,
    /// Each base with symbolic links resolved, as notify reports its events.
    real: Vec<Option<PathBuf>>,
    /// Each base's watched folders as resolved and as spelled from the base.
    spelled: Vec<Vec<(PathBuf, PathBuf)>>,
    /// Each stat-polled base's last look.
    looks: Vec<Option<Look>>,
    next_poll: Option<Instant>,
    /// How often the native stream restarted (FSEvents), and how many of
    /// those restarts were already answered with a re-read.
    restarts: Arc<AtomicUsize>,
    answered: usize,
    /// When every base was last read again after a restart.
    gap_read: Option<Instant>,
    /// What to read again that no event will announce.
    pending: Dirty,
}

impl Watches {
    /// Starts the watcher (the poll watcher with `poll`) for the base
    /// folders `bases`; each event goes to `send`, on notify's thread.
    pub(crate) fn start(bases: Vec<PathBuf>, poll: bool, send: impl Fn(Event) + Send + Sync + 'static) -> Watches {
        let mut w = Watches::idle(bases, poll, Arc::new(send));
        w.start_watcher(poll);
        w
    }

    /// The watches of `bases`, with no watcher yet.
    fn idle(bases: Vec<PathBuf>, poll: bool, send: Arc<dyn Fn(Event) + Send + Sync>) -> Watches {
        let n = bases.len();
        Watches {
            bases,
            send,
            watcher: None,
            polling: false,
            forced: poll,
            tried_native: None,
            recursive_streams: cfg!(target_os = "macos"),
            home: std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from),
            wants: vec![Vec::new(); n],
            active: BTreeMap::new(),
            real: vec![None; n],
            spelled: vec![Vec::new(); n],
            looks: vec![None; n],
            next_poll: None,
            restarts: Arc::new(AtomicUsize::new(0)),
            answered: 0,
            gap_read: None,
            pending: Dirty::default(),
        }
    }

    fn config() -> notify::Config {
        // Never follow links while walking: a hostile instance folder linked
        // to / must not make us watch the whole disk.
        notify::Config::default().with_follow_symlinks(false).with_poll_interval(POLL_PERIOD)
    }

    fn handler(&self) -> impl notify::EventHandler {
        let send = Arc::clone(&self.send);
        move |ev: Event| send(ev)
    }

    fn start_watcher(&mut self, poll: bool) {
        let watcher: notify::Result<Box<dyn notify::Watcher + Send>> = if poll {
            notify::PollWatcher::new(self.handler(), Self::config()).map(|w| Box::new(w) as _)
        } else {
            native_watcher(self.handler(), Self::config(), &self.restarts)
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
                self.tried_native = Some(Instant::now());
                self.start_watcher(true);
            }
            Err(e) => eprintln!("osaurus-tray: cannot watch the runtime folders: {e}"),
        }
    }

    /// Points base `b`'s watches at the base (if it exists), its nearest
    /// existing ancestor and the folders holding links on the way, or
    /// stat-polls it where those may not be watched. `ids` lists the instance
    /// folders known in base `b`, whose watches go when the base turns out to
    /// be another folder.
    pub(crate) fn rewatch(&mut self, b: usize, ids: impl FnOnce() -> Vec<String>) {
        if self.polling && !self.forced {
            self.try_native();
        }
        let base = self.bases[b].clone();
        // notify does not follow a symlinked root: watch the real folder.
        let real = fs::canonicalize(&base).ok().filter(|p| p.is_dir());
        if let Some(old) = self.real[b].as_ref().filter(|old| real.as_ref() != Some(*old)) {
            // A different folder now: its instance folders are watched anew.
            let gone: Vec<PathBuf> = ids().iter().map(|id| folder_path(old, id)).collect();
            self.watch_folders(b, gone.iter().map(|p| (p.as_path(), false)));
        }
        self.real[b] = real;
        let ceiling = watch_ceiling(&base, self.home.as_deref());
        let mut wanted = Vec::new();
        let mut poll = false;
        let anchor = nearest_existing_ancestor(&base);
        let holders: Vec<PathBuf> =
            links_on_the_way(&base).iter().filter_map(|l| l.parent()).map(Path::to_path_buf).collect();
        for folder in anchor.iter().chain(&holders) {
            if self.recursive_streams && !folder.starts_with(&ceiling) {
                poll = true;
            } else {
                wanted.push(folder.clone());
            }
        }
        let mut spelled: Vec<(PathBuf, PathBuf)> = Vec::new();
        for folder in &wanted {
            if let Ok(resolved) = fs::canonicalize(folder) {
                if resolved != *folder {
                    spelled.push((resolved, folder.clone()));
                }
            }
        }
        if let Some(real) = &self.real[b] {
            wanted.push(real.clone());
            if *real != base {
                spelled.push((real.clone(), base.clone()));
            }
        }
        self.spelled[b] = spelled;
        self.wants[b] = wanted;
        let renew = self.real[b].clone();
        let denied = self.sync_watches(renew.as_deref());
        // A folder that may not be read is no reason to poll everything: the
        // anchor sees its mode change back, and the stat poll looks too.
        poll |= denied.iter().any(|p| self.wants[b].contains(p));
        self.looks[b] = poll.then(|| look(&base));
        self.next_poll = match self.looks.iter().any(Option::is_some) {
            true => self.next_poll.or_else(|| Some(Instant::now() + POLL_PERIOD)),
            false => None,
        };
    }

    /// While polling because the OS refused: tries native watching again
    /// (at most every [`RETRY_NATIVE`]); if every base-level watch holds,
    /// switches back and rescans everything to watch the instance folders.
    fn try_native(&mut self) {
        if self.tried_native.is_some_and(|t| t.elapsed() < RETRY_NATIVE) {
            return;
        }
        self.tried_native = Some(Instant::now());
        let Ok(mut watcher) = native_watcher(self.handler(), Self::config(), &self.restarts) else { return };
        let mut active = BTreeMap::new();
        {
            let mut batch = watcher.paths_mut();
            for path in self.wants.iter().flatten() {
                match batch.add(path, RecursiveMode::NonRecursive) {
                    Ok(()) => {
                        active.insert(path.clone(), fs::canonicalize(path).ok());
                    }
                    Err(e) if !path.exists() || denied(&e) => {}
                    Err(_) => return,
                }
            }
            if batch.commit().is_err() {
                return;
            }
        }
        eprintln!("osaurus-tray: file watching works again; polling stopped");
        self.watcher = Some(watcher);
        self.active = active;
        self.polling = false;
        self.pending.everything = true;
    }

    /// Makes the watches in force the union of what every base wants, in one
    /// batch (one restart of an FSEvents stream). An unchanged watch is left
    /// alone (dropping it even for a moment could miss a folder being
    /// re-created); `renew` is watched afresh, since the folder by that name
    /// may be a new one, and so is a path that now resolves elsewhere.
    /// Returns the paths refused for want of permission; another refusal
    /// falls back to polling.
    fn sync_watches(&mut self, renew: Option<&Path>) -> Vec<PathBuf> {
        let mut desired: BTreeMap<PathBuf, Option<PathBuf>> = BTreeMap::new();
        for path in self.wants.iter().flatten() {
            desired.entry(path.clone()).or_insert_with(|| fs::canonicalize(path).ok());
        }
        // A watcher of paths sees a folder re-created under its path.
        let renew = renew.filter(|_| !self.recursive_streams || self.polling);
        let Some(watcher) = self.watcher.as_mut() else {
            return Vec::new();
        };
        let stale: Vec<PathBuf> = self
            .active
            .iter()
            .filter(|(p, was)| desired.get(*p) != Some(was) || Some(p.as_path()) == renew)
            .map(|(p, _)| p.clone())
            .collect();
        let unchanged = stale.is_empty() && desired.keys().all(|p| self.active.contains_key(p));
        if unchanged {
            return Vec::new();
        }
        let mut denied_paths = Vec::new();
        let mut refused = None;
        let mut batch = watcher.paths_mut();
        for p in stale {
            let _ = batch.remove(&p);
            self.active.remove(&p);
        }
        for (path, resolved) in desired {
            if self.active.contains_key(&path) {
                continue;
            }
            match batch.add(&path, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.active.insert(path, resolved);
                }
                // A folder that vanished meanwhile is not a refusal; the
                // event that removed it brings us back here.
                Err(_) if !path.exists() => {}
                Err(e) if denied(&e) => denied_paths.push(path),
                Err(e) => refused = Some(e),
            }
        }
        if let Err(e) = batch.commit() {
            refused = refused.or(Some(e));
        }
        if let Some(e) = refused {
            if !self.polling {
                eprintln!("osaurus-tray: file watching refused ({e}); falling back to polling");
                self.watcher = None;
                self.active.clear();
                self.tried_native = Some(Instant::now());
                self.start_watcher(true);
                // The instance folders are watched again by a rescan.
                self.pending.everything = true;
                return self.sync_watches(None);
            }
        }
        denied_paths
    }
}

/// What the watches tell the loop (when to wake, what the stat poll and the
/// stream restarts ask to re-read, what an event makes dirty), and the
/// instance folders' own watches.
impl Watches {
    /// The next moment the watches have something to say without an event:
    /// a stat poll, or at once a re-read asked for.
    pub(crate) fn next_wake(&self) -> Option<Instant> {
        if !self.pending.is_empty() {
            return Some(Instant::now());
        }
        let gap = (self.restarts.load(Ordering::Relaxed) != self.answered)
            .then(|| self.gap_read.map_or_else(Instant::now, |at| at + GAP_READ_EVERY));
        gap.into_iter().chain(self.next_poll).min()
    }

    /// What must be read again at `now` that no event announced: the bases
    /// the stat poll (when due) finds changed; every base after the native
    /// stream restarted (FSEvents starts a new stream from "now": events in
    /// between are lost); everything after a change of watcher.
    pub(crate) fn take_pending(&mut self, now: Instant) -> Dirty {
        if self.next_poll.is_some_and(|at| at <= now) {
            for (b, last) in self.looks.iter_mut().enumerate() {
                if let Some(last) = last {
                    let new = look(&self.bases[b]);
                    if new != *last {
                        *last = new;
                        self.pending.bases.insert(b);
                    }
                }
            }
            self.next_poll = Some(now + POLL_PERIOD);
        }
        let restarts = self.restarts.load(Ordering::Relaxed);
        if restarts != self.answered && self.gap_read.is_none_or(|at| at + GAP_READ_EVERY <= now) {
            self.answered = restarts;
            self.gap_read = Some(now);
            self.pending.bases.extend(0..self.bases.len());
        }
        std::mem::take(&mut self.pending)
    }

    /// What one notify event makes dirty.
    pub(crate) fn change_of(&self, event: &Event) -> Dirty {
        let mut dirty = Dirty::default();
        let Ok(event) = event else { return Dirty::everything() };
        if event.need_rescan() || (event.paths.is_empty() && !matches!(event.kind, EventKind::Access(_))) {
            return Dirty::everything();
        }
        if matches!(event.kind, EventKind::Access(a) if a != AccessKind::Close(AccessMode::Write)) {
            return dirty;
        }
        for path in &event.paths {
            for (b, base) in self.bases.iter().enumerate() {
                for path in spellings(path, &self.spelled[b]) {
                    match path.strip_prefix(base) {
                        Ok(rest) => match rest.components().next() {
                            None => {
                                dirty.bases.insert(b);
                            }
                            Some(first) => {
                                let id = folder_id(first.as_os_str());
                                if !is_ignored(&id) {
                                    dirty.folders.insert(FolderKey { base: b, id });
                                }
                            }
                        },
                        // An event above the base (its parent, a link on the
                        // way, or an ancestor being created) may mean the
                        // base appeared, vanished or moved.
                        Err(_) if base.starts_with(&path) => {
                            dirty.bases.insert(b);
                        }
                        Err(_) => {}
                    }
                }
            }
        }
        dirty
    }

    /// Watches (afresh) the top level of instance folder `id` of base `b`:
    /// the folder by that name may be a new one (removed and re-created),
    /// which an old watch does not see.
    pub(crate) fn watch_folder(&mut self, b: usize, id: &str) {
        let Some(real) = &self.real[b] else { return };
        let path = folder_path(real, id);
        self.watch_folders(b, [(path.as_path(), true)]);
    }

    /// Watches (afresh) the instance folders of base `b` found at each path
    /// marked true, under the base as given or as resolved, and stops
    /// watching those marked false, in one batch (one restart of an FSEvents
    /// stream, if anything changes).
    pub(crate) fn watch_folders<'a>(&mut self, b: usize, folders: impl IntoIterator<Item = (&'a Path, bool)>) {
        let (Some(real), Some(watcher)) = (&self.real[b], self.watcher.as_mut()) else { return };
        let mut batch = watcher.paths_mut();
        for (path, watch) in folders {
            let Some(name) = path.file_name() else { continue };
            let path = real.join(name);
            // Fails when it was not watched, or the folder went first (the
            // kernel dropped the watch then).
            let _ = match watch {
                true => batch.add(&path, RecursiveMode::NonRecursive),
                false => batch.remove(&path),
            };
        }
        let _ = batch.commit();
    }

    /// Stops watching instance folder `id` of base `b`, if it was watched.
    pub(crate) fn unwatch_folder(&mut self, b: usize, id: &str) {
        let Some(real) = &self.real[b] else { return };
        let path = folder_path(real, id);
        self.watch_folders(b, [(path.as_path(), false)]);
    }
}

/// Whether `event` says a `configuration.json` was completed: renamed into
/// place (how Osaurus writes) or closed after writing.
pub(crate) fn completes_a_configuration(event: &Event) -> bool {
    let Ok(event) = event else { return false };
    let completing = matches!(
        event.kind,
        EventKind::Modify(ModifyKind::Name(_)) | EventKind::Access(AccessKind::Close(AccessMode::Write))
    );
    completing && event.paths.last().is_some_and(|p| p.file_name().is_some_and(|n| n == "configuration.json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::Watcher as _;

    use std::sync::Mutex;

    /// A model of notify 8.2.2's FSEvents watcher (`append_path`,
    /// `remove_path`, `FsEventPathsMut`): a watch appends the path, even
    /// twice, and fails for a path that is gone (here, under `/gone`); an
    /// unwatch removes every path equal to it ignoring case; each `watch` and
    /// `unwatch` restarts the stream, a batch stops it when it opens and
    /// starts it once on commit. It records each call it gets.
    #[derive(Default)]
    struct FsEventsModel {
        asked: Arc<Mutex<Vec<String>>>,
        paths: Vec<String>,
    }

    impl FsEventsModel {
        fn asked(&self) -> Vec<String> {
            self.asked.lock().unwrap().clone()
        }
        fn say(&self, what: String) {
            self.asked.lock().unwrap().push(what);
        }
        fn append(&mut self, path: &Path) -> notify::Result<()> {
            if path.starts_with("/gone") {
                return Err(notify::Error::path_not_found());
            }
            self.paths.push(path.to_string_lossy().into_owned());
            Ok(())
        }
        fn remove(&mut self, path: &Path) {
            let gone = path.to_string_lossy().to_lowercase();
            self.paths.retain(|p| p.to_lowercase() != gone);
        }
    }

    /// How often the stream of a model that recorded `asked` restarted.
    fn restarts_in(asked: &[String]) -> usize {
        asked.iter().filter(|a| a.starts_with("watch ") || a.starts_with("unwatch ") || *a == "start").count()
    }

    impl notify::Watcher for FsEventsModel {
        fn new<F: notify::EventHandler>(_: F, _: notify::Config) -> notify::Result<Self> {
            Ok(FsEventsModel::default())
        }
        fn watch(&mut self, path: &Path, _: RecursiveMode) -> notify::Result<()> {
            self.say(format!("watch {}", path.display()));
            self.append(path)
        }
        fn unwatch(&mut self, path: &Path) -> notify::Result<()> {
            self.say(format!("unwatch {}", path.display()));
            self.remove(path);
            Ok(())
        }
        fn paths_mut<'me>(&'me mut self) -> Box<dyn notify::PathsMut + 'me> {
            self.say("stop".into());
            Box::new(ModelBatch(self))
        }
        fn kind() -> notify::WatcherKind {
            notify::WatcherKind::NullWatcher
        }
    }

    struct ModelBatch<'a>(&'a mut FsEventsModel);

    impl notify::PathsMut for ModelBatch<'_> {
        fn add(&mut self, path: &Path, _: RecursiveMode) -> notify::Result<()> {
            self.0.say(format!("add {}", path.display()));
            self.0.append(path)
        }
        fn remove(&mut self, path: &Path) -> notify::Result<()> {
            self.0.say(format!("remove {}", path.display()));
            self.0.remove(path);
            Ok(())
        }
        fn commit(self: Box<Self>) -> notify::Result<()> {
            self.0.say("start".into());
            Ok(())
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
        assert_eq!(w.inner.asked(), ["watch /rt/a", "watch /rt/b", "watch /gone/c", "unwatch /rt/a", "watch /rt/a"]);
        assert_eq!(w.inner.paths, ["/rt/b", "/rt/a"], "each path held once");
    }

    /// Watches of `bases` on a [`WatchOnce`] over the FSEvents model, with
    /// `home` and the streams recursive or not; the model's record.
    fn modelled(bases: &[PathBuf], home: &Path, recursive: bool) -> (Watches, Arc<Mutex<Vec<String>>>) {
        let mut w = Watches::idle(bases.to_vec(), false, Arc::new(|_| {}));
        let model = FsEventsModel::default();
        let asked = Arc::clone(&model.asked);
        let inner = WatchOnce { inner: model, paths: Default::default(), restarts: Arc::clone(&w.restarts) };
        w.watcher = Some(Box::new(inner));
        w.recursive_streams = recursive;
        w.home = Some(home.to_path_buf());
        (w, asked)
    }

    fn created(path: &str) -> Event {
        Ok(notify::Event::new(EventKind::Create(notify::event::CreateKind::Folder)).add_path(path.into()))
    }

    #[test]
    fn resolved_paths_are_compared_with_the_base_as_spelled() {
        // FSEvents reports /private/var/… for a base under /var/…, and a
        // linked ~/.osaurus resolved.
        let spelled = [
            (PathBuf::from("/private/var/folders/x/T/a"), PathBuf::from("/var/folders/x/T/a")),
            (PathBuf::from("/Volumes/one/osaurus"), PathBuf::from("/Users/u/.osaurus")),
        ];
        let all = |p: &str| spellings(Path::new(p), &spelled).map(|p| p.into_owned()).collect::<Vec<_>>();
        assert_eq!(
            all("/private/var/folders/x/T/a/runtime"),
            [PathBuf::from("/private/var/folders/x/T/a/runtime"), PathBuf::from("/var/folders/x/T/a/runtime")]
        );
        assert_eq!(all("/private/var/folders/x/T/a")[1], Path::new("/var/folders/x/T/a"));
        assert_eq!(
            all("/Volumes/one/osaurus/runtime/A/configuration.json")[1],
            Path::new("/Users/u/.osaurus/runtime/A/configuration.json")
        );
        assert_eq!(all("/private/var/folders/x/T/ab"), [PathBuf::from("/private/var/folders/x/T/ab")], "not a prefix");

        // A runtime folder that appears later under such a path is noticed.
        let base = PathBuf::from("/var/folders/x/T/a/runtime");
        let mut w = Watches::idle(vec![base], false, Arc::new(|_| {}));
        let appears = created("/private/var/folders/x/T/a/runtime");
        let written = created("/private/var/folders/x/T/a/runtime/ABC/configuration.json");
        assert!(w.change_of(&appears).is_empty(), "unnoticed without the second spelling");
        w.spelled[0] = spelled[..1].to_vec();
        assert_eq!(w.change_of(&appears).bases, [0].into());
        assert_eq!(w.change_of(&written).folders, [FolderKey::new(0, "ABC")].into());
        assert!(w.change_of(&created("/private/var/folders/x/T/other")).is_empty());
    }

    #[test]
    fn streams_never_watch_above_the_first_folder_osaurus_creates() {
        let home = Path::new("/Users/u");
        let ceiling = |b: &str| watch_ceiling(Path::new(b), Some(home));
        assert_eq!(ceiling("/Users/u/.osaurus/runtime"), Path::new("/Users/u/.osaurus"));
        assert_eq!(ceiling("/Users/u/.osaurus/SharedConfiguration"), Path::new("/Users/u/.osaurus"));
        let app = "/Users/u/Library/Application Support/com.dinoki.osaurus";
        assert_eq!(ceiling(&format!("{app}/runtime")), Path::new(app));
        assert_eq!(ceiling("/Users/u/Library/Osaurus/runtime"), Path::new("/Users/u/Library/Osaurus"));
        assert_eq!(ceiling("/Users/u"), Path::new("/Users/u"), "a base that is the home folder");
        assert_eq!(ceiling("/Volumes/x/runtime"), Path::new("/Volumes/x"), "a folder named elsewhere");
        assert_eq!(watch_ceiling(Path::new("/Users/u/.osaurus/runtime"), None), Path::new("/Users/u/.osaurus"));
        assert_eq!(watch_ceiling(Path::new("/"), None), Path::new("/"));
    }

    /// The paths the model watches at the end, sorted.
    fn held(w: &Watches) -> Vec<PathBuf> {
        w.active.keys().cloned().collect()
    }

    #[test]
    fn a_missing_folder_or_a_link_is_stat_polled_where_streams_are_recursive() {
        let tmp = tempfile::tempdir().unwrap();
        let home = fs::canonicalize(tmp.path()).unwrap();
        let base = home.join(".osaurus/runtime");
        for recursive in [true, false] {
            let (mut w, _) = modelled(std::slice::from_ref(&base), &home, recursive);
            w.rewatch(0, Vec::new);
            if recursive {
                assert!(held(&w).is_empty(), "no stream over the home folder: {:?}", held(&w));
                assert!(w.looks[0].is_some() && w.next_poll.is_some(), "polled instead");
            } else {
                assert_eq!(held(&w), std::slice::from_ref(&home), "inotify anchors are cheap");
                assert!(w.next_poll.is_none(), "no poll");
            }
        }
        // ~/.osaurus appears: the poll sees it, the stream may watch it.
        let (mut w, _) = modelled(std::slice::from_ref(&base), &home, true);
        w.rewatch(0, Vec::new);
        assert!(w.take_pending(Instant::now() + POLL_PERIOD).is_empty(), "nothing changed");
        fs::create_dir(home.join(".osaurus")).unwrap();
        assert!(w.take_pending(Instant::now()).is_empty(), "not before the poll is due");
        assert_eq!(w.take_pending(Instant::now() + 2 * POLL_PERIOD).bases, [0].into());
        w.rewatch(0, Vec::new);
        assert_eq!(held(&w), [home.join(".osaurus")]);
        assert!(w.looks[0].is_none() && w.next_poll.is_none(), "the poll stops");

        // ~/.osaurus a link to a volume: polled with streams, the folder
        // holding the link watched with inotify.
        fs::remove_dir(home.join(".osaurus")).unwrap();
        let volume = home.join("volume");
        fs::create_dir_all(volume.join("runtime")).unwrap();
        std::os::unix::fs::symlink(&volume, home.join(".osaurus")).unwrap();
        let (mut w, _) = modelled(std::slice::from_ref(&base), &home, true);
        w.rewatch(0, Vec::new);
        assert_eq!(held(&w), [home.join(".osaurus"), volume.join("runtime")], "not the home folder");
        assert!(w.looks[0].is_some(), "the link is polled");
        let (mut w, _) = modelled(std::slice::from_ref(&base), &home, false);
        w.rewatch(0, Vec::new);
        assert_eq!(held(&w), [home.clone(), home.join(".osaurus"), volume.join("runtime")]);
        assert!(w.next_poll.is_none());
    }

    #[test]
    fn a_rescan_restarts_the_stream_once_and_asks_for_a_re_read() {
        let bases = [PathBuf::from("/rt"), PathBuf::from("/rt2")];
        let (mut w, asked) = modelled(&bases, Path::new("/home/u"), true);
        w.real[0] = Some(PathBuf::from("/rt"));
        let folders: Vec<PathBuf> = (0..100).map(|n| PathBuf::from(format!("/rt/{n}"))).collect();
        w.watch_folders(0, folders.iter().map(|p| (p.as_path(), true)));
        let first = asked.lock().unwrap().clone();
        assert_eq!(restarts_in(&first), 1, "one restart for 100 folders");
        assert_eq!(first.len(), 102, "stop, 100 adds, start");
        // The restart may have lost events anywhere: every base is read again, once.
        assert_eq!(w.take_pending(Instant::now()).bases, [0, 1].into());
        assert!(w.take_pending(Instant::now()).is_empty());
        // The same rescan again changes nothing: no restart, no re-read.
        w.watch_folders(0, folders.iter().map(|p| (p.as_path(), true)));
        assert_eq!(asked.lock().unwrap().len(), 102);
        assert!(w.next_wake().is_none() && w.take_pending(Instant::now()).is_empty());
        // One folder gone and one new: one restart.
        let (gone, new) = (Path::new("/rt/0"), Path::new("/rt/new"));
        w.watch_folders(0, [(gone, false), (new, true)]);
        assert_eq!(asked.lock().unwrap()[102..], ["stop", "remove /rt/0", "add /rt/new", "start"]);
        // Read again too, but not more than once a second.
        assert!(w.take_pending(Instant::now()).is_empty());
        assert!(w.next_wake().is_some_and(|at| at > Instant::now()));
        assert_eq!(w.take_pending(Instant::now() + GAP_READ_EVERY).bases, [0, 1].into());
    }

    #[test]
    fn only_a_refusal_for_want_of_permission_keeps_native_watching() {
        let io = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert!(denied(&notify::Error::io(io)));
        assert!(!denied(&notify::Error::new(notify::ErrorKind::MaxFilesWatch)));
        assert!(!denied(&notify::Error::path_not_found()));
    }

    #[test]
    fn a_watcher_that_fell_back_to_polling_goes_native_again_at_a_later_rescan() {
        let tmp = tempfile::tempdir().unwrap();
        let base = fs::canonicalize(tmp.path()).unwrap().join("runtime");
        fs::create_dir(&base).unwrap();
        let mut w = Watches::idle(vec![base.clone()], false, Arc::new(|_| {}));
        // As after a refusal: polling, native just tried.
        w.start_watcher(true);
        w.tried_native = Some(Instant::now());
        w.rewatch(0, Vec::new);
        assert!(w.polling, "not tried again at once");
        w.tried_native = Instant::now().checked_sub(RETRY_NATIVE);
        w.rewatch(0, Vec::new);
        assert!(!w.polling, "native again");
        assert!(w.active.contains_key(&base));
        assert!(w.take_pending(Instant::now()).everything, "every instance folder is watched again");
        // Polling asked for is kept.
        let mut forced = Watches::idle(vec![base], true, Arc::new(|_| {}));
        forced.start_watcher(true);
        forced.rewatch(0, Vec::new);
        assert!(forced.polling);
    }
}
