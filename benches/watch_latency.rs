//! Change-to-snapshot latency of `watch --json --no-probe`: from the atomic
//! rename of a configuration.json to the arrival of its line, with 1, 1,000
//! and 10,000 instance folders present: p50, p99 and max.
//!
//! Run with `cargo bench --bench watch_latency`.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const CHANGES: usize = 300;

fn main() {
    for folders in [1usize, 1_000, 10_000] {
        let (p50, p99, max) = measure(folders);
        println!(
            "{folders:>6} folders: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {CHANGES} changes",
            ms(p50),
            ms(p99),
            ms(max)
        );
    }
    println!("targets: p50 at most 1 ms at 1 folder and 2 ms at 1,000; max at most 4 ms");
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

fn measure(folders: usize) -> (Duration, Duration, Duration) {
    let rt = tempfile::tempdir().unwrap();
    for n in 0..folders {
        publish(rt.path(), &format!("I{n:05}"), 1024 + n as u32);
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_osaurus-tray"))
        .args(["watch", "--json", "--no-probe", "--runtime-dir"])
        .arg(rt.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<(Instant, String)>();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send((Instant::now(), line)).is_err() {
                break;
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(30)).expect("first line");

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

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
