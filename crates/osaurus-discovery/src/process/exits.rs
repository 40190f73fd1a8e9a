//! Process exit as an event: one thread waits on every watched pid at once
//! and reports each exit the moment the kernel does.
//!
//! - Linux: a pidfd per pid (`pidfd_open`, Linux 5.3 and later), all in one
//!   `poll` set with a pipe that wakes the thread when a pid is added or the
//!   watch ends. Where pidfd is missing [`ExitWatch::watch`] says so, and the
//!   caller falls back on its slow socket-table check.
//! - macOS: one kqueue with an `EVFILT_PROC`/`NOTE_EXIT` filter per pid.

use std::sync::Arc;

/// Watches processes for their exit. Dropping it ends its thread.
pub struct ExitWatch {
    inner: Arc<imp::Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ExitWatch {
    /// Starts the watch; `on_exit` is called on its thread with each pid
    /// that exits, and returns false once nobody listens (the watch ends).
    /// `None` where the platform cannot watch exits.
    pub fn start(on_exit: impl Fn(u32) -> bool + Send + 'static) -> Option<ExitWatch> {
        let inner = Arc::new(imp::Shared::new()?);
        let shared = Arc::clone(&inner);
        let thread = std::thread::Builder::new()
            .name("exits".into())
            .stack_size(128 * 1024)
            .spawn(move || shared.run(&on_exit))
            .ok()?;
        Some(ExitWatch { inner, thread: Some(thread) })
    }

    /// Watches `pid` (once, however often asked). False when it cannot be
    /// watched: it has already exited, or the kernel cannot tell.
    pub fn watch(&self, pid: u32) -> bool {
        self.inner.watch(pid)
    }

    /// Stops watching `pid`.
    pub fn forget(&self, pid: u32) {
        self.inner.forget(pid);
    }
}

impl Drop for ExitWatch {
    fn drop(&mut self) {
        self.inner.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(target_os = "linux")]
mod imp {
    use std::collections::HashMap;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Mutex;

    pub(super) struct Shared {
        pids: Mutex<HashMap<u32, OwnedFd>>,
        wake_read: OwnedFd,
        wake_write: OwnedFd,
        stopped: AtomicBool,
    }

    impl Shared {
        pub(super) fn new() -> Option<Shared> {
            let mut fds = [0; 2];
            // SAFETY: `fds` has room for the two descriptors pipe2 writes.
            if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
                return None;
            }
            // SAFETY: pipe2 succeeded: both are open descriptors we own.
            let (wake_read, wake_write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
            Some(Shared { pids: Mutex::default(), wake_read, wake_write, stopped: AtomicBool::new(false) })
        }

        pub(super) fn watch(&self, pid: u32) -> bool {
            let mut pids = self.pids.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if pids.contains_key(&pid) {
                return true;
            }
            let Ok(raw) = libc::pid_t::try_from(pid) else { return false };
            // SAFETY: pidfd_open takes a pid and flags, and returns a new
            // descriptor or -1.
            let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, raw, 0) };
            let Ok(fd) = i32::try_from(fd) else { return false };
            if fd < 0 {
                return false;
            }
            // SAFETY: the kernel just opened it for us.
            pids.insert(pid, unsafe { OwnedFd::from_raw_fd(fd) });
            drop(pids);
            self.wake();
            true
        }

        pub(super) fn forget(&self, pid: u32) {
            if self.pids.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&pid).is_some() {
                self.wake();
            }
        }

        pub(super) fn stop(&self) {
            self.stopped.store(true, Ordering::SeqCst);
            self.wake();
        }

        fn wake(&self) {
            // SAFETY: one byte from a valid buffer; a full pipe already wakes.
            let _ = unsafe { libc::write(self.wake_write.as_raw_fd(), [1u8].as_ptr().cast(), 1) };
        }

        pub(super) fn run(&self, on_exit: &dyn Fn(u32) -> bool) {
            loop {
                if self.stopped.load(Ordering::SeqCst) {
                    return;
                }
                let (pids, mut set): (Vec<u32>, Vec<libc::pollfd>) = {
                    let pids = self.pids.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    pids.iter()
                        .map(|(&pid, fd)| (pid, libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 }))
                        .unzip()
                };
                set.push(libc::pollfd { fd: self.wake_read.as_raw_fd(), events: libc::POLLIN, revents: 0 });
                let Ok(n) = libc::nfds_t::try_from(set.len()) else { return };
                // SAFETY: `set` holds `n` pollfds; -1 waits without a timeout.
                let got = unsafe { libc::poll(set.as_mut_ptr(), n, -1) };
                if got < 0 {
                    if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                        continue;
                    }
                    return;
                }
                if set.last().is_some_and(|w| w.revents != 0) {
                    let mut buf = [0u8; 64];
                    // SAFETY: reads at most 64 bytes into `buf`; the pipe does not block.
                    while unsafe { libc::read(self.wake_read.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
                }
                for (pid, p) in pids.iter().zip(&set) {
                    if p.revents == 0 {
                        continue;
                    }
                    let mut watched = self.pids.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    // Only the descriptor that was polled: a pid forgotten
                    // and watched again since is another process.
                    if watched.get(pid).is_some_and(|fd| fd.as_raw_fd() == p.fd) {
                        watched.remove(pid);
                        drop(watched);
                        if !on_exit(*pid) {
                            return;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(target_os = "macos")]
mod imp {
    pub(super) use super::super::macos::ExitQueue as Shared;
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
mod imp {
    pub(super) struct Shared;

    impl Shared {
        pub(super) fn new() -> Option<Shared> {
            None
        }
        pub(super) fn watch(&self, _pid: u32) -> bool {
            false
        }
        pub(super) fn forget(&self, _pid: u32) {}
        pub(super) fn stop(&self) {}
        pub(super) fn run(&self, _on_exit: &dyn Fn(u32) -> bool) {}
    }
}

#[cfg(all(test, any(target_os = "linux", target_os = "macos")))]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    #[test]
    fn a_child_that_is_killed_is_reported_at_once_and_only_once() {
        let (tx, rx) = mpsc::channel();
        let watch = ExitWatch::start(move |pid| tx.send((pid, Instant::now())).is_ok()).expect("an exit watch");
        let mut kept = std::process::Command::new("sleep").arg("30").spawn().expect("sleep");
        let mut child = std::process::Command::new("sleep").arg("30").spawn().expect("sleep");
        assert!(watch.watch(child.id()));
        assert!(watch.watch(kept.id()));
        assert!(watch.watch(child.id()), "asking twice is fine");
        std::thread::sleep(Duration::from_millis(50));
        assert!(rx.try_recv().is_err(), "nothing exited yet");
        let killed = Instant::now();
        child.kill().unwrap();
        let (pid, seen) = rx.recv_timeout(Duration::from_secs(5)).expect("the exit is reported");
        assert_eq!(pid, child.id());
        assert!(seen.duration_since(killed) < Duration::from_secs(1), "{:?}", seen.duration_since(killed));
        child.wait().unwrap();
        assert!(rx.recv_timeout(Duration::from_millis(100)).is_err(), "reported once; the other still runs");
        watch.forget(kept.id());
        kept.kill().unwrap();
        kept.wait().unwrap();
        assert!(rx.recv_timeout(Duration::from_millis(200)).is_err(), "a forgotten pid is not reported");
        drop(watch);
    }

    #[test]
    fn a_pid_that_does_not_exist_cannot_be_watched() {
        let watch = ExitWatch::start(|_| true).expect("an exit watch");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!watch.watch(pid), "reaped: no such process");
    }
}
