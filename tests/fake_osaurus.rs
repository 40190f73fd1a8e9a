//! `scripts/fake-osaurus.py`, the benchmarks' Osaurus: it writes its file
//! byte for byte as Osaurus does, answers as Osaurus does, logs what Osaurus
//! logs (OPTIONS apart), leaves its folder behind only when killed, and
//! restarts as Osaurus does.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{fake_osaurus as fake, foundation_json, running_config};

const ID: &str = "F26F8B59-2B64-4C57-8C5A-5A1CE9F9B4A8";

/// One request on its own connection: the status line, the headers (lower
/// case names) and the body, read to the end.
fn ask(port: u16, method: &str, path: &str, headers: &[&str]) -> (String, Vec<String>, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: osaurus-tray/test\r\n");
    for h in headers {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no header end in {raw:?}"));
    let mut lines = head.lines();
    let status = lines.next().unwrap().to_owned();
    (status, lines.map(str::to_ascii_lowercase).collect(), body.to_owned())
}

fn log_lines(path: &Path) -> Vec<serde_json::Value> {
    let text = fs::read_to_string(path).unwrap_or_default();
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The bytes of `folder`'s configuration.json are what Osaurus writes for
/// the same values, and nothing else is in the folder.
fn assert_osaurus_bytes(folder: &Path, port: u16, exposed: bool) {
    let names: Vec<String> =
        fs::read_dir(folder).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["configuration.json"]);
    let bytes = fs::read_to_string(folder.join("configuration.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&bytes).unwrap();
    let updated = doc["updatedAt"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(updated).is_ok() && updated.ends_with('Z') && updated.len() == 20);
    assert_eq!(bytes, foundation_json(&running_config(ID, port, updated, exposed)));
}

#[test]
fn the_fake_writes_answers_and_logs_as_osaurus_does() {
    let tmp = tempfile::tempdir().unwrap();
    let (rt, log) = (tmp.path().join("runtime"), tmp.path().join("log"));
    let args = ["--runtime-dir", rt.to_str().unwrap(), "--instance-id", ID, "--log", log.to_str().unwrap()];
    let (mut child, port) = fake(&args);
    assert_osaurus_bytes(&rt.join(ID), port, false);

    let (status, headers, body) = ask(port, "GET", "/health", &[]);
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(headers.contains(&"connection: close".to_owned()), "{headers:?}");
    assert!(headers.contains(&format!("content-length: {}", body.len())), "{headers:?}");
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["status"], "healthy");
    assert!(!body.contains(' '), "compact: {body}");
    let (status, _, body) = ask(port, "GET", "/v1/models", &[]);
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.contains(r#""id":"openai\/gpt-oss-20b""#), "{body}");
    assert_eq!(ask(port, "OPTIONS", "/v1/models", &[]).0, "HTTP/1.1 204 No Content");
    assert_eq!(ask(port, "HEAD", "/health", &[]).0, "HTTP/1.1 204 No Content");

    let seen: Vec<(String, String, i64, bool)> = log_lines(&log)
        .iter()
        .map(|l| {
            assert_eq!(l["user_agent"], "osaurus-tray/test");
            assert_eq!(l["peer"], "127.0.0.1");
            let s = |k: &str| l[k].as_str().unwrap().to_owned();
            (s("method"), s("path"), l["status"].as_i64().unwrap(), l["logged"].as_bool().unwrap())
        })
        .collect();
    let want = [("GET", "/health", 200, true), ("GET", "/v1/models", 200, true)]
        .into_iter()
        .chain([("OPTIONS", "/v1/models", 204, false), ("HEAD", "/health", 204, true)]);
    let want: Vec<_> = want.map(|(m, p, s, l)| (m.to_owned(), p.to_owned(), s, l)).collect();
    assert_eq!(seen, want);

    // A stop removes the folder; a crash leaves it behind.
    Command::new("kill").args(["-TERM", &child.0.id().to_string()]).status().unwrap();
    wait_until("the fake kept its folder after SIGTERM", || !rt.join(ID).exists());
    assert!(child.0.wait().unwrap().success());
    let (mut child, port) = fake(&args);
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    assert_osaurus_bytes(&rt.join(ID), port, false);
}

#[test]
fn an_exposed_fake_wants_its_key_for_models_and_says_so_in_its_file() {
    let tmp = tempfile::tempdir().unwrap();
    let rt = tmp.path().join("runtime");
    let rt_arg = rt.to_str().unwrap();
    let args = ["--runtime-dir", rt_arg, "--instance-id", ID, "--expose", "--key", "k1", "--address", "192.168.1.23"];
    let (_child, port) = fake(&args);
    assert_osaurus_bytes(&rt.join(ID), port, true);
    let (status, _, body) = ask(port, "GET", "/models", &["Authorization: Bearer wrong"]);
    assert_eq!(status, "HTTP/1.1 401 Unauthorized");
    let err: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(err["error"]["type"], "authentication_error");
    assert_eq!(ask(port, "GET", "/v1/models", &["Authorization: Bearer k1"]).0, "HTTP/1.1 200 OK");
    assert_eq!(ask(port, "GET", "/health", &[]).0, "HTTP/1.1 200 OK", "/health needs no key");
}

#[test]
fn a_restarted_fake_goes_through_restarting_and_starting_on_the_same_port() {
    let tmp = tempfile::tempdir().unwrap();
    let rt = tmp.path().join("runtime");
    let (child, port) = fake(&["--runtime-dir", rt.to_str().unwrap(), "--instance-id", ID, "--restart-ms", "400"]);
    let file = rt.join(ID).join("configuration.json");
    Command::new("kill").args(["-USR1", &child.0.id().to_string()]).status().unwrap();
    let mut healths: Vec<String> = vec!["running".into()];
    wait_until("the fake did not come back running", || {
        let bytes = fs::read_to_string(&file).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&bytes).unwrap();
        let health = doc["health"].as_str().unwrap().to_owned();
        if health != "running" {
            let updated = doc["updatedAt"].as_str().unwrap();
            assert_eq!(bytes, foundation_json(&common::starting_config(ID, updated, &health)));
        }
        if healths.last() != Some(&health) {
            healths.push(health);
        }
        std::thread::sleep(Duration::from_millis(5));
        healths.len() == 4
    });
    assert_eq!(healths, ["running", "restarting", "starting", "running"]);
    assert_osaurus_bytes(&rt.join(ID), port, false);
    wait_until("the restarted fake does not answer", || {
        TcpStream::connect(("127.0.0.1", port)).is_ok() && ask(port, "GET", "/health", &[]).0 == "HTTP/1.1 200 OK"
    });
}
