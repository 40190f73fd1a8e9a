//! A lean inotify watcher for Linux, behind notify's `Watcher` trait.
//!
//! notify's own inotify backend asks for `IN_OPEN` on every watch, so each
//! time this app (or any client) reads a `configuration.json` an event is
//! queued: reading 100,000 folders fills the kernel's queue (16,384 events by
//! default), the overflow asks for a rescan, and the rescan's reads overflow
//! it again. It also adds each watch through a round trip to its own thread.
//! This watcher asks only for what changes a folder (entries created,
//! deleted, moved, files written and closed, attributes, the folder itself
//! deleted or moved), never for opens or reads, and adds a watch with one
//! system call. Watches are never recursive: the watcher decides which
//! folders to watch.

use std::collections::HashMap;
use std::ffi::{CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::io::RawFd;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use notify::event::{AccessKind, AccessMode, CreateKind, DataChange, Flag, MetadataKind, ModifyKind, RemoveKind};
use notify::event::{EventKind, RenameMode};
use notify::{Config, Error, ErrorKind, Event, EventHandler, RecursiveMode, WatcherKind};

/// What every watch asks for. No `IN_OPEN`, `IN_ACCESS` or `IN_CLOSE_NOWRITE`:
/// reading a file never queues an event.
const MASK: u32 = libc::IN_CREATE
    | libc::IN_DELETE
    | libc::IN_MOVED_FROM
    | libc::IN_MOVED_TO
    | libc::IN_CLOSE_WRITE
    | libc::IN_MODIFY
    | libc::IN_ATTRIB
    | libc::IN_DELETE_SELF
    | libc::IN_MOVE_SELF
    | libc::IN_ONLYDIR;

/// Watched paths by watch descriptor, and back (each path stored once).
#[derive(Default)]
struct Table {
    paths: HashMap<i32, Arc<Path>>,
    wds: HashMap<Arc<Path>, i32>,
}

/// An inotify instance with a reader thread that hands events to a
/// [`notify::EventHandler`]. Dropping it stops the thread.
pub struct LeanInotify {
    fd: RawFd,
    table: Arc<Mutex<Table>>,
    stop: RawFd,
    reader: Option<JoinHandle<()>>,
}

impl Drop for LeanInotify {
    fn drop(&mut self) {
        // SAFETY: `stop` is the write end of our own pipe.
        unsafe { libc::write(self.stop, [1u8].as_ptr().cast(), 1) };
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        // SAFETY: both descriptors are ours and closed once.
        unsafe {
            libc::close(self.stop);
            libc::close(self.fd);
        }
    }
}

impl notify::Watcher for LeanInotify {
    fn new<F: EventHandler>(mut handler: F, _config: Config) -> notify::Result<Self> {
        // SAFETY: plain system calls; results checked.
        let fd = unsafe { libc::inotify_init1(libc::IN_CLOEXEC | libc::IN_NONBLOCK) };
        if fd < 0 {
            return Err(Error::io(std::io::Error::last_os_error()));
        }
        let mut pipe = [0; 2];
        // SAFETY: `pipe` has room for the two descriptors.
        if unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            let e = std::io::Error::last_os_error();
            // SAFETY: `fd` is ours.
            unsafe { libc::close(fd) };
            return Err(Error::io(e));
        }
        let table = Arc::new(Mutex::new(Table::default()));
        let shared = table.clone();
        let stop_read = pipe[0];
        let reader = std::thread::Builder::new()
            .name("inotify".into())
            .spawn(move || {
                read_events(fd, stop_read, &shared, &mut handler);
                // SAFETY: the read end is this thread's to close.
                unsafe { libc::close(stop_read) };
            })
            .map_err(Error::io)?;
        Ok(LeanInotify { fd, table, stop: pipe[1], reader: Some(reader) })
    }

    fn watch(&mut self, path: &Path, _mode: RecursiveMode) -> notify::Result<()> {
        let c = CString::new(path.as_os_str().as_bytes()).map_err(|_| Error::path_not_found().add_path(path.into()))?;
        // SAFETY: `c` is a valid C string; `fd` is our inotify instance.
        let wd = unsafe { libc::inotify_add_watch(self.fd, c.as_ptr(), MASK) };
        if wd < 0 {
            let e = std::io::Error::last_os_error();
            let kind = match e.raw_os_error() {
                Some(libc::ENOSPC) => ErrorKind::MaxFilesWatch,
                Some(libc::ENOENT | libc::ENOTDIR) => ErrorKind::PathNotFound,
                _ => ErrorKind::Io(e),
            };
            return Err(Error::new(kind).add_path(path.into()));
        }
        let mut t = self.table.lock().unwrap_or_else(|p| p.into_inner());
        if t.wds.get(path) == Some(&wd) && t.paths.get(&wd).is_some_and(|p| **p == *path) {
            return Ok(()); // Watched already, as this very folder.
        }
        let shared: Arc<Path> = Arc::from(path);
        if let Some(old) = t.wds.insert(Arc::clone(&shared), wd) {
            if old != wd && t.paths.get(&old).is_some_and(|p| **p == *path) {
                // The name now holds another folder: drop the old one's watch.
                t.paths.remove(&old);
                // SAFETY: `old` came from our instance; an error only means
                // it is gone already.
                unsafe { libc::inotify_rm_watch(self.fd, old) };
            }
        }
        t.paths.insert(wd, shared);
        Ok(())
    }

    fn unwatch(&mut self, path: &Path) -> notify::Result<()> {
        let mut t = self.table.lock().unwrap_or_else(|p| p.into_inner());
        let Some(wd) = t.wds.remove(path) else {
            return Err(Error::watch_not_found().add_path(path.into()));
        };
        if t.paths.get(&wd).is_some_and(|p| **p == *path) {
            t.paths.remove(&wd);
            // SAFETY: `wd` came from our instance.
            unsafe { libc::inotify_rm_watch(self.fd, wd) };
        }
        Ok(())
    }

    fn kind() -> WatcherKind {
        WatcherKind::Inotify
    }
}

/// The reader thread: waits for events (or the stop pipe) and hands them on.
fn read_events(fd: RawFd, stop: RawFd, table: &Mutex<Table>, handler: &mut impl EventHandler) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let mut fds = [
            libc::pollfd { fd, events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: stop, events: libc::POLLIN, revents: 0 },
        ];
        // SAFETY: `fds` holds two valid pollfd records.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return;
        }
        if fds[1].revents != 0 {
            return;
        }
        loop {
            // SAFETY: `buf` is writable for its length.
            let len = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
            if len <= 0 {
                break;
            }
            let events = parse(&buf[..len as usize]);
            let mut t = table.lock().unwrap_or_else(|p| p.into_inner());
            let out: Vec<notify::Result<Event>> = events.iter().filter_map(|e| translate(e, &mut t)).collect();
            drop(t);
            for e in out {
                handler.handle_event(e);
            }
        }
    }
}

/// One raw inotify record.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Raw {
    wd: i32,
    mask: u32,
    cookie: u32,
    name: Option<Vec<u8>>,
}

/// Splits a buffer read from an inotify descriptor into its records.
fn parse(mut buf: &[u8]) -> Vec<Raw> {
    const HEAD: usize = std::mem::size_of::<libc::inotify_event>();
    let mut out = Vec::new();
    while buf.len() >= HEAD {
        let field = |at: usize| u32::from_ne_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]);
        let (wd, mask, cookie, len) = (field(0) as i32, field(4), field(8), field(12) as usize);
        let end = (HEAD + len).min(buf.len());
        let name = buf[HEAD..end].split(|&b| b == 0).next().filter(|n| !n.is_empty()).map(<[u8]>::to_vec);
        out.push(Raw { wd, mask, cookie, name });
        buf = &buf[end..];
    }
    out
}

/// The notify event for one record, with the watched path joined to the
/// record's name. `None` for a descriptor no longer watched.
fn translate(raw: &Raw, table: &mut Table) -> Option<notify::Result<Event>> {
    if raw.mask & libc::IN_Q_OVERFLOW != 0 {
        return Some(Ok(Event::new(EventKind::Other).set_flag(Flag::Rescan)));
    }
    if raw.mask & libc::IN_IGNORED != 0 {
        // The watch is gone (its folder deleted, or unwatched).
        if let Some(p) = table.paths.remove(&raw.wd) {
            if table.wds.get(&*p) == Some(&raw.wd) {
                table.wds.remove(&*p);
            }
        }
        return None;
    }
    let dir = table.paths.get(&raw.wd)?;
    let path = match &raw.name {
        Some(n) => dir.join(OsStr::from_bytes(n)),
        None => dir.to_path_buf(),
    };
    let m = raw.mask;
    let kind = if m & libc::IN_MOVED_TO != 0 {
        EventKind::Modify(ModifyKind::Name(RenameMode::To))
    } else if m & (libc::IN_MOVED_FROM | libc::IN_MOVE_SELF) != 0 {
        EventKind::Modify(ModifyKind::Name(RenameMode::From))
    } else if m & libc::IN_CLOSE_WRITE != 0 {
        EventKind::Access(AccessKind::Close(AccessMode::Write))
    } else if m & libc::IN_CREATE != 0 {
        EventKind::Create(CreateKind::Any)
    } else if m & (libc::IN_DELETE | libc::IN_DELETE_SELF) != 0 {
        EventKind::Remove(RemoveKind::Any)
    } else if m & libc::IN_MODIFY != 0 {
        EventKind::Modify(ModifyKind::Data(DataChange::Any))
    } else if m & libc::IN_ATTRIB != 0 {
        EventKind::Modify(ModifyKind::Metadata(MetadataKind::Any))
    } else {
        EventKind::Any
    };
    let mut event = Event::new(kind).add_path(path);
    if raw.cookie != 0 {
        event = event.set_tracker(raw.cookie as usize);
    }
    Some(Ok(event))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(wd: i32, mask: u32, name: &[u8], pad: usize) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&wd.to_ne_bytes());
        v.extend_from_slice(&mask.to_ne_bytes());
        v.extend_from_slice(&0u32.to_ne_bytes());
        let len = if name.is_empty() { 0 } else { name.len() + pad };
        v.extend_from_slice(&(len as u32).to_ne_bytes());
        if len > 0 {
            v.extend_from_slice(name);
            v.resize(v.len() + pad, 0);
        }
        v
    }

    #[test]
    fn records_are_split_and_names_lose_their_padding() {
        let mut buf = record(1, libc::IN_MOVED_TO, b"configuration.json", 6);
        buf.extend(record(2, libc::IN_DELETE_SELF, b"", 0));
        let raws = parse(&buf);
        assert_eq!(raws.len(), 2);
        assert_eq!(raws[0].name.as_deref(), Some(&b"configuration.json"[..]));
        assert_eq!(raws[1], Raw { wd: 2, mask: libc::IN_DELETE_SELF, cookie: 0, name: None });
    }

    #[test]
    fn a_short_or_cut_buffer_never_panics() {
        let buf = record(1, libc::IN_CREATE, b"abc", 13);
        for cut in 0..buf.len() {
            let _ = parse(&buf[..cut]);
        }
    }

    #[test]
    fn events_name_the_path_and_an_overflow_asks_for_a_rescan() {
        let mut t = Table::default();
        let a: Arc<Path> = Arc::from(Path::new("/rt/A"));
        t.paths.insert(3, Arc::clone(&a));
        t.wds.insert(a, 3);
        let raw = Raw { wd: 3, mask: libc::IN_MOVED_TO, cookie: 7, name: Some(b"configuration.json".to_vec()) };
        let e = translate(&raw, &mut t).unwrap().unwrap();
        assert_eq!(e.paths, [std::path::PathBuf::from("/rt/A/configuration.json")]);
        assert_eq!(e.kind, EventKind::Modify(ModifyKind::Name(RenameMode::To)));
        let over = Raw { wd: -1, mask: libc::IN_Q_OVERFLOW, cookie: 0, name: None };
        assert!(translate(&over, &mut t).unwrap().unwrap().need_rescan());
        let gone = Raw { wd: 3, mask: libc::IN_IGNORED, cookie: 0, name: None };
        assert!(translate(&gone, &mut t).is_none());
        assert!(t.paths.is_empty() && t.wds.is_empty());
        assert!(translate(&raw, &mut t).is_none(), "a descriptor no longer watched");
    }
}
