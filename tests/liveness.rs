//! Liveness learnt from the operating system, against Osaurus fakes that are
//! processes of their own and log what they are asked
//! (`scripts/fake-osaurus.py`): a crash is seen when the process exits, a
//! silent server is "not responding" only after two misses 5 s apart, a
//! slow one is alive, files older than the server on their port are
//! leftovers, and a quiet watch asks each server at most twice, saying who
//! asks. Timing figures are the benchmarks' (`scripts/bench-crash.py`,
//! `scripts/bench-requests.sh`); the bounds here are loose.

mod common;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const USER_AGENT: &str = concat!("osaurus-tray/", env!("CARGO_PKG_VERSION"));

/// The one instance of a watch line.
fn only(instances: &[Value]) -> Option<&Value> {
    match instances {
        [i] => Some(i),
        _ => None,
    }
}

/// The requests a fake logged: `(method, path, user agent, logged)`.
fn requests(log: &Path) -> Vec<(String, String, String, bool)> {
    let text = fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            (s("method"), s("path"), s("user_agent"), v["logged"] == true)
        })
        .collect()
}

#[test]
fn a_killed_server_is_not_alive_as_soon_as_its_process_exits() {
    let tmp = tempfile::tempdir().unwrap();
    let rt = tmp.path().join("runtime");
    fs::create_dir(&rt).unwrap();
    let rt_arg = rt.to_str().unwrap();
    let (fake, _port) = fake_osaurus(&["--runtime-dir", rt_arg]);
    let mut watch = WatchProc::start(&rt, &[], &[]);
    watch.wait_for(Duration::from_secs(10), "the server alive", |v| only(v).is_some_and(|i| i["reachable"] == true));
    let killed = Instant::now();
    signal(&fake, "KILL");
    let line = watch.wait_for(Duration::from_secs(10), "the server not alive", |v| {
        only(v).is_some_and(|i| i["reachable"] == false)
    });
    let took = killed.elapsed();
    // Before, a crash was seen at the next probe: up to 10 s later.
    assert!(took < Duration::from_secs(2), "seen {took:?} after the kill");
    assert_eq!(line["instances"][0]["state"], "running", "its file stays behind, as after a crash");
    drop(fake);
}

#[test]
fn three_leftovers_on_a_live_servers_port_are_leftovers_and_only_they_are_pruned() {
    let tmp = tempfile::tempdir().unwrap();
    let rt = tmp.path().join("runtime");
    fs::create_dir(&rt).unwrap();
    let port = closed_port();
    // Crashes of earlier launches, all on the port the next launch takes.
    let old = ["2025-09-08T12:35:12Z", "2025-11-01T08:00:00Z", &osaurus_time(chrono::Utc::now())];
    for (n, at) in old.iter().enumerate() {
        let id = format!("0LD0000{n}-0000-4000-8000-000000000000");
        publish(&rt, &id, &running_config(&id, port, at, false));
    }
    // The live one starts later, and writes its own file after it listens.
    std::thread::sleep(Duration::from_millis(3100));
    let (_fake, got) = fake_osaurus(&["--runtime-dir", rt.to_str().unwrap(), "--port", &port.to_string()]);
    assert_eq!(got, port);

    let v = json(&run_in(&rt, &["list", "--all", "--json"]));
    assert_eq!(v.len(), 4, "{v:#?}");
    let (live, left): (Vec<&Value>, Vec<&Value>) = v.iter().partition(|i| i["leftover"].is_null());
    assert_eq!(live.len(), 1, "{v:#?}");
    assert_eq!(live[0]["reachable"], true);
    assert!(!live[0]["instanceId"].as_str().unwrap().starts_with("0LD"));
    for i in &left {
        assert!(i["instanceId"].as_str().unwrap().starts_with("0LD"), "{i}");
        assert_eq!(i["reachable"], false, "{i}");
        assert!(i["leftover"].as_str().unwrap().contains(&format!("which listens on port {port}")), "{i}");
    }
    let table = stdout(&run_in(&rt, &["list", "--all"]));
    assert_eq!(table.matches("left over").count(), 3, "{table}");
    // The live one is what `url` hands out.
    assert_eq!(stdout(&run_in(&rt, &["url"])), format!("http://127.0.0.1:{port}\n"));

    let out = run_in(&rt, &["prune"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(stdout(&out).matches("removed ").count(), 3, "{}", stdout(&out));
    let kept: Vec<String> = fs::read_dir(&rt).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(kept, [live[0]["instanceId"].as_str().unwrap()]);
}

#[test]
fn a_silent_server_is_not_responding_after_two_misses_five_seconds_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let rt = tmp.path().join("runtime");
    fs::create_dir(&rt).unwrap();
    let (fake, _port) = fake_osaurus(&["--runtime-dir", rt.to_str().unwrap()]);
    let mut watch = WatchProc::start(&rt, &["--probe-interval", "1"], &[]);
    watch.wait_for(Duration::from_secs(10), "the server alive", |v| only(v).is_some_and(|i| i["reachable"] == true));
    // Alive and listening, but silent.
    let stopped = Instant::now();
    signal(&fake, "STOP");
    watch.wait_for(Duration::from_secs(20), "the server not responding", |v| {
        only(v).is_some_and(|i| i["reachable"] == false)
    });
    let took = stopped.elapsed();
    assert!(took >= Duration::from_secs(5), "one miss made a verdict: {took:?}");
    assert!(took < Duration::from_secs(1 + 1 + 5 + 1 + 3), "{took:?}");
    signal(&fake, "CONT");
    watch.wait_for(Duration::from_secs(10), "the server back", |v| only(v).is_some_and(|i| i["reachable"] == true));
}

#[test]
fn a_server_answering_in_seven_hundred_ms_is_alive_in_watch() {
    let tmp = tempfile::tempdir().unwrap();
    let rt = tmp.path().join("runtime");
    fs::create_dir(&rt).unwrap();
    let (_fake, _port) = fake_osaurus(&["--runtime-dir", rt.to_str().unwrap(), "--delay-ms", "700"]);
    let mut watch = WatchProc::start(&rt, &["--probe-interval", "1"], &[]);
    watch.wait_for(Duration::from_secs(10), "the server alive", |v| only(v).is_some_and(|i| i["reachable"] == true));
    // Hang checks every second, each answered in 0.7 s: never a miss.
    for line in watch.drain(Duration::from_secs(8)) {
        let i = only(line["instances"].as_array().unwrap()).cloned();
        assert!(i.is_some_and(|i| i["reachable"] == true), "{line}");
    }
}

#[test]
fn a_restart_is_asked_again_once_and_ends_alive() {
    let tmp = tempfile::tempdir().unwrap();
    let rt = tmp.path().join("runtime");
    fs::create_dir(&rt).unwrap();
    let log = tmp.path().join("requests.jsonl");
    let (fake, _port) = fake_osaurus(&["--runtime-dir", rt.to_str().unwrap(), "--log", log.to_str().unwrap()]);
    let mut watch = WatchProc::start(&rt, &[], &[]);
    watch.wait_for(Duration::from_secs(10), "the server alive", |v| only(v).is_some_and(|i| i["reachable"] == true));
    signal(&fake, "USR1");
    watch.wait_for(Duration::from_secs(10), "restarting", |v| only(v).is_some_and(|i| i["state"] == "restarting"));
    watch.wait_for(Duration::from_secs(10), "running and alive again", |v| {
        only(v).is_some_and(|i| i["state"] == "running" && i["reachable"] == true)
    });
    std::thread::sleep(Duration::from_millis(500));
    let health = requests(&log).into_iter().filter(|(m, p, _, _)| m == "GET" && p == "/health").count();
    assert_eq!(health, 2, "one /health for each server seen: {:?}", requests(&log));
}

#[test]
fn a_quiet_watch_asks_each_server_at_most_twice_and_says_who_asks() {
    let tmp = tempfile::tempdir().unwrap();
    let rt = tmp.path().join("runtime");
    fs::create_dir(&rt).unwrap();
    let (local_log, exposed_log) = (tmp.path().join("local.jsonl"), tmp.path().join("exposed.jsonl"));
    let rt_arg = rt.to_str().unwrap();
    let _local = fake_osaurus(&["--runtime-dir", rt_arg, "--log", local_log.to_str().unwrap()]);
    // Exposed, on a Mac with no LAN interface: its file says 127.0.0.1.
    let _exposed = fake_osaurus(&[
        "--runtime-dir",
        rt_arg,
        "--expose",
        "--key",
        "osk-v1-test",
        "--address",
        "127.0.0.1",
        "--log",
        exposed_log.to_str().unwrap(),
    ]);
    let mut watch = WatchProc::start(&rt, &[], &[]);
    watch.wait_for(Duration::from_secs(10), "both alive", |v| v.len() == 2 && v.iter().all(|i| i["reachable"] == true));
    watch.drain(Duration::from_secs(4));
    for log in [&local_log, &exposed_log] {
        let asked = requests(log);
        let logged: Vec<_> = asked.iter().filter(|r| r.3).collect();
        assert!(!logged.is_empty() && logged.len() <= 2, "{} logged requests: {asked:?}", logged.len());
        assert!(asked.iter().all(|r| r.2 == USER_AGENT), "{asked:?}");
        assert!(logged.iter().any(|r| r.0 == "GET" && r.1 == "/health"), "{asked:?}");
    }
}

#[test]
fn a_person_asking_gets_every_server_asked_again() {
    use osaurus_tray::discovery::RuntimeDirs;
    use osaurus_tray::watcher;
    let tmp = tempfile::tempdir().unwrap();
    let rt = tmp.path().join("runtime");
    fs::create_dir(&rt).unwrap();
    let log = tmp.path().join("requests.jsonl");
    let _fake = fake_osaurus(&["--runtime-dir", rt.to_str().unwrap(), "--log", log.to_str().unwrap()]);
    let (tx, rx) = std::sync::mpsc::channel();
    let w = watcher::spawn(RuntimeDirs::explicit(rt.clone()), watcher::Options::default(), move |s| {
        let _ = tx.send(s.running().any(|i| i.reachable == Some(true)));
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while !rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("a snapshot") {}
    let healths = || requests(&log).iter().filter(|(m, p, _, _)| m == "GET" && p == "/health").count();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(healths(), 1, "asked once when first seen");
    // The menu opening (macOS) asks through a handle held by the tray.
    w.asker().ask();
    let deadline = Instant::now() + Duration::from_secs(5);
    while healths() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(healths(), 2, "{:?}", requests(&log));
}
