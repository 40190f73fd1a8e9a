//! Hostile environments and lying servers against the real binary: each
//! test here is a defect that was found by attacking it, kept so it stays
//! fixed. Servers listen on 127.0.0.1 only; every process is reaped.

mod common;

use std::time::Duration;

use common::*;

/// A server that answers `/health` as Osaurus and lists, as model ids on
/// `/v1/models`, whatever `ids` makes of the request's `Authorization`
/// header: a server that echoes the access key back.
fn echo_server(ids: fn(&str) -> Vec<String>) -> HealthServer {
    HealthServer::answering(move |req| {
        let body = if req.url().ends_with("/health") {
            r#"{"status":"healthy","timestamp":"2025-09-08T12:35:12Z"}"#.to_owned()
        } else {
            let auth = req
                .headers()
                .iter()
                .find(|h| h.field.equiv("Authorization"))
                .map(|h| h.value.as_str().to_owned())
                .unwrap_or_default();
            let data: Vec<_> = ids(&auth).into_iter().map(|id| serde_json::json!({ "id": id })).collect();
            serde_json::json!({ "object": "list", "data": data }).to_string()
        };
        let _ = req.respond(tiny_http::Response::from_string(body));
    })
}

#[test]
fn a_server_that_echoes_the_key_back_as_a_model_id_never_gets_it_printed() {
    const KEY: &str = "osk-v1-sekrit0123456789";
    let server = echo_server(|auth| {
        let key = auth.strip_prefix("Bearer ").unwrap_or(auth);
        vec!["kept-model".into(), key.into(), format!("prefix-{key}-suffix"), auth.replace(' ', "-")]
    });
    let tmp = tempfile::tempdir().unwrap();
    let now = osaurus_time(chrono::Utc::now());
    publish(tmp.path(), "ECHO", &running_config("ECHO", server.port, &now, false));
    for json in [false, true] {
        let mut c = bin();
        c.arg("--runtime-dir").arg(tmp.path()).arg("models").env("OSAURUS_API_KEY", KEY);
        if json {
            c.arg("--json");
        }
        let out = run_with_deadline(c, Duration::from_secs(20));
        let (stdout, stderr) = (stdout(&out), stderr(&out));
        assert!(out.status.success(), "models --json={json} failed: {stderr}");
        assert!(stdout.contains("kept-model"), "the honest id is listed (json={json}): {stdout}");
        assert!(
            !stdout.contains("sekrit") && !stderr.contains("sekrit"),
            "the key was printed (json={json}): {stdout}{stderr}"
        );
    }
}

#[test]
fn watch_json_says_on_stderr_that_a_runtime_folder_cannot_be_read() {
    let tmp = tempfile::tempdir().unwrap();
    let not_a_folder = tmp.path().join("runtime");
    std::fs::write(&not_a_folder, b"a file where the runtime folder should be").unwrap();
    let listed = run_in(&not_a_folder, &["list"]);
    assert!(stderr(&listed).contains("cannot read runtime folder"), "list says so: {}", stderr(&listed));
    let mut watch = WatchProc::start(&not_a_folder, &["--no-probe"], &[]);
    let first = watch.next(Duration::from_secs(20)).expect("a first line");
    assert_eq!(first["instances"].as_array().map(Vec::len), Some(0));
    let said = watch.stderr();
    assert!(
        said.contains("cannot read runtime folder") && said.contains("not a folder"),
        "an empty list with no reason misleads; stderr: {said}"
    );
    assert!(watch.stop_with("TERM").success());
}

#[test]
fn watch_sees_a_relative_runtime_folder_that_is_removed_and_made_again() {
    let tmp = tempfile::tempdir().unwrap();
    let rt = tmp.path().join("rt");
    let server = HealthServer::start();
    let now = osaurus_time(chrono::Utc::now());
    publish(&rt, "FIRST", &running_config("FIRST", server.port, &now, false));
    let stderr_file = tmp.path().join("stderr");
    let mut c = bin();
    c.current_dir(tmp.path()).args(["--runtime-dir", "rt", "watch", "--json", "--no-probe"]);
    c.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&stderr_file).unwrap());
    let mut child = Reaped(c.spawn().unwrap());
    let out = child.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<serde_json::Value>();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(serde_json::from_str(&line).unwrap()).is_err() {
                break;
            }
        }
    });
    let ids = |v: &serde_json::Value| line_ids(v["instances"].as_array().unwrap());
    let wait_for = |want: &[&str]| loop {
        let v = rx.recv_timeout(Duration::from_secs(15)).unwrap_or_else(|_| panic!("watch never showed {want:?}"));
        if ids(&v) == want {
            break;
        }
    };
    wait_for(&["FIRST"]);
    std::fs::remove_dir_all(&rt).unwrap();
    wait_for(&[]);
    std::thread::sleep(Duration::from_millis(300));
    publish(&rt, "AGAIN", &running_config("AGAIN", server.port, &now, false));
    wait_for(&["AGAIN"]);
}

#[test]
fn models_never_hangs_on_a_settings_file_that_is_a_fifo() {
    let tmp = tempfile::tempdir().unwrap();
    let server = HealthServer::start();
    let now = osaurus_time(chrono::Utc::now());
    publish(&tmp.path().join("rt"), "FIFO", &running_config("FIFO", server.port, &now, false));
    let config = tmp.path().join("config");
    let settings = config.join("osaurus-tray").join("settings.json");
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    let made = std::process::Command::new("mkfifo").arg(&settings).status().unwrap();
    assert!(made.success(), "mkfifo");
    let mut c = bin();
    c.arg("--runtime-dir").arg(tmp.path().join("rt")).arg("models");
    c.env("XDG_CONFIG_HOME", &config).env("HOME", tmp.path()).env_remove("OSAURUS_API_KEY");
    // Panics if it does not finish: opening a FIFO for reading blocks until
    // a writer comes, which never does.
    let out = run_with_deadline(c, Duration::from_secs(10));
    assert!(stderr(&out).contains("Could not list the models"), "it went on to the server: {}", stderr(&out));
}

#[test]
fn a_runtime_folder_named_dot_still_shows_the_tunnel_and_cors_of_its_data_root() {
    let fixture = |name: &str| {
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/exposure").join(name))
            .unwrap()
    };
    const AGENT: &str = "5B0E7C1D-2F3A-4B5C-8D6E-7F8091A2B3C4";
    let root = tempfile::tempdir().unwrap();
    let runtime = root.path().join("runtime");
    publish(&runtime, "A", &running_config("A", 1337, "2025-09-08T12:00:00Z", false));
    for (rel, name) in [
        ("config/relay.json", "relay.json"),
        ("config/server.json", "server.json"),
        (&*format!("agents/{AGENT}.json"), &*format!("{AGENT}.json")),
    ] {
        let path = root.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, fixture(name)).unwrap();
    }
    // The same runtime folder named four ways: every one has the same data root.
    let deeper = runtime.join("A");
    for (cwd, name) in [(root.path(), "runtime"), (&*runtime, "."), (&*deeper, ".."), (root.path(), "runtime/A/..")] {
        let mut c = bin();
        c.current_dir(cwd).args(["--runtime-dir", name, "list", "--no-probe"]);
        let out = run_with_deadline(c, Duration::from_secs(20));
        let text = stdout(&out);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        assert!(text.contains("warning: Internet: Researcher at https://0x"), "{name} hides the tunnel: {text}");
        assert!(text.contains("warning: Any website you open can use this server"), "{name} hides CORS: {text}");
    }
}

#[test]
fn a_runtime_folder_path_with_escapes_and_line_breaks_is_one_clean_line_on_stderr() {
    let tmp = tempfile::tempdir().unwrap();
    let gone = tmp.path().join("rt\u{1b}]0;owned\u{7}\nosaurus-tray: all is well");
    let file = tmp.path().join("file\u{1b}[2J\rname");
    std::fs::write(&file, b"not a folder").unwrap();
    for (dir, lines) in [(&gone, 1), (&file, 2)] {
        for args in [&["url"][..], &["list", "--all"][..]] {
            let mut c = bin();
            c.arg("--runtime-dir").arg(dir).args(args);
            let out = run_with_deadline(c, Duration::from_secs(20));
            let said = stderr(&out);
            assert_eq!(out.status.code(), Some(3), "{args:?}: {said}");
            assert!(!said.contains(['\u{1b}', '\u{7}', '\r']), "{args:?} wrote raw control characters: {said:?}");
            assert_eq!(said.lines().count(), lines, "{args:?}: one line per message: {said:?}");
            assert!(said.contains("\\u{1B}"), "{args:?} shows the escape as text: {said:?}");
        }
    }
}

#[test]
fn output_to_a_descriptor_that_cannot_be_written_is_a_failure_not_a_silent_success() {
    let tmp = tempfile::tempdir().unwrap();
    let now = osaurus_time(chrono::Utc::now());
    publish(&tmp.path().join("rt"), "RO", &running_config("RO", 1337, &now, false));
    let read_only = tmp.path().join("read-only");
    std::fs::write(&read_only, b"").unwrap();
    for args in [&["url", "--no-probe"][..], &["env", "--no-probe"], &["list", "--json", "--no-probe"]] {
        // Standard output opened for reading only, as `3<file >&3` would
        // give it: every write fails with EBADF.
        let mut c = bin();
        c.arg("--runtime-dir").arg(tmp.path().join("rt")).args(args);
        c.stdin(std::process::Stdio::null())
            .stdout(std::fs::File::open(&read_only).unwrap())
            .stderr(std::process::Stdio::piped());
        let out = Reaped(c.spawn().unwrap());
        let out = out_of(out);
        assert_eq!(out.status.code(), Some(3), "{args:?} said it succeeded: {}", stderr(&out));
        assert!(stderr(&out).contains("cannot write to standard output"), "{args:?}: {}", stderr(&out));
    }
}

/// Waits for a reaped child and collects its stderr.
fn out_of(mut child: Reaped) -> std::process::Output {
    use std::io::Read;
    let mut err = Vec::new();
    child.0.stderr.take().unwrap().read_to_end(&mut err).unwrap();
    let status = child.0.wait().unwrap();
    std::process::Output { status, stdout: Vec::new(), stderr: err }
}

#[test]
fn watch_never_waits_on_a_time_zone_file_that_is_a_fifo() {
    let tmp = tempfile::tempdir().unwrap();
    let now = osaurus_time(chrono::Utc::now());
    publish(&tmp.path().join("rt"), "TZ", &running_config("TZ", 1337, &now, false));
    let fifo = tmp.path().join("zone");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let mut c = bin();
    c.arg("--runtime-dir").arg(tmp.path().join("rt")).args(["watch", "--no-probe"]);
    // chrono's local time zone reads the file TZ names, whole and blocking.
    c.env("TZ", format!(":{}", fifo.display()));
    c.stdin(std::process::Stdio::null()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::null());
    let mut child = Reaped(c.spawn().unwrap());
    let out = child.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        let mut first = String::new();
        let _ = std::io::BufReader::new(out).read_line(&mut first);
        let _ = tx.send(first);
    });
    let first = rx.recv_timeout(Duration::from_secs(15)).expect("watch printed nothing: it waits on the FIFO");
    assert!(first.starts_with("-- ") && first.trim_end().ends_with("UTC --"), "the time is told in UTC: {first}");
}

#[test]
fn a_non_blocking_standard_output_with_a_slow_reader_gets_every_byte() {
    use std::io::Read;
    use std::os::fd::{FromRawFd, OwnedFd};
    let tmp = tempfile::tempdir().unwrap();
    let rt = tmp.path().join("rt");
    for n in 0..2000 {
        let id = format!("NONBLOCKING-{n:05}");
        publish(&rt, &id, &running_config(&id, 1337, "2025-09-08T12:00:00Z", false));
    }
    let mut fds = [0; 2];
    // SAFETY: two descriptors are written into `fds`, and owned below.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both are fresh descriptors from pipe(2), owned by nobody else.
    let (read_end, write_end) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // As a parent that made its end non-blocking (node, some shells) leaves it.
    // SAFETY: fcntl on a descriptor we own.
    unsafe { libc::fcntl(fds[1], libc::F_SETFL, libc::fcntl(fds[1], libc::F_GETFL) | libc::O_NONBLOCK) };
    let mut c = bin();
    c.arg("--runtime-dir").arg(&rt).args(["list", "--all", "--json", "--no-probe"]);
    c.stdin(std::process::Stdio::null()).stdout(write_end).stderr(std::process::Stdio::piped());
    let mut child = Reaped(c.spawn().unwrap());
    drop(c);
    std::thread::sleep(Duration::from_millis(1500)); // a slow reader: the pipe fills
    let mut out = Vec::new();
    std::fs::File::from(read_end).read_to_end(&mut out).unwrap();
    let mut err = String::new();
    child.0.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    let status = child.0.wait().unwrap();
    assert!(status.success(), "{status}: {err}");
    let list: Vec<serde_json::Value> = serde_json::from_slice(&out).expect("the whole array");
    assert_eq!(list.len(), 2000);
}
