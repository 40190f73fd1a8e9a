//! `local-only` and `stop`: the message posted, the wait on the runtime
//! folder, and the exit status. On Linux there is no Osaurus: a plain
//! runtime folder gets exit 2; the waiting runs against a demo's socket
//! (one the test holds, which never changes anything, and the real demo).
//! On macOS, an observer of the distributed notification center checks the
//! name and userInfo posted.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{osaurus_time, publish, run_in, running_config, stderr, stdout};

const ID: &str = "5B0E7C1D-2F3A-4B5C-8D6E-7F8091A2B3C4";

/// A data root with a runtime folder holding one exposed instance on `port`.
fn exposed_instance(port: u16) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    publish(&root.path().join("runtime"), ID, &running_config(ID, port, &osaurus_time(chrono::Utc::now()), true));
    root
}

#[test]
#[cfg(target_os = "linux")]
fn with_no_osaurus_to_control_both_commands_say_so_and_exit_2() {
    let root = exposed_instance(41337);
    for cmd in ["local-only", "stop"] {
        let out = run_in(&root.path().join("runtime"), &[cmd, "--id", "5b0e", "--timeout", "1"]);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {out:?}");
        assert_eq!(
            stderr(&out),
            "osaurus-tray: Osaurus runs only on macOS: there is no Osaurus here to control (a runtime folder of \
             `osaurus-tray demo` can be).\n",
            "{cmd}"
        );
    }
    assert!(root.path().join("runtime").join(ID).join("configuration.json").is_file(), "nothing was touched");
}

/// Holds a demo's socket beside `root/runtime` that takes every message and
/// changes nothing; returns what it was sent, line by line.
#[cfg(unix)]
fn deaf_demo(root: &Path) -> std::sync::mpsc::Receiver<String> {
    use std::io::Read;
    let listener = std::os::unix::net::UnixListener::bind(root.join("osaurus-tray-demo.sock")).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let mut text = String::new();
            let _ = conn.unwrap().read_to_string(&mut text);
            if tx.send(text).is_err() {
                break;
            }
        }
    });
    rx
}

#[test]
#[cfg(unix)]
fn a_runtime_folder_that_never_changes_ends_in_exit_1_with_one_sentence_after_the_timeout() {
    let root = exposed_instance(41338);
    let sent = deaf_demo(root.path());
    let runtime = root.path().join("runtime");
    let t = Instant::now();
    let out = run_in(&runtime, &["local-only", "--timeout", "0.5"]);
    assert!(t.elapsed() >= Duration::from_millis(500), "it waited");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        stderr(&out),
        "osaurus-tray: Osaurus on port 41338 did not restart local only within 0.5 s: this Osaurus may be too old to \
         take control messages, or stuck; change it in Osaurus.\n"
    );
    let line = sent.recv_timeout(Duration::from_secs(5)).unwrap();
    let posted: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(posted, serde_json::json!({"name": "com.dinoki.osaurus.control.serve", "userInfo": {"port": 41338}}));

    let out = run_in(&runtime, &["stop", "--id", "5B0E7C1D", "--timeout", "0.3"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        stderr(&out),
        "osaurus-tray: Osaurus on port 41338 did not stop within 0.3 s: this Osaurus may be too old to take control \
         messages, or stuck; change it in Osaurus.\n"
    );
    let posted: serde_json::Value = serde_json::from_str(&sent.recv_timeout(Duration::from_secs(5)).unwrap()).unwrap();
    assert_eq!(posted, serde_json::json!({"name": "com.dinoki.osaurus.control.stop", "userInfo": {}}));
}

#[test]
#[cfg(unix)]
fn nothing_to_choose_or_nothing_to_do_is_said_without_posting() {
    let root = exposed_instance(41339);
    let sent = deaf_demo(root.path());
    let runtime = root.path().join("runtime");
    let out = run_in(&runtime, &["local-only", "--id", "ZZ"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("No running instance has an id starting with"), "{out:?}");
    publish(
        &runtime,
        "6B0E7C1D-0000-4000-8000-000000000000",
        &running_config("6B0E7C1D-0000-4000-8000-000000000000", 41340, &osaurus_time(chrono::Utc::now()), false),
    );
    let out = run_in(&runtime, &["local-only", "--id", "6B0E"]);
    assert_eq!((out.status.code(), stdout(&out).as_str()), (Some(0), "The instance 6B0E7C1D is local only already.\n"));
    let out = run_in(&runtime, &["stop"]);
    assert_eq!(out.status.code(), Some(2), "which one to wait for is not said");
    assert!(stderr(&out).contains("2 instances are running") && stderr(&out).contains("--id"), "{out:?}");
    let out = run_in(&runtime, &["stop", "--id", "6B0E"]);
    assert_eq!(out.status.code(), Some(2), "every one would change: not without --all");
    assert!(stderr(&out).contains("2 Osaurus servers are running") && stderr(&out).contains("--all"), "{out:?}");
    assert!(sent.recv_timeout(Duration::from_millis(300)).is_err(), "nothing was posted");
}

#[test]
#[cfg(unix)]
fn against_the_demo_local_only_and_stop_are_confirmed_by_its_runtime_folder() {
    use std::process::{Command, Stdio};
    let mut demo = Command::new(env!("CARGO_BIN_EXE_osaurus-tray-app"));
    demo.args(["demo", "--no-tray"]).stdout(Stdio::null()).stderr(Stdio::piped());
    let mut demo = common::Reaped(demo.spawn().unwrap());
    let mut err = std::io::BufReader::new(demo.0.stderr.take().unwrap());
    let mut line = String::new();
    let runtime = loop {
        line.clear();
        assert!(std::io::BufRead::read_line(&mut err, &mut line).unwrap() > 0, "the demo ended");
        if let Some(dir) = line.trim_end().strip_prefix("osaurus-tray demo: runtime folder ") {
            break std::path::PathBuf::from(dir);
        }
    };
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    // Until the fakes are published running, the exposed one is not known as exposed.
    let deadline = Instant::now() + Duration::from_secs(10);
    let out = loop {
        let out = run_in(&runtime, &["local-only", "--all", "--timeout", "10"]);
        if out.status.code() != Some(0) || !stdout(&out).starts_with("No running instance") || Instant::now() > deadline
        {
            break out;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(stdout(&out).ends_with("is local only now: other machines cannot reach it.\n"), "{out:?}");
    assert!(stderr(&out).contains("2 instances are running"), "{out:?}");
    let listed = run_in(&runtime, &["list", "--json", "--no-probe"]);
    assert!(common::json(&listed).iter().all(|i| i["exposed"] == false), "{}", stdout(&listed));
    let first: String =
        std::fs::read_dir(&runtime).unwrap().next().unwrap().unwrap().file_name().to_string_lossy().into();
    let refused = run_in(&runtime, &["stop", "--id", &first[..8], "--timeout", "10"]);
    assert_eq!(refused.status.code(), Some(2), "both would stop: not without --all: {refused:?}");
    let out = run_in(&runtime, &["stop", "--id", &first[..8], "--all", "--timeout", "10"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(stdout(&out).ends_with(" stopped.\n"), "{out:?}");
    // The demo ends on SIGTERM and leaves nothing behind.
    // SAFETY: a signal to the child this test started and still holds.
    unsafe { libc::kill(demo.0.id() as libc::pid_t, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(10);
    while demo.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the demo did not end on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!runtime.parent().unwrap().exists(), "the demo left {} behind", runtime.display());
}

/// The observer: a Swift script that registers for the three names on the
/// distributed notification center, prints `ready`, then one JSON line
/// (`name`, `userInfo`) per notification it receives.
#[cfg(target_os = "macos")]
const OBSERVER: &str = r#"
import Foundation
let center = DistributedNotificationCenter.default()
for name in ["com.dinoki.osaurus.control.serve", "com.dinoki.osaurus.control.stop", "com.dinoki.osaurus.control.ui"] {
    center.addObserver(forName: Notification.Name(name), object: nil, queue: nil) { note in
        var info: [String: Any] = [:]
        for (key, value) in note.userInfo ?? [:] { info["\(key)"] = value }
        let line: [String: Any] = ["name": note.name.rawValue, "userInfo": info]
        let data = try! JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
        print(String(data: data, encoding: .utf8)!)
        fflush(stdout)
    }
}
print("ready")
fflush(stdout)
RunLoop.main.run(until: Date(timeIntervalSinceNow: 300))
"#;

/// On a Mac: `local-only --id …` posts `…control.serve` with the instance's
/// port and nothing else, seen by an observer as Osaurus's AppDelegate
/// registers it; the observer then plays Osaurus (rewrites the file local
/// only), and the command confirms with exit 0; `stop` likewise. The macOS
/// workflow runs it; elsewhere it is only type-checked (the Swift script
/// cannot be, off a Mac). It is skipped on a Mac where Osaurus runs, which
/// would obey.
#[test]
#[cfg(target_os = "macos")]
fn on_a_mac_the_control_messages_are_posted_with_the_name_and_user_info_osaurus_reads() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    use std::sync::mpsc;

    // The messages reach every Osaurus of the user: never restart or stop
    // a real one (a developer's Mac), unless asked to.
    let osaurus = Command::new("pgrep").args(["-ix", "osaurus"]).output().is_ok_and(|o| o.status.success());
    if osaurus && std::env::var_os("OSAURUS_TRAY_CONTROL_TEST").is_none() {
        eprintln!("skipped: Osaurus runs here and would obey; set OSAURUS_TRAY_CONTROL_TEST=1 to run it anyway");
        return;
    }
    let root = exposed_instance(41341);
    let runtime = root.path().join("runtime");
    let script = root.path().join("observe.swift");
    std::fs::write(&script, OBSERVER).unwrap();
    let mut swift = Command::new("swift");
    swift.arg(&script).stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut swift = common::Reaped(swift.spawn().expect("swift (Xcode's command line tools) is needed"));
    let (tx, lines) = mpsc::channel();
    let out = std::io::BufReader::new(swift.0.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in out.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // Compiling the script takes a while on a cold runner.
    assert_eq!(lines.recv_timeout(Duration::from_secs(240)).expect("the observer never got ready"), "ready");
    std::thread::sleep(Duration::from_millis(500));

    let spawn = |args: &[&str]| {
        let mut c = common::bin();
        c.arg("--runtime-dir").arg(&runtime).args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
        common::Reaped(c.spawn().unwrap())
    };
    let wait = |mut child: common::Reaped| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while child.0.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the command did not end");
            std::thread::sleep(Duration::from_millis(20));
        }
        let code = child.0.wait().unwrap().code();
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(child.0.stdout.as_mut().unwrap(), &mut text);
        (code, text)
    };
    let received = |want: &str| -> serde_json::Value {
        let line = lines.recv_timeout(Duration::from_secs(10)).unwrap_or_else(|_| panic!("no {want} was received"));
        serde_json::from_str(&line).unwrap()
    };

    let local_only = spawn(&["local-only", "--id", "5b0e7c1d", "--timeout", "20"]);
    assert_eq!(
        received("serve"),
        serde_json::json!({"name": "com.dinoki.osaurus.control.serve", "userInfo": {"port": 41341}})
    );
    // Osaurus restarts local only on the same port and rewrites its file.
    publish(&runtime, ID, &running_config(ID, 41341, &osaurus_time(chrono::Utc::now()), false));
    let (code, said) = wait(local_only);
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("is local only now"), "{said}");

    let stop = spawn(&["stop", "--id", "5B0E", "--timeout", "20"]);
    assert_eq!(received("stop"), serde_json::json!({"name": "com.dinoki.osaurus.control.stop", "userInfo": {}}));
    std::fs::remove_dir_all(runtime.join(ID)).unwrap();
    let (code, said) = wait(stop);
    assert_eq!((code, said.as_str()), (Some(0), "Osaurus on port 41341 stopped.\n"));
    assert!(lines.try_recv().is_err(), "nothing else was posted");
}
