//! The native watchers behind the watches: the lean inotify watcher on
//! Linux, FSEvents through [`WatchOnce`] elsewhere, each path passed on
//! once and batches passed on as one stream restart.

#[cfg(any(not(target_os = "linux"), test))]
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
#[cfg(any(not(target_os = "linux"), test))]
use std::sync::atomic::Ordering;
use std::sync::Arc;

#[cfg(any(not(target_os = "linux"), test))]
use notify::RecursiveMode;
use notify::Watcher as _;

/// The native watcher. On Linux, the lean inotify watcher of
/// `inotify.rs`: no open or read events, so reading every folder in a rescan
/// queues nothing and the rescan after an overflow cannot overflow again.
#[cfg(target_os = "linux")]
pub(super) fn native_watcher(
    handler: impl notify::EventHandler,
    config: notify::Config,
    _restarts: &Arc<AtomicUsize>,
) -> notify::Result<Box<dyn notify::Watcher + Send>> {
    super::inotify::LeanInotify::new(handler, config).map(|w| Box::new(w) as _)
}

/// The native watcher (FSEvents on macOS), asked for each path once, and
/// counting its restarts in `restarts`.
#[cfg(not(target_os = "linux"))]
pub(super) fn native_watcher(
    handler: impl notify::EventHandler,
    config: notify::Config,
    restarts: &Arc<AtomicUsize>,
) -> notify::Result<Box<dyn notify::Watcher + Send>> {
    let mut w = WatchOnce::<notify::RecommendedWatcher>::new(handler, config)?;
    w.restarts = Arc::clone(restarts);
    Ok(Box::new(w))
}

/// A watcher that passes each path on once: watching a path it watches, or
/// unwatching one it does not, does nothing. A rescan asks again for every
/// folder it lists; FSEvents restarts its stream on every `watch` and
/// `unwatch` (copying its whole table) and keeps a path added twice twice.
/// Its `paths_mut` batch passes on only what changes, through the inner
/// watcher's batch (notify's FSEvents watcher stops its stream when the
/// batch opens and starts it once on commit), opened only at the first
/// change. Each restart is counted in `restarts`. It watches paths, not
/// folders, so a folder re-created under a watched path is still seen.
#[cfg(any(not(target_os = "linux"), test))]
pub(super) struct WatchOnce<W> {
    pub(super) inner: W,
    pub(super) paths: std::collections::HashSet<PathBuf>,
    pub(super) restarts: Arc<AtomicUsize>,
}

/// Forgets `path`, and every path equal to it ignoring case: notify's
/// FSEvents watcher drops them all, so that the next watch of one (a folder
/// renamed by case) asks again instead of believing it holds. False if it
/// was not watched.
#[cfg(any(not(target_os = "linux"), test))]
fn forget(paths: &mut std::collections::HashSet<PathBuf>, path: &Path) -> bool {
    if !paths.remove(path) {
        return false;
    }
    let folded = path.to_string_lossy().to_lowercase();
    paths.retain(|p| p.to_string_lossy().to_lowercase() != folded);
    true
}

#[cfg(any(not(target_os = "linux"), test))]
impl<W: notify::Watcher> notify::Watcher for WatchOnce<W> {
    fn new<F: notify::EventHandler>(handler: F, config: notify::Config) -> notify::Result<Self> {
        W::new(handler, config).map(|inner| WatchOnce {
            inner,
            paths: Default::default(),
            restarts: Default::default(),
        })
    }

    fn watch(&mut self, path: &Path, mode: RecursiveMode) -> notify::Result<()> {
        if !self.paths.contains(path) {
            self.restarts.fetch_add(1, Ordering::Relaxed);
            self.inner.watch(path, mode)?;
            self.paths.insert(path.to_path_buf());
        }
        Ok(())
    }

    fn unwatch(&mut self, path: &Path) -> notify::Result<()> {
        if !forget(&mut self.paths, path) {
            return Err(notify::Error::watch_not_found().add_path(path.to_path_buf()));
        }
        self.restarts.fetch_add(1, Ordering::Relaxed);
        self.inner.unwatch(path)
    }

    fn paths_mut<'me>(&'me mut self) -> Box<dyn notify::PathsMut + 'me> {
        Box::new(OncePaths {
            inner: Some(&mut self.inner),
            batch: None,
            paths: &mut self.paths,
            restarts: &self.restarts,
        })
    }

    fn configure(&mut self, option: notify::Config) -> notify::Result<bool> {
        self.inner.configure(option)
    }

    fn kind() -> notify::WatcherKind {
        W::kind()
    }
}

/// [`WatchOnce`]'s batch: the inner watcher's, opened at the first change.
#[cfg(any(not(target_os = "linux"), test))]
struct OncePaths<'a, W> {
    inner: Option<&'a mut W>,
    batch: Option<Box<dyn notify::PathsMut + 'a>>,
    paths: &'a mut std::collections::HashSet<PathBuf>,
    restarts: &'a AtomicUsize,
}

#[cfg(any(not(target_os = "linux"), test))]
impl<'a, W: notify::Watcher> OncePaths<'a, W> {
    fn batch(&mut self) -> &mut Box<dyn notify::PathsMut + 'a> {
        if let Some(inner) = self.inner.take() {
            self.batch = Some(inner.paths_mut());
        }
        self.batch.as_mut().expect("the batch is open once the watcher is taken")
    }
}

#[cfg(any(not(target_os = "linux"), test))]
impl<W: notify::Watcher> notify::PathsMut for OncePaths<'_, W> {
    fn add(&mut self, path: &Path, mode: RecursiveMode) -> notify::Result<()> {
        if !self.paths.contains(path) {
            self.batch().add(path, mode)?;
            self.paths.insert(path.to_path_buf());
        }
        Ok(())
    }

    fn remove(&mut self, path: &Path) -> notify::Result<()> {
        if !forget(self.paths, path) {
            return Err(notify::Error::watch_not_found().add_path(path.to_path_buf()));
        }
        self.batch().remove(path)
    }

    fn commit(self: Box<Self>) -> notify::Result<()> {
        match self.batch {
            Some(batch) => {
                self.restarts.fetch_add(1, Ordering::Relaxed);
                batch.commit()
            }
            None => Ok(()),
        }
    }
}
