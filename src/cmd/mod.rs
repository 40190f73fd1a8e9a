//! One module per subcommand, each with its flags and its `run`.

/// `eprintln!` that never panics: writes one line to standard error with
/// [`say`], ignoring a failure to write it.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cmd::say(format_args!($($arg)*))
    };
}

pub mod completions;
pub mod control;
pub mod demo;
pub mod env;
pub mod key;
pub mod list;
pub mod man;
pub mod models;
pub mod open;
pub mod prune;
pub mod tray;
pub mod url;
pub mod watch;

use std::fmt;
use std::io::{self, Write};

use crate::cli::ProbeArgs;
use crate::discovery::{Instance, RuntimeDirs};
use crate::probe::Prober;
use crate::snapshot::Snapshot;

/// The exit status when no instance qualifies.
pub const EXIT_NOT_FOUND: i32 = 1;
/// The exit status of a command line that could not be understood (clap's).
pub const EXIT_USAGE: i32 = 2;
/// The exit status when something failed: a browser that did not open, a
/// server that refused, a leftover kept, a write or a runtime folder that
/// failed. A script tells it from [`EXIT_NOT_FOUND`].
pub const EXIT_FAILED: i32 = 3;

/// Why a command did not succeed; `main` prints it and exits with its code.
#[derive(Debug)]
pub enum Failure {
    /// No instance qualifies (exit [`EXIT_NOT_FOUND`]).
    NotFound(String),
    /// Anything else that went wrong (exit [`EXIT_FAILED`]).
    Other(String),
    /// The command cannot do anything on this system (exit 2).
    Unsupported(String),
    /// The reader of standard output went away (a closed pipe): end
    /// quietly, with exit 0 and no message.
    Closed,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::NotFound(m) | Failure::Other(m) | Failure::Unsupported(m) => f.write_str(m),
            Failure::Closed => f.write_str("standard output was closed"),
        }
    }
}

impl Failure {
    /// The exit status this failure ends the command with.
    pub fn code(&self) -> i32 {
        match self {
            Failure::NotFound(_) => EXIT_NOT_FOUND,
            Failure::Other(_) => EXIT_FAILED,
            Failure::Unsupported(_) => 2,
            Failure::Closed => 0,
        }
    }
}

/// What every command returns.
pub type Outcome = Result<(), Failure>;

/// Takes a snapshot, probing unless `--no-probe` was given.
pub fn snapshot(dirs: &RuntimeDirs, probe: ProbeArgs) -> Snapshot {
    let prober = (!probe.no_probe).then(Prober::default);
    Snapshot::take(dirs, prober.as_ref())
}

/// The sentence used when nothing runs in `snap`, taken of `dirs`. When
/// the folder named does not exist, or a runtime folder could not be read,
/// "nothing runs" cannot be told: that is a failure, not "none found".
pub fn none_running(dirs: &RuntimeDirs, snap: &Snapshot) -> Failure {
    missing_folder(dirs)
        .or_else(|| unread_folders(dirs, snap))
        .unwrap_or_else(|| Failure::NotFound(format!("No running Osaurus instance found in {}.", dirs.describe())))
}

/// When a runtime folder of `snap` could not be read (said on standard
/// error already), the failure that says so.
pub fn unread_folders(dirs: &RuntimeDirs, snap: &Snapshot) -> Option<Failure> {
    (!snap.warnings.is_empty()).then(|| {
        Failure::Other(format!("Nothing found in {}, and some of it could not be read (see above).", dirs.describe()))
    })
}

/// When the one folder the user named does not exist, that is what went
/// wrong, not "nothing runs there": a mistyped path reads as such.
pub fn missing_folder(dirs: &RuntimeDirs) -> Option<Failure> {
    let [dir] = &dirs.bases[..] else { return None };
    let missing = dirs.explicit && std::fs::symlink_metadata(dir).is_err_and(|e| e.kind() == io::ErrorKind::NotFound);
    missing.then(|| {
        Failure::Other(format!(
            "The runtime folder {} does not exist (named by --runtime-dir or OSAURUS_RUNTIME_DIR).",
            crate::text::sanitize(&dir.display().to_string(), 400)
        ))
    })
}

/// The best running instance, or the "none found" failure.
pub fn best(dirs: &RuntimeDirs, probe: ProbeArgs) -> Result<Instance, Failure> {
    let snap = snapshot(dirs, probe);
    print_warnings(&snap);
    snap.best().cloned().ok_or_else(|| none_running(dirs, &snap))
}

/// The running instance `prefix` names, among `entries`: the one whose id is
/// exactly `prefix` (then the one equal to it ignoring case), else the one
/// whose id starts with it, ignoring case. An entry whose id is exactly
/// `prefix` but that does not run is said so, never passed over for a
/// longer id.
pub fn pick<'a>(entries: impl Iterator<Item = &'a Instance>, prefix: &str) -> Result<&'a Instance, Failure> {
    let wanted = prefix.to_lowercase();
    let (running, resting): (Vec<&Instance>, Vec<&Instance>) = entries.partition(|i| i.is_running());
    if let Some(named) = resting.iter().find(|i| i.instance_id == prefix) {
        return Err(Failure::NotFound(format!(
            "The instance {} is {}, not running.",
            crate::text::quote(&named.instance_id),
            named.state.as_str()
        )));
    }
    let found: Vec<&Instance> =
        running.into_iter().filter(|i| i.instance_id.to_lowercase().starts_with(&wanted)).collect();
    if let Some(exact) = found.iter().find(|i| i.instance_id == prefix) {
        return Ok(exact);
    }
    if let [one] = found.iter().filter(|i| i.instance_id.to_lowercase() == wanted).collect::<Vec<_>>().as_slice() {
        return Ok(one);
    }
    match found.as_slice() {
        [one] => Ok(one),
        [] => Err(Failure::NotFound(format!(
            "No running instance has an id starting with {}.",
            crate::text::quote(prefix)
        ))),
        many => Err(Failure::Other(format!(
            "{} running instances have ids starting with {}; give more of the id.",
            many.len(),
            crate::text::quote(prefix)
        ))),
    }
}

/// Prints problems with the runtime folders themselves on stderr.
pub fn print_warnings(snap: &Snapshot) {
    for w in &snap.warnings {
        say!("osaurus-tray: {w}");
    }
}

/// Writes `text` to standard output, whole, and flushes it: what every
/// command prints goes through here (or [`write_failure`]), never through
/// `print!`, which panics when the write fails.
pub fn emit(text: &str) -> Outcome {
    let mut out = io::stdout().lock();
    // Through a duplicate of the descriptor: `io::stdout()` takes EBADF
    // (standard output opened for reading only, or a folder) for success,
    // and the command would end with 0 having printed nothing.
    #[cfg(unix)]
    if let Some(mut file) = stdout_file() {
        return file.write_all(text.as_bytes()).map_err(|e| write_failure(&e));
    }
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(|e| write_failure(&e))
}

/// Standard output as a file of its own (a duplicate of the descriptor),
/// which waits when the descriptor is non-blocking and full: a parent may
/// leave its pipe `O_NONBLOCK` (node, some shells), and a write to a slow
/// reader would fail with EAGAIN part-way.
#[cfg(unix)]
pub fn stdout_file() -> Option<Waiting> {
    std::os::fd::AsFd::as_fd(&io::stdout()).try_clone_to_owned().ok().map(|fd| Waiting(std::fs::File::from(fd)))
}

/// A file whose writes wait (poll(2) for POLLOUT) instead of failing with
/// EAGAIN on a non-blocking descriptor.
#[cfg(unix)]
pub struct Waiting(std::fs::File);

#[cfg(unix)]
impl Write for Waiting {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            match self.0.write(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let fd = std::os::fd::AsRawFd::as_raw_fd(&self.0);
                    let mut p = libc::pollfd { fd, events: libc::POLLOUT, revents: 0 };
                    // SAFETY: one valid pollfd, and its count. Its answer is
                    // not needed: the next write tells (EPIPE, or it goes).
                    unsafe { libc::poll(&mut p, 1, -1) };
                }
                r => return r,
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// What a failed write to standard output means: a closed pipe ends the
/// command quietly ([`Failure::Closed`]; normally SIGPIPE has ended it
/// already, as it ends `cat`), anything else (a full disk) is a failure
/// with the reason.
pub fn write_failure(e: &io::Error) -> Failure {
    match e.kind() {
        io::ErrorKind::BrokenPipe => Failure::Closed,
        _ => Failure::Other(format!("cannot write to standard output: {}", crate::discovery::read::io_reason(e))),
    }
}

/// Calls `then` once standard output hangs up: its reader went away or its
/// terminal hung up. `watch` learns so at once, not at its next write,
/// which may never come. A thread blocked without a timeout does the
/// waiting, at no cost while nothing is written; where standard output
/// cannot hang up (a file, `/dev/null`) it waits for good, and on an answer
/// it does not understand it stops waiting.
pub fn on_hang_up(then: impl FnOnce() + Send + 'static) {
    let _ = std::thread::Builder::new().name("stdout hang-up".into()).stack_size(64 * 1024).spawn(move || {
        if wait_for_hang_up() {
            then();
        }
    });
}

/// Blocks until standard output hangs up (true), or until that cannot be
/// waited for (false). Linux: poll(2) asking for POLLHUP only, which
/// reports nothing while the reader is there (a pipe's write end reports
/// POLLERR once its reader is gone, a terminal POLLHUP).
#[cfg(not(target_os = "macos"))]
fn wait_for_hang_up() -> bool {
    let mut fd = libc::pollfd { fd: libc::STDOUT_FILENO, events: libc::POLLHUP, revents: 0 };
    loop {
        // SAFETY: one valid pollfd, and its count.
        let n = unsafe { libc::poll(&mut fd, 1, -1) };
        if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        return n > 0 && fd.revents & (libc::POLLHUP | libc::POLLERR) != 0;
    }
}

/// macOS: kqueue's write filter, edge-triggered (EV_CLEAR), which sets
/// EV_EOF when a pipe's reader goes away (kqueue(2)); it also fires when
/// room is made in the pipe, which happens only as output is read.
#[cfg(target_os = "macos")]
fn wait_for_hang_up() -> bool {
    // SAFETY: kqueue has no preconditions; its descriptor is closed below.
    let kq = unsafe { libc::kqueue() };
    if kq < 0 {
        return false;
    }
    // SAFETY: all-zero bytes are a valid kevent.
    let mut change: libc::kevent = unsafe { std::mem::zeroed() };
    change.ident = libc::STDOUT_FILENO as libc::uintptr_t;
    change.filter = libc::EVFILT_WRITE;
    change.flags = libc::EV_ADD | libc::EV_CLEAR;
    let mut hung_up = false;
    // SAFETY: one change, one event buffer, no timeout.
    let added = unsafe { libc::kevent(kq, &change, 1, std::ptr::null_mut(), 0, std::ptr::null()) };
    while added == 0 {
        // SAFETY: as above.
        let mut event: libc::kevent = unsafe { std::mem::zeroed() };
        // SAFETY: no changes, one event buffer, no timeout.
        let n = unsafe { libc::kevent(kq, std::ptr::null(), 0, &mut event, 1, std::ptr::null()) };
        if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        if n == 1 && event.flags & libc::EV_ERROR == 0 && event.flags & libc::EV_EOF == 0 {
            continue; // room in the pipe: the reader is there
        }
        hung_up = n == 1 && event.flags & libc::EV_EOF != 0;
        break;
    }
    // SAFETY: `kq` is ours and closed once.
    unsafe { libc::close(kq) };
    hung_up
}

/// Writes one line to standard error. A failure to write it is ignored:
/// there is nowhere left to say it, and it must not end in a panic.
pub fn say(line: fmt::Arguments<'_>) {
    let mut err = io::stderr().lock();
    let _ = err.write_fmt(line).and_then(|()| err.write_all(b"\n"));
}
