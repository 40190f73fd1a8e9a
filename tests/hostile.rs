//! A hostile corpus: runtime folders written by someone who means harm (or by
//! a crashing writer). For each, `list --all --json --no-probe` must exit 0,
//! answer well under a second, print valid JSON and name the problem; nothing
//! shown to a person may carry control or bidi characters; no URL but the
//! one built from `address` and `port` (or a checked http(s) one) may appear.

mod common;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use chrono::FixedOffset;
use common::*;
use osaurus_tray::discovery::RuntimeDirs;
use osaurus_tray::menu_model::{self, Action, Context, Item, MAX_LABEL};
use osaurus_tray::settings::Settings;
use osaurus_tray::snapshot::Snapshot;
use osaurus_tray::text::is_unsafe;
use serde_json::Value;

/// Every case but the 10,000-folder one must answer within this.
const FAST: Duration = Duration::from_secs(1);

fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// No control characters (other than the line ends listed in `allowed`), no
/// bidi overrides or isolates, and no invisible characters.
fn assert_printable(what: &str, s: &str, allowed: &[char]) {
    let bad: Vec<char> =
        s.chars().filter(|&c| ((c.is_control() || is_unsafe(c)) && !allowed.contains(&c)) || is_bidi(c)).collect();
    assert!(bad.is_empty(), "{what} carries {bad:?}: {s:?}");
}

/// Runs the binary with `--runtime-dir dir` and `args`, its output going to
/// files: `common::run_with_deadline` reads its pipes only at exit, so an
/// output over the pipe's 64 KiB (10,000 entries) would block the child.
fn run_to_files(dir: &Path, args: &[&str], deadline: Duration) -> Output {
    let files = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (files.path().join("stdout"), files.path().join("stderr"));
    let mut cmd = bin();
    cmd.arg("--runtime-dir").arg(dir).args(args).stdin(Stdio::null());
    cmd.stdout(fs::File::create(&out_path).unwrap()).stderr(fs::File::create(&err_path).unwrap());
    let mut child = cmd.spawn().expect("spawn osaurus-tray");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("osaurus-tray {args:?} did not finish within {deadline:?} in {}", dir.display());
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    Output { status, stdout: fs::read(&out_path).unwrap(), stderr: fs::read(&err_path).unwrap() }
}

/// Runs `list --all --json --no-probe`, checking that it takes under `limit`.
fn list_timed(dir: &Path, limit: Duration) -> (Output, Duration) {
    let start = Instant::now();
    let out = run_to_files(dir, &["list", "--all", "--json", "--no-probe"], limit + Duration::from_secs(10));
    let took = start.elapsed();
    assert!(took < limit, "list took {took:?} (limit {limit:?}) in {}", dir.display());
    (out, took)
}

/// `list --all --json --no-probe` over `dir`: exit 0, fast, valid JSON.
fn list_all(dir: &Path, limit: Duration) -> Vec<Value> {
    let (out, _) = list_timed(dir, limit);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    json(&out)
}

fn entry<'a>(v: &'a [Value], id: &str) -> &'a Value {
    v.iter().find(|i| i["instanceId"] == id).unwrap_or_else(|| panic!("{id:?} not listed: {v:#?}"))
}

fn problem(e: &Value) -> &str {
    e["problem"].as_str().unwrap_or_else(|| panic!("no problem named: {e}"))
}

fn url_of(e: &Value) -> Option<&str> {
    e["url"].as_str()
}

/// Publishes `bytes` as the only instance `X` and returns its entry.
fn one(bytes: &[u8]) -> Value {
    let rt = tempfile::tempdir().unwrap();
    publish_raw(rt.path(), "X", bytes);
    let v = list_all(rt.path(), FAST);
    assert_eq!(v.len(), 1, "{v:#?}");
    v[0].clone()
}

/// A running configuration on 127.0.0.1:1337 with `extra` keys overriding.
fn running_with(extra: Value) -> Vec<u8> {
    let mut cfg = serde_json::json!({"health": "running", "port": 1337, "address": "127.0.0.1"});
    for (k, v) in extra.as_object().unwrap() {
        cfg[k] = v.clone();
    }
    serde_json::to_vec(&cfg).unwrap()
}

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus").join(name)
}

/// The human table of `list --all`.
fn table(dir: &Path) -> String {
    let out = run_to_files(dir, &["list", "--all", "--no-probe"], Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    stdout(&out)
}

fn ctx() -> Context {
    Context {
        local: FixedOffset::east_opt(0).unwrap(),
        runtime_folder: None,
        can_start_osaurus: true,
        has_title: true,
        launch_at_login: Some(false),
        system_notes: Vec::new(),
        settings: Settings::default(),
        notice: None,
        exposure: Default::default(),
        interfaces: Vec::new(),
    }
}

/// Builds the menu for `dir` in-process and checks every label, URL and copied text.
fn assert_clean_menu(dir: &Path) -> menu_model::MenuModel {
    fn walk(items: &[Item], count: &mut usize) {
        for item in items {
            *count += 1;
            let label = item.label();
            assert!(label.chars().count() <= MAX_LABEL, "label too long: {label:?}");
            assert_printable("menu label", label, &[]);
            match item {
                Item::Submenu { items, .. } => walk(items, count),
                Item::Row { action: Some(Action::OpenUrl(url)), .. } => {
                    assert!(url.starts_with("http://") || url.starts_with("https://"), "opens {url:?}");
                    assert_printable("opened URL", url, &[]);
                }
                Item::Row { action: Some(Action::Copy(text)), .. } => assert_printable("copied text", text, &[]),
                _ => {}
            }
        }
    }
    let snap = Snapshot::take(&RuntimeDirs::explicit(dir.to_path_buf()), None);
    let model = menu_model::build(&snap, &ctx());
    let mut count = 0;
    walk(&model.items, &mut count);
    assert!(count > 5, "the menu was walked: {count} items");
    assert_printable("tooltip", &model.tooltip, &[]);
    model
}

#[test]
fn deeply_nested_json_is_invalid_not_a_stack_overflow() {
    // Under the 64 KiB limit, so the parser itself meets the nesting.
    let e = one("[".repeat(60_000).as_bytes());
    assert_eq!(e["state"], "invalid");
    assert!(problem(&e).contains("not valid JSON") && problem(&e).contains("recursion"), "{e}");
    let objects = one("{\"a\":".repeat(12_000).as_bytes());
    assert_eq!(objects["state"], "invalid");
    assert!(problem(&objects).contains("not valid JSON"), "{objects}");
    // Over it: refused unread.
    let e = one("[".repeat(100_000).as_bytes());
    assert_eq!(e["state"], "invalid");
    assert!(problem(&e).contains("64 KiB"), "{e}");
}

#[test]
fn an_object_with_five_thousand_keys_is_read_for_what_matters() {
    let keys: String = (0..5_000).map(|n| format!("\"k{n}\":{n},")).collect();
    let rt = tempfile::tempdir().unwrap();
    publish_raw(rt.path(), "NOHEALTH", format!("{{{keys}\"port\":1337}}").as_bytes());
    let good = format!("{{{keys}\"health\":\"running\",\"port\":1337,\"address\":\"127.0.0.1\"}}");
    assert!(good.len() < 64 * 1024 && good.len() > 40_000, "{}", good.len());
    publish_raw(rt.path(), "MANY", good.as_bytes());
    let v = list_all(rt.path(), FAST);
    let bad = entry(&v, "NOHEALTH");
    assert_eq!(bad["state"], "invalid");
    assert!(problem(bad).contains("\"health\""), "{bad}");
    let many = entry(&v, "MANY");
    assert_eq!(many["state"], "running");
    assert_eq!(many["url"], "http://127.0.0.1:1337");
}

#[test]
fn duplicate_keys_never_mislead() {
    let rt = tempfile::tempdir().unwrap();
    publish_raw(rt.path(), "RS", br#"{"health":"running","health":"starting","port":1337,"address":"127.0.0.1"}"#);
    publish_raw(rt.path(), "SR", br#"{"health":"starting","health":"running","port":1337,"address":"127.0.0.1"}"#);
    publish_raw(rt.path(), "PORTS", br#"{"health":"running","address":"127.0.0.1","port":1,"port":2}"#);
    publish_raw(
        rt.path(),
        "ADDRS",
        br#"{"health":"running","port":3,"address":"127.0.0.1","address":"0.0.0.0","url":"http://127.0.0.1:3"}"#,
    );
    let v = list_all(rt.path(), FAST);
    // Whatever is shown is what the last key says, or the entry is invalid with a reason.
    for (id, last_state) in [("RS", "starting"), ("SR", "running"), ("PORTS", "running"), ("ADDRS", "running")] {
        let e = entry(&v, id);
        if e["state"] == "invalid" {
            assert!(!problem(e).is_empty(), "{e}");
            assert_eq!(e["url"], Value::Null);
        } else {
            assert_eq!(e["state"], last_state, "{e}");
        }
    }
    if entry(&v, "RS")["state"] == "starting" {
        assert_eq!(entry(&v, "RS")["url"], Value::Null);
    }
    if entry(&v, "PORTS")["state"] == "running" {
        assert_eq!(entry(&v, "PORTS")["port"], 2);
        assert_eq!(entry(&v, "PORTS")["url"], "http://127.0.0.1:2");
    }
    if entry(&v, "ADDRS")["state"] == "running" {
        assert_eq!(entry(&v, "ADDRS")["address"], "0.0.0.0");
        assert_eq!(entry(&v, "ADDRS")["exposed"], true, "the address that counts is exposed");
    }
}

#[test]
fn numbers_out_of_range_are_not_ports() {
    for (port, needle) in [
        ("1e400", "not valid JSON"),
        ("-0", "not a TCP port"),
        ("0", "not a TCP port"),
        ("65536", "not a TCP port"),
        ("1.0", "not a TCP port"),
        ("1337.5", "not a TCP port"),
        ("-1337", "not a TCP port"),
        ("18446744073709551617", "not a TCP port"),
    ] {
        let e = one(format!(r#"{{"health":"running","address":"127.0.0.1","port":{port}}}"#).as_bytes());
        assert_eq!(e["state"], "invalid", "port {port}: {e}");
        assert_eq!(e["url"], Value::Null, "port {port}");
        assert_eq!(e["port"], Value::Null, "port {port}");
        assert!(problem(&e).contains(needle), "port {port}: {e}");
    }
}

#[test]
fn nul_control_and_bidi_characters_never_reach_a_person() {
    let rt = tempfile::tempdir().unwrap();
    let evil_id = "ID\u{202E}\u{7}\u{1b}[31m\u{2066}x";
    let cfg = running_with(serde_json::json!({
        "instanceId": "x\u{0}\u{202E}\u{1b}]0;pwned\u{7}",
        "url": "http://127.0.0.1:1337/\u{202E}moc.elgoog\n\u{0}",
    }));
    publish_raw(rt.path(), evil_id, &cfg);
    publish_raw(rt.path(), "ADDRNUL", &running_with(serde_json::json!({"address": "127.0.0.1\u{0}"})));
    publish_raw(rt.path(), "ADDRBIDI", &running_with(serde_json::json!({"address": "\u{202E}1.0.0.721"})));
    publish_raw(rt.path(), "ADDRNL", &running_with(serde_json::json!({"address": "127.0.\n0.1"})));
    publish_raw(rt.path(), "ADDRTAB", &running_with(serde_json::json!({"address": "exam\tple.com"})));
    publish_raw(rt.path(), "URLCTRL", &running_with(serde_json::json!({"url": "\u{1}http://127.0.0.1:1337"})));
    publish_raw(rt.path(), "URLCASE", &running_with(serde_json::json!({"url": "HTTP://127.0.0.1:1337"})));
    publish_raw(rt.path(), "URLTAB", &running_with(serde_json::json!({"url": "ht\ttp://127.0.0.1:1337/\u{2067}"})));
    // A raw (unescaped) NUL byte inside a JSON string.
    publish_raw(rt.path(), "RAWNUL", b"{\"health\":\"running\0\",\"port\":1337,\"address\":\"127.0.0.1\"}");

    let v = list_all(rt.path(), FAST);
    assert_eq!(v.len(), 9, "{v:#?}");
    // JSON keeps the id exactly (escaped), so scripts can find the folder.
    let e = entry(&v, evil_id);
    assert_eq!(e["state"], "running", "{e}");
    assert!(problem(e).contains("differs"), "{e}");
    for e in &v {
        let id = e["instanceId"].as_str().unwrap();
        if let Some(url) = url_of(e) {
            assert!(url.starts_with("http://"), "{id:?}: {url:?}");
            assert_printable(&format!("url of {id:?}"), url, &[]);
            assert!(!url.contains(char::is_whitespace), "{id:?}: {url:?}");
        }
        if e["state"] != "running" {
            assert!(!problem(e).is_empty(), "{e}");
        }
    }
    assert!(url_of(e).unwrap().starts_with("http://127.0.0.1:1337"), "{e}");
    for id in ["ADDRNUL", "ADDRBIDI"] {
        let e = entry(&v, id);
        assert_eq!(e["state"], "invalid", "{e}");
        assert!(problem(e).contains("address"), "{e}");
    }
    for id in ["ADDRNL", "ADDRTAB"] {
        let e = entry(&v, id);
        // Either refused, or the URL is what the address really names.
        if e["state"] == "invalid" {
            assert!(problem(e).contains("address"), "{e}");
        } else {
            assert!(["http://127.0.0.1:1337", "http://example.com:1337"].contains(&url_of(e).unwrap()), "{e}");
        }
    }
    for id in ["URLCTRL", "URLCASE", "URLTAB"] {
        let e = entry(&v, id);
        assert_eq!(e["state"], "running", "{e}");
        assert!(url_of(e).unwrap().starts_with("http://127.0.0.1:1337"), "{e}");
        assert!(!problem(e).is_empty(), "{id}: the odd url is named: {e}");
    }
    let raw = entry(&v, "RAWNUL");
    assert_eq!(raw["state"], "invalid");
    assert!(problem(raw).contains("not valid JSON") && problem(raw).contains("control character"), "{raw}");

    // The human table: one line per entry, nothing that steers a terminal.
    let t = table(rt.path());
    assert_printable("list --all table", &t, &['\n']);
    assert_eq!(t.lines().count(), 10, "{t}");
    assert!(t.contains("running"), "{t}");

    // The menu, built in-process from the same folder.
    let menu = assert_clean_menu(rt.path());
    let rows = menu.items.iter().filter(|i| i.label().starts_with("http://127.0.0.1:1337")).count();
    assert!(rows >= 4, "running rows shown: {:?}", menu.items.iter().map(Item::label).collect::<Vec<_>>());
}

#[test]
fn invisible_characters_never_make_two_ids_look_the_same() {
    let rt = tempfile::tempdir().unwrap();
    let ids = [
        "T\u{E0041}",
        "T\u{E0042}",
        "S\u{AD}",
        "S",
        "H\u{3164}",
        "H\u{115F}\u{1160}",
        "V\u{FE0F}",
        "Z\u{200B}",
        "N\u{A0}",
        "E\u{1b}]52;c;aGk=\u{7}",
    ];
    for (n, id) in ids.iter().enumerate() {
        let cfg = running_with(
            serde_json::json!({"port": 2000 + n, "instanceId": id, "updatedAt": format!("2025-01-01T00:00:{n:02}Z")}),
        );
        publish_raw(rt.path(), id, &cfg);
    }
    let v = list_all(rt.path(), FAST);
    assert_eq!(v.len(), ids.len(), "{v:#?}");
    let t = table(rt.path());
    assert_printable("list --all table", &t, &['\n']);
    // Each line names its own id: no two rows look the same.
    let rows: Vec<&str> = t.lines().skip(1).map(|l| l.split("  ").filter(|c| !c.is_empty()).nth(5).unwrap()).collect();
    let distinct: std::collections::BTreeSet<&str> = rows.iter().copied().collect();
    assert_eq!(distinct.len(), ids.len(), "{t}");
    assert!(t.contains("T\\u{E0041}") && t.contains("S\\u{AD}"), "{t}");
    assert_clean_menu(rt.path());
}

#[test]
fn javascript_file_and_data_urls_are_never_used() {
    for hostile in [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)//http://127.0.0.1:1337",
        " javascript:alert(1)",
        "\u{1}javascript:alert(1)",
        "file:///etc/passwd",
        "file://127.0.0.1:1337/etc/passwd",
        "data:text/html,<script>alert(1)</script>",
        "data:text/html;base64,PHNjcmlwdD4=",
        "http://user:pw@127.0.0.1:1337",
        "http://127.0.0.1:1337@evil.example:1337",
        "vbscript:msgbox",
        "//127.0.0.1:1337",
    ] {
        let e = one(&running_with(serde_json::json!({ "url": hostile })));
        let url = url_of(&e);
        assert!(url == Some("http://127.0.0.1:1337") || e["state"] == "invalid", "{hostile:?}: {e}");
        assert!(!problem(&e).is_empty(), "{hostile:?}: {e}");
    }
}

#[test]
fn a_remote_address_is_exposed_and_never_handed_out() {
    // Probes are off here, and even on they never go to these hosts: the
    // prober only ever requests 127.0.0.1 (tests/probe.rs). What matters is
    // that the entries say they are exposed, and that no URL to another
    // host is handed out.
    let rt = tempfile::tempdir().unwrap();
    publish_raw(rt.path(), "NAME", &running_with(serde_json::json!({"address": "example.com", "port": 9})));
    publish_raw(
        rt.path(),
        "IP",
        &running_with(serde_json::json!({"address": "203.0.113.7", "exposeToNetwork": false, "port": 9})),
    );
    publish_raw(
        rt.path(),
        "URLONLY",
        &running_with(serde_json::json!({"address": " 198.51.100.4 ", "url": "http://198.51.100.4:1337"})),
    );
    let v = list_all(rt.path(), FAST);
    let name = entry(&v, "NAME");
    assert_eq!(name["state"], "invalid", "{name}");
    assert!(problem(name).contains("host name, not this machine's address"), "{name}");
    for (id, url) in [("IP", "http://203.0.113.7:9"), ("URLONLY", "http://198.51.100.4:1337")] {
        let e = entry(&v, id);
        assert_eq!(e["state"], "running", "{e}");
        assert_eq!(e["exposed"], true, "{e}");
        assert_eq!(url_of(e), Some(url), "{e}");
        assert_eq!(e["addressOnThisMachine"], false, "{e}");
    }
    let menu = assert_clean_menu(rt.path());
    let warnings = menu.items.iter().filter(|i| i.label().starts_with("⚠ Exposed")).count();
    assert_eq!(warnings, 2);
    for args in [&["url", "--no-probe"][..], &["env", "--no-probe"], &["url"], &["env"]] {
        let out = run_to_files(rt.path(), args, Duration::from_secs(20));
        let text = stdout(&out);
        assert!(
            !text.contains("example.com") && !text.contains("203.0.113") && !text.contains("198.51.100"),
            "{args:?}: {text}"
        );
    }
}

#[test]
fn a_host_that_is_not_this_machine_never_wins_even_from_the_future() {
    // A real server on this machine; a file naming another host on its port,
    // written "in 2099", next to the honest file of that server.
    let server = HealthServer::start();
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "HONEST", &running_config("HONEST", server.port, "2025-09-08T12:00:00Z", false));
    for (id, address) in [("EVILNAME", "evil.example.com"), ("EVILIP", "203.0.113.9")] {
        let cfg = serde_json::json!({
            "instanceId": id, "health": "running", "port": server.port, "address": address,
            "url": format!("http://{address}:{}", server.port), "exposeToNetwork": true,
            "updatedAt": "2099-01-01T00:00:00Z",
        });
        publish(rt.path(), id, &cfg);
    }
    for args in [&["url"][..], &["url", "--no-probe"], &["env"], &["env", "--no-probe"]] {
        let out = run_to_files(rt.path(), args, Duration::from_secs(20));
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(text.contains(&format!("http://127.0.0.1:{}", server.port)), "{args:?}: {text}");
        assert!(!text.contains("evil") && !text.contains("203.0.113"), "{args:?} handed out another host: {text}");
    }
    let out = run_to_files(rt.path(), &["list", "--all"], Duration::from_secs(20));
    let table = stdout(&out);
    assert!(table.contains("host name, not this machine's address"), "{table}");
    assert!(table.contains("LAN address 203.0.113.9 gone"), "{table}");
    assert!(table.contains("updatedAt is in the future"), "{table}");
}

#[test]
fn the_wildcard_address_is_handed_out_as_loopback() {
    let e = one(&running_with(serde_json::json!({"address": "0.0.0.0", "url": "http://0.0.0.0:1337"})));
    assert_eq!(e["state"], "running", "{e}");
    assert_eq!(url_of(&e), Some("http://127.0.0.1:1337"), "{e}");
    assert_eq!(e["exposed"], true, "{e}");
    let e = one(&running_with(serde_json::json!({"address": "::"})));
    assert_eq!(url_of(&e), Some("http://127.0.0.1:1337"), "{e}");
}

#[test]
fn ten_thousand_instance_folders() {
    let rt = tempfile::tempdir().unwrap();
    for n in 0..10_000u32 {
        let dir = rt.path().join(format!("I{n:05}"));
        fs::create_dir(&dir).unwrap();
        let cfg = if n % 10 == 0 {
            br#"{"health":"running","port":"x"}"#.to_vec()
        } else {
            running_with(serde_json::json!({"port": 1 + n, "updatedAt": "2025-09-08T12:35:12Z"}))
        };
        fs::write(dir.join("configuration.json"), cfg).unwrap();
    }
    // A debug build reads 10,000 folders in well under a second here; 5 s
    // leaves room for a loaded machine (release: see benches/list.rs).
    let v = list_all(rt.path(), Duration::from_secs(5));
    assert_eq!(v.len(), 10_000);
    let invalid: Vec<&Value> = v.iter().filter(|e| e["state"] == "invalid").collect();
    assert_eq!(invalid.len(), 1_000);
    assert!(invalid.iter().all(|e| problem(e).contains("\"port\" should be a number")), "{:?}", invalid[0]);
    assert_eq!(v[0]["state"], "running");
}

#[test]
fn a_runtime_folder_that_is_a_file_a_fifo_or_a_loop() {
    let rt = tempfile::tempdir().unwrap();
    let file = rt.path().join("file");
    fs::write(&file, "{}").unwrap();
    let fifo = rt.path().join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let looped = rt.path().join("loop");
    symlink(&looped, &looped).unwrap();
    for (dir, needle) in [(&file, "not a folder"), (&fifo, "not a directory"), (&looped, "symbolic links")] {
        let (out, _) = list_timed(dir, FAST);
        // No entries, and the folder not read: a failure (exit 3), with the reason on stderr.
        assert_eq!(out.status.code(), Some(3), "{}", dir.display());
        assert_eq!(json(&out), Vec::<Value>::new());
        let err = stderr(&out);
        assert!(err.contains(needle) && err.contains(dir.to_str().unwrap()), "{}: {err}", dir.display());
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn unreadable_folders() {
    let rt = tempfile::tempdir().unwrap();
    let locked = publish_raw(rt.path(), "LOCKED", &running_with(serde_json::json!({})));
    publish_raw(rt.path(), "OPEN", &running_with(serde_json::json!({"port": 1338})));
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    let (out, _) = list_timed(rt.path(), FAST);
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(entry(&v, "OPEN")["state"], "running");
    if is_root() {
        // Permissions are not enforced for root: only "it did not crash" can be checked.
        eprintln!("running as root: permissions not enforced, only checking that list survives");
    } else {
        let e = entry(&v, "LOCKED");
        assert_eq!(e["state"], "invalid", "{e}");
        assert!(problem(e).contains("permission denied"), "{e}");
    }

    // The runtime folder itself unreadable.
    let outer = tempfile::tempdir().unwrap();
    let base = outer.path().join("runtime");
    publish_raw(&base, "A", &running_with(serde_json::json!({})));
    fs::set_permissions(&base, fs::Permissions::from_mode(0o000)).unwrap();
    let (out, _) = list_timed(&base, FAST);
    fs::set_permissions(&base, fs::Permissions::from_mode(0o755)).unwrap();
    let v = json(&out);
    if is_root() {
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    } else {
        assert_eq!(out.status.code(), Some(3));
        assert!(v.is_empty());
        assert!(stderr(&out).contains("permission denied"), "{}", stderr(&out));
    }
}

#[test]
fn fifos_are_never_opened_for_reading() {
    let rt = tempfile::tempdir().unwrap();
    let dir = rt.path().join("FIFOFILE");
    fs::create_dir(&dir).unwrap();
    assert!(Command::new("mkfifo").arg(dir.join("configuration.json")).status().unwrap().success());
    assert!(Command::new("mkfifo").arg(rt.path().join("FIFODIR")).status().unwrap().success());
    let v = list_all(rt.path(), FAST);
    let file = entry(&v, "FIFOFILE");
    assert_eq!(file["state"], "invalid");
    assert!(problem(file).contains("named pipe (FIFO), not a regular file"), "{file}");
    let folder = entry(&v, "FIFODIR");
    assert_eq!(folder["state"], "invalid");
    assert!(problem(folder).contains("named pipe (FIFO), not a folder"), "{folder}");
}

#[test]
fn a_ten_mebibyte_file_is_refused_quickly() {
    let mut big = br#"{"health":"running","port":1337,"address":"127.0.0.1","pad":""#.to_vec();
    big.resize(10 * 1024 * 1024, b' ');
    let e = one(&big);
    assert_eq!(e["state"], "invalid");
    assert!(problem(&e).contains("10485760 bytes, over the 64 KiB limit"), "{e}");
}

#[test]
fn symlink_loops_are_never_followed() {
    let rt = tempfile::tempdir().unwrap();
    let dir = rt.path().join("LOOPFILE");
    fs::create_dir(&dir).unwrap();
    symlink("configuration.json", dir.join("configuration.json")).unwrap();
    symlink(rt.path().join("LOOPDIR"), rt.path().join("LOOPDIR")).unwrap();
    symlink(rt.path().join("PONG"), rt.path().join("PING")).unwrap();
    symlink(rt.path().join("PING"), rt.path().join("PONG")).unwrap();
    let v = list_all(rt.path(), FAST);
    assert_eq!(v.len(), 4);
    for e in &v {
        assert_eq!(e["state"], "invalid", "{e}");
        assert!(problem(e).contains("symbolic link"), "{e}");
    }
}

#[test]
fn invalid_utf8_in_files_and_folder_names() {
    let rt = tempfile::tempdir().unwrap();
    publish_raw(rt.path(), "BYTES", b"{\"health\":\"running\",\"address\":\"127.0.0.\xc0\xae1\",\"port\":1337}");
    publish_raw(rt.path(), "BOM", b"\xef\xbb\xbf{\"health\":\"running\",\"address\":\"127.0.0.1\",\"port\":1337}");
    let name = OsStr::from_bytes(b"NAME\xff\xfe");
    let dir = rt.path().join(name);
    let named_made = make_dir_unless_name_refused(&dir);
    if named_made {
        fs::write(dir.join("configuration.json"), running_with(serde_json::json!({}))).unwrap();
    }
    let v = list_all(rt.path(), FAST);
    assert_eq!(v.len(), 2 + usize::from(named_made), "{v:#?}");
    let bytes = entry(&v, "BYTES");
    assert_eq!(bytes["state"], "invalid");
    assert!(problem(bytes).contains("not valid UTF-8 (at byte 39)"), "{bytes}");
    let bom = entry(&v, "BOM");
    assert_eq!(bom["state"], "invalid");
    assert!(problem(bom).contains("not valid JSON"), "{bom}");
    if named_made {
        let named = entry(&v, "NAME\\xFF\\xFE");
        assert_eq!(named["state"], "running", "{named}");
    }
    assert_printable("table", &table(rt.path()), &['\n']);
    assert_clean_menu(rt.path());
}

/// Two instance folders under `rt` that may look alike: `quiet` says
/// `starting`, `loud` runs exposed to the network. Returns their paths, or
/// None (saying why) when the file system refuses either name.
fn twins(rt: &Path, quiet: &OsStr, loud: &OsStr) -> Option<(PathBuf, PathBuf)> {
    let (quiet, loud) = (rt.join(quiet), rt.join(loud));
    if !make_dir_unless_name_refused(&quiet) || !make_dir_unless_name_refused(&loud) {
        return None;
    }
    fs::write(quiet.join("configuration.json"), br#"{"health":"starting"}"#).unwrap();
    let exposed = running_with(serde_json::json!({"address": "0.0.0.0", "exposeToNetwork": true}));
    fs::write(loud.join("configuration.json"), exposed).unwrap();
    Some((quiet, loud))
}

#[test]
fn two_names_that_differ_only_in_invalid_utf8_are_two_entries() {
    let rt = tempfile::tempdir().unwrap();
    let Some(_) = twins(rt.path(), OsStr::from_bytes(b"TWIN\xfe"), OsStr::from_bytes(b"TWIN\xff")) else { return };
    let v = list_all(rt.path(), FAST);
    assert_eq!(v.len(), 2, "{v:#?}");
    assert_eq!(entry(&v, "TWIN\\xFE")["state"], "starting");
    let e = entry(&v, "TWIN\\xFF");
    assert_eq!((&e["state"], &e["exposed"]), (&Value::from("running"), &Value::from(true)), "{e}");
    let t = table(rt.path());
    assert!(t.contains("TWIN\\xFE") && t.contains("TWIN\\xFF"), "{t}");
    assert_printable("table", &t, &['\n']);
    let menu = assert_clean_menu(rt.path());
    assert!(menu.items.iter().any(|i| i.label().starts_with("⚠ Exposed")), "the exposed one is not hidden");
}

#[test]
fn a_name_that_reads_as_an_escape_and_the_name_it_reads_as_are_two_entries() {
    // `TWIN\xFF` written out, and `TWIN` with the byte 0xFF: each is its own
    // entry in list and in watch, and the exposed one is never hidden.
    let rt = tempfile::tempdir().unwrap();
    let Some((literal, _)) = twins(rt.path(), OsStr::new("TWIN\\xFF"), OsStr::from_bytes(b"TWIN\xff")) else { return };
    let v = list_all(rt.path(), FAST);
    assert_eq!(v.len(), 2, "{v:#?}");
    assert_eq!(entry(&v, "TWIN\\x5CxFF")["state"], "starting");
    assert_eq!(entry(&v, "TWIN\\xFF")["exposed"], true);
    let mut w = WatchProc::start(rt.path(), &["--no-probe"], &[]);
    let line = w.next(Duration::from_secs(5)).expect("a first line");
    let shown: Vec<&str> =
        line["instances"].as_array().unwrap().iter().map(|i| i["instanceId"].as_str().unwrap()).collect();
    assert_eq!(shown.len(), 2, "watch shows both: {shown:?}");
    // A change to the one written out reaches its own entry.
    fs::write(literal.join("configuration.json"), br#"{"health":"restarting"}"#).unwrap();
    w.wait_for(Duration::from_secs(5), "the restart", |v| {
        v.len() == 2 && v.iter().any(|i| i["instanceId"] == "TWIN\\x5CxFF" && i["state"] == "restarting")
    });
}

#[test]
fn an_out_of_range_folder_mtime_does_not_crash() {
    // ext4 clamps timestamps to 1901..2446; tmpfs keeps any 64-bit time, far
    // beyond what chrono can hold (year 262143).
    let Ok(rt) = tempfile::tempdir_in("/dev/shm") else {
        eprintln!("skipped: no /dev/shm");
        return;
    };
    let dir = publish_raw(rt.path(), "FUTURE", br#"{"health":"starting"}"#);
    let far = Command::new("touch").arg("-d").arg("@9000000000000").arg(&dir).status().unwrap();
    let past = publish_raw(rt.path(), "PAST", b"{");
    let far_past = Command::new("touch").arg("-d").arg("@-9000000000000").arg(&past).status().unwrap();
    assert!(far.success() && far_past.success());
    let stored = fs::metadata(&dir).unwrap().modified().unwrap();
    if stored < std::time::UNIX_EPOCH + Duration::from_secs(8_300_000_000_000) {
        eprintln!("skipped: this /dev/shm clamps timestamps");
        return;
    }
    let v = list_all(rt.path(), FAST);
    let future = entry(&v, "FUTURE");
    assert_eq!(future["state"], "starting");
    assert_eq!(future["updatedAt"], Value::Null, "no time chrono cannot hold: {future}");
    let past = entry(&v, "PAST");
    assert_eq!(past["state"], "invalid");
    assert!(problem(past).contains("not valid JSON"));
    assert_printable("table", &table(rt.path()), &['\n']);
    assert_clean_menu(rt.path());
}

/// Inputs kept from fuzzing, read as configurations: the named ones in
/// tests/corpus and any `config-*` that scripts/fuzz.sh drops into
/// tests/corpus/crashers (which fails here until it is fixed).
#[test]
fn fuzz_crashers_stay_fixed() {
    let listed = |dir: PathBuf| fs::read_dir(dir).into_iter().flatten().map(|e| e.unwrap().path());
    let inputs: Vec<PathBuf> = listed(corpus(""))
        .filter(|p| p.extension() == Some(OsStr::new("json")))
        .chain(listed(corpus("crashers")).filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("config-")))
        .collect();
    assert!(inputs.len() >= 3, "{inputs:?}");
    for path in inputs {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let e = one(&fs::read(&path).unwrap());
        if let Some(url) = url_of(&e) {
            assert!(url.starts_with("http://") || url.starts_with("https://"), "{name}: {e}");
            assert_printable(&name, url, &[]);
            let parsed = url::Url::parse(url).unwrap_or_else(|err| panic!("{name}: {url:?}: {err}"));
            assert!(parsed.username().is_empty() && parsed.password().is_none(), "{name}: user info in {e}");
            assert_eq!(parsed.port_or_known_default().map(u64::from), e["port"].as_u64(), "{name}: {e}");
        }
        if e["state"] == "invalid" || e["state"] == "unknown" {
            assert!(!problem(&e).is_empty(), "{name}: {e}");
        }
    }
}

#[test]
fn urls_found_by_fuzzing_are_served_in_normal_form() {
    // From the config target: `"url" : "https:\/*\/localhost"` on port 443
    // passed every check and was served verbatim. Its host is `*`, not the
    // address, so the URL built from address and port is served instead.
    let e = one(&fs::read(corpus("url-not-in-normal-form.json")).unwrap());
    assert_eq!(e["state"], "running", "{e}");
    assert_eq!(url_of(&e), Some("http://localhost:443"), "{e}");
    assert!(problem(&e).contains("does not point at address"), "{e}");
    // From the menu_model target: `"httP:\/\/127.0.0.1:1337"` reached
    // `Action::OpenUrl` verbatim. Its address (`12<.0.0.1`) is no host, and
    // the URL does not point at it: nothing is served at all.
    let e = one(&fs::read(corpus("url-uppercase-scheme.json")).unwrap());
    assert_eq!(e["state"], "invalid", "{e}");
    assert_eq!(url_of(&e), None, "{e}");
    assert!(problem(&e).contains("not a host name"), "{e}");
}

#[test]
fn an_address_cannot_smuggle_user_info() {
    // From the config target: `"address" : ":E@21"` built `http://:E@21:8080`,
    // a URL with a password whose host (0.0.0.21) is not the address.
    let e = one(&fs::read(corpus("address-smuggles-a-password.json")).unwrap());
    assert_eq!(e["state"], "invalid", "{e}");
    assert_eq!(e["url"], Value::Null);
    assert!(problem(&e).contains("is not a host name or IP address"), "{e}");
    let e = one(&running_with(serde_json::json!({"address": ":x@evil.example"})));
    assert_eq!(e["state"], "invalid", "{e}");
    assert_eq!(e["url"], Value::Null);
}

// ---- prune -------------------------------------------------------------------

/// A port on which nothing listens now: bound, then released.
fn dead_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn leftover_config(port: u16) -> Vec<u8> {
    running_with(serde_json::json!({"port": port, "updatedAt": "2025-01-01T00:00:00Z"}))
}

/// What prune says of the process on a taken port: Linux names the
/// addresses it listens on too (from the socket table); macOS asks libproc
/// for the port's owner and names the process only.
#[cfg(target_os = "linux")]
const LISTENS: &str = "listens on it at";
#[cfg(not(target_os = "linux"))]
const LISTENS: &str = "listens on it";

#[test]
fn a_server_listening_elsewhere_than_127_0_0_1_is_never_pruned() {
    use osaurus_tray::discovery::read::read_instance;
    use osaurus_tray::probe::{Prober, Reply};
    let rt = tempfile::tempdir().unwrap();
    let mut servers = Vec::new();
    for (id, addr) in [("SIX", "[::1]:0"), ("TWO", "127.0.0.2:0")] {
        let Ok(server) = std::net::TcpListener::bind(addr) else {
            eprintln!("skipped {addr}: cannot bind it here");
            continue;
        };
        let port = server.local_addr().unwrap().port();
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            eprintln!("skipped {addr}: 127.0.0.1:{port} is taken too");
            continue;
        }
        // Written after its server started, as Osaurus writes it.
        publish_raw(rt.path(), id, &running_with(serde_json::json!({"port": port, "updatedAt": fresh(0)})));
        servers.push((id, port, server));
    }
    assert!(!servers.is_empty(), "neither ::1 nor 127.0.0.2 could be bound");
    let prober = Prober::default();
    for (id, port, _) in &servers {
        let dir = rt.path().join(id);
        let seen = read_instance(&dir, (*id).to_owned());
        assert_eq!(prober.health(*port), Reply::Refused, "127.0.0.1 refuses: only the socket table knows");
        let err = osaurus_tray::prune::remove(&seen, &prober).unwrap_err();
        assert!(err.contains(&format!("port {port} is taken")) && err.contains(LISTENS), "{err}");
        assert!(dir.join("configuration.json").exists(), "{id} was removed");
    }
    let out = run_in(rt.path(), &["prune"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for (id, port, _) in &servers {
        assert!(rt.path().join(id).join("configuration.json").exists(), "prune removed {id}");
        assert!(stderr(&out).contains(&format!("port {port} is taken")), "{}", stderr(&out));
    }
}

#[test]
fn a_folder_swapped_for_a_symlink_is_never_followed_by_prune() {
    use osaurus_tray::discovery::read::read_instance;
    use osaurus_tray::probe::Prober;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let rt = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let port = dead_port();
    let bytes = leftover_config(port);
    let victim = publish_raw(outside.path(), "VICTIM", &bytes);
    let prober = Prober::default();
    let (mut removed, mut refused) = (0, 0);
    let start = Instant::now();
    for n in 0..400 {
        if start.elapsed() > Duration::from_secs(4) {
            break;
        }
        let id = format!("X{n}");
        let dir = publish_raw(rt.path(), &id, &bytes);
        let seen = read_instance(&dir, id.clone());
        let stop = Arc::new(AtomicBool::new(false));
        let swapper = {
            let (stop, dir, hold, victim) =
                (stop.clone(), dir.clone(), rt.path().join(format!(".hold{n}")), victim.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if fs::rename(&dir, &hold).is_err() {
                        break;
                    }
                    let _ = symlink(&victim, &dir);
                    std::thread::yield_now();
                    let _ = fs::remove_file(&dir);
                    let _ = fs::rename(&hold, &dir);
                    std::thread::yield_now();
                }
            })
        };
        match osaurus_tray::prune::remove(&seen, &prober) {
            Ok(()) => removed += 1,
            Err(_) => refused += 1,
        }
        stop.store(true, Ordering::Relaxed);
        swapper.join().unwrap();
        assert!(
            victim.join("configuration.json").exists(),
            "attempt {n}: prune removed a file outside the runtime folder"
        );
        assert!(victim.is_dir(), "attempt {n}");
    }
    eprintln!("removed {removed}, refused {refused}");
    assert!(removed + refused > 10, "too few attempts");
}

#[test]
fn two_prunes_at_once_both_succeed() {
    use osaurus_tray::discovery::read::read_instance;
    use osaurus_tray::probe::Prober;
    let rt = tempfile::tempdir().unwrap();
    let port = dead_port();
    for n in 0..20 {
        let id = format!("L{n}");
        let dir = publish_raw(rt.path(), &id, &leftover_config(port));
        let seen = read_instance(&dir, id);
        let barrier = std::sync::Barrier::new(2);
        let results: Vec<Result<(), String>> = std::thread::scope(|s| {
            let run = || {
                barrier.wait();
                osaurus_tray::prune::remove(&seen, &Prober::default())
            };
            let a = s.spawn(run);
            let b = s.spawn(run);
            vec![a.join().unwrap(), b.join().unwrap()]
        });
        assert!(results.iter().all(Result::is_ok), "round {n}: {results:?}");
        assert!(!dir.exists(), "round {n}");
    }
    // One after the other: the second finds it gone, which is what was asked.
    let dir = publish_raw(rt.path(), "AGAIN", &leftover_config(port));
    let seen = read_instance(&dir, "AGAIN".into());
    osaurus_tray::prune::remove(&seen, &Prober::default()).unwrap();
    osaurus_tray::prune::remove(&seen, &Prober::default()).unwrap();
}

#[test]
fn prune_fails_when_a_runtime_folder_cannot_be_read() {
    let outer = tempfile::tempdir().unwrap();
    let file = outer.path().join("runtime");
    fs::write(&file, b"not a folder").unwrap();
    let out = run_in(&file, &["prune"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(!stderr(&out).contains("No leftovers"), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot read runtime folder"), "{}", stderr(&out));
    if is_root() {
        return;
    }
    let base = outer.path().join("locked");
    publish_raw(&base, "A", &leftover_config(dead_port()));
    fs::set_permissions(&base, fs::Permissions::from_mode(0o000)).unwrap();
    let out = run_in(&base, &["prune"]);
    fs::set_permissions(&base, fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(!stderr(&out).contains("No leftovers"), "{}", stderr(&out));
}

#[test]
fn prune_prints_names_sanitised() {
    let rt = tempfile::tempdir().unwrap();
    let id = "P\u{1b}]52;c;aGk=\u{7}\u{1b}[2J";
    publish_raw(rt.path(), id, &leftover_config(dead_port()));
    let out = run_in(rt.path(), &["prune", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("would remove"), "{}", stdout(&out));
    assert_printable("prune output", &stdout(&out), &['\n']);
    assert_printable("prune errors", &stderr(&out), &['\n']);
}

// ---- probes --------------------------------------------------------------------

/// Raises the soft limit on open files to the hard one (the test holds a
/// thousand listening sockets). macOS refuses a soft limit above OPEN_MAX
/// (setrlimit(2): "use rlim_cur = min(OPEN_MAX, rlim_max)"), and its hard
/// limit is often unlimited.
fn raise_file_limit() {
    // SAFETY: getrlimit/setrlimit on a local struct.
    unsafe {
        let mut l: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) != 0 {
            return;
        }
        // OPEN_MAX of <sys/syslimits.h>; the libc crate does not carry it.
        #[cfg(target_os = "macos")]
        let want = l.rlim_max.min(10_240);
        #[cfg(not(target_os = "macos"))]
        let want = l.rlim_max;
        if l.rlim_cur < want {
            l.rlim_cur = want;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &l) != 0 {
                eprintln!("could not raise the open-file limit to {want}: {}", std::io::Error::last_os_error());
            }
        }
    }
}

#[test]
fn a_thousand_ports_that_never_answer_take_one_probe_round() {
    raise_file_limit();
    let rt = tempfile::tempdir().unwrap();
    // Listening sockets never accepted: the kernel completes every
    // connection, nobody ever answers.
    let mut hanging = Vec::new();
    for n in 0..1000 {
        let Ok(l) = std::net::TcpListener::bind("127.0.0.1:0") else { break };
        let cfg = running_with(
            serde_json::json!({"port": l.local_addr().unwrap().port(), "updatedAt": "2025-06-01T00:00:00Z"}),
        );
        publish_raw(rt.path(), &format!("H{n:04}"), &cfg);
        hanging.push(l);
    }
    assert!(hanging.len() >= 500, "only {} sockets could be opened", hanging.len());
    // One round is 1 s (scripts/bench-hanging.py measures it); before, 10 s.
    let limit = Duration::from_secs(6);
    for args in [&["list", "--json"][..], &["url"], &["env"]] {
        let start = Instant::now();
        let out = run_to_files(rt.path(), args, Duration::from_secs(60));
        let took = start.elapsed();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(took < limit, "{args:?} took {took:?} over {} hanging ports", hanging.len());
        if args[0] == "list" {
            let v = json(&out);
            assert_eq!(v.len(), hanging.len());
            assert!(v.iter().all(|e| e["reachable"] == false), "a silent port counted as reachable");
        } else {
            assert!(stdout(&out).contains("http://127.0.0.1:"), "{args:?}: {}", stdout(&out));
        }
    }
}

#[test]
fn when_a_round_runs_short_of_time_the_newest_file_was_asked_first() {
    use osaurus_tray::discovery::{Instance, State};
    let entry = |id: &str, port: u16, updated: &str| {
        let mut i = Instance::invalid(id.into(), PathBuf::from(format!("/rt/{id}")), "x");
        i.state = State::Running;
        i.problem = None;
        i.port = Some(port);
        i.updated_at = Some(updated.parse().unwrap());
        i
    };
    // 640 old files, then a newer one last in the folders' order; every port
    // accepts and never answers. Whether a port was asked is read from its
    // own backlog (the kernel completes the connection), not from an answer
    // that a loaded machine could be late to give.
    raise_file_limit();
    let mut listeners = Vec::new();
    let mut instances = Vec::new();
    for n in 0..641 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let (id, updated) = if n == 640 {
            ("Z".to_owned(), "2025-09-08T12:00:00Z")
        } else {
            (format!("A{n:03}"), "2025-06-01T00:00:00Z")
        };
        instances.push(entry(&id, l.local_addr().unwrap().port(), updated));
        listeners.push(l);
    }
    // A round far too short for them all: ten waves of 64 probes that wait
    // 50 ms each would be needed, and about five fit in 250 ms.
    osaurus_tray::probe::Prober::default().probe_all_within(&mut instances, Duration::from_millis(250));
    let asked = |l: &std::net::TcpListener| {
        l.set_nonblocking(true).unwrap();
        l.accept().is_ok()
    };
    assert!(asked(&listeners[640]), "the newest file's port was not asked");
    let old_asked = listeners[..640].iter().filter(|l| asked(l)).count();
    assert!(old_asked < 640, "every port was asked: the round was not short, and the test shows nothing");
    assert!(instances.iter().all(|i| i.reachable == Some(false)));
}

// ---- odd answers and odd URLs --------------------------------------------------

#[test]
#[cfg(target_os = "linux")]
fn a_server_on_all_interfaces_is_exposed_even_while_its_file_says_starting() {
    // Bound, never accepted: nothing but this test's own probe reaches it.
    let wide = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = wide.local_addr().unwrap().port();
    let rt = tempfile::tempdir().unwrap();
    let cfg = serde_json::json!({"health": "starting", "port": port, "address": "127.0.0.1", "exposeToNetwork": false});
    publish_raw(rt.path(), "EARLY", &serde_json::to_vec(&cfg).unwrap());
    let out = run_in(rt.path(), &["list", "--all", "--json"]);
    let v = json(&out);
    let e = entry(&v, "EARLY");
    assert_eq!(e["state"], "starting", "{e}");
    assert_eq!(e["exposed"], true, "{e}");
    assert!(problem(e).contains("listens on 0.0.0.0"), "{e}");
}

#[test]
fn env_puts_v1_at_the_end_of_the_path_never_after_a_query_or_fragment() {
    for (url, want) in [
        ("http://127.0.0.1:1337/?x=1", "http://127.0.0.1:1337/v1"),
        ("http://127.0.0.1:1337/#top", "http://127.0.0.1:1337/v1"),
        ("http://127.0.0.1:1337/api/?a=b#c", "http://127.0.0.1:1337/api/v1"),
        ("http://127.0.0.1:1337", "http://127.0.0.1:1337/v1"),
    ] {
        let rt = tempfile::tempdir().unwrap();
        publish_raw(rt.path(), "Q", &running_with(serde_json::json!({"url": url})));
        let out = run_in(rt.path(), &["env", "--no-probe"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(stdout(&out).contains(&format!("export OPENAI_BASE_URL={want}\n")), "{url}: {}", stdout(&out));
    }
}

#[test]
fn a_model_list_over_one_mebibyte_is_named_as_too_large() {
    use osaurus_tray::inspect::{fetch_models, Models};
    use osaurus_tray::probe::Prober;
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let port = server.server_addr().to_ip().unwrap().port();
    let handle = std::thread::spawn(move || {
        if let Ok(mut req) = server.recv() {
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(req.as_reader(), &mut sink);
            let ids: Vec<String> = (0..40_000).map(|n| format!(r#"{{"id":"model-{n:08}-padding-padding"}}"#)).collect();
            let body = format!(r#"{{"object":"list","data":[{}]}}"#, ids.join(","));
            assert!(body.len() > 1024 * 1024);
            let _ = req.respond(tiny_http::Response::from_string(body));
        }
    });
    let models = fetch_models(&Prober::new(Duration::from_secs(5)), port, None);
    handle.join().unwrap();
    match models {
        Models::Unavailable(why) => {
            assert!(why.contains("larger than 1024 KiB"), "{why}");
            assert!(!why.contains("EOF") && !why.contains("not JSON"), "{why}");
        }
        other => panic!("{other:?}"),
    }
}

/// CPU time (user + system) a running process has used, in hundredths of
/// a second (Linux's clock ticks).
fn cpu_ticks(pid: u32) -> u64 {
    cpu_centiseconds(pid)
}

#[test]
fn cpu_times_as_ps_prints_them_read_as_hundredths() {
    // macOS's ps: [[dd-]hh:]mm:ss.cc; procps: [dd-]hh:mm:ss.
    assert_eq!(parse_cpu_time("0:00.07"), Some(7));
    assert_eq!(parse_cpu_time(" 1:02.50\n"), Some(6_250));
    assert_eq!(parse_cpu_time("01:00:00"), Some(360_000));
    assert_eq!(parse_cpu_time("2-00:00:01"), Some(2 * 86_400 * 100 + 100));
    assert_eq!(parse_cpu_time(""), None);
    assert_eq!(parse_cpu_time("soon"), None);
    assert!(ps_cpu_centiseconds(std::process::id()).is_some(), "ps -o time= answers for this process");
}

#[test]
fn more_instance_folders_than_the_event_queue_holds_never_make_watch_spin() {
    const T1: &str = "2025-09-08T12:00:00Z";
    // On tmpfs where there is one: quick to make and remove.
    let rt = tempfile::tempdir_in("/dev/shm").or_else(|_| tempfile::tempdir()).unwrap();
    // More folders than inotify's default queue (16,384 events) holds: a
    // watcher whose own reads queue events overflows it on every rescan.
    for n in 0..17_000 {
        let dir = rt.path().join(format!("I{n:05}"));
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join("configuration.json"), running_with(serde_json::json!({"port": 1024 + n % 60_000})))
            .unwrap();
    }
    let mut w = WatchProc::start(rt.path(), &["--no-probe"], &[]);
    w.wait_for(Duration::from_secs(30), "the folders", |v| v.len() == 17_000);
    // An event on the runtime folder itself makes it be read again.
    fs::set_permissions(rt.path(), fs::Permissions::from_mode(0o755)).unwrap();
    // The rescan that follows takes a moment; then the watcher must be idle.
    // A spinning one uses a core in every window: about 300 ticks in 3 s.
    let pid = w.child.0.id();
    let mut windows = Vec::new();
    for _ in 0..8 {
        let before = cpu_ticks(pid);
        std::thread::sleep(Duration::from_secs(3));
        windows.push(cpu_ticks(pid) - before);
        if windows.last() < Some(&15) {
            break;
        }
    }
    assert!(windows.last() < Some(&15), "watch never went idle: CPU ticks per 3 s: {windows:?}");
    publish(rt.path(), "B", &running_config("B", 1338, T1, false));
    w.wait_for(Duration::from_secs(10), "B", |v| state_of(v, "B") == Some("running"));
}
