//! The macOS side of [`super`]: libproc and kqueue through `libc`.
//!
//! - The listening sockets: one pass over every process (`proc_listpids`),
//!   its socket descriptors (`proc_pidinfo(PROC_PIDLISTFDS)`) and what each
//!   is (`proc_pidfdinfo(PROC_PIDFDSOCKETINFO)`, decoded in
//!   [`super::libproc`]). Only this user's processes can be read unless we
//!   are root: another user's listeners are not seen.
//! - When a process started: `proc_pidinfo(PROC_PIDTBSDINFO)`.
//! - Process exits: one kqueue with an `EVFILT_PROC`/`NOTE_EXIT` filter per
//!   pid, woken by an `EVFILT_USER` event when the watch ends.

use std::ffi::{c_int, c_void};
use std::io;
use std::mem::{size_of, MaybeUninit};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};

use super::libproc::{self, SocketFdinfo};
use super::Owner;

pub(super) use super::libproc::Socket;

/// `proc_listpids` type: every process.
const PROC_ALL_PIDS: u32 = 1;
/// `proc_pidfdinfo` flavor answering a `socket_fdinfo`.
const PROC_PIDFDSOCKETINFO: c_int = 3;
/// `proc_name`'s longest answer is `2 * MAXCOMLEN`.
const PROC_NAME_MAX: usize = 2 * 16 + 1;

/// The process with a socket listening on `port`, as
/// [`super::Listeners::owner`] decides it from one pass.
pub(super) fn listener(port: u16) -> Option<Owner> {
    super::Listeners::read()?.owner(port)
}

/// `(local address, owner uid)` of every socket listening on `port`
/// that this user may see (another user's processes are hidden from it:
/// then none of theirs is listed, and the port may show no listener).
pub(super) fn listening_owners(port: u16) -> Option<Vec<(std::net::IpAddr, u32)>> {
    Some(super::Listeners::read()?.owners(port))
}

/// Every TCP socket in LISTEN of every process this user may see, in one
/// pass, one row per socket (held by the lowest pid that has it); `None`
/// when the processes cannot be listed.
pub(super) fn listening_sockets() -> Option<Vec<Socket>> {
    let mut found = Vec::new();
    for pid in all_pids()? {
        let Ok(holder) = u32::try_from(pid) else {
            continue;
        };
        for fd in socket_fds(pid) {
            if let Some(socket) = socket_fdinfo(pid, fd).and_then(|info| libproc::listening_socket(&info, holder)) {
                found.push(socket);
            }
        }
    }
    Some(libproc::one_per_socket(found))
}

/// Every pid (but the kernel's), or `None` when they cannot be listed.
fn all_pids() -> Option<Vec<c_int>> {
    // SAFETY: a null buffer asks for the size needed, in bytes.
    let needed = unsafe { libc::proc_listpids(PROC_ALL_PIDS, 0, ptr::null_mut(), 0) };
    let mut capacity = usize::try_from(needed).ok()? / size_of::<c_int>() + 64;
    for _ in 0..4 {
        let mut pids: Vec<c_int> = vec![0; capacity];
        let bytes = c_int::try_from(capacity * size_of::<c_int>()).ok()?;
        // SAFETY: the buffer holds `bytes` bytes of c_int.
        let got = unsafe { libc::proc_listpids(PROC_ALL_PIDS, 0, pids.as_mut_ptr().cast::<c_void>(), bytes) };
        let got = usize::try_from(got).ok().filter(|&g| g > 0)?;
        if got < capacity * size_of::<c_int>() {
            pids.truncate(got / size_of::<c_int>());
            pids.retain(|&pid| pid > 0);
            return Some(pids);
        }
        // The buffer was filled: more processes than asked for; again.
        capacity *= 2;
    }
    None
}

/// The descriptors of `pid` that are sockets; empty when unreadable.
fn socket_fds(pid: c_int) -> Vec<c_int> {
    let record = size_of::<libc::proc_fdinfo>();
    // SAFETY: a null buffer asks for the size needed, in bytes.
    let needed = unsafe { libc::proc_pidinfo(pid, libc::PROC_PIDLISTFDS, 0, ptr::null_mut(), 0) };
    let Some(capacity) = usize::try_from(needed).ok().filter(|&n| n > 0).map(|n| n / record + 16) else {
        return Vec::new();
    };
    let empty = libc::proc_fdinfo { proc_fd: 0, proc_fdtype: 0 };
    let mut fds = vec![empty; capacity];
    let Ok(bytes) = c_int::try_from(capacity * record) else {
        return Vec::new();
    };
    // SAFETY: the buffer holds `bytes` bytes of proc_fdinfo.
    let got = unsafe { libc::proc_pidinfo(pid, libc::PROC_PIDLISTFDS, 0, fds.as_mut_ptr().cast::<c_void>(), bytes) };
    let Ok(got) = usize::try_from(got) else {
        return Vec::new();
    };
    fds.truncate((got / record).min(capacity));
    fds.iter()
        .filter(|fd| i64::from(fd.proc_fdtype) == i64::from(libc::PROX_FDTYPE_SOCKET))
        .map(|fd| fd.proc_fd)
        .collect()
}

/// What the kernel says of socket `fd` of `pid`; `None` when it cannot be
/// read (the descriptor was closed meanwhile, no permission) or the answer
/// is short.
fn socket_fdinfo(pid: c_int, fd: c_int) -> Option<SocketFdinfo> {
    let size = c_int::try_from(size_of::<SocketFdinfo>()).ok()?;
    let mut info = SocketFdinfo::zeroed();
    // SAFETY: the buffer holds `size` bytes.
    let got =
        unsafe { libc::proc_pidfdinfo(pid, fd, PROC_PIDFDSOCKETINFO, ptr::from_mut(&mut info).cast::<c_void>(), size) };
    (got == size).then_some(info)
}

/// The file name of the executable of `pid`, else its command name.
pub(super) fn name_of(pid: c_int) -> Option<String> {
    let mut path = vec![0u8; usize::try_from(libc::PROC_PIDPATHINFO_MAXSIZE).ok()?];
    let capacity = u32::try_from(path.len()).ok()?;
    // SAFETY: the buffer holds `capacity` bytes.
    let got = unsafe { libc::proc_pidpath(pid, path.as_mut_ptr().cast::<c_void>(), capacity) };
    if let Ok(got @ 1..) = usize::try_from(got) {
        path.truncate(got.min(path.len()));
        let path = String::from_utf8_lossy(&path);
        let name = Path::new(path.trim_end_matches('\0')).file_name();
        if let Some(name) = name.map(|n| n.to_string_lossy().into_owned()) {
            if !name.is_empty() {
                return Some(name);
            }
        }
    }
    let mut name = [0u8; PROC_NAME_MAX];
    let capacity = u32::try_from(name.len()).ok()?;
    // SAFETY: the buffer holds `capacity` bytes.
    let got = unsafe { libc::proc_name(pid, name.as_mut_ptr().cast::<c_void>(), capacity) };
    let got = usize::try_from(got).ok().filter(|&g| g > 0)?;
    let name = String::from_utf8_lossy(&name[..got.min(name.len())]);
    let name = name.trim_end_matches('\0');
    (!name.is_empty()).then(|| name.to_owned())
}

/// When `pid` started (`PROC_PIDTBSDINFO`); `None` when it is gone or
/// cannot be read.
pub(super) fn started_at(pid: u32) -> Option<std::time::SystemTime> {
    let info = bsdinfo(pid)?;
    libproc::start_time(info.pbi_start_tvsec, info.pbi_start_tvusec)
}

/// `proc_pidinfo(PROC_PIDTBSDINFO)` of `pid`: the kernel answers it for a
/// zombie too. `None` when it cannot be read (gone, or not ours to read).
fn bsdinfo(pid: u32) -> Option<libc::proc_bsdinfo> {
    let raw = c_int::try_from(pid).ok()?;
    let size = c_int::try_from(size_of::<libc::proc_bsdinfo>()).ok()?;
    let mut info = MaybeUninit::<libc::proc_bsdinfo>::zeroed();
    // SAFETY: the buffer holds `size` bytes.
    let got = unsafe { libc::proc_pidinfo(raw, libc::PROC_PIDTBSDINFO, 0, info.as_mut_ptr().cast::<c_void>(), size) };
    if got != size {
        return None;
    }
    // SAFETY: all-zero bytes are a valid proc_bsdinfo (integers and
    // arrays of them), and the kernel wrote a whole one over them.
    let info = unsafe { info.assume_init() };
    (info.pbi_pid == pid).then_some(info)
}

/// The `EVFILT_USER` event that wakes [`ExitQueue::run`].
const WAKE: usize = 0;

/// The kqueue behind [`super::ExitWatch`]: one `EVFILT_PROC`/`NOTE_EXIT`
/// filter per watched pid. The kernel drops a filter once it has reported
/// the exit, so each exit is reported once. A kqueue may be changed from
/// one thread while another waits on it; it is not inherited by children.
pub(crate) struct ExitQueue {
    kq: OwnedFd,
    stopped: AtomicBool,
}

impl ExitQueue {
    pub(crate) fn new() -> Option<ExitQueue> {
        // SAFETY: kqueue takes nothing and returns a new descriptor or -1.
        let kq = unsafe { libc::kqueue() };
        if kq < 0 {
            return None;
        }
        // SAFETY: the kernel just opened it for us.
        let queue = ExitQueue { kq: unsafe { OwnedFd::from_raw_fd(kq) }, stopped: AtomicBool::new(false) };
        queue.change(WAKE, libc::EVFILT_USER, libc::EV_ADD | libc::EV_CLEAR, 0).ok()?;
        Some(queue)
    }

    /// Watches `pid`; adding a filter that is there already is fine.
    /// False when it has exited (`ESRCH`), is on its way out or a zombie
    /// (`PROC_FLAG_INEXIT`), or the kernel refuses.
    ///
    /// On its way out: XNU posts `NOTE_EXIT` in `exit()` before the process
    /// becomes a zombie, and a filter added after that post never fires.
    /// The process is marked as exiting (`PROC_FLAG_INEXIT`) before the
    /// post, so a filter added and then found on an exiting process is
    /// taken back, and its exit is this answer. (If the post came between
    /// the two, the exit may also be reported on the watch's thread.)
    pub(crate) fn watch(&self, pid: u32) -> bool {
        let Ok(ident) = usize::try_from(pid) else { return false };
        if pid == 0 || c_int::try_from(pid).is_err() {
            return false;
        }
        if self.change(ident, libc::EVFILT_PROC, libc::EV_ADD, libc::NOTE_EXIT).is_err() {
            return false;
        }
        // Unreadable (not ours to read): the filter stands.
        if bsdinfo(pid).is_some_and(|info| libproc::exiting(info.pbi_flags, info.pbi_status)) {
            self.forget(pid);
            return false;
        }
        true
    }

    pub(crate) fn forget(&self, pid: u32) {
        if let Ok(ident) = usize::try_from(pid) {
            // ENOENT when it was not watched or its exit was reported: fine.
            let _ = self.change(ident, libc::EVFILT_PROC, libc::EV_DELETE, 0);
        }
    }

    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        // A trigger stays pending until read: a `run` not yet waiting sees it.
        let _ = self.change(WAKE, libc::EVFILT_USER, 0, libc::NOTE_TRIGGER);
    }

    pub(crate) fn run(&self, on_exit: &dyn Fn(u32) -> bool) {
        let none = libc::kevent { ident: 0, filter: 0, flags: 0, fflags: 0, data: 0, udata: ptr::null_mut() };
        let mut events = [none; 16];
        let capacity = c_int::try_from(events.len()).unwrap_or(1);
        loop {
            if self.stopped.load(Ordering::SeqCst) {
                return;
            }
            // SAFETY: `events` has room for `capacity` events; a null
            // timeout waits until one comes.
            let got = unsafe {
                libc::kevent(self.kq.as_raw_fd(), ptr::null(), 0, events.as_mut_ptr(), capacity, ptr::null())
            };
            let Ok(got) = usize::try_from(got) else {
                if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return;
            };
            for event in &events[..got.min(events.len())] {
                let (ident, filter, flags, fflags) = (event.ident, event.filter, event.flags, event.fflags);
                if filter == libc::EVFILT_USER {
                    if self.stopped.load(Ordering::SeqCst) {
                        return;
                    }
                    continue;
                }
                if filter != libc::EVFILT_PROC || flags & libc::EV_ERROR != 0 || fflags & libc::NOTE_EXIT == 0 {
                    continue;
                }
                if let Ok(pid) = u32::try_from(ident) {
                    if !on_exit(pid) {
                        return;
                    }
                }
            }
        }
    }

    /// One change to the queue, applied at once (nothing is read back).
    fn change(&self, ident: usize, filter: i16, flags: u16, fflags: u32) -> io::Result<()> {
        let change = libc::kevent { ident, filter, flags, fflags, data: 0, udata: ptr::null_mut() };
        let now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        loop {
            // SAFETY: one change from a valid kevent, no event list, a zero
            // timeout: the call only applies the change.
            let got = unsafe { libc::kevent(self.kq.as_raw_fd(), &change, 1, ptr::null_mut(), 0, &now) };
            if got >= 0 {
                return Ok(());
            }
            let error = io::Error::last_os_error();
            if error.kind() != io::ErrorKind::Interrupted {
                return Err(error);
            }
        }
    }
}
