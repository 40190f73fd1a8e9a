//! The discovery rules, checked end to end: real folders in temporary
//! directories, the real binary, real `/health` servers on 127.0.0.1.

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;
use serde_json::Value;

const T1: &str = "2025-09-08T12:00:00Z";
const T2: &str = "2025-09-08T13:00:00Z";
const T3: &str = "2025-09-08T14:00:00Z";

fn ids(v: &[Value]) -> Vec<&str> {
    v.iter().map(|i| i["instanceId"].as_str().unwrap()).collect()
}

fn entry<'a>(v: &'a [Value], id: &str) -> &'a Value {
    v.iter().find(|i| i["instanceId"] == id).unwrap_or_else(|| panic!("{id} not listed: {v:?}"))
}

#[test]
fn several_running_instances_are_listed_newest_first_with_exact_keys() {
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "AAAA", &running_config("AAAA", 1337, T1, false));
    publish(rt.path(), "BBBB", &running_config("BBBB", 1338, T3, true));
    publish(rt.path(), "CCCC", &running_config("CCCC", 1339, T2, false));
    let out = run_in(rt.path(), &["list", "--json", "--no-probe"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(ids(&v), ["BBBB", "CCCC", "AAAA"]);
    let keys: Vec<&str> = v[0].as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected = [
        "instanceId",
        "state",
        "url",
        "address",
        "port",
        "exposeToNetwork",
        "exposed",
        "reachable",
        "updatedAt",
        "dir",
        "problem",
        "notOsaurus",
        "loopbackUrl",
        "addressOnThisMachine",
        "lanAccess",
        "leftover",
    ];
    let mut got = keys.clone();
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
    let b = &v[0];
    assert_eq!(b["url"], "http://192.168.1.23:1338");
    assert_eq!(b["exposed"], true);
    assert_eq!(b["reachable"], Value::Null);
    assert_eq!(b["updatedAt"], T3);
    assert_eq!(b["dir"], rt.path().join("BBBB").to_str().unwrap());
    assert_eq!(v[1]["exposed"], false);
}

#[test]
fn escaped_slashes_as_osaurus_writes_them_are_read() {
    let rt = tempfile::tempdir().unwrap();
    let dir = publish(rt.path(), "E", &running_config("E", 1337, T1, false));
    let raw = fs::read_to_string(dir.join("configuration.json")).unwrap();
    assert!(raw.contains(r#""url" : "http:\/\/127.0.0.1:1337""#), "{raw}");
    let out = run_in(rt.path(), &["url", "--no-probe"]);
    assert_eq!(stdout(&out), "http://127.0.0.1:1337\n");
    let v = json(&run_in(rt.path(), &["list", "--json", "--no-probe"]));
    assert_eq!(v[0]["problem"], Value::Null);
}

#[test]
fn starting_only_means_nothing_runs() {
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "S", &starting_config("S", T1, "starting"));
    publish(rt.path(), "R", &starting_config("R", T2, "restarting"));
    let out = run_in(rt.path(), &["url", "--no-probe"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains(rt.path().to_str().unwrap()), "{}", stderr(&out));
    let list = run_in(rt.path(), &["list", "--json", "--no-probe"]);
    assert_eq!(list.status.code(), Some(1));
    assert!(json(&list).is_empty());
    let all = json(&run_in(rt.path(), &["list", "--all", "--json", "--no-probe"]));
    assert_eq!(ids(&all), ["S", "R"]);
    assert_eq!(entry(&all, "S")["state"], "starting");
    assert_eq!(entry(&all, "R")["state"], "restarting");
    assert_eq!(entry(&all, "S")["url"], Value::Null);
}

#[test]
fn a_stale_folder_newer_than_a_live_instance_loses_to_the_live_one() {
    let rt = tempfile::tempdir().unwrap();
    let live = HealthServer::start();
    let dead = closed_port();
    publish(rt.path(), "LIVE", &running_config("LIVE", live.port, &fresh(0), false));
    publish(rt.path(), "STALE", &running_config("STALE", dead, &fresh(30), false));

    let probed = run_in(rt.path(), &["url"]);
    assert_eq!(stdout(&probed), format!("http://127.0.0.1:{}\n", live.port));
    let v = json(&run_in(rt.path(), &["list", "--json"]));
    assert_eq!(ids(&v), ["LIVE", "STALE"]);
    assert_eq!(entry(&v, "LIVE")["reachable"], true);
    assert_eq!(entry(&v, "STALE")["reachable"], false);

    // Without probes the guide's strategy applies: the newest file wins.
    let unprobed = run_in(rt.path(), &["url", "--no-probe"]);
    assert_eq!(stdout(&unprobed), format!("http://127.0.0.1:{dead}\n"));
}

#[test]
fn a_health_endpoint_that_is_not_200_is_unreachable() {
    let rt = tempfile::tempdir().unwrap();
    let sick = HealthServer::with_status(503);
    publish(rt.path(), "SICK", &running_config("SICK", sick.port, &fresh(0), false));
    let v = json(&run_in(rt.path(), &["list", "--json"]));
    assert_eq!(v[0]["reachable"], false);
}

#[test]
fn malformed_files_are_invalid_with_a_reason_and_do_not_hide_good_ones() {
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "GOOD", &running_config("GOOD", 1337, T1, false));
    publish_raw(rt.path(), "TRUNC", b"{\"health\" : \"runn");
    publish_raw(rt.path(), "TYPES", br#"{"health":"running","port":"1337","address":"127.0.0.1"}"#);
    publish_raw(rt.path(), "UTF8", b"{\"health\":\"running\xff\"}");
    publish_raw(rt.path(), "ARRAY", b"[]");
    publish_raw(rt.path(), "NOPORT", br#"{"health":"running","address":"127.0.0.1"}"#);
    publish_raw(rt.path(), "WEIRD", br#"{"health":"sleeping"}"#);
    fs::create_dir(rt.path().join("EMPTY")).unwrap();
    fs::write(rt.path().join("stray-file"), "x").unwrap();

    let running = json(&run_in(rt.path(), &["list", "--json", "--no-probe"]));
    assert_eq!(ids(&running), ["GOOD"]);

    let out = run_in(rt.path(), &["list", "--all", "--json", "--no-probe"]);
    assert!(out.status.success());
    let all = json(&out);
    for (id, state, needle) in [
        ("TRUNC", "invalid", "not valid JSON"),
        ("TYPES", "invalid", "\"port\" should be"),
        ("UTF8", "invalid", "UTF-8"),
        ("ARRAY", "invalid", "not a JSON object"),
        ("NOPORT", "invalid", "no \"port\""),
        ("WEIRD", "unknown", "sleeping"),
        ("EMPTY", "invalid", "no configuration.json"),
        ("stray-file", "invalid", "not a folder"),
    ] {
        let e = entry(&all, id);
        assert_eq!(e["state"], state, "{id}");
        let problem = e["problem"].as_str().unwrap_or_default();
        assert!(problem.contains(needle), "{id}: {problem}");
    }
    // The human table shows the same reasons.
    let table = stdout(&run_in(rt.path(), &["list", "--all", "--no-probe"]));
    assert!(table.lines().next().unwrap().starts_with("STATE"), "{table}");
    assert!(table.contains("not valid JSON"), "{table}");
}

#[test]
fn a_fifo_is_invalid_and_does_not_hang() {
    let rt = tempfile::tempdir().unwrap();
    let dir = rt.path().join("FIFO");
    fs::create_dir(&dir).unwrap();
    let fifo = dir.join("configuration.json");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let out = run_in(rt.path(), &["list", "--all", "--json", "--no-probe"]);
    let v = json(&out);
    assert_eq!(v[0]["state"], "invalid");
    assert!(v[0]["problem"].as_str().unwrap().contains("FIFO"), "{:?}", v[0]);
}

#[test]
fn a_ten_mebibyte_file_is_refused_unread() {
    let rt = tempfile::tempdir().unwrap();
    let mut big = b"{\"health\":\"running\",\"pad\":\"".to_vec();
    big.resize(10 * 1024 * 1024, b'x');
    publish_raw(rt.path(), "BIG", &big);
    let v = json(&run_in(rt.path(), &["list", "--all", "--json", "--no-probe"]));
    assert_eq!(v[0]["state"], "invalid");
    assert!(v[0]["problem"].as_str().unwrap().contains("64 KiB"));
}

#[test]
fn symlinks_and_loops_are_never_followed() {
    let rt = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let real = publish(elsewhere.path(), "REAL", &running_config("REAL", 1337, T1, false));
    // A configuration.json that points at itself.
    let looped = rt.path().join("LOOP");
    fs::create_dir(&looped).unwrap();
    symlink("configuration.json", looped.join("configuration.json")).unwrap();
    // A configuration.json that points at a good file elsewhere.
    let linked = rt.path().join("LINKFILE");
    fs::create_dir(&linked).unwrap();
    symlink(real.join("configuration.json"), linked.join("configuration.json")).unwrap();
    // An instance folder that is a link to a good folder, and a folder loop.
    symlink(&real, rt.path().join("LINKDIR")).unwrap();
    symlink(rt.path().join("SELF"), rt.path().join("SELF")).unwrap();

    let out = run_in(rt.path(), &["list", "--all", "--json", "--no-probe"]);
    let v = json(&out);
    assert_eq!(v.len(), 4);
    for e in &v {
        assert_eq!(e["state"], "invalid", "{e}");
        assert!(e["problem"].as_str().unwrap().contains("symbolic link"), "{e}");
    }
    let none = run_in(rt.path(), &["url", "--no-probe"]);
    assert_eq!(none.status.code(), Some(1));
}

#[test]
fn legacy_folders_are_read_and_the_current_folder_wins() {
    let home = tempfile::tempdir().unwrap();
    let current = home.path().join(".osaurus/runtime");
    let shared = home.path().join(".osaurus/SharedConfiguration");
    let old = home.path().join("Library/Application Support/com.dinoki.osaurus/runtime");
    let older = home.path().join("Library/Application Support/com.dinoki.osaurus/SharedConfiguration");
    publish(&current, "DUP", &running_config("DUP", 2001, T1, false));
    publish(&older, "DUP", &running_config("DUP", 2002, T3, false));
    publish(&shared, "S", &running_config("S", 2003, T1, false));
    publish(&old, "O", &running_config("O", 2004, T2, false));
    publish(&older, "OLDER", &running_config("OLDER", 2005, T1, false));

    let mut cmd = bin();
    cmd.env("HOME", home.path()).args(["list", "--json", "--no-probe"]);
    let v = json(&run_with_deadline(cmd, Duration::from_secs(20)));
    let mut got = ids(&v);
    got.sort();
    assert_eq!(got, ["DUP", "O", "OLDER", "S"]);
    assert_eq!(entry(&v, "DUP")["port"], 2001);
    assert_eq!(entry(&v, "O")["dir"], old.join("O").to_str().unwrap());

    // An explicit folder is the only one read.
    let mut only = bin();
    only.env("HOME", home.path()).env("OSAURUS_RUNTIME_DIR", &old).args(["list", "--json", "--no-probe"]);
    assert_eq!(ids(&json(&run_with_deadline(only, Duration::from_secs(20)))), ["O"]);
}

#[test]
fn no_runtime_folder_at_all_names_the_folders_searched() {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = bin();
    cmd.env("HOME", home.path()).args(["url", "--no-probe"]);
    let out = run_with_deadline(cmd, Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains(".osaurus/runtime") && err.contains("SharedConfiguration"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_runtime_folder_that_is_a_file_is_reported() {
    let rt = tempfile::tempdir().unwrap();
    let file = rt.path().join("runtime");
    fs::write(&file, "not a folder").unwrap();
    let out = run_in(&file, &["list", "--all", "--no-probe"]);
    assert_eq!(out.status.code(), Some(3), "not read is a failure, not \"none found\"");
    assert!(stderr(&out).contains("not a folder"), "{}", stderr(&out));
}

#[test]
fn hidden_and_temporary_entries_are_ignored() {
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), ".hidden", &running_config(".hidden", 1, T1, false));
    fs::write(rt.path().join(".tmp-123"), "{").unwrap();
    let out = run_in(rt.path(), &["list", "--all", "--json", "--no-probe"]);
    assert!(json(&out).is_empty());
}

#[test]
fn env_prints_exports_that_a_shell_evaluates() {
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "E", &running_config("E", 1337, T1, false));
    let out = run_in(rt.path(), &["env", "--no-probe"]);
    assert!(out.status.success());
    let script =
        format!("{}\nprintf '%s|%s|%s' \"$OPENAI_BASE_URL\" \"$OPENAI_API_BASE\" \"$OPENAI_API_KEY\"", stdout(&out));
    let sh = Command::new("sh").arg("-c").arg(script).output().unwrap();
    // The OpenAI SDKs refuse to start without a key: a placeholder, said so.
    assert_eq!(String::from_utf8_lossy(&sh.stdout), "http://127.0.0.1:1337/v1|http://127.0.0.1:1337/v1|osaurus");
    assert!(stdout(&out).contains("# OPENAI_API_KEY: a placeholder"), "{}", stdout(&out));
}

#[test]
fn env_with_key_exports_the_configured_key_and_says_so_when_there_is_none() {
    let rt = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    publish(rt.path(), "E", &running_config("E", 1337, T1, false));
    let env = |key: Option<&str>| {
        let mut c = bin();
        c.env("HOME", home.path()).env("XDG_CONFIG_HOME", home.path().join(".config")).env_remove("OSAURUS_API_KEY");
        if let Some(k) = key {
            c.env("OSAURUS_API_KEY", k);
        }
        c.arg("--runtime-dir").arg(rt.path()).args(["env", "--no-probe", "--with-key"]);
        run_with_deadline(c, std::time::Duration::from_secs(20))
    };
    let out = env(Some("osk-a'b$c"));
    assert!(out.status.success(), "{}", stderr(&out));
    let script = format!("{}\nprintf '%s' \"$OPENAI_API_KEY\"", stdout(&out));
    let sh = Command::new("sh").arg("-c").arg(script).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&sh.stdout), "osk-a'b$c", "the key, quoted for the shell");
    assert!(stdout(&out).contains("# OPENAI_API_KEY: the configured Osaurus access key."));
    let none = env(None);
    assert_eq!(none.status.code(), Some(3));
    assert!(stdout(&none).is_empty(), "nothing to eval: {}", stdout(&none));
    assert!(stderr(&none).contains("No access key is configured") && stderr(&none).contains("OSAURUS_API_KEY"));
}

#[test]
fn odd_characters_still_give_valid_json_and_a_clean_table() {
    let rt = tempfile::tempdir().unwrap();
    let id = "ID\u{202E}\"\\\n\u{7}😀";
    let cfg = serde_json::json!({"health":"running","port":1337,"address":"127.0.0.1","url":"http://127.0.0.1:1337/\u{202E}\n","instanceId":"x\u{0}"});
    publish(rt.path(), id, &cfg);
    let out = run_in(rt.path(), &["list", "--all", "--json", "--no-probe"]);
    let v = json(&out);
    assert_eq!(v[0]["instanceId"], id);
    let table = stdout(&run_in(rt.path(), &["list", "--all", "--no-probe"]));
    assert!(!table.contains('\u{202E}') && !table.contains('\u{7}'), "{table:?}");
    assert_eq!(table.lines().count(), 2, "{table:?}");
}

#[test]
fn open_hands_only_the_http_url_to_the_browser() {
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "O", &running_config("O", 1337, T1, false));
    let bin_dir = tempfile::tempdir().unwrap();
    let log = bin_dir.path().join("opened");
    let fake = bin_dir.path().join("xdg-open");
    fs::write(&fake, format!("#!/bin/sh\nprintf '%s\\n' \"$@\" >> '{}'\n", log.display())).unwrap();
    fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut cmd = bin();
    cmd.env("PATH", format!("{}:/usr/bin:/bin", bin_dir.path().display())).args([
        "--runtime-dir",
        rt.path().to_str().unwrap(),
        "open",
        "--no-probe",
    ]);
    let out = run_with_deadline(cmd, Duration::from_secs(20));
    assert!(out.status.success(), "{}", stderr(&out));
    let opened = wait_for_file(&log);
    assert_eq!(opened, "http://127.0.0.1:1337/\n");
}

fn wait_for_file(p: &Path) -> String {
    for _ in 0..400 {
        if let Ok(s) = fs::read_to_string(p) {
            if s.ends_with('\n') {
                return s;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{} never written", p.display());
}

#[test]
fn usage_errors_exit_2() {
    let out = run_with_deadline(
        {
            let mut c = bin();
            c.args(["list", "--bogus"]);
            c
        },
        Duration::from_secs(20),
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_runtime_folder_that_does_not_exist_is_called_missing_not_empty() {
    let outer = tempfile::tempdir().unwrap();
    let missing = outer.path().join("no-such-folder");
    for args in [&["list"][..], &["list", "--all"], &["url", "--no-probe"], &["env", "--no-probe"]] {
        let out = run_in(&missing, args);
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains("does not exist") && err.contains("no-such-folder"), "{args:?}: {err}");
    }
    // An empty folder that exists is still "nothing runs".
    let empty = tempfile::tempdir().unwrap();
    let err = stderr(&run_in(empty.path(), &["url", "--no-probe"]));
    assert!(err.contains("No running Osaurus instance found"), "{err}");
}
