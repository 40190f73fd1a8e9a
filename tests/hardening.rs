//! Hostile environments for the command line: closed pipes, full disks, odd
//! environment variables, slow servers, other users, folders that move.

mod common;

use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

const T1: &str = "2025-09-08T12:00:00Z";

/// Runs the binary with `args`, its stdout going to `/dev/full` (Linux).
#[cfg(target_os = "linux")]
fn to_dev_full(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut c = bin();
    // By the environment: `completions` and `man` take no --runtime-dir.
    c.env("OSAURUS_RUNTIME_DIR", dir).args(args);
    c.stdin(Stdio::null()).stdout(fs::OpenOptions::new().write(true).open("/dev/full").unwrap()).stderr(Stdio::piped());
    let child = c.spawn().expect("spawn osaurus-tray");
    child.wait_with_output().expect("wait")
}

#[test]
fn an_empty_runtime_dir_variable_means_the_default_folders() {
    let home = tempfile::tempdir().unwrap();
    let rt = home.path().join(".osaurus/runtime");
    publish(&rt, "HOMEINSTANCE", &running_config("HOMEINSTANCE", 1337, T1, false));
    let mut c = bin();
    c.env("HOME", home.path()).env("OSAURUS_RUNTIME_DIR", "").args(["list", "--json", "--no-probe"]);
    let out = run_with_deadline(c, Duration::from_secs(20));
    assert!(out.status.success(), "exit {:?}: {}", out.status, stderr(&out));
    let v = json(&out);
    assert_eq!(v[0]["instanceId"], "HOMEINSTANCE", "{v:?}");
    let mut c = bin();
    c.env("HOME", home.path()).env("OSAURUS_RUNTIME_DIR", "").args(["url", "--no-probe"]);
    let out = run_with_deadline(c, Duration::from_secs(20));
    assert_eq!(stdout(&out), "http://127.0.0.1:1337\n", "{}", stderr(&out));
}

#[test]
#[cfg(target_os = "linux")] // /dev/full
fn a_full_disk_is_one_line_on_stderr_and_exit_3_never_a_panic() {
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "A", &running_config("A", 1337, T1, false));
    for args in [
        &["url", "--no-probe"][..],
        &["list", "--json", "--no-probe"],
        &["list", "--no-probe"],
        &["env", "--no-probe"],
        &["completions", "bash"],
        &["man"],
        &["--help"],
        &["list", "--help"],
        &["--version"],
    ] {
        let out = to_dev_full(rt.path(), args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(3), "{args:?}: exit {:?}, stderr {err}", out.status);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.to_lowercase().contains("no space left on device"), "{args:?}: {err}");
    }
}

#[test]
fn a_closed_pipe_ends_a_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let rt = tempfile::tempdir().unwrap();
    for n in 0..50 {
        let id = format!("I{n:03}");
        publish(rt.path(), &id, &running_config(&id, 2000 + n, T1, false));
    }
    let cases = [&["list", "--json", "--no-probe"][..], &["completions", "bash"], &["url", "--no-probe"]];
    // With SIGPIPE blocked (inherited from a parent), the write itself fails
    // with EPIPE instead of the signal ending the process.
    for (args, blocked) in cases.iter().flat_map(|a| [(a, false), (a, true)]) {
        let mut c = bin();
        c.env("OSAURUS_RUNTIME_DIR", rt.path()).args(*args);
        if blocked {
            use std::os::unix::process::CommandExt;
            // SAFETY: only async-signal-safe calls between fork and exec.
            unsafe {
                c.pre_exec(|| {
                    let mut set: libc::sigset_t = std::mem::zeroed();
                    libc::sigemptyset(&mut set);
                    libc::sigaddset(&mut set, libc::SIGPIPE);
                    libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
                    Ok(())
                });
            }
        }
        c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        drop(child.stdout.take()); // the reader is gone before anything is written
        let out = child.wait_with_output().unwrap();
        let err = stderr(&out);
        let quiet = out.status.code() == Some(0) || out.status.signal() == Some(libc::SIGPIPE);
        assert!(quiet, "{args:?} (SIGPIPE blocked: {blocked}): {:?}, stderr {err}", out.status);
        assert!(err.is_empty(), "{args:?} (SIGPIPE blocked: {blocked}): {err}");
    }
}

#[test]
#[cfg(target_os = "linux")] // /dev/full
fn watch_on_a_full_disk_says_so_and_exits_3() {
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "A", &running_config("A", 1337, T1, false));
    let mut c = bin();
    c.arg("--runtime-dir").arg(rt.path()).args(["watch", "--json", "--no-probe"]);
    c.stdin(Stdio::null()).stdout(fs::OpenOptions::new().write(true).open("/dev/full").unwrap()).stderr(Stdio::piped());
    let child = Reaped(c.spawn().unwrap());
    let out = wait_for_exit(child, Duration::from_secs(10));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{:?}: {err}", out.status);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.to_lowercase().contains("no space left on device"), "{err}");
}

/// Waits for `child` to exit, reading its stderr; panics after `limit`.
fn wait_for_exit(mut child: Reaped, limit: Duration) -> std::process::Output {
    use std::io::Read;
    let start = Instant::now();
    loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            let mut stderr = Vec::new();
            if let Some(mut e) = child.0.stderr.take() {
                let _ = e.read_to_end(&mut stderr);
            }
            return std::process::Output { status, stdout: Vec::new(), stderr };
        }
        assert!(start.elapsed() < limit, "still running after {limit:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn watch_ends_soon_after_its_reader_goes_away_though_nothing_changes() {
    use std::io::BufRead;
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "A", &running_config("A", 1337, T1, false));
    let mut c = bin();
    c.arg("--runtime-dir").arg(rt.path()).args(["watch", "--json", "--no-probe"]);
    c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = Reaped(c.spawn().unwrap());
    let mut reader = std::io::BufReader::new(child.0.stdout.take().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.contains("\"instanceId\":\"A\""), "{line}");
    drop(reader); // `head -1` is done
    let closed = Instant::now();
    let out = wait_for_exit(child, Duration::from_secs(10));
    let took = closed.elapsed();
    assert!(took < Duration::from_secs(2), "watch ran on for {took:?} after its reader went away");
    assert!(out.status.success() || std::os::unix::process::ExitStatusExt::signal(&out.status).is_some());
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

/// What a [`Scripted`] server answers on one path: status, body, and how
/// long it waits between its headers and its body.
#[derive(Clone)]
struct Answer {
    status: u16,
    body: String,
    body_after: Duration,
}

impl Answer {
    fn ok(body: impl Into<String>) -> Answer {
        Answer { status: 200, body: body.into(), body_after: Duration::ZERO }
    }
}

/// Osaurus's health answer.
const HEALTHY: &str = r#"{"status":"healthy","timestamp":"2025-09-08T12:35:12Z"}"#;

/// An HTTP server on a listener given to it, answering by path with
/// `answers` (404 elsewhere), and recording each request's Authorization
/// header. Stopped on drop.
/// The path and `Authorization` header of each request a server got.
type Requests = std::sync::Arc<std::sync::Mutex<Vec<(String, Option<String>)>>>;

struct Scripted {
    port: u16,
    authorizations: Requests,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Scripted {
    fn start(answers: Vec<(&'static str, Answer)>) -> Scripted {
        Scripted::on(std::net::TcpListener::bind("127.0.0.1:0").unwrap(), answers)
    }

    fn on(listener: std::net::TcpListener, answers: Vec<(&'static str, Answer)>) -> Scripted {
        use std::io::{BufRead, BufReader, Write};
        use std::sync::atomic::Ordering;
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let authorizations = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (seen, flag) = (authorizations.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                let Ok((stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let answers = answers.clone();
                let seen = seen.clone();
                std::thread::spawn(move || {
                    let _ = stream.set_nonblocking(false);
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut line = String::new();
                    let _ = reader.read_line(&mut line);
                    let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
                    let mut auth = None;
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                            break;
                        }
                        if let Some((k, v)) = h.split_once(':') {
                            if k.eq_ignore_ascii_case("authorization") {
                                auth = Some(v.trim().to_owned());
                            }
                        }
                    }
                    seen.lock().unwrap().push((path.clone(), auth));
                    let a = answers.iter().find(|(p, _)| *p == path).map(|(_, a)| a.clone()).unwrap_or(Answer {
                        status: 404,
                        body: "{}".into(),
                        body_after: Duration::ZERO,
                    });
                    let mut stream = stream;
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        a.status,
                        a.body.len()
                    );
                    let _ = stream.flush();
                    std::thread::sleep(a.body_after);
                    let _ = stream.write_all(a.body.as_bytes());
                    let _ = stream.flush();
                });
            }
        });
        Scripted { port, authorizations, stop, thread: Some(thread) }
    }

    fn authorizations(&self) -> Vec<(String, Option<String>)> {
        self.authorizations.lock().unwrap().clone()
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A model list as Osaurus answers it.
fn model_list(ids: &[String]) -> String {
    serde_json::json!({"object": "list", "data": ids.iter().map(|id| serde_json::json!({"id": id, "object": "model"})).collect::<Vec<_>>()}).to_string()
}

/// A server that is healthy and lists `ids`.
fn serving(ids: &[String]) -> Scripted {
    Scripted::start(vec![("/health", Answer::ok(HEALTHY)), ("/v1/models", Answer::ok(model_list(ids)))])
}

/// Runs `models` with `args` against `rt`, with no key and no settings.
fn models(rt: &Path, args: &[&str]) -> std::process::Output {
    models_with_key(rt, args, None)
}

/// Runs `models` with `args` against `rt`, with `key` in OSAURUS_API_KEY
/// and no settings.
fn models_with_key(rt: &Path, args: &[&str], key: Option<&str>) -> std::process::Output {
    let home = tempfile::tempdir().unwrap();
    let mut c = bin();
    c.env("HOME", home.path()).env("XDG_CONFIG_HOME", home.path()).env_remove("OSAURUS_API_KEY");
    if let Some(key) = key {
        c.env("OSAURUS_API_KEY", key);
    }
    c.arg("--runtime-dir").arg(rt).arg("models").args(args);
    run_with_deadline(c, Duration::from_secs(20))
}

#[test]
fn models_prints_every_model_a_server_lists() {
    let ids: Vec<String> = (0..350).map(|n| format!("model-{n:03}")).collect();
    let server = serving(&ids);
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "A", &running_config("A", server.port, &fresh(0), false));
    let out = models(rt.path(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let printed: Vec<&str> = text.lines().collect();
    assert_eq!(printed.len(), 350, "printed {} of 350; stderr: {}", printed.len(), stderr(&out));
    assert_eq!(printed, ids.iter().map(String::as_str).collect::<Vec<_>>());
    let json = models(rt.path(), &["--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["models"].as_array().unwrap().len(), 350);
    assert!(server.authorizations().iter().all(|(_, auth)| auth.is_none()), "no key, no header");
}

#[test]
fn models_prints_long_ids_whole() {
    let long = format!("org/{}", "x".repeat(300));
    let server = serving(&[long.clone(), "short".into()]);
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "A", &running_config("A", server.port, &fresh(0), false));
    let out = models(rt.path(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{long}\nshort\n"));
}

#[test]
fn an_exact_id_wins_over_ids_it_begins() {
    let work = serving(&["of-work".into()]);
    let old = serving(&["of-work-old".into()]);
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "work", &running_config("work", work.port, &fresh(0), false));
    publish(rt.path(), "work-old", &running_config("work-old", old.port, &fresh(0), false));
    for id in ["work", "WORK"] {
        let out = models(rt.path(), &["--id", id]);
        assert!(out.status.success(), "--id {id}: {}", stderr(&out));
        assert_eq!(stdout(&out), "of-work\n", "--id {id}");
    }
    let out = models(rt.path(), &["--id", "work-"]);
    assert_eq!(stdout(&out), "of-work-old\n", "{}", stderr(&out));
    let out = models(rt.path(), &["--id", "wor"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("give more of the id"), "{}", stderr(&out));
}

/// A healthy server whose `/health` body comes 0.8 s after its headers.
fn slow_body() -> Scripted {
    late_body(Duration::from_millis(800))
}

/// A healthy server whose `/health` body comes `after` its headers.
fn late_body(after: Duration) -> Scripted {
    let slow = Answer { status: 200, body: HEALTHY.into(), body_after: after };
    Scripted::start(vec![("/health", slow), ("/v1/models", Answer::ok(model_list(&["m".into()])))])
}

#[test]
fn a_server_answering_within_a_second_is_alive() {
    // A Mac under load, a model loading: 500 to 900 ms.
    for ms in [500, 900] {
        let server = late_body(Duration::from_millis(ms));
        let rt = tempfile::tempdir().unwrap();
        publish(rt.path(), "SLOW", &running_config("SLOW", server.port, &fresh(0), false));
        let v = json(&run_in(rt.path(), &["list", "--all", "--json"]));
        assert_eq!(v[0]["reachable"], true, "{ms} ms: {v:?}");
    }
}

#[test]
fn a_body_that_comes_too_late_is_no_answer_yet_never_another_program() {
    let server = late_body(Duration::from_millis(1800));
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "SLOW", &running_config("SLOW", server.port, &fresh(0), false));
    let out = run_in(rt.path(), &["list", "--all", "--json"]);
    let v = json(&out);
    assert_eq!(v[0]["notOsaurus"], serde_json::Value::Null, "{v:?}");
    assert_eq!(v[0]["leftover"], serde_json::Value::Null, "{v:?}");
    assert_ne!(v[0]["reachable"], true);
}

#[test]
fn prune_never_removes_a_server_whose_body_comes_late() {
    let server = slow_body();
    let rt = tempfile::tempdir().unwrap();
    let dir = publish(rt.path(), "SLOW", &running_config("SLOW", server.port, &fresh(0), false));
    let out = run_in(rt.path(), &["prune"]);
    assert!(dir.join("configuration.json").exists(), "removed a live server's folder: {}", stdout(&out));
    assert!(!stdout(&out).contains("removed"), "{}", stdout(&out));
    drop(server);
}

#[test]
fn prune_reports_only_what_it_removed_not_a_folder_moved_away_during_its_wait() {
    use std::io::BufRead;
    let rt = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let port = closed_port();
    let dir = publish(rt.path(), "MOVED", &running_config("MOVED", port, T1, false));
    let mut c = bin();
    c.arg("--runtime-dir").arg(rt.path()).arg("prune");
    c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = Reaped(c.spawn().unwrap());
    let mut err = std::io::BufReader::new(child.0.stderr.take().unwrap());
    let mut said = String::new();
    while !said.contains("checking again") {
        assert!(err.read_line(&mut said).unwrap() > 0, "prune ended before its wait: {said}");
    }
    let moved = elsewhere.path().join("MOVED");
    fs::rename(&dir, &moved).unwrap();
    let mut rest = String::new();
    let _ = std::io::Read::read_to_string(&mut err, &mut rest);
    let mut out = String::new();
    let _ = std::io::Read::read_to_string(&mut child.0.stdout.take().unwrap(), &mut out);
    let status = child.0.wait().unwrap();
    assert!(moved.join("configuration.json").exists());
    assert!(!out.contains("removed"), "reported a removal it did not make: {out}");
    assert!(rest.contains("MOVED") && rest.contains("nothing was removed"), "stderr: {rest}");
    assert!(status.success(), "{status:?}: {rest}");
}

#[test]
fn an_unreadable_or_unwritable_updated_at_ranks_as_undated_and_prints_as_null() {
    let rt = tempfile::tempdir().unwrap();
    let cfg = |id: &str, port: u16, updated: &str| {
        publish(rt.path(), id, &running_config(id, port, updated, false));
    };
    cfg("DATED", 1001, T1);
    // Folders just written, so their mtime is now, newer than T1.
    cfg("GARBLED", 1002, "yesterday");
    cfg("YEARMINUS1", 1003, "0000-01-01T00:00:00+01:00");
    cfg("YEAR10000", 1004, "9999-12-31T23:00:00-02:00");
    let out = run_in(rt.path(), &["list", "--json", "--no-probe"]);
    let v = json(&out);
    let ids: Vec<&str> = v.iter().map(|i| i["instanceId"].as_str().unwrap()).collect();
    assert_eq!(ids[0], "DATED", "a file with a time it cannot show must not outrank one that has it: {ids:?}");
    for i in &v[1..] {
        assert_eq!(i["updatedAt"], serde_json::Value::Null, "{i}");
        assert!(i["problem"].as_str().unwrap_or("").contains("updatedAt"), "{i}");
    }
    assert_eq!(stdout(&run_in(rt.path(), &["url", "--no-probe"])), "http://127.0.0.1:1001\n");
}

/// Set to 1 to make the test below fail, not skip, where it cannot run.
const OTHER_UID_REQUIRED: &str = "OSAURUS_TRAY_OTHER_UID_REQUIRED";

/// The uid of `nobody`, another user than the one running the tests.
const NOBODY: u32 = 65534;

/// A listener on 127.0.0.1 whose socket belongs to `uid`, as the socket
/// table tells it: made on a thread of its own whose file-system uid is
/// `uid` meanwhile (the kernel gives a socket the creator's fsuid).
/// Needs root on Linux; `None` otherwise.
#[cfg(not(target_os = "linux"))]
fn listener_owned_by(_uid: u32) -> Option<std::net::TcpListener> {
    None
}

/// A listener on 127.0.0.1 whose socket belongs to `uid`, as the socket
/// table tells it: made on a thread of its own whose file-system uid is
/// `uid` meanwhile (the kernel gives a socket the creator's fsuid).
/// Needs root on Linux; `None` otherwise.
#[cfg(target_os = "linux")]
fn listener_owned_by(uid: u32) -> Option<std::net::TcpListener> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    std::thread::spawn(move || {
        // SAFETY: setfsuid changes this thread's file-system uid only;
        // it is set back before the thread ends.
        unsafe { libc::setfsuid(uid) };
        let listener = std::net::TcpListener::bind("127.0.0.1:0");
        unsafe { libc::setfsuid(0) };
        listener.ok()
    })
    .join()
    .unwrap()
}

#[test]
fn the_access_key_never_goes_to_another_users_server() {
    const KEY: &str = "sk-hardening-not-for-others";
    let Some(theirs) = listener_owned_by(NOBODY) else {
        let why = "cannot make a listener of another user here (needs root, on Linux)";
        assert!(std::env::var_os(OTHER_UID_REQUIRED).is_none(), "{OTHER_UID_REQUIRED} is set, but {why}");
        println!("skipped: {why}");
        return;
    };
    let port = theirs.local_addr().unwrap().port();
    let owners = osaurus_tray::process::Listeners::read().unwrap().owners(port);
    assert!(owners.iter().all(|&(_, uid)| uid == NOBODY) && !owners.is_empty(), "{owners:?}");
    let answers = || vec![("/health", Answer::ok(HEALTHY)), ("/v1/models", Answer::ok(model_list(&["m".into()])))];
    let other = Scripted::on(theirs, answers());
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "THEIRS", &running_config("THEIRS", other.port, &fresh(0), false));
    let out = models_with_key(rt.path(), &[], Some(KEY));
    let asked = other.authorizations();
    assert!(asked.iter().any(|(path, _)| path == "/v1/models"), "{asked:?}: {}", stderr(&out));
    assert!(asked.iter().all(|(_, auth)| auth.is_none()), "the key went to another user's server: {asked:?}");
    assert!(stderr(&out).contains("not sent"), "{}", stderr(&out));
    assert!(!stdout(&out).contains(KEY) && !stderr(&out).contains(KEY));
    // This user's server on the same terms gets it.
    let mine = Scripted::start(answers());
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "MINE", &running_config("MINE", mine.port, &fresh(0), false));
    let out = models_with_key(rt.path(), &[], Some(KEY));
    assert!(out.status.success(), "{}", stderr(&out));
    let asked = mine.authorizations();
    let bearer = format!("Bearer {KEY}");
    assert!(
        asked.iter().any(|(path, auth)| path == "/v1/models" && auth.as_deref() == Some(bearer.as_str())),
        "{asked:?}"
    );
}

#[test]
fn an_exact_id_that_is_not_running_is_said_not_taken_for_a_longer_one() {
    let old = serving(&["of-work-old".into()]);
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "work", &starting_config("work", T1, "starting"));
    publish(rt.path(), "work-old", &running_config("work-old", old.port, &fresh(0), false));
    let out = models(rt.path(), &["--id", "work"]);
    assert_eq!(stdout(&out), "", "the models of another instance than the one named");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("\"work\" is starting"), "{}", stderr(&out));
}
