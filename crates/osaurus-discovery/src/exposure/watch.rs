//! Keeps an [`Exposure`](super::Exposure) current from file-system events
//! on Osaurus's data root: `config/`, `agents/` and the root itself.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{read, Exposure, AGENTS_DIR, LEGACY_AGENTS_DIR, LEGACY_SERVER_FILE};

/// Keeps an [`Exposure`] current: its thread reads it at once and again on
/// every change to `config/` or `agents/` under the data root, handing each
/// new value to the consumer. Dropping it stops the thread.
pub struct Watch {
    tx: mpsc::Sender<Msg>,
    thread: Option<JoinHandle<()>>,
}

enum Msg {
    Fs(notify::Result<notify::Event>),
    Stop,
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.tx.send(Msg::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// How long a burst of events is gathered before the files are read again.
const QUIET: Duration = Duration::from_millis(10);
const BURST_MAX: Duration = Duration::from_millis(50);

/// Watches the data root `root` (see [`data_root`]): the root itself, its
/// `config/` and `agents/` folders when they exist, each non-recursively, or
/// the nearest existing ancestor while the root does not exist. The
/// consumer is called with the first reading, then with each one that
/// differs. `force_poll` uses notify's poll watcher (2 s), as does a refusal
/// of the native one.
pub fn watch(root: PathBuf, force_poll: bool, mut consumer: impl FnMut(&Exposure) + Send + 'static) -> Watch {
    let (tx, rx) = mpsc::channel();
    let events = tx.clone();
    let thread = std::thread::Builder::new()
        .name("exposure".into())
        .spawn(move || {
            let mut watcher = make_watcher(events, force_poll);
            let mut watched = Vec::new();
            repoint(&mut watcher, &root, &mut watched);
            let mut last = read(&root);
            consumer(&last);
            loop {
                let mut reshaped = match rx.recv() {
                    Ok(Msg::Fs(e)) if matters(&root, &e) => reshapes(&root, &e),
                    Ok(Msg::Fs(_)) => continue,
                    Ok(Msg::Stop) | Err(_) => return,
                };
                // Gather the rest of the burst (an atomic write is several events).
                let start = Instant::now();
                loop {
                    let left = BURST_MAX.saturating_sub(start.elapsed()).min(QUIET);
                    match rx.recv_timeout(left) {
                        Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                        Ok(Msg::Fs(e)) => {
                            reshaped |= reshapes(&root, &e);
                            if start.elapsed() >= BURST_MAX {
                                break;
                            }
                        }
                        Err(RecvTimeoutError::Timeout) => break,
                    }
                }
                // A folder came, went or was replaced: watch afresh, before
                // reading, so that no change after the reading is missed.
                if reshaped {
                    repoint(&mut watcher, &root, &mut watched);
                }
                let now = read(&root);
                if now != last {
                    consumer(&now);
                    last = now;
                }
            }
        })
        .expect("spawn the exposure thread");
    Watch { tx, thread: Some(thread) }
}

/// Whether an event can change what is read: one on `config/` or `agents/`
/// or what is in them, or on the root or above it, and not the opens and
/// reads of our own reading (inotify reports them). The root's other
/// entries (with `--runtime-dir /tmp/x`, all of `/tmp`) are left alone.
pub(super) fn matters(root: &Path, e: &notify::Result<notify::Event>) -> bool {
    use notify::event::{AccessKind, AccessMode, EventKind};
    let Ok(ev) = e else { return true };
    let kind = match ev.kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    };
    let (config, agents, personas) = (root.join("config"), root.join(AGENTS_DIR), root.join(LEGACY_AGENTS_DIR));
    let legacy_server = root.join(LEGACY_SERVER_FILE);
    let place = ev.paths.is_empty()
        || ev.need_rescan()
        || ev.paths.iter().any(|p| {
            root.starts_with(p)
                || p.starts_with(&config)
                || p.starts_with(&agents)
                || p.starts_with(&personas)
                || *p == legacy_server
        });
    kind && place
}

fn make_watcher(events: mpsc::Sender<Msg>, force_poll: bool) -> Option<Box<dyn notify::Watcher + Send>> {
    use notify::Watcher;
    let handler = |tx: mpsc::Sender<Msg>| {
        move |e| {
            let _ = tx.send(Msg::Fs(e));
        }
    };
    if !force_poll {
        if let Ok(w) = notify::RecommendedWatcher::new(handler(events.clone()), notify::Config::default()) {
            return Some(Box::new(w));
        }
    }
    let config = notify::Config::default().with_poll_interval(Duration::from_secs(2));
    match notify::PollWatcher::new(handler(events), config) {
        Ok(w) => Some(Box::new(w)),
        Err(e) => {
            eprintln!("osaurus-tray: cannot watch Osaurus's settings ({e}); they are read at start only");
            None
        }
    }
}

/// Whether an event may change which folders are to be watched: one on
/// `config/` or `agents/` themselves, on the root or above it, or a lost one.
pub(super) fn reshapes(root: &Path, e: &notify::Result<notify::Event>) -> bool {
    let Ok(ev) = e else { return true };
    let folders = [root.join("config"), root.join(AGENTS_DIR), root.join(LEGACY_AGENTS_DIR)];
    ev.paths.is_empty() || ev.need_rescan() || ev.paths.iter().any(|p| root.starts_with(p) || folders.contains(p))
}

/// The folders to watch for `root`: the root (or, while it does not exist,
/// its nearest existing ancestor), and its `config/`, `agents/` and legacy
/// `Personas/`.
fn targets(root: &Path) -> Vec<PathBuf> {
    if !root.is_dir() {
        return root.ancestors().skip(1).find(|a| a.is_dir()).map(Path::to_path_buf).into_iter().collect();
    }
    let mut out = vec![root.to_path_buf()];
    let folders = [root.join("config"), root.join(AGENTS_DIR), root.join(LEGACY_AGENTS_DIR)];
    out.extend(folders.into_iter().filter(|p| p.is_dir()));
    out
}

fn repoint(watcher: &mut Option<Box<dyn notify::Watcher + Send>>, root: &Path, watched: &mut Vec<PathBuf>) {
    let Some(w) = watcher else { return };
    for p in watched.drain(..) {
        let _ = w.unwatch(&p);
    }
    for p in targets(root) {
        if w.watch(&p, notify::RecursiveMode::NonRecursive).is_ok() {
            watched.push(p);
        }
    }
}
