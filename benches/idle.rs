//! Idle cost of `watch --no-probe` with nothing changing: CPU ticks used and
//! resident memory over a fixed window (60 s by default; set
//! OSAURUS_TRAY_IDLE_SECS to change it).
//!
//! Run with `cargo bench --bench idle`. Linux only (reads /proc).

use std::fs;
use std::process::{Command, Stdio};
use std::time::Duration;

fn main() {
    let secs: u64 = std::env::var("OSAURUS_TRAY_IDLE_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let rt = tempfile::tempdir().unwrap();
    for n in 0..3 {
        let dir = rt.path().join(format!("I{n}"));
        fs::create_dir(&dir).unwrap();
        let port = 1337 + n;
        fs::write(
            dir.join("configuration.json"),
            format!(r#"{{"health":"running","port":{port},"address":"127.0.0.1","updatedAt":"2025-09-08T12:35:12Z"}}"#),
        )
        .unwrap();
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_osaurus-tray"))
        .args(["watch", "--no-probe", "--runtime-dir"])
        .arg(rt.path())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    std::thread::sleep(Duration::from_secs(2)); // start-up settles
    let before = ticks(pid);
    let mut peak_rss = 0;
    for _ in 0..secs {
        std::thread::sleep(Duration::from_secs(1));
        peak_rss = peak_rss.max(rss_kib(pid));
    }
    let after = ticks(pid);
    let _ = child.kill();
    let _ = child.wait();
    println!(
        "watch --no-probe, 3 instances, {secs} s idle: {} CPU ticks (utime+stime), peak RSS {:.1} MB",
        after - before,
        peak_rss as f64 / 1024.0
    );
    println!("targets: 0 ticks, RSS at most 10 MB");
}

fn ticks(pid: u32) -> u64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_comm = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after_comm.split_whitespace().collect();
    // Fields 14 and 15 of stat, counted from after the command name.
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

fn rss_kib(pid: u32) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
