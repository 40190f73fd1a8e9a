//! Helpers shared by the integration tests: runtime folders written the way
//! Osaurus writes them, the real binary, and small servers on 127.0.0.1.
#![allow(dead_code)]

pub mod osaurus;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The binary under test.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_osaurus-tray"));
    c.env_remove("OSAURUS_RUNTIME_DIR");
    c
}

/// Runs the binary with `--runtime-dir dir` and `args`, failing the test if it
/// takes longer than `limit`.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    let mut c = bin();
    c.arg("--runtime-dir").arg(dir).args(args);
    run_with_deadline(c, Duration::from_secs(20))
}

/// Runs `cmd`, killing it and failing if it outlives `limit`. Its output is
/// drained while it runs, so a large output cannot block it.
pub fn run_with_deadline(mut cmd: Command, limit: Duration) -> Output {
    use std::io::Read;
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn osaurus-tray");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("osaurus-tray did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Output { status, stdout: out.join().unwrap(), stderr: err.join().unwrap() }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Parses `list --json` output.
pub fn json(o: &Output) -> Vec<serde_json::Value> {
    serde_json::from_slice::<Vec<serde_json::Value>>(&o.stdout)
        .unwrap_or_else(|e| panic!("not a JSON array ({e}): {}", stdout(o)))
}

/// Encodes like Foundation's `JSONSerialization` with `.prettyPrinted,
/// .sortedKeys`, byte for byte: two-space indent, `"key" : value`, keys
/// sorted, `/` escaped as `\/`, no trailing newline.
pub fn foundation_json(value: &serde_json::Value) -> String {
    let mut out = String::new();
    write_foundation(value, 0, &mut out);
    out
}

fn write_foundation(value: &serde_json::Value, depth: usize, out: &mut String) {
    use serde_json::Value;
    let pad = |n: usize| "  ".repeat(n);
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push_str("{\n");
            for (n, k) in keys.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                out.push_str(&foundation_string(k));
                out.push_str(" : ");
                write_foundation(&map[k.as_str()], depth + 1, out);
                out.push_str(if n + 1 < keys.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(depth));
            out.push('}');
        }
        Value::Array(items) => {
            out.push_str("[\n");
            for (n, v) in items.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                write_foundation(v, depth + 1, out);
                out.push_str(if n + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(depth));
            out.push(']');
        }
        Value::String(s) => out.push_str(&foundation_string(s)),
        other => out.push_str(&other.to_string()),
    }
}

/// A JSON string as Foundation writes it: `\/` for `/`.
fn foundation_string(s: &str) -> String {
    serde_json::to_string(s).unwrap().replace('/', "\\/")
}

/// `updatedAt` for a file of a live server: now, `secs` later (or
/// earlier), as Osaurus writes it. A file older than the process listening
/// on its port is a leftover, and a test's servers run in the test's own
/// process, which started moments ago.
#[allow(dead_code)]
pub fn fresh(secs: i64) -> String {
    osaurus_time(chrono::Utc::now() + chrono::TimeDelta::seconds(secs))
}

/// `updatedAt` as Osaurus writes it: UTC, `Z`, no fractional seconds.
pub fn osaurus_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A running configuration as Osaurus writes it.
pub fn running_config(id: &str, port: u16, updated: &str, exposed: bool) -> serde_json::Value {
    let address = if exposed { "192.168.1.23" } else { "127.0.0.1" };
    serde_json::json!({
        "instanceId": id,
        "updatedAt": updated,
        "port": port,
        "address": address,
        "url": format!("http://{address}:{port}"),
        "exposeToNetwork": exposed,
        "health": "running",
    })
}

pub fn starting_config(id: &str, updated: &str, health: &str) -> serde_json::Value {
    serde_json::json!({ "instanceId": id, "updatedAt": updated, "health": health })
}

/// Writes `configuration.json` for instance `id` atomically (temp file, then
/// rename), as Osaurus does, and returns the instance folder.
pub fn publish(base: &Path, id: &str, config: &serde_json::Value) -> PathBuf {
    publish_raw(base, id, foundation_json(config).as_bytes())
}

/// Writes raw bytes as an instance's `configuration.json` atomically, as
/// Foundation's `Data.write(options: .atomic)` does: a temporary
/// `.dat.nosync<pid-hex>.<random>` in the instance folder, then a rename.
pub fn publish_raw(base: &Path, id: &str, bytes: &[u8]) -> PathBuf {
    let dir = base.join(id);
    fs::create_dir_all(&dir).unwrap();
    let tmp = dir.join(nosync_name());
    fs::write(&tmp, bytes).unwrap();
    fs::rename(&tmp, dir.join("configuration.json")).unwrap();
    dir
}

/// The name of an atomic write's temporary file: `.dat.nosync<pid-hex>.<random>`.
pub fn nosync_name() -> String {
    use std::sync::atomic::AtomicU32;
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!(".dat.nosync{:x}.{:06X}", std::process::id(), n.wrapping_mul(2_654_435_761) & 0xFF_FFFF)
}

/// A small HTTP server on 127.0.0.1 answering `/health` like Osaurus.
/// Stopped and joined on drop.
pub struct HealthServer {
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl HealthServer {
    pub fn start() -> HealthServer {
        Self::with_status(200)
    }

    /// A server whose `/health` answers `status`.
    pub fn with_status(status: u16) -> HealthServer {
        Self::answering(move |mut req| {
            let mut sink = Vec::new();
            let _ = req.as_reader().read_to_end(&mut sink);
            let body = r#"{"status":"healthy","timestamp":"2025-09-08T12:35:12Z"}"#;
            let _ = req.respond(tiny_http::Response::from_string(body).with_status_code(status));
        })
    }

    /// A server on 127.0.0.1 that hands every request to `answer`, on its
    /// own thread, until dropped.
    pub fn answering(answer: impl Fn(tiny_http::Request) + Send + 'static) -> HealthServer {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = server.server_addr().to_ip().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                if let Ok(Some(req)) = server.recv_timeout(Duration::from_millis(20)) {
                    answer(req);
                }
            }
        });
        HealthServer { port, stop, thread: Some(thread) }
    }
}

impl Drop for HealthServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A child process that is killed and reaped when dropped.
pub struct Reaped(pub Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `scripts/fake-osaurus.py` (an Osaurus as a process of its own, that logs
/// what it is asked), started with `args`; returns it and the port it printed
/// once it listens and its file is written.
#[allow(dead_code)]
pub fn fake_osaurus(args: &[&str]) -> (Reaped, u16) {
    use std::io::BufRead;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/fake-osaurus.py");
    let mut child = Command::new("python3")
        .arg(script)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 runs");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let child = Reaped(child);
    let port = line.trim().parse().unwrap_or_else(|_| panic!("the fake printed {line:?}, not its port"));
    (child, port)
}

/// Sends `signal` (`KILL`, `STOP`, `CONT`, `USR1`…) to `child`.
#[allow(dead_code)]
pub fn signal(child: &Reaped, signal: &str) {
    let ok = Command::new("kill").args([&format!("-{signal}"), &child.0.id().to_string()]).status().unwrap();
    assert!(ok.success(), "kill -{signal}");
}

/// `osaurus-tray watch --json` running as a child, its lines read on a thread.
pub struct WatchProc {
    pub child: Reaped,
    lines: std::sync::mpsc::Receiver<serde_json::Value>,
    pub seen: Vec<serde_json::Value>,
    stderr_path: PathBuf,
    _stderr_dir: tempfile::TempDir,
}

impl WatchProc {
    pub fn start(runtime: &Path, extra: &[&str], envs: &[(&str, &str)]) -> WatchProc {
        let mut c = bin();
        c.arg("--runtime-dir").arg(runtime).args(["watch", "--json"]).args(extra);
        for (k, v) in envs {
            c.env(k, v);
        }
        Self::spawn(c)
    }

    /// Starts `c`, a prepared `watch --json` command (wrapped in another
    /// program, for example), and reads its lines.
    pub fn spawn(mut c: Command) -> WatchProc {
        let stderr_dir = tempfile::tempdir().unwrap();
        let stderr_path = stderr_dir.path().join("stderr");
        c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(fs::File::create(&stderr_path).unwrap());
        let mut child = c.spawn().expect("spawn watch");
        let out = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                let v: serde_json::Value =
                    serde_json::from_str(&line).unwrap_or_else(|e| panic!("watch printed non-JSON ({e}): {line}"));
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        WatchProc { child: Reaped(child), lines: rx, seen: Vec::new(), stderr_path, _stderr_dir: stderr_dir }
    }

    /// The next line, or None after `limit`.
    pub fn next(&mut self, limit: Duration) -> Option<serde_json::Value> {
        let v = self.lines.recv_timeout(limit).ok()?;
        self.seen.push(v.clone());
        Some(v)
    }

    /// Waits for a line whose instances satisfy `pred`; panics after `limit`.
    pub fn wait_for(
        &mut self,
        limit: Duration,
        what: &str,
        pred: impl Fn(&[serde_json::Value]) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left) {
                Some(v) if pred(v["instances"].as_array().unwrap()) => return v,
                Some(_) => {}
                None => panic!("watch never showed {what}; lines seen: {:#?}", self.seen),
            }
        }
    }

    /// Collects every line printed within `window`.
    pub fn drain(&mut self, window: Duration) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + window;
        let mut got = Vec::new();
        while let Some(v) = self.next(deadline.saturating_duration_since(Instant::now())) {
            got.push(v);
        }
        got
    }

    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Sends `signal` and returns the exit status.
    pub fn stop_with(mut self, signal: &str) -> std::process::ExitStatus {
        let pid = self.child.0.id().to_string();
        Command::new("kill").args([&format!("-{signal}"), &pid]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(st) = self.child.0.try_wait().unwrap() {
                return st;
            }
            assert!(Instant::now() < deadline, "watch did not exit on SIG{signal}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// The ids of a watch line's instances, in order.
pub fn line_ids(instances: &[serde_json::Value]) -> Vec<String> {
    instances.iter().map(|i| i["instanceId"].as_str().unwrap().to_owned()).collect()
}

pub fn state_of<'a>(instances: &'a [serde_json::Value], id: &str) -> Option<&'a str> {
    instances.iter().find(|i| i["instanceId"] == id).and_then(|i| i["state"].as_str())
}

/// Makes the folder `dir`. Returns false, saying so, when the file system
/// refuses its name: APFS takes only UTF-8 names and answers EILSEQ
/// ("Illegal byte sequence"), so a Mac never has such a folder to read.
pub fn make_dir_unless_name_refused(dir: &Path) -> bool {
    match fs::create_dir(dir) {
        Ok(()) => true,
        Err(e) if e.raw_os_error() == Some(libc::EILSEQ) => {
            eprintln!("skipped the folder {}: this file system refuses its name ({e})", dir.display());
            false
        }
        Err(e) => panic!("{}: {e}", dir.display()),
    }
}

/// CPU time (user + system) a running process has used, in hundredths of a
/// second: from /proc where there is one (clock ticks, 100 a second), else
/// from `ps -o time=` (macOS prints hundredths).
pub fn cpu_centiseconds(pid: u32) -> u64 {
    if let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) {
        let after_comm = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = after_comm.split_whitespace().collect();
        return f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    }
    ps_cpu_centiseconds(pid).unwrap_or_else(|| panic!("neither /proc nor ps gives the CPU time of {pid}"))
}

/// The CPU time `ps -o time=` prints for `pid`, in hundredths of a second.
pub fn ps_cpu_centiseconds(pid: u32) -> Option<u64> {
    let out = Command::new("ps").args(["-o", "time=", "-p", &pid.to_string()]).output().ok()?;
    parse_cpu_time(&String::from_utf8_lossy(&out.stdout))
}

/// `[[dd-]hh:]mm:ss[.cc]` in hundredths of a second.
pub fn parse_cpu_time(text: &str) -> Option<u64> {
    let text = text.trim();
    let (days, clock) = match text.split_once('-') {
        Some((d, rest)) => (d.parse::<u64>().ok()?, rest),
        None => (0, text),
    };
    let mut fields = clock.rsplit(':');
    let seconds: f64 = fields.next()?.parse().ok().filter(|s: &f64| s.is_finite() && *s >= 0.0)?;
    let mut whole = 0;
    for (field, unit) in fields.zip([60, 3_600]) {
        whole += field.parse::<u64>().ok()? * unit;
    }
    if clock.matches(':').count() > 2 || !clock.contains(':') {
        return None;
    }
    Some((days * 86_400 + whole) * 100 + (seconds * 100.0).round() as u64)
}
