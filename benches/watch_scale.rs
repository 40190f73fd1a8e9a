//! `watch --json --no-probe` over a very large runtime folder (100,000
//! instance folders by default): the time to the first line, the peak
//! memory, the CPU ticks used while nothing changes, and one change's line.
//! One instance folder also holds 20,000 subfolders, more than inotify's
//! default queue (16,384 events) can report at once.
//!
//! Run with `cargo bench --bench watch_scale`. Linux only (reads /proc).
//! `OSAURUS_TRAY_SCALE_FOLDERS` sets the folder count,
//! `OSAURUS_TRAY_IDLE_SECS` the idle window (10 s by default).

use std::fs;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const SUBFOLDERS: usize = 20_000;

fn main() {
    let folders: usize = env_or("OSAURUS_TRAY_SCALE_FOLDERS", 100_000);
    let idle: u64 = env_or("OSAURUS_TRAY_IDLE_SECS", 10);
    let rt = tempfile::tempdir().unwrap();
    for n in 0..folders {
        let id = format!("I{n:06}");
        let dir = rt.path().join(&id);
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join("configuration.json"), config(&id, 1024 + (n % 60_000) as u32)).unwrap();
    }
    let deep = rt.path().join("I000001");
    for n in 0..SUBFOLDERS {
        fs::create_dir(deep.join(format!("sub{n}"))).unwrap();
    }

    let start = Instant::now();
    let mut child = Command::new(binary())
        .args(["watch", "--json", "--no-probe", "--runtime-dir"])
        .arg(rt.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<(Instant, usize, bool)>();
    std::thread::spawn(move || {
        let mut r = BufReader::with_capacity(1 << 20, out);
        let mut line = Vec::new();
        loop {
            line.clear();
            match r.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(len) => {
                    let marked = line.windows(12).any(|w| w == b"\"port\":65001");
                    if tx.send((Instant::now(), len, marked)).is_err() {
                        break;
                    }
                }
            }
        }
    });
    let (first_at, first_len, _) = rx.recv_timeout(Duration::from_secs(120)).expect("first line");
    let first = first_at - start;

    // Let start-up settle, then count what an idle watcher uses.
    std::thread::sleep(Duration::from_secs(2));
    let extra_lines = rx.try_iter().count();
    let before = ticks(pid);
    std::thread::sleep(Duration::from_secs(idle));
    let idle_ticks = ticks(pid) - before;
    let idle_lines = rx.try_iter().count();

    // One change.
    let dir = rt.path().join("I000000");
    let tmp = dir.join(".configuration.json.tmp");
    fs::write(&tmp, config("I000000", 65_001)).unwrap();
    let changed = Instant::now();
    fs::rename(&tmp, dir.join("configuration.json")).unwrap();
    let (line_at, line_len) = loop {
        let (at, len, marked) = rx.recv_timeout(Duration::from_secs(60)).expect("a line for the change");
        if marked {
            break (at, len);
        }
    };
    std::thread::sleep(Duration::from_millis(500));
    let peak = status_kib(pid, "VmHWM:");
    let _ = child.kill();
    let _ = child.wait();

    println!(
        "watch --json --no-probe, {folders} folders (one holding {SUBFOLDERS} subfolders):\n  \
         first line after {:.2} s ({:.1} MB); {extra_lines} more lines while settling\n  \
         {idle} s idle: {idle_ticks} CPU ticks, {idle_lines} lines\n  \
         one change: its line after {:.1} ms ({:.1} MB)\n  \
         peak RSS {:.1} MB",
        first.as_secs_f64(),
        first_len as f64 / 1e6,
        (line_at - changed).as_secs_f64() * 1000.0,
        line_len as f64 / 1e6,
        peak as f64 / 1024.0
    );
    println!("targets: first line at most 2 s, peak RSS at most 100 MB, 0 idle ticks");
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

fn config(id: &str, port: u32) -> String {
    format!(
        "{{\n  \"address\" : \"127.0.0.1\",\n  \"exposeToNetwork\" : false,\n  \"health\" : \"running\",\n  \"instanceId\" : \"{id}\",\n  \"port\" : {port},\n  \"updatedAt\" : \"2025-09-08T12:35:12Z\",\n  \"url\" : \"http:\\/\\/127.0.0.1:{port}\"\n}}"
    )
}

fn ticks(pid: u32) -> u64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_comm = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after_comm.split_whitespace().collect();
    // utime and stime: fields 14 and 15 of stat, counted from after the name.
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

fn status_kib(pid: u32, key: &str) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The binary measured: `OSAURUS_TRAY_BIN` if set (to compare two builds),
/// else the one cargo built for this benchmark.
fn binary() -> std::path::PathBuf {
    std::env::var_os("OSAURUS_TRAY_BIN").map_or_else(|| env!("CARGO_BIN_EXE_osaurus-tray").into(), Into::into)
}
