//! The watches: the only code that talks to notify or the inotify backend.
//!
//! Only what can hold instances is watched, each non-recursively: each
//! runtime folder when it exists (symbolic links resolved: notify does not
//! follow a linked root), its nearest existing ancestor (the anchor, so the
//! folder can appear, vanish and return), and each instance folder's top
//! level. The native watcher is [`LeanInotify`](super::inotify) on Linux and
//! FSEvents through [`WatchOnce`] elsewhere; when the OS refuses a watch,
//! notify's poll watcher takes over. [`Watches::change_of`] says what one
//! event makes dirty.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, ModifyKind};
use notify::{EventKind, RecursiveMode, Watcher as _};

use super::burst::Dirty;
use super::entries::FolderKey;
use crate::discovery::scan::{folder_id, folder_path, is_ignored};

/// What notify hands on: one event, or an error (which asks for a rescan).
pub(crate) type Event = notify::Result<notify::Event>;

/// The poll watcher's period when native watching is refused.
const POLL_PERIOD: Duration = Duration::from_secs(2);

/// The watches in force, and where the events go.
pub(crate) struct Watches {
    bases: Vec<PathBuf>,
    send: Arc<dyn Fn(Event) + Send + Sync>,
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
}

impl Watches {
    /// Starts the watcher (the poll watcher with `poll`) for the base
    /// folders `bases`; each event goes to `send`, on notify's thread.
    pub(crate) fn start(bases: Vec<PathBuf>, poll: bool, send: impl Fn(Event) + Send + Sync + 'static) -> Watches {
        let n = bases.len();
        let mut w = Watches {
            bases,
            send: Arc::new(send),
            watcher: None,
            polling: false,
            wants: vec![Vec::new(); n],
            active: BTreeSet::new(),
            real: vec![None; n],
        };
        w.start_watcher(poll);
        w
    }

    fn start_watcher(&mut self, poll: bool) {
        let send = Arc::clone(&self.send);
        let handler = move |ev: Event| send(ev);
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
    /// `ids` lists the instance folders known in base `b`, whose watches go
    /// when the base turns out to be another folder.
    pub(crate) fn rewatch(&mut self, b: usize, ids: impl FnOnce() -> Vec<String>) {
        let base = self.bases[b].clone();
        let mut wanted = Vec::new();
        if let Some(anchor) = nearest_existing_ancestor(&base) {
            wanted.push(anchor);
        }
        // notify does not follow a symlinked root: watch the real folder.
        let real = fs::canonicalize(&base).ok().filter(|p| p.is_dir());
        if real != self.real[b] {
            // A different folder now: its instance folders are watched anew.
            for id in ids() {
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
                            let id = folder_id(first.as_os_str());
                            if !is_ignored(&id) {
                                dirty.folders.insert(FolderKey { base: b, id });
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
        dirty
    }

    /// Watches (afresh) the top level of instance folder `id` of base `b`:
    /// the folder by that name may be a new one (removed and re-created),
    /// which an old watch does not see.
    pub(crate) fn watch_folder(&mut self, b: usize, id: &str) {
        let Some(real) = &self.real[b] else { return };
        let path = folder_path(real, id);
        self.watch_folder_at(b, &path);
    }

    /// Watches (afresh) the instance folder of base `b` found at `path`,
    /// under the base as given or as resolved.
    pub(crate) fn watch_folder_at(&mut self, b: usize, path: &Path) {
        if let (Some(real), Some(name), Some(watcher)) = (&self.real[b], path.file_name(), self.watcher.as_mut()) {
            let _ = watcher.watch(&real.join(name), RecursiveMode::NonRecursive);
        }
    }

    /// Stops watching instance folder `id` of base `b`, if it was watched.
    pub(crate) fn unwatch_folder(&mut self, b: usize, id: &str) {
        if let (Some(real), Some(watcher)) = (&self.real[b], self.watcher.as_mut()) {
            // Fails when it was not watched, or the folder went first (the
            // kernel dropped the watch then).
            let _ = watcher.unwatch(&folder_path(real, id));
        }
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

/// The native watcher. On Linux, the lean inotify watcher of
/// `inotify.rs`: no open or read events, so reading every folder in a rescan
/// queues nothing and the rescan after an overflow cannot overflow again.
#[cfg(target_os = "linux")]
fn native_watcher(
    handler: impl notify::EventHandler,
    config: notify::Config,
) -> notify::Result<Box<dyn notify::Watcher + Send>> {
    super::inotify::LeanInotify::new(handler, config).map(|w| Box::new(w) as _)
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
