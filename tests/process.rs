//! `process::listener` against real sockets: listeners of this test process
//! and of a child process.

#![cfg(any(target_os = "linux", target_os = "macos"))]

use std::net::TcpListener;
use std::sync::{Mutex, MutexGuard};

use osaurus_tray::process::{listener, Owner};

/// Tests that bind ports run one at a time, so a port one test frees is not
/// handed to another test's listener while the first still looks at it.
static PORTS: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    PORTS.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// This test process, as `listener` should name it.
fn me() -> Owner {
    let exe = std::env::current_exe().expect("current_exe");
    let name = exe.file_name().expect("the test executable has a file name").to_string_lossy().into_owned();
    Owner { pid: std::process::id(), name }
}

#[test]
fn finds_this_process_listening_on_ipv4() {
    let _serial = serial();
    let socket = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = socket.local_addr().expect("local_addr").port();
    assert_eq!(listener(port), Some(me()));
    drop(socket);
}

#[test]
fn finds_this_process_listening_on_ipv6() {
    let _serial = serial();
    let Ok(socket) = TcpListener::bind("[::1]:0") else {
        eprintln!("skipped: IPv6 loopback cannot be bound here");
        return;
    };
    let port = socket.local_addr().expect("local_addr").port();
    assert_eq!(listener(port), Some(me()));
    drop(socket);
}

#[test]
fn a_port_nothing_listens_on_gives_none() {
    let _serial = serial();
    let socket = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = socket.local_addr().expect("local_addr").port();
    // Listening a moment ago, and found then.
    assert_eq!(listener(port).map(|owner| owner.pid), Some(std::process::id()));
    drop(socket);
    assert_eq!(listener(port), None);
}

#[cfg(target_os = "linux")]
mod child {
    use std::io::{BufRead, BufReader};
    use std::process::{Child, Command, Stdio};

    use super::{listener, serial};

    /// Kills and reaps the child however the test ends.
    struct Reaped(Child);

    impl Drop for Reaped {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    const SERVER: &str = "import socket,sys,time; s=socket.socket(); \
        s.bind(('127.0.0.1',0)); s.listen(); \
        print(s.getsockname()[1], flush=True); time.sleep(30)";

    #[test]
    fn finds_a_child_process_listening() {
        let _serial = serial();
        let mut child = Command::new("python3")
            .args(["-c", SERVER])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let stdout = child.stdout.take().expect("piped stdout");
        let child = Reaped(child);

        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read the port");
        let port: u16 = line.trim().parse().unwrap_or_else(|_| panic!("a port on stdout, got {line:?}"));

        let owner = listener(port).expect("the child's listener is found");
        assert_eq!(owner.pid, child.0.id());
        assert!(owner.name.starts_with("python3"), "{owner:?}");
    }
}
