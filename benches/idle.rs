//! Idle cost of `watch` with nothing changing: CPU ticks used, resident
//! memory and threads over a fixed window (60 s by default; set
//! OSAURUS_TRAY_IDLE_SECS to change it), twice:
//!
//! - `watch --no-probe` over three entries;
//! - `watch` following live servers: ten Osaurus fakes, each a process of
//!   its own (`scripts/fake-osaurus.py`), and a leftover on a dead port.
//!   Liveness comes from the kernel (an exit watch), so a quiet server costs
//!   no wake-up; the leftover's port is looked at once more 10 s after the
//!   first look, then no more; the threads do not grow with the servers.
//!
//! Run with `cargo bench --bench idle`. Linux only (reads /proc).

use std::fs;
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn main() {
    let secs: u64 = std::env::var("OSAURUS_TRAY_IDLE_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);

    // Each runtime folder is `runtime` in a folder of its own, away from
    // /tmp: Osaurus's data root (its parent) is watched too, and /tmp is busy.
    let quiet = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let rt = quiet.path().join("runtime");
    fs::create_dir(&rt).unwrap();
    for n in 0..3 {
        let dir = rt.join(format!("I{n}"));
        fs::create_dir(&dir).unwrap();
        let port = 1337 + n;
        fs::write(
            dir.join("configuration.json"),
            format!(r#"{{"health":"running","port":{port},"address":"127.0.0.1","updatedAt":"2025-09-08T12:35:12Z"}}"#),
        )
        .unwrap();
    }
    measure(&["watch", "--no-probe"], &rt, "watch --no-probe, 3 instances", secs);

    let quiet = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let live = quiet.path().join("runtime");
    fs::create_dir(&live).unwrap();
    let mut fakes: Vec<Child> = (0..10).map(|_| fake(&live)).collect();
    let dir = live.join("LEFTOVER");
    fs::create_dir(&dir).unwrap();
    fs::write(
        dir.join("configuration.json"),
        r#"{"health":"running","port":9,"address":"127.0.0.1","updatedAt":"2025-09-08T12:35:12Z"}"#,
    )
    .unwrap();
    measure(&["watch"], &live, "watch, 10 live servers (processes of their own) and 1 leftover", secs);
    for f in &mut fakes {
        let _ = f.kill();
        let _ = f.wait();
    }
    println!("targets: 0 ticks, RSS at most 10 MB, threads that do not grow with the servers");
}

/// Runs `osaurus-tray --runtime-dir RT ARGS` for `secs` once settled, and
/// prints what it cost.
fn measure(args: &[&str], rt: &Path, what: &str, secs: u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_osaurus-tray"))
        .arg("--runtime-dir")
        .arg(rt)
        .args(args)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Start-up settles: the first look, and the leftover's second look
    // (10 s later; then no more looks at it).
    std::thread::sleep(Duration::from_secs(12));
    let before = ticks(pid);
    let mut peak_rss = 0;
    for _ in 0..secs {
        std::thread::sleep(Duration::from_secs(1));
        peak_rss = peak_rss.max(status(pid, "VmRSS:"));
    }
    let after = ticks(pid);
    let threads = status(pid, "Threads:");
    let _ = child.kill();
    let _ = child.wait();
    println!(
        "{what}, {secs} s idle: {} CPU ticks (utime+stime), peak RSS {:.1} MB, {threads} threads",
        after - before,
        peak_rss as f64 / 1024.0
    );
}

/// A fake Osaurus writing its file into `rt`, once it listens.
fn fake(rt: &Path) -> Child {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/fake-osaurus.py");
    let mut child = Command::new("python3")
        .arg(script)
        .arg("--runtime-dir")
        .arg(rt)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    child
}

fn ticks(pid: u32) -> u64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_comm = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after_comm.split_whitespace().collect();
    // Fields 14 and 15 of stat, counted from after the command name.
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// A number field of `/proc/PID/status` (`VmRSS:` in KiB, `Threads:`).
fn status(pid: u32, field: &str) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
