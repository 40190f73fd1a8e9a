//! Relay tunnels and CORS open to any website, from Osaurus's settings as it
//! writes them, through the real `list` and `watch --json`.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const SOON: Duration = Duration::from_secs(5);
const T1: &str = "2025-09-08T12:00:00Z";
const AGENT: &str = "5B0E7C1D-2F3A-4B5C-8D6E-7F8091A2B3C4";
const URL: &str = "https://0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed.agent.osaurus.ai";

fn fixture(name: &str) -> Vec<u8> {
    fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/exposure").join(name)).unwrap()
}

/// Writes `bytes` to `path` as Foundation's atomic write does.
fn write(path: &Path, bytes: &[u8]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let tmp = path.parent().unwrap().join(nosync_name());
    fs::write(&tmp, bytes).unwrap();
    fs::rename(&tmp, path).unwrap();
}

/// A temporary folder laid out like `~/.osaurus`: one running instance in
/// `runtime/`, an agent tunnelled and CORS open to any website.
struct Root {
    dir: tempfile::TempDir,
}

impl Root {
    fn new() -> Root {
        let root = Root { dir: tempfile::tempdir().unwrap() };
        publish(&root.runtime(), "A", &running_config("A", 1337, T1, false));
        write(&root.path("config/relay.json"), &fixture("relay.json"));
        write(&root.path(&format!("agents/{AGENT}.json")), &fixture(&format!("{AGENT}.json")));
        write(&root.path("config/server.json"), &fixture("server.json"));
        root
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn runtime(&self) -> PathBuf {
        self.path("runtime")
    }

    fn exposure(&self) -> (Value, std::process::ExitStatus) {
        let out = run_in(&self.runtime(), &["list", "--json", "--exposure", "--no-probe"]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)));
        (v["exposure"].clone(), out.status)
    }
}

#[test]
fn the_fixtures_are_what_foundation_writes_and_the_demo_writes_the_same() {
    for name in ["relay.json", "server.json", &format!("{AGENT}.json")] {
        let bytes = fixture(name);
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(foundation_json(&v), String::from_utf8(bytes).unwrap(), "{name}");
    }
    let demo = tempfile::tempdir().unwrap();
    osaurus_tray::demo::write_settings(demo.path(), AGENT).unwrap();
    assert_eq!(fs::read(demo.path().join("config/relay.json")).unwrap(), fixture("relay.json"));
    assert_eq!(fs::read(demo.path().join("config/server.json")).unwrap(), fixture("server.json"));
    let agent: Value =
        serde_json::from_slice(&fs::read(demo.path().join(format!("agents/{AGENT}.json"))).unwrap()).unwrap();
    assert_eq!(
        foundation_json(&agent).into_bytes(),
        fs::read(demo.path().join(format!("agents/{AGENT}.json"))).unwrap()
    );
    let found = osaurus_tray::exposure::read(demo.path());
    assert_eq!(found.tunnels[0].url.as_deref(), Some(URL));
    assert!(found.any_website);
}

#[test]
fn list_warns_of_a_tunnel_and_of_any_website() {
    let root = Root::new();
    let out = run_in(&root.runtime(), &["list", "--no-probe"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains(&format!("warning: Internet: Researcher at {URL} (relay tunnel)\n")), "{text}");
    assert!(text.contains("warning: Any website you open can use this server"), "{text}");

    // `list --json` stays the array it always was.
    let listed = json(&run_in(&root.runtime(), &["list", "--json", "--no-probe"]));
    assert_eq!(listed.len(), 1);
    let (e, status) = root.exposure();
    assert!(status.success());
    assert_eq!(e["active"], true);
    assert_eq!(e["anyWebsite"], true);
    assert_eq!(e["tunnels"][0]["agentId"], AGENT);
    assert_eq!(e["tunnels"][0]["name"], "Researcher");
    assert_eq!(e["tunnels"][0]["url"], URL);
    assert_eq!(e["problems"], Value::Array(vec![]));

    // Nothing runs: configured, not in effect, and no warning lines.
    fs::remove_dir_all(root.runtime().join("A")).unwrap();
    let (e, status) = root.exposure();
    assert_eq!(status.code(), Some(1));
    assert_eq!((e["active"].clone(), e["anyWebsite"].clone()), (Value::Bool(false), Value::Bool(true)));
    assert!(!stdout(&run_in(&root.runtime(), &["list", "--all", "--no-probe"])).contains("warning:"));
}

#[test]
fn hostile_settings_files_get_a_reason_never_a_hang() {
    let root = Root::new();
    fs::remove_file(root.path("config/relay.json")).unwrap();
    std::os::unix::fs::symlink(root.path("config/server.json"), root.path("config/relay.json")).unwrap();
    fs::remove_file(root.path("config/server.json")).unwrap();
    let fifo = root.path("config/server.json");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let (e, _) = root.exposure();
    assert_eq!(
        e["problems"],
        serde_json::json!([
            "config/relay.json is a symbolic link; only regular files are read",
            "config/server.json is a named pipe (FIFO), not a regular file"
        ])
    );
    assert_eq!(e["tunnels"], Value::Array(vec![]));

    // Wrong types: Osaurus reads them as its defaults, and so does this.
    fs::remove_file(root.path("config/relay.json")).unwrap();
    fs::remove_file(&fifo).unwrap();
    write(&root.path("config/relay.json"), format!(r#"{{"enabledAgents": {{"{AGENT}": "yes"}}}}"#).as_bytes());
    write(&root.path("config/server.json"), br#"{"allowedOrigins": {"*": true}}"#);
    let (e, _) = root.exposure();
    let problems: Vec<&str> = e["problems"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("not true or false"), "{problems:?}");
    assert!(problems[1].contains("allowedOrigins is not a list of strings"), "{problems:?}");
    assert_eq!(e["anyWebsite"], false);

    // A huge agent file and a hostile address: the tunnel is shown, no URL made.
    write(&root.path("config/relay.json"), &fixture("relay.json"));
    write(&root.path(&format!("agents/{AGENT}.json")), &vec![b' '; (1 << 20) + 1]);
    let (e, _) = root.exposure();
    assert_eq!(e["tunnels"][0]["url"], Value::Null);
    assert_eq!(
        e["tunnels"][0]["problem"],
        format!("agents/{AGENT}.json is 1048577 bytes, over the 1 MiB limit").as_str()
    );
    write(
        &root.path(&format!("agents/{AGENT}.json")),
        br#"{"name": "Evil", "agentAddress": "0xevil.example/#5aAeb6053F3E94C9b9A09f336694"}"#,
    );
    let (e, _) = root.exposure();
    assert_eq!(e["tunnels"][0]["name"], "Evil");
    assert_eq!(e["tunnels"][0]["url"], Value::Null);
    let out = run_in(&root.runtime(), &["list", "--no-probe"]);
    assert!(!stdout(&out).contains("evil.example"), "{}", stdout(&out));
}

/// Reads lines until one's exposure satisfies `pred`; panics after `limit`.
fn wait_exposure(w: &mut WatchProc, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + SOON;
    loop {
        match w.next(deadline.saturating_duration_since(Instant::now())) {
            Some(v) if pred(&v["exposure"]) => return v,
            Some(_) => {}
            None => panic!("watch never showed {what}; lines seen: {:#?}", w.seen),
        }
    }
}

#[test]
fn watch_shows_the_exposure_come_and_go_as_the_files_change() {
    let root = Root::new();
    let mut w = WatchProc::start(&root.runtime(), &["--no-probe"], &[]);
    let first = w.next(SOON).expect("a first line");
    assert_eq!(first["exposure"]["tunnels"][0]["url"], URL, "{first}");
    assert_eq!(first["exposure"]["active"], true);
    assert_eq!(first["exposure"]["anyWebsite"], true);

    fs::remove_file(root.path("config/relay.json")).unwrap();
    wait_exposure(&mut w, "the tunnel gone", |e| e["tunnels"] == Value::Array(vec![]));
    write(&root.path("config/server.json"), &fixture("server.json").replace_star());
    wait_exposure(&mut w, "CORS closed", |e| e["anyWebsite"] == false);
    write(&root.path("config/relay.json"), &fixture("relay.json"));
    wait_exposure(&mut w, "the tunnel back", |e| e["tunnels"][0]["url"] == URL);
    write(&root.path(&format!("agents/{AGENT}.json")), br#"{"name": "Renamed"}"#);
    wait_exposure(&mut w, "the agent's new name", |e| e["tunnels"][0]["name"] == "Renamed");
    fs::remove_dir_all(root.runtime().join("A")).unwrap();
    let idle = wait_exposure(&mut w, "not in effect once nothing runs", |e| e["active"] == false);
    assert_eq!(idle["exposure"]["tunnels"][0]["name"], "Renamed", "still configured");
}

trait ReplaceStar {
    fn replace_star(self) -> Vec<u8>;
}

impl ReplaceStar for Vec<u8> {
    /// `allowedOrigins` without `"*"`.
    fn replace_star(self) -> Vec<u8> {
        String::from_utf8(self).unwrap().replace("\"*\"", "\"https:\\/\\/chat.example\"").into_bytes()
    }
}
