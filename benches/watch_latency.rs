//! Change-to-snapshot latency of `watch --json --no-probe`: from the atomic
//! rename of a configuration.json to the arrival of its line, with 1, 1,000
//! and 10,000 instance folders present; then, with 1 folder, 100 torn
//! rewrites (a partial file renamed into place, then the full one), counting
//! the lines on which the instance is not shown running (blinks).
//!
//! Run with `cargo bench --bench watch_latency`. `OSAURUS_TRAY_BENCH_FOLDERS`
//! (comma-separated) picks other folder counts.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const CHANGES: usize = 300;
const TORN: usize = 100;

fn main() {
    let counts: Vec<usize> = std::env::var("OSAURUS_TRAY_BENCH_FOLDERS")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 1_000, 10_000]);
    for folders in counts {
        let (p50, p99, max) = measure(folders);
        println!(
            "{folders:>6} folders: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {CHANGES} changes",
            ms(p50),
            ms(p99),
            ms(max)
        );
    }
    println!("targets: p50 at most 1 ms at 1 folder and 2 ms at 1,000; max at most 4 ms");
    let blinks = torn_rewrites();
    println!("{TORN} torn rewrites: {blinks} blinks (lines without the instance running); target 0");
}

fn config(id: &str, port: u32) -> String {
    format!(
        "{{\n  \"address\" : \"127.0.0.1\",\n  \"exposeToNetwork\" : false,\n  \"health\" : \"running\",\n  \"instanceId\" : \"{id}\",\n  \"port\" : {port},\n  \"updatedAt\" : \"2025-09-08T12:35:12Z\",\n  \"url\" : \"http:\\/\\/127.0.0.1:{port}\"\n}}"
    )
}

fn publish(base: &Path, id: &str, port: u32) {
    let dir = base.join(id);
    fs::create_dir_all(&dir).unwrap();
    let tmp = dir.join(".configuration.json.tmp");
    fs::write(&tmp, config(id, port)).unwrap();
    fs::rename(&tmp, dir.join("configuration.json")).unwrap();
}

/// Starts `watch --json --no-probe` on `rt`; its lines arrive on the channel
/// with the moment each was read.
fn watch(rt: &Path) -> (Child, mpsc::Receiver<(Instant, String)>) {
    let mut child = Command::new(binary())
        .args(["watch", "--json", "--no-probe", "--runtime-dir"])
        .arg(rt)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<(Instant, String)>();
    std::thread::spawn(move || {
        for line in BufReader::with_capacity(1 << 20, out).lines() {
            let Ok(line) = line else { break };
            if tx.send((Instant::now(), line)).is_err() {
                break;
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(60)).expect("first line");
    (child, rx)
}

fn measure(folders: usize) -> (Duration, Duration, Duration) {
    let rt = tempfile::tempdir().unwrap();
    for n in 0..folders {
        publish(rt.path(), &format!("I{n:05}"), 1024 + n as u32);
    }
    let (mut child, rx) = watch(rt.path());

    let mut samples = Vec::with_capacity(CHANGES);
    for k in 0..CHANGES {
        let port = 20_000 + k as u32;
        let id = "I00000";
        let dir = rt.path().join(id);
        let tmp = dir.join(".configuration.json.tmp");
        fs::write(&tmp, config(id, port)).unwrap();
        let needle = format!("\"port\":{port}");
        let start = Instant::now();
        fs::rename(&tmp, dir.join("configuration.json")).unwrap();
        loop {
            let (at, line) = rx.recv_timeout(Duration::from_secs(10)).expect("a line for the change");
            if line.contains(&needle) {
                samples.push(at - start);
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    samples.sort();
    let pick = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (pick(0.50), pick(0.99), *samples.last().unwrap())
}

/// 100 torn rewrites of one running instance; returns how many lines showed
/// it anything but running.
fn torn_rewrites() -> usize {
    let rt = tempfile::tempdir().unwrap();
    let id = "I00000";
    publish(rt.path(), id, 1024);
    let (mut child, rx) = watch(rt.path());
    let dir = rt.path().join(id);
    let tmp = dir.join(".configuration.json.tmp");
    let mut blinks = 0;
    let running = "\"state\":\"running\"";
    for k in 0..TORN {
        let port = 30_000 + k as u32;
        let full = config(id, port);
        fs::write(&tmp, &full[..full.len() / 2]).unwrap();
        fs::rename(&tmp, dir.join("configuration.json")).unwrap();
        std::thread::sleep(Duration::from_millis(1 + (k % 5) as u64));
        fs::write(&tmp, &full).unwrap();
        fs::rename(&tmp, dir.join("configuration.json")).unwrap();
        let needle = format!("\"port\":{port}");
        loop {
            let (_, line) = rx.recv_timeout(Duration::from_secs(10)).expect("a line for the rewrite");
            if !line.contains(running) {
                blinks += 1;
            }
            if line.contains(&needle) {
                break;
            }
        }
    }
    // Whatever arrives after the last rewrite counts too.
    while let Ok((_, line)) = rx.recv_timeout(Duration::from_millis(400)) {
        if !line.contains(running) {
            blinks += 1;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    blinks
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The binary measured: `OSAURUS_TRAY_BIN` if set (to compare two builds),
/// else the one cargo built for this benchmark.
fn binary() -> std::path::PathBuf {
    std::env::var_os("OSAURUS_TRAY_BIN").map_or_else(|| env!("CARGO_BIN_EXE_osaurus-tray").into(), Into::into)
}
