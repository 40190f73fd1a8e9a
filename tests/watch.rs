//! The live watcher, checked with real files and the real `watch --json`.

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::Duration;

use common::*;
use serde_json::Value;

const SOON: Duration = Duration::from_secs(5);
const T1: &str = "2025-09-08T12:00:00Z";

fn running(v: &[Value], id: &str) -> bool {
    state_of(v, id) == Some("running")
}

#[test]
fn prints_the_current_state_at_once() {
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "A", &running_config("A", 1337, T1, false));
    publish(rt.path(), "S", &starting_config("S", T1, "starting"));
    let mut w = WatchProc::start(rt.path(), &["--no-probe"], &[]);
    let first = w.next(SOON).expect("a first line");
    assert_eq!(line_ids(first["instances"].as_array().unwrap()), ["A", "S"]);
    let at = first["at"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok() && at.len() == "2025-09-08T12:00:00.000Z".len(), "{at}");
    // The objects are exactly those of list --all --json.
    let listed = json(&run_in(rt.path(), &["list", "--all", "--json", "--no-probe"]));
    assert_eq!(first["instances"].as_array().unwrap(), &listed);
}

#[test]
fn follows_start_port_change_exposure_and_stop() {
    let rt = tempfile::tempdir().unwrap();
    let mut w = WatchProc::start(rt.path(), &["--no-probe"], &[]);
    w.wait_for(SOON, "an empty list", |v| v.is_empty());
    publish(rt.path(), "A", &starting_config("A", T1, "starting"));
    w.wait_for(SOON, "A starting", |v| state_of(v, "A") == Some("starting"));
    publish(rt.path(), "A", &running_config("A", 1337, T1, false));
    w.wait_for(SOON, "A running", |v| running(v, "A") && v[0]["port"] == 1337);
    publish(rt.path(), "A", &starting_config("A", T1, "restarting"));
    w.wait_for(SOON, "A restarting", |v| state_of(v, "A") == Some("restarting"));
    publish(rt.path(), "A", &running_config("A", 1400, T1, true));
    w.wait_for(SOON, "A on 1400, exposed", |v| v[0]["port"] == 1400 && v[0]["exposed"] == true);
    fs::remove_dir_all(rt.path().join("A")).unwrap();
    w.wait_for(SOON, "A gone", |v| v.is_empty());
}

#[test]
fn an_instance_no_longer_exposed_shows_nothing_of_its_old_exposure() {
    let rt = tempfile::tempdir().unwrap();
    let mut w = WatchProc::start(rt.path(), &["--no-probe"], &[]);
    w.wait_for(SOON, "an empty list", |v| v.is_empty());
    // Exposed on an address this machine does not have, then not exposed,
    // on the same port: the same server, as far as the watcher knows.
    publish(rt.path(), "A", &running_config("A", 1400, T1, true));
    w.wait_for(SOON, "A exposed", |v| v.first().is_some_and(|a| a["addressOnThisMachine"] == false));
    publish(rt.path(), "A", &running_config("A", 1400, T1, false));
    let line = w.wait_for(SOON, "A not exposed", |v| v.first().is_some_and(|a| a["exposed"] == false));
    let listed = json(&run_in(rt.path(), &["list", "--all", "--json", "--no-probe"]));
    assert_eq!(line["instances"].as_array().unwrap(), &listed, "watch agrees with list");
    assert!(listed[0]["addressOnThisMachine"].is_null());
}

#[test]
fn a_runtime_folder_that_appears_later_vanishes_and_returns_is_followed() {
    let home = tempfile::tempdir().unwrap();
    let rt = home.path().join("deep/er/runtime");
    let mut w = WatchProc::start(&rt, &["--no-probe"], &[]);
    w.wait_for(SOON, "an empty list", |v| v.is_empty());
    publish(&rt, "A", &running_config("A", 1337, T1, false));
    w.wait_for(SOON, "A after the folder was created", |v| running(v, "A"));
    fs::remove_dir_all(home.path().join("deep")).unwrap();
    w.wait_for(SOON, "nothing after the folder was deleted", |v| v.is_empty());
    publish(&rt, "B", &running_config("B", 1338, T1, false));
    w.wait_for(SOON, "B after the folder was re-created", |v| line_ids(v) == ["B"]);
}

#[test]
fn a_symlinked_runtime_folder_is_followed_and_repointed() {
    let root = tempfile::tempdir().unwrap();
    let one = root.path().join("one");
    let two = root.path().join("two");
    publish(&one, "A", &running_config("A", 1337, T1, false));
    publish(&two, "B", &running_config("B", 1338, T1, false));
    let link = root.path().join("runtime");
    symlink(&one, &link).unwrap();
    let mut w = WatchProc::start(&link, &["--no-probe"], &[]);
    w.wait_for(SOON, "A through the link", |v| line_ids(v) == ["A"]);
    publish(&one, "C", &running_config("C", 1339, T1, false));
    w.wait_for(SOON, "C written behind the link", |v| line_ids(v).len() == 2);
    let tmp = root.path().join("runtime.tmp");
    symlink(&two, &tmp).unwrap();
    fs::rename(&tmp, &link).unwrap();
    w.wait_for(SOON, "B after the link moved", |v| line_ids(v) == ["B"]);
}

#[test]
fn polling_fallback_says_so_and_still_sees_changes() {
    let rt = tempfile::tempdir().unwrap();
    let mut w = WatchProc::start(rt.path(), &["--no-probe"], &[("OSAURUS_TRAY_FORCE_POLL", "1")]);
    w.wait_for(SOON, "an empty list", |v| v.is_empty());
    publish(rt.path(), "A", &running_config("A", 1337, T1, false));
    w.wait_for(Duration::from_secs(8), "A by polling", |v| running(v, "A"));
    assert!(w.stderr().contains("polling"), "stderr: {}", w.stderr());
}

#[test]
fn a_burst_is_coalesced_and_ends_in_the_true_state() {
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "A", &running_config("A", 1000, T1, false));
    let mut w = WatchProc::start(rt.path(), &["--no-probe"], &[]);
    w.wait_for(SOON, "A", |v| running(v, "A"));
    for port in 1001..=1100 {
        publish(rt.path(), "A", &running_config("A", port, T1, false));
    }
    let last = w.wait_for(SOON, "the last port", |v| v[0]["port"] == 1100);
    assert!(running(last["instances"].as_array().unwrap(), "A"));
    let extra = w.drain(Duration::from_millis(400));
    assert!(extra.is_empty(), "lines after the burst settled: {extra:?}");
    let lines = w.seen.len();
    assert!(lines < 60, "100 writes gave {lines} lines: not coalesced");
}

#[test]
fn a_torn_write_never_hides_a_running_instance() {
    let rt = tempfile::tempdir().unwrap();
    let dir = publish(rt.path(), "A", &running_config("A", 1337, T1, false));
    let mut w = WatchProc::start(rt.path(), &["--no-probe"], &[]);
    w.wait_for(SOON, "A", |v| running(v, "A"));
    let file = dir.join("configuration.json");
    let full = foundation_json(&running_config("A", 1444, T1, false));
    // Non-atomic: truncate, write half, pause, then the rest.
    fs::write(&file, &full[..full.len() / 2]).unwrap();
    std::thread::sleep(Duration::from_millis(120));
    fs::write(&file, "").unwrap();
    std::thread::sleep(Duration::from_millis(120));
    fs::write(&file, &full).unwrap();
    w.wait_for(SOON, "A on the new port", |v| v[0]["port"] == 1444);
    w.drain(Duration::from_millis(300));
    for line in &w.seen {
        let v = line["instances"].as_array().unwrap();
        assert!(running(v, "A"), "A blinked out: {line}");
    }
}

#[test]
fn a_half_created_folder_is_not_shown_as_invalid() {
    let rt = tempfile::tempdir().unwrap();
    let mut w = WatchProc::start(rt.path(), &["--no-probe"], &[]);
    w.wait_for(SOON, "an empty list", |v| v.is_empty());
    fs::create_dir(rt.path().join("N")).unwrap();
    std::thread::sleep(Duration::from_millis(60));
    publish(rt.path(), "N", &running_config("N", 1337, T1, false));
    w.wait_for(SOON, "N running", |v| running(v, "N"));
    for line in &w.seen {
        assert_ne!(state_of(line["instances"].as_array().unwrap(), "N"), Some("invalid"), "{line}");
    }
}

#[test]
fn a_broken_file_that_stays_broken_is_eventually_shown() {
    let rt = tempfile::tempdir().unwrap();
    let mut w = WatchProc::start(rt.path(), &["--no-probe"], &[]);
    w.wait_for(SOON, "an empty list", |v| v.is_empty());
    publish_raw(rt.path(), "BAD", b"{ nope");
    let line = w.wait_for(SOON, "BAD invalid", |v| state_of(v, "BAD") == Some("invalid"));
    assert!(line["instances"][0]["problem"].as_str().unwrap().contains("JSON"));
}

#[test]
fn reachability_changes_are_changes() {
    let rt = tempfile::tempdir().unwrap();
    let server = HealthServer::start();
    publish(rt.path(), "A", &running_config("A", server.port, &fresh(0), false));
    let mut w = WatchProc::start(rt.path(), &["--probe-interval", "0.2"], &[]);
    w.wait_for(SOON, "A reachable", |v| v.first().is_some_and(|a| a["reachable"] == true));
    drop(server);
    w.wait_for(SOON, "A unreachable", |v| v.first().is_some_and(|a| a["reachable"] == false));
}

#[test]
fn sigterm_and_sigint_exit_cleanly() {
    for signal in ["TERM", "INT"] {
        let rt = tempfile::tempdir().unwrap();
        let mut w = WatchProc::start(rt.path(), &["--no-probe"], &[]);
        w.wait_for(SOON, "a first line", |_| true);
        let status = w.stop_with(signal);
        assert_eq!(status.code(), Some(0), "SIG{signal}");
    }
}

/// Waits up to 10 s for `child` to exit.
fn exit_within(child: &mut std::process::Child, what: &str) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        assert!(std::time::Instant::now() < deadline, "watch did not exit: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_reader_that_goes_away_ends_watch_quietly() {
    use std::io::BufRead;
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "A", &running_config("A", 1337, T1, false));
    let mut c = bin();
    c.arg("--runtime-dir").arg(rt.path()).args(["watch", "--json", "--no-probe"]);
    c.stdin(std::process::Stdio::null()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = Reaped(c.spawn().unwrap());
    let mut out = std::io::BufReader::new(child.0.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert!(first.contains("\"A\""), "{first}");
    drop(out); // `watch | head -1`
    publish(rt.path(), "A", &running_config("A", 1338, T1, false));
    let status = exit_within(&mut child.0, "after its reader went away");
    // As Unix tools do: ended by SIGPIPE (or exit 0), never an error.
    use std::os::unix::process::ExitStatusExt;
    assert!(status.signal() == Some(libc::SIGPIPE) || status.code() == Some(0), "{status:?}");
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.0.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.is_empty(), "nothing on stderr: {err}");
}

#[test]
fn a_reader_that_stops_reading_never_keeps_watch_from_ending_on_sigterm() {
    let rt = tempfile::tempdir().unwrap();
    // Lines far larger than a pipe holds, so a write blocks.
    for n in 0..600 {
        publish(rt.path(), &format!("I{n:04}"), &running_config(&format!("I{n:04}"), 2000 + n, T1, false));
    }
    let mut c = bin();
    c.arg("--runtime-dir").arg(rt.path()).args(["watch", "--json", "--no-probe"]);
    c.stdin(std::process::Stdio::null()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::null());
    let mut child = Reaped(c.spawn().unwrap());
    let _unread = child.0.stdout.take().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    publish(rt.path(), "I0000", &running_config("I0000", 1999, T1, false));
    std::thread::sleep(Duration::from_millis(300));
    let pid = child.0.id().to_string();
    std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let status = exit_within(&mut child.0, "on SIGTERM while blocked writing");
    assert_eq!(status.code(), Some(0));
}

// ---- churn -----------------------------------------------------------------

/// xorshift64*: a tiny seeded generator, so failures replay exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn churn(seed: u64, steps: usize) {
    let root = tempfile::tempdir().unwrap();
    let rt = root.path().join("runtime");
    fs::create_dir(&rt).unwrap();
    let mut w = WatchProc::start(&rt, &["--no-probe"], &[]);
    w.wait_for(SOON, "a first line", |_| true);
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let ids = ["I0", "I1", "I2", "I3", "I4", "I5"];
    for _ in 0..steps {
        let id = ids[rng.below(ids.len() as u64) as usize];
        let port = 1024 + rng.below(100) as u16;
        match rng.below(9) {
            0 => {
                publish(&rt, id, &starting_config(id, T1, "starting"));
            }
            1 | 2 => {
                publish(&rt, id, &running_config(id, port, T1, false));
            }
            3 => {
                publish(&rt, id, &running_config(id, port, T1, true));
            }
            4 => {
                publish(&rt, id, &starting_config(id, T1, "restarting"));
            }
            5 => torn_write(&rt, id, port, rng.below(4)),
            6 | 7 => {
                let _ = fs::remove_dir_all(rt.join(id));
            }
            _ => {
                if rng.below(6) == 0 {
                    let _ = fs::remove_dir_all(&rt);
                    std::thread::sleep(Duration::from_millis(rng.below(10)));
                    fs::create_dir_all(&rt).unwrap();
                }
            }
        }
        std::thread::sleep(Duration::from_millis(rng.below(8)));
    }
    // Let the last burst and any retries settle, then compare with a fresh scan.
    std::thread::sleep(Duration::from_millis(700));
    w.drain(Duration::from_millis(100));
    let last = w.seen.last().expect("watch printed nothing")["instances"].clone();
    let fresh = json(&run_in(&rt, &["list", "--all", "--json", "--no-probe"]));
    assert_eq!(last.as_array().unwrap(), &fresh, "seed {seed}: watch disagrees with a fresh scan");
}

/// A non-atomic write: truncate and write in pieces, ending complete.
fn torn_write(rt: &Path, id: &str, port: u16, pause_ms: u64) {
    let dir = rt.join(id);
    if fs::create_dir_all(&dir).is_err() {
        return;
    }
    let full = foundation_json(&running_config(id, port, T1, false));
    let file = dir.join("configuration.json");
    let _ = fs::write(&file, &full[..full.len() / 3]);
    std::thread::sleep(Duration::from_millis(pause_ms));
    let _ = fs::write(&file, &full);
}

#[test]
fn churn_ends_in_the_state_of_a_fresh_scan() {
    for seed in 1..=6 {
        churn(seed, 120);
    }
}

#[test]
#[ignore = "long: run with --ignored"]
fn churn_many_seeds() {
    for seed in 100..300 {
        churn(seed, 300);
    }
}

/// The last line `watch` printed, once nothing more comes for a while, and
/// what a fresh `list --all --json` says then.
fn settled(w: &mut WatchProc, rt: &Path) -> (Vec<Value>, Vec<Value>) {
    w.drain(Duration::from_millis(1600));
    let last = w.seen.last().expect("a line")["instances"].as_array().unwrap().clone();
    (last, json(&run_in(rt, &["list", "--all", "--json", "--no-probe"])))
}

#[test]
fn a_running_entry_whose_file_is_deleted_stops_being_running() {
    let rt = tempfile::tempdir().unwrap();
    let dir = publish(rt.path(), "A", &running_config("A", 1337, T1, false));
    let mut w = WatchProc::start(rt.path(), &["--no-probe"], &[]);
    w.wait_for(SOON, "A", |v| running(v, "A"));
    fs::remove_file(dir.join("configuration.json")).unwrap();
    w.wait_for(SOON, "A no longer running", |v| !running(v, "A"));
    let (last, fresh) = settled(&mut w, rt.path());
    assert_eq!(last, fresh, "watch disagrees with list once quiet");
}

#[test]
fn a_running_entry_replaced_by_something_invalid_shows_it() {
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "A", &running_config("A", 1337, T1, false));
    let mut w = WatchProc::start(rt.path(), &["--no-probe"], &[]);
    w.wait_for(SOON, "A", |v| running(v, "A"));
    publish_raw(rt.path(), "A", b"{ not json");
    w.wait_for(SOON, "A invalid", |v| state_of(v, "A") == Some("invalid"));
    let (last, fresh) = settled(&mut w, rt.path());
    assert_eq!(last, fresh, "watch disagrees with list once quiet");
}

#[test]
fn a_running_folder_replaced_by_an_empty_one_stops_being_running() {
    let rt = tempfile::tempdir().unwrap();
    let dir = publish(rt.path(), "A", &running_config("A", 1337, T1, false));
    let mut w = WatchProc::start(rt.path(), &["--no-probe"], &[]);
    w.wait_for(SOON, "A", |v| running(v, "A"));
    let empty = rt.path().join(".A.new");
    fs::create_dir(&empty).unwrap();
    fs::remove_dir_all(&dir).unwrap();
    fs::rename(&empty, &dir).unwrap();
    w.wait_for(SOON, "A no longer running", |v| !running(v, "A"));
    let (last, fresh) = settled(&mut w, rt.path());
    assert_eq!(last, fresh, "watch disagrees with list once quiet");
    // The new folder is watched: a file published into it is seen.
    publish(rt.path(), "A", &running_config("A", 1555, T1, false));
    w.wait_for(SOON, "A back on 1555", |v| running(v, "A") && v[0]["port"] == 1555);
}

#[test]
fn a_hundred_torn_atomic_rewrites_never_hide_the_instance() {
    let rt = tempfile::tempdir().unwrap();
    let dir = publish(rt.path(), "A", &running_config("A", 1337, T1, false));
    let mut w = WatchProc::start(rt.path(), &["--no-probe"], &[]);
    w.wait_for(SOON, "A", |v| running(v, "A"));
    for k in 0..100u16 {
        // A partial file renamed into place, then the whole one.
        let full = foundation_json(&running_config("A", 2000 + k, T1, false));
        let tmp = dir.join(".dat.nosync1.torn");
        fs::write(&tmp, &full[..full.len() / 2]).unwrap();
        fs::rename(&tmp, dir.join("configuration.json")).unwrap();
        std::thread::sleep(Duration::from_millis(u64::from(k % 4)));
        fs::write(&tmp, &full).unwrap();
        fs::rename(&tmp, dir.join("configuration.json")).unwrap();
        std::thread::sleep(Duration::from_millis(3));
    }
    w.wait_for(SOON, "the last port", |v| v[0]["port"] == 2099);
    w.drain(Duration::from_millis(300));
    let blinks = w.seen.iter().filter(|l| !running(l["instances"].as_array().unwrap(), "A")).count();
    assert_eq!(blinks, 0, "A vanished in {blinks} of {} lines", w.seen.len());
}

#[test]
fn an_instance_folder_with_many_subfolders_does_not_keep_the_watcher_busy() {
    // On tmpfs where there is one: 20,000 folders are made and removed in
    // well under a second there, in over a minute on some disks.
    let rt = tempfile::tempdir_in("/dev/shm").or_else(|_| tempfile::tempdir()).unwrap();
    let dir = publish(rt.path(), "A", &running_config("A", 1337, T1, false));
    // More subfolders than the kernel's event queue holds (16,384).
    for n in 0..20_000 {
        fs::create_dir(dir.join(format!("d{n}"))).unwrap();
    }
    let mut w = WatchProc::start(rt.path(), &["--no-probe"], &[]);
    w.wait_for(Duration::from_secs(20), "A", |v| running(v, "A"));
    std::thread::sleep(Duration::from_millis(500));
    // Hundredths of a second: Linux's clock ticks.
    let ticks = || cpu_centiseconds(w.child.0.id());
    let before = ticks();
    std::thread::sleep(Duration::from_secs(2));
    let spent = ticks() - before;
    assert!(spent <= 10, "an idle watcher spent {spent} CPU ticks in 2 s");
    publish(rt.path(), "A", &running_config("A", 1444, T1, false));
    w.wait_for(SOON, "A on 1444", |v| v[0]["port"] == 1444);
}

#[test]
fn folders_named_with_bytes_that_are_not_utf8_are_watched_like_any_other() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let rt = tempfile::tempdir().unwrap();
    let dir = rt.path().join(OsStr::from_bytes(b"W\xff"));
    if !make_dir_unless_name_refused(&dir) {
        return;
    }
    fs::write(dir.join("configuration.json"), foundation_json(&running_config("W", 1337, T1, false))).unwrap();
    let mut w = WatchProc::start(rt.path(), &["--no-probe"], &[]);
    let first = w.next(SOON).expect("a first line");
    let listed = json(&run_in(rt.path(), &["list", "--all", "--json", "--no-probe"]));
    assert_eq!(first["instances"].as_array().unwrap(), &listed, "watch agrees with list");
    assert_eq!(listed.len(), 1);
    let tmp = dir.join(".dat.nosync1.w");
    fs::write(&tmp, foundation_json(&running_config("W", 1444, T1, false))).unwrap();
    fs::rename(&tmp, dir.join("configuration.json")).unwrap();
    w.wait_for(SOON, "the new port", |v| v.first().is_some_and(|i| i["port"] == 1444));
}

#[test]
fn a_time_from_the_future_that_comes_due_reorders_the_list_with_no_file_change() {
    // "soon" is dated a few seconds past what is believed (60 s ahead): at
    // first it ranks as undated, below "old"; once its time counts, it is
    // the newest, and watch says so without any event or probe.
    let rt = tempfile::tempdir().unwrap();
    let ahead = chrono::Utc::now() + chrono::TimeDelta::seconds(68);
    let soon = ahead.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    publish(rt.path(), "old", &running_config("old", 1001, T1, false));
    publish(rt.path(), "soon", &running_config("soon", 1002, &soon, false));
    let mut w = WatchProc::start(rt.path(), &["--no-probe"], &[]);
    let first = w.next(SOON).expect("a first line");
    assert_eq!(first["instances"][0]["instanceId"], "old", "a time too far ahead does not win");
    w.wait_for(Duration::from_secs(20), "soon first", |v| v[0]["instanceId"] == "soon");
}

#[test]
#[cfg(target_os = "linux")]
fn list_and_the_settled_watch_agree_on_entries_whose_port_listens_on_all_interfaces() {
    // Bound, never accepted: nothing but the probes reaches them. Each
    // state that may already have a server on its port, each file saying
    // it is not exposed.
    let wide: Vec<std::net::TcpListener> = (0..3).map(|_| std::net::TcpListener::bind("0.0.0.0:0").unwrap()).collect();
    let port = |n: usize| wide[n].local_addr().unwrap().port();
    let rt = tempfile::tempdir().unwrap();
    for (n, (id, health)) in
        [("RUN", "running"), ("START", "starting"), ("RESTART", "restarting")].into_iter().enumerate()
    {
        let cfg = serde_json::json!({"instanceId": id, "health": health, "port": port(n), "address": "127.0.0.1",
            "url": format!("http://127.0.0.1:{}", port(n)), "exposeToNetwork": false, "updatedAt": T1});
        publish(rt.path(), id, &cfg);
    }
    let mut w = WatchProc::start(rt.path(), &[], &[]);
    w.next(SOON).expect("a first line");
    w.drain(Duration::from_millis(2500));
    let watched = w.seen.last().unwrap()["instances"].as_array().unwrap().clone();
    let listed = json(&run_in(rt.path(), &["list", "--all", "--json"]));
    for id in ["RUN", "START", "RESTART"] {
        let find = |v: &[Value]| v.iter().find(|i| i["instanceId"] == id).cloned().unwrap();
        let (l, w) = (find(&listed), find(&watched));
        assert_eq!(l["exposed"], true, "list: {l}");
        assert!(l["problem"].as_str().unwrap_or_default().contains("listens on 0.0.0.0"), "list: {l}");
        assert_eq!(w, l, "watch and list differ for {id}");
    }
}
