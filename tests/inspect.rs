//! Knowing each instance: models (real fake-Osaurus servers), the owning
//! process (real listeners), duplicates, crash leftovers over time, and
//! prune's refusals, on real folders.

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use osaurus_tray::demo::{Demo, MODELS};
use osaurus_tray::discovery::read::read_instance;
use osaurus_tray::discovery::RuntimeDirs;
use osaurus_tray::inspect::Models;
use osaurus_tray::probe::Prober;
use osaurus_tray::snapshot::Snapshot;
use osaurus_tray::{prune, watcher};

const T1: &str = "2025-09-08T12:00:00Z";

/// The demo, once both of its instances say running.
fn running_demo() -> Demo {
    let demo = Demo::start(Duration::ZERO).unwrap();
    let dirs = RuntimeDirs::explicit(demo.runtime_dir().to_path_buf());
    let deadline = Instant::now() + Duration::from_secs(10);
    while Snapshot::take(&dirs, None).running().count() < 2 {
        assert!(Instant::now() < deadline, "the demo never published running instances");
        std::thread::sleep(Duration::from_millis(20));
    }
    demo
}

/// Runs a library watcher until `pred` holds for a snapshot; returns it.
fn watch_until(dirs: RuntimeDirs, interval: Duration, limit: Duration, pred: impl Fn(&Snapshot) -> bool) -> Snapshot {
    let (tx, rx) = mpsc::channel();
    let options = watcher::Options { probe: true, probe_interval: interval, force_poll: false, access_key: None };
    let _w = watcher::spawn(dirs, options, move |s| {
        let _ = tx.send(s.clone());
    });
    let deadline = Instant::now() + limit;
    let mut last = None;
    while let Ok(s) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        if pred(&s) {
            return s;
        }
        last = Some(s);
    }
    panic!("the condition never held; last snapshot: {last:#?}");
}

#[test]
fn models_of_the_best_instance_are_listed() {
    let demo = running_demo();
    let out = run_in(demo.runtime_dir(), &["models"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().collect::<Vec<_>>(), MODELS);
    let json: serde_json::Value =
        serde_json::from_slice(&run_in(demo.runtime_dir(), &["models", "--json"]).stdout).unwrap();
    assert_eq!(json["models"], serde_json::json!(MODELS));
    assert_eq!(json["url"], format!("http://127.0.0.1:{}", demo.ports()[0]));
}

#[test]
fn an_exposed_instance_says_models_need_a_key() {
    let demo = running_demo();
    let listed = json(&run_in(demo.runtime_dir(), &["list", "--json"]));
    let exposed = listed.iter().find(|i| i["exposed"] == true).unwrap();
    let prefix = &exposed["instanceId"].as_str().unwrap()[..8];
    let out = run_in(demo.runtime_dir(), &["models", "--id", &prefix.to_lowercase()]);
    assert_eq!(out.status.code(), Some(3), "refused: a failure");
    assert!(stderr(&out).contains("access key"), "{}", stderr(&out));
    let none = run_in(demo.runtime_dir(), &["models", "--id", "zzzz"]);
    assert_eq!(none.status.code(), Some(1));
}

#[test]
fn the_watcher_knows_models_owner_and_the_key_requirement() {
    let demo = running_demo();
    let ports = demo.ports();
    let snap = watch_until(
        RuntimeDirs::explicit(demo.runtime_dir().to_path_buf()),
        Duration::from_secs(10),
        Duration::from_secs(10),
        |s| s.running().count() == 2 && s.running().all(|i| s.details(i).is_some_and(|d| d.models != Models::Unknown)),
    );
    for i in snap.running() {
        let d = snap.details(i).unwrap();
        let owner = d.owner.as_ref().expect("the owner of a listener in this process");
        assert_eq!(owner.pid, std::process::id());
        if i.port == Some(ports[0]) {
            assert_eq!(d.models, Models::Listed(MODELS.iter().map(|s| s.to_string()).collect()));
        } else {
            assert_eq!(d.models, Models::NeedsKey);
        }
        assert!(!d.duplicate, "one process serving two instances is not a duplicate");
    }
}

/// A python3 process listening on 127.0.0.1 (reaped on drop).
struct PyListener {
    child: Reaped,
    port: u16,
}

fn py_listener() -> PyListener {
    py_listener_on("127.0.0.1")
}

/// A python3 listener bound to `host` (only ever 127.0.0.1 or 0.0.0.0 here;
/// nothing connects to it but the test's own probes on 127.0.0.1).
fn py_listener_on(host: &str) -> PyListener {
    let code = format!(
        "import socket,time; s=socket.socket(); s.bind(('{host}',0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(60)"
    );
    let mut child = Command::new("python3").args(["-c", &code]).stdout(Stdio::piped()).spawn().expect("python3");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    PyListener { port: line.trim().parse().unwrap(), child: Reaped(child) }
}

#[test]
#[cfg(target_os = "linux")]
fn a_server_bound_to_all_interfaces_is_exposed_even_if_its_file_says_not() {
    let wide = py_listener_on("0.0.0.0");
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "LIAR", &running_config("LIAR", wide.port, &fresh(0), false));
    let probed = json(&run_in(rt.path(), &["list", "--json"]));
    assert_eq!(probed[0]["exposeToNetwork"], false);
    assert_eq!(probed[0]["exposed"], true, "{:?}", probed[0]);
    assert!(probed[0]["problem"].as_str().unwrap().contains("listens on 0.0.0.0"));
    // Without probes only the file is known.
    let unprobed = json(&run_in(rt.path(), &["list", "--json", "--no-probe"]));
    assert_eq!(unprobed[0]["exposed"], false);
    // The tray's watcher knows it too.
    let snap =
        watch_until(RuntimeDirs::explicit(rt.path().into()), Duration::from_secs(10), Duration::from_secs(10), |s| {
            s.exposed().count() == 1
        });
    assert_eq!(snap.exposed().next().unwrap().instance_id, "LIAR");
}

#[test]
fn two_instances_served_by_two_processes_of_one_program_are_duplicates() {
    let a = py_listener();
    let b = py_listener();
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "A", &running_config("A", a.port, &fresh(0), false));
    publish(rt.path(), "B", &running_config("B", b.port, &fresh(0), false));
    let snap =
        watch_until(RuntimeDirs::explicit(rt.path().into()), Duration::from_secs(10), Duration::from_secs(10), |s| {
            s.running().count() == 2 && s.running().all(|i| s.details(i).is_some_and(|d| d.owner.is_some()))
        });
    for i in snap.running() {
        let d = snap.details(i).unwrap();
        let expected = if i.instance_id == "A" { a.child.0.id() } else { b.child.0.id() };
        assert_eq!(d.owner.as_ref().unwrap().pid, expected);
        assert!(d.owner.as_ref().unwrap().name.starts_with("python3"));
        assert!(d.duplicate, "{} should be marked duplicate", i.instance_id);
    }
}

#[test]
fn a_refusing_port_becomes_a_leftover_after_ten_seconds_not_before() {
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "GONE", &running_config("GONE", closed_port(), T1, false));
    let start = Instant::now();
    let snap = watch_until(
        RuntimeDirs::explicit(rt.path().into()),
        Duration::from_millis(500),
        Duration::from_secs(20),
        |s| s.leftovers().count() == 1,
    );
    assert!(start.elapsed() >= Duration::from_secs(10), "marked a leftover after {:?}", start.elapsed());
    assert_eq!(snap.leftovers().next().unwrap().instance_id, "GONE");
}

#[test]
#[cfg(target_os = "linux")]
fn a_server_listening_on_ipv6_loopback_is_never_a_leftover() {
    // It refuses on 127.0.0.1, but the socket table shows it alive.
    let v6 = TcpListener::bind("[::1]:0").expect("::1");
    let port = v6.local_addr().unwrap().port();
    never_a_leftover("V6", port, "a live server on ::1 was called a leftover");
}

#[test]
fn a_timeout_is_never_a_leftover() {
    // A listener that never accepts: connections queue, requests time out.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    never_a_leftover("SLOW", port, "a server that times out was called a leftover");
}

/// Watches an instance `id` on `port`, probed every 0.5 s, for 12 s (past
/// the leftover rule's 10 s): no snapshot may call it a leftover, and
/// there must be at least one.
fn never_a_leftover(id: &str, port: u16, why: &str) {
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), id, &running_config(id, port, &fresh(0), false));
    let (tx, rx) = mpsc::channel();
    let options = watcher::Options {
        probe: true,
        probe_interval: Duration::from_millis(500),
        force_poll: false,
        access_key: None,
    };
    let _w = watcher::spawn(RuntimeDirs::explicit(rt.path().into()), options, move |s| {
        let _ = tx.send(s.clone());
    });
    let deadline = Instant::now() + Duration::from_secs(12);
    let mut seen = 0;
    while let Ok(s) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        assert_eq!(s.leftovers().count(), 0, "{why}");
        seen += 1;
    }
    assert!(seen > 0, "the watcher published nothing");
}

// ---- prune -------------------------------------------------------------------

fn leftover_folder(rt: &std::path::Path, id: &str) -> (std::path::PathBuf, osaurus_tray::discovery::Instance) {
    let dir = publish(rt, id, &running_config(id, closed_port(), T1, false));
    let seen = read_instance(&dir, id.into());
    (dir, seen)
}

#[test]
fn prune_removes_an_unchanged_leftover() {
    let rt = tempfile::tempdir().unwrap();
    let (dir, seen) = leftover_folder(rt.path(), "L");
    prune::remove(&seen, &Prober::default()).unwrap();
    assert!(!dir.exists());
}

#[test]
fn prune_keeps_a_folder_that_changed() {
    let rt = tempfile::tempdir().unwrap();
    let (dir, seen) = leftover_folder(rt.path(), "L");
    publish(rt.path(), "L", &running_config("L", seen.port.unwrap(), "2025-09-09T00:00:00Z", false));
    let err = prune::remove(&seen, &Prober::default()).unwrap_err();
    assert!(err.contains("changed"), "{err}");
    assert!(dir.join("configuration.json").exists());
}

#[test]
fn prune_keeps_a_folder_that_gained_a_file() {
    let rt = tempfile::tempdir().unwrap();
    let (dir, seen) = leftover_folder(rt.path(), "L");
    fs::write(dir.join("notes.txt"), "mine").unwrap();
    let err = prune::remove(&seen, &Prober::default()).unwrap_err();
    assert!(err.contains("other files"), "{err}");
    assert_eq!(fs::read_to_string(dir.join("notes.txt")).unwrap(), "mine");
    assert!(dir.join("configuration.json").exists());
}

#[test]
fn prune_keeps_a_folder_whose_server_came_alive() {
    let rt = tempfile::tempdir().unwrap();
    let server = HealthServer::start();
    let dir = publish(rt.path(), "L", &running_config("L", server.port, &fresh(0), false));
    let seen = read_instance(&dir, "L".into());
    let err = prune::remove(&seen, &Prober::default()).unwrap_err();
    assert!(err.contains("not refusing"), "{err}");
    assert!(dir.exists());
}

#[test]
fn prune_never_touches_starting_entries() {
    let rt = tempfile::tempdir().unwrap();
    let dir = publish(rt.path(), "S", &starting_config("S", T1, "starting"));
    let seen = read_instance(&dir, "S".into());
    assert!(prune::remove(&seen, &Prober::default()).is_err());
    assert!(dir.exists());
}

#[test]
fn prune_command_finds_and_removes_leftovers_and_spares_the_living() {
    let rt = tempfile::tempdir().unwrap();
    let live = HealthServer::start();
    let live_dir = publish(rt.path(), "LIVE", &running_config("LIVE", live.port, &fresh(0), false));
    let dead_dir = publish(rt.path(), "DEAD", &running_config("DEAD", closed_port(), T1, false));
    let starting = publish(rt.path(), "S", &starting_config("S", T1, "starting"));
    let dry = run_in(rt.path(), &["prune", "--dry-run"]);
    assert!(dry.status.success(), "{}", stderr(&dry));
    assert!(stdout(&dry).contains("would remove DEAD"), "{}", stdout(&dry));
    assert!(dead_dir.exists(), "--dry-run removed something");
    let real = run_in(rt.path(), &["prune"]);
    assert!(real.status.success(), "{}", stderr(&real));
    assert!(!dead_dir.exists());
    assert!(live_dir.exists() && starting.exists());
}
