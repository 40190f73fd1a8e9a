//! `list --json --no-probe` over 10,000 instance folders, against the floor of
//! reading the same files once in one process, measured in the same run.
//!
//! Run with `cargo bench --bench list`. Prints medians of several rounds and
//! the ratio (target: at most 2x).

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FOLDERS: usize = 10_000;
const ROUNDS: usize = 7;

fn main() {
    let rt = tempfile::tempdir().expect("temp dir");
    populate(rt.path());

    // Warm the page cache so both sides read from memory.
    floor(rt.path());
    let floor_times: Vec<Duration> = (0..ROUNDS).map(|_| time(|| floor(rt.path()))).collect();
    let list_times: Vec<Duration> = (0..ROUNDS).map(|_| time(|| list(rt.path()))).collect();
    let exit_times: Vec<Duration> = (0..ROUNDS).map(|_| time(process_floor)).collect();

    let f = median(floor_times);
    let l = median(list_times);
    let p = median(exit_times);
    println!("folders: {FOLDERS}");
    println!("floor (read every configuration.json once, in-process): {:.1} ms", ms(f));
    println!("list --json --no-probe (whole process, output to /dev/null): {:.1} ms", ms(l));
    println!("  of which process start and exit (--version): {:.1} ms", ms(p));
    println!("ratio list / floor: {:.2}x (target: at most 2x)", ms(l) / ms(f));
}

fn populate(base: &Path) {
    for n in 0..FOLDERS {
        let id = format!("{:08X}-0000-4000-8000-{:012X}", n, n);
        let dir = base.join(&id);
        fs::create_dir(&dir).unwrap();
        let port = 1024 + (n % 60000);
        let body = format!(
            "{{\n  \"address\" : \"127.0.0.1\",\n  \"exposeToNetwork\" : false,\n  \"health\" : \"running\",\n  \"instanceId\" : \"{id}\",\n  \"port\" : {port},\n  \"updatedAt\" : \"2025-09-08T12:35:12Z\",\n  \"url\" : \"http:\\/\\/127.0.0.1:{port}\"\n}}"
        );
        fs::write(dir.join("configuration.json"), body).unwrap();
    }
}

fn floor(base: &Path) -> usize {
    let mut total = 0;
    for entry in fs::read_dir(base).unwrap() {
        let path = entry.unwrap().path().join("configuration.json");
        total += fs::read(path).map(|b| b.len()).unwrap_or(0);
    }
    assert!(total > 0);
    total
}

fn list(base: &Path) {
    let status = Command::new(env!("CARGO_BIN_EXE_osaurus-tray"))
        .args(["list", "--json", "--no-probe", "--runtime-dir"])
        .arg(base)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
}

fn process_floor() {
    let status =
        Command::new(env!("CARGO_BIN_EXE_osaurus-tray")).arg("--version").stdout(Stdio::null()).status().unwrap();
    assert!(status.success());
}

fn time<T>(f: impl FnOnce() -> T) -> Duration {
    let start = Instant::now();
    std::hint::black_box(f());
    start.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
