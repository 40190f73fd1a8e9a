//! Liveness from macOS itself, against the real kernel: libproc finds this
//! process's listeners with its pid, a kqueue reports a child's exit at
//! once, and a process's start time is read.
//!
//! It runs only on macOS, which means only in the macOS workflow
//! (`.github/workflows/macos.yml`: `cargo test --locked` on macos-15 and
//! macos-14): libproc and kqueue exist nowhere else, and a cross-check
//! from Linux only type-checks this code. The pure decoding of what
//! libproc answers is unit-tested on every platform
//! (`crates/osaurus-discovery/src/process/libproc.rs`).

#![cfg(target_os = "macos")]

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use osaurus_discovery::process::{started_at, ExitWatch, Listeners};

/// Tests that bind ports run one at a time, so a port one test frees is not
/// handed to another test's listener while the first still looks at it.
static PORTS: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    PORTS.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A child process, killed and reaped however the test ends.
struct Reaped(Child);

impl Reaped {
    fn sleep() -> Reaped {
        Reaped(Command::new("sleep").arg("30").spawn().expect("start sleep"))
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The table as read now, with the listener on `port` found in it.
fn read_with(port: u16) -> Listeners {
    let table = Listeners::read().expect("libproc lists the processes");
    assert!(table.listens(port), "our listener on {port} is in the table");
    table
}

fn this_users_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

#[test]
fn a_listener_on_every_ipv4_address_is_found_with_this_process_as_its_owner() {
    let _serial = serial();
    let socket = TcpListener::bind("0.0.0.0:0").expect("bind 0.0.0.0:0");
    let port = socket.local_addr().expect("local_addr").port();

    let table = read_with(port);
    let owner = table.owner(port).expect("an owner");
    assert_eq!(owner.pid, std::process::id());
    let exe = std::env::current_exe().expect("current_exe");
    assert_eq!(Some(owner.name.as_str()), exe.file_name().and_then(|n| n.to_str()));
    let any: IpAddr = "0.0.0.0".parse().unwrap();
    assert_eq!(table.addresses(port), [any]);
    assert_eq!(table.owners(port), [(any, this_users_uid())]);
    assert_eq!(table.sockets(port).len(), 1, "one row for one socket");

    drop(socket);
    let after = Listeners::read().expect("libproc lists the processes");
    assert!(!after.listens(port), "a closed listener is gone from the table");
    assert_eq!(after.owner(port), None);
}

#[test]
fn a_dual_stack_listener_on_every_ipv6_address_is_found_as_colon_colon() {
    let _serial = serial();
    let Ok(socket) = TcpListener::bind("[::]:0") else {
        eprintln!("skipped: IPv6 cannot be bound here");
        return;
    };
    let port = socket.local_addr().expect("local_addr").port();

    let table = read_with(port);
    assert_eq!(table.owner(port).map(|o| o.pid), Some(std::process::id()));
    let any: IpAddr = "::".parse().unwrap();
    assert_eq!(table.addresses(port), [any], "dual-stack (both flags) reads as ::, which 127.0.0.1 reaches");
    assert!(osaurus_discovery::process::served_by_this_user(port));
    drop(socket);
}

#[test]
fn listeners_on_ipv4_and_ipv6_loopback_are_both_rows_of_one_owner() {
    let _serial = serial();
    let v4 = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = v4.local_addr().expect("local_addr").port();
    let Ok(v6) = TcpListener::bind(("::1", port)) else {
        eprintln!("skipped: [::1]:{port} cannot be bound here");
        return;
    };

    let table = read_with(port);
    let mut addresses = table.addresses(port);
    addresses.sort();
    assert_eq!(addresses, ["127.0.0.1".parse::<IpAddr>().unwrap(), "::1".parse().unwrap()]);
    assert_eq!(table.sockets(port).len(), 2);
    assert_eq!(table.owner(port).map(|o| o.pid), Some(std::process::id()));
    drop((v4, v6));
}

#[test]
fn a_killed_child_is_reported_within_100_ms() {
    let (tx, rx) = mpsc::channel();
    let watch = ExitWatch::start(move |pid| tx.send((pid, Instant::now())).is_ok()).expect("a kqueue exit watch");
    let mut child = Reaped::sleep();
    let kept = Reaped::sleep();
    assert!(watch.watch(child.0.id()));
    assert!(watch.watch(kept.0.id()));
    assert!(watch.watch(child.0.id()), "asking twice is fine");
    assert!(rx.recv_timeout(Duration::from_millis(50)).is_err(), "nothing exited yet");

    let killed = Instant::now();
    child.0.kill().expect("kill the child");
    let (pid, seen) = rx.recv_timeout(Duration::from_secs(5)).expect("the exit is reported");
    let latency = seen.duration_since(killed);
    eprintln!("exit reported {latency:?} after the kill");
    assert_eq!(pid, child.0.id());
    assert!(latency < Duration::from_millis(100), "{latency:?}");
    assert!(rx.recv_timeout(Duration::from_millis(100)).is_err(), "reported once; the other still runs");

    // Exited and reaped: it cannot be watched again.
    let gone = child.0.id();
    child.0.wait().expect("reap the child");
    assert!(!watch.watch(gone), "no such process");
    drop(watch);
    drop(kept);
}

/// A server in another process, as the watcher meets Osaurus: found in the
/// table with its pid, started before it was found, and its exit seen at
/// once, after which the table no longer shows its port.
#[test]
fn a_listener_in_another_process_is_found_and_its_exit_reported_at_once() {
    let _serial = serial();
    let before = SystemTime::now();
    let code = "import socket,time; s=socket.socket(); s.bind(('0.0.0.0',0)); s.listen(); \
        print(s.getsockname()[1], flush=True); time.sleep(30)";
    let mut child = Command::new("python3")
        .args(["-c", code])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut child = Reaped(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("read the port");
    let port: u16 = line.trim().parse().unwrap_or_else(|_| panic!("a port on stdout, got {line:?}"));

    let table = read_with(port);
    let pid = child.0.id();
    // The pid only: python3 may exec a framework's `Python` under the same pid.
    assert_eq!(table.owner(port).map(|o| o.pid), Some(pid));
    assert_eq!(table.addresses(port), ["0.0.0.0".parse::<IpAddr>().unwrap()]);
    let born = started_at(pid).expect("the server's start time");
    assert!(born + Duration::from_secs(1) >= before && born <= SystemTime::now(), "{born:?} vs {before:?}");

    let (tx, rx) = mpsc::channel();
    let watch = ExitWatch::start(move |pid| tx.send((pid, Instant::now())).is_ok()).expect("a kqueue exit watch");
    assert!(watch.watch(pid));
    let killed = Instant::now();
    child.0.kill().expect("kill the server");
    let (exited, seen) = rx.recv_timeout(Duration::from_secs(5)).expect("the exit is reported");
    let latency = seen.duration_since(killed);
    eprintln!("server's exit reported {latency:?} after the kill");
    assert_eq!(exited, pid);
    assert!(latency < Duration::from_millis(100), "{latency:?}");
    assert!(!Listeners::read().expect("libproc lists the processes").listens(port), "its socket went with it");
}

#[test]
fn this_process_started_in_the_last_hour_and_a_new_child_just_now() {
    let own = started_at(std::process::id()).expect("our own start time");
    let age = SystemTime::now().duration_since(own).expect("started in the past");
    assert!(age < Duration::from_secs(3600), "{age:?}");

    let before = SystemTime::now();
    let child = Reaped::sleep();
    let born = started_at(child.0.id()).expect("the child's start time");
    // The kernel's clock and SystemTime are one clock; a second covers
    // rounding and a slow fork.
    let slack = Duration::from_secs(1);
    assert!(born + slack >= before && born <= SystemTime::now() + slack, "{born:?} vs {before:?}");
    assert!(born > own, "the child started after us");
    drop(child);

    assert_eq!(started_at(u32::MAX), None);
}
