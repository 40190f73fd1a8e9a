//! Against files written byte for byte as Osaurus writes them and a server
//! that answers as Osaurus's does: another program on a leftover's port,
//! access keys, a LAN address that moved, readable errors.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use common::osaurus::{Impostor, KeyRule, Osaurus, Plays, MODELS};
use common::*;

const T1: &str = "2025-09-08T12:35:12Z";
const KEY: &str = "osk-v1-7f3c9e2a41d86b05";

fn plays(rule: KeyRule, exposed: bool) -> Plays {
    Plays { rule, exposed, key: KEY.into() }
}

/// Runs the binary with an isolated config folder (no user settings) and
/// the given environment.
fn run_env(
    rt: &std::path::Path,
    config: &std::path::Path,
    envs: &[(&str, &str)],
    args: &[&str],
) -> std::process::Output {
    let mut c = bin();
    c.arg("--runtime-dir").arg(rt).args(args);
    // No session bus: the user's own keychain is not read.
    c.env("XDG_CONFIG_HOME", config)
        .env("HOME", config)
        .env("XDG_RUNTIME_DIR", config)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("OSAURUS_API_KEY");
    for (k, v) in envs {
        c.env(k, v);
    }
    run_with_deadline(c, Duration::from_secs(20))
}

#[test]
fn fixtures_are_the_bytes_osaurus_writes() {
    let cfg = running_config("F26F8B59-2B64-4C57-8C5A-5A1CE9F9B4A8", 1337, T1, false);
    assert_eq!(
        foundation_json(&cfg),
        "{\n  \"address\" : \"127.0.0.1\",\n  \"exposeToNetwork\" : false,\n  \"health\" : \"running\",\n  \
         \"instanceId\" : \"F26F8B59-2B64-4C57-8C5A-5A1CE9F9B4A8\",\n  \"port\" : 1337,\n  \
         \"updatedAt\" : \"2025-09-08T12:35:12Z\",\n  \"url\" : \"http:\\/\\/127.0.0.1:1337\"\n}"
    );
    // A value holding `": ` is still written as Foundation does.
    let odd = serde_json::json!({"b": "x\": y", "a": [1, {"c": true}]});
    assert_eq!(
        foundation_json(&odd),
        "{\n  \"a\" : [\n    1,\n    {\n      \"c\" : true\n    }\n  ],\n  \"b\" : \"x\\\": y\"\n}"
    );
    let t = chrono::DateTime::parse_from_rfc3339("2025-09-08T14:35:12.75+02:00").unwrap().with_timezone(&chrono::Utc);
    assert_eq!(osaurus_time(t), T1);
    // Published atomically through a temporary file in the instance folder.
    let rt = tempfile::tempdir().unwrap();
    let dir = publish(rt.path(), "A", &cfg);
    let names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["configuration.json"]);
    assert!(nosync_name().starts_with(&format!(".dat.nosync{:x}.", std::process::id())));
}

#[test]
fn the_test_server_answers_as_osaurus_does() {
    let server = Osaurus::start(plays(KeyRule::LoopbackWhileNotExposed, false));
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let url = |p: &str| format!("http://127.0.0.1:{}{p}", server.port);
    for path in ["/health", "/v1/health", "/api/health"] {
        let mut r = agent.get(&url(path)).call().unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["connection"], "close");
        let body = r.body_mut().read_to_string().unwrap();
        assert_eq!(r.headers()["content-length"].to_str().unwrap(), body.len().to_string());
        assert!(osaurus_tray::probe::is_osaurus_health(&body), "{body}");
    }
    assert_eq!(agent.head(&url("/v1/models")).call().unwrap().status(), 204);
    let mut models = agent.get(&url("/v1/models")).call().unwrap();
    assert!(models.body_mut().read_to_string().unwrap().contains(r#""openai\/gpt-4o-mini""#));
    let exposed = Osaurus::start(plays(KeyRule::LoopbackWhileNotExposed, true));
    let mut denied = agent.get(&format!("http://127.0.0.1:{}/v1/models", exposed.port)).call().unwrap();
    assert_eq!(denied.status(), 401);
    assert!(denied.body_mut().read_to_string().unwrap().contains(r#""type":"authentication_error""#));
}

// ---- Another program answers on a leftover's port -------------------------

#[test]
fn another_web_server_on_a_leftovers_port_is_not_osaurus_and_never_handed_out() {
    let impostor = Impostor::start();
    let rt = tempfile::tempdir().unwrap();
    // The leftover is the newest entry: before, it won the selection.
    publish(rt.path(), "LEFTOVER", &running_config("LEFTOVER", impostor.port, &fresh(1), false));
    let list = json(&run_in(rt.path(), &["list", "--all", "--json"]));
    assert_eq!(list[0]["reachable"], false, "{:?}", list[0]);
    let named = format!("port {} answers, but not as Osaurus", impostor.port);
    assert_eq!(list[0]["notOsaurus"], named.as_str());
    let table = stdout(&run_in(rt.path(), &["list", "--all"]));
    assert!(table.contains(&named), "{table}");
    for cmd in ["url", "env"] {
        let out = run_in(rt.path(), &[cmd]);
        assert_eq!(out.status.code(), Some(1), "{cmd} handed out {}", stdout(&out));
        assert!(stdout(&out).is_empty(), "{cmd}: {}", stdout(&out));
    }
    // With a real Osaurus beside it, that one is chosen, though older.
    let real = Osaurus::start(plays(KeyRule::LoopbackWhileNotExposed, false));
    publish(rt.path(), "REAL", &running_config("REAL", real.port, &fresh(0), false));
    assert_eq!(stdout(&run_in(rt.path(), &["url"])).trim(), format!("http://127.0.0.1:{}", real.port));
    // watch --json names it in the object.
    let mut watch = WatchProc::start(rt.path(), &[], &[]);
    let line = watch.wait_for(Duration::from_secs(10), "the impostor named", |v| {
        v.iter().any(|i| i["notOsaurus"].as_str() == Some(named.as_str()))
    });
    assert_eq!(line["instances"].as_array().unwrap().len(), 2);
}

#[test]
fn selection_among_answering_instances_is_the_guides() {
    let (a, b) =
        (Osaurus::start(plays(KeyRule::Never, false)), Osaurus::start(plays(KeyRule::LoopbackWhileNotExposed, false)));
    let rt = tempfile::tempdir().unwrap();
    publish(rt.path(), "OLD", &running_config("OLD", a.port, &fresh(0), false));
    publish(rt.path(), "NEW", &running_config("NEW", b.port, &fresh(1), false));
    publish(rt.path(), "S", &starting_config("S", "2025-09-09T00:00:00Z", "starting"));
    assert_eq!(stdout(&run_in(rt.path(), &["url"])).trim(), format!("http://127.0.0.1:{}", b.port));
    assert_eq!(stdout(&run_in(rt.path(), &["url", "--no-probe"])).trim(), format!("http://127.0.0.1:{}", b.port));
}

// ---- Access keys ------------------------------------------------------------

fn exposed_server_and_folder() -> (Osaurus, tempfile::TempDir, tempfile::TempDir) {
    let server = Osaurus::start(plays(KeyRule::LoopbackWhileNotExposed, true));
    let rt = tempfile::tempdir().unwrap();
    let mut cfg = running_config("EXPOSED", server.port, &fresh(0), true);
    // Its LAN address: loopback stands in, nothing leaves the machine.
    cfg["address"] = "127.0.0.1".into();
    cfg["url"] = format!("http://127.0.0.1:{}", server.port).into();
    publish(rt.path(), "EXPOSED", &cfg);
    (server, rt, tempfile::tempdir().unwrap())
}

#[test]
fn with_a_key_the_models_of_an_exposed_server_are_listed() {
    let (server, rt, config) = exposed_server_and_folder();
    let out = run_env(rt.path(), config.path(), &[("OSAURUS_API_KEY", KEY)], &["models"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().collect::<Vec<_>>(), MODELS);
    // The key went only to /v1/models, on 127.0.0.1.
    for s in server.seen() {
        if s.authorization.is_some() {
            assert_eq!((s.path.as_str(), s.local.to_string().as_str()), ("/v1/models", "127.0.0.1"), "{s:?}");
        }
    }
    assert!(server.seen().iter().any(|s| s.authorization.as_deref() == Some(&format!("Bearer {KEY}"))));
}

#[test]
fn a_key_file_in_the_settings_works_only_when_private() {
    let (_server, rt, config) = exposed_server_and_folder();
    let key_file = config.path().join("osaurus.key");
    std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let settings = config.path().join("osaurus-tray/settings.json");
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    std::fs::write(&settings, serde_json::json!({"apiKeyFile": key_file}).to_string()).unwrap();
    let refused = run_env(rt.path(), config.path(), &[], &["models"]);
    assert_eq!(refused.status.code(), Some(3));
    assert!(stderr(&refused).contains("group or others can read it"), "{}", stderr(&refused));
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = run_env(rt.path(), config.path(), &[], &["models"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), MODELS.len());
    assert!(!stdout(&out).contains(KEY) && !stderr(&out).contains(KEY));
}

#[test]
fn without_a_key_it_says_one_is_needed_and_how_to_give_it() {
    let (_server, rt, config) = exposed_server_and_folder();
    let out = run_env(rt.path(), config.path(), &[], &["models"]);
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(
        err.contains("needs an access key")
            && err.contains("OSAURUS_API_KEY")
            && err.contains("osaurus-tray key set")
            && err.contains(config.path().join("osaurus-tray/access-key").to_str().unwrap()),
        "{err}"
    );
}

#[test]
fn the_key_appears_in_no_output() {
    let (server, rt, config) = exposed_server_and_folder();
    let env = [("OSAURUS_API_KEY", KEY)];
    for args in [
        &["list", "--json"][..],
        &["list", "--all"],
        &["url"],
        &["env"],
        &["models", "--json"],
        &["prune", "--dry-run"],
    ] {
        let out = run_env(rt.path(), config.path(), &env, args);
        assert!(!stdout(&out).contains(KEY) && !stderr(&out).contains(KEY), "{args:?} printed the key");
    }
    let mut watch = WatchProc::start(rt.path(), &[], &env);
    watch.wait_for(Duration::from_secs(10), "the instance", |v| v.len() == 1 && v[0]["reachable"] == true);
    assert!(!watch.seen.iter().any(|l| l.to_string().contains(KEY)) && !watch.stderr().contains(KEY));
    // No request but /v1/models ever carried it.
    assert!(server.seen().iter().all(|s| s.authorization.is_none() || s.path == "/v1/models"));
}

// ---- A LAN address that moved -----------------------------------------------

#[test]
fn a_lan_address_this_machine_no_longer_has_is_said_and_loopback_offered() {
    let server = Osaurus::start(plays(KeyRule::LoopbackWhileNotExposed, true));
    let rt = tempfile::tempdir().unwrap();
    // 198.51.100.0/24 is reserved for documentation: no machine has it.
    let mine = osaurus_tray::interfaces::read().unwrap();
    assert!(!mine.iter().any(|i| i.address.to_string() == "198.51.100.23"), "this machine has {mine:?}");
    let mut cfg = running_config("MOVED", server.port, &fresh(0), true);
    cfg["address"] = "198.51.100.23".into();
    cfg["url"] = format!("http://198.51.100.23:{}", server.port).into();
    publish(rt.path(), "MOVED", &cfg);
    let v = json(&run_in(rt.path(), &["list", "--json"]));
    assert_eq!(v[0]["exposed"], true);
    assert_eq!(v[0]["addressOnThisMachine"], false, "{:?}", v[0]);
    let lo = format!("http://127.0.0.1:{}", server.port);
    assert_eq!(v[0]["loopbackUrl"], lo.as_str());
    assert_eq!(v[0]["url"], format!("http://198.51.100.23:{}", server.port), "the file's URL is still reported");
    assert!(stdout(&run_in(rt.path(), &["list"])).contains("LAN address 198.51.100.23 gone"));
    assert_eq!(stdout(&run_in(rt.path(), &["url"])).trim(), lo);
    assert!(stdout(&run_in(rt.path(), &["env"])).contains(&format!("{lo}/v1")));
    // Every request reached one of this machine's own addresses.
    for s in server.seen() {
        assert!(mine.iter().any(|i| i.address == s.local), "{s:?}");
    }
}

// ---- Readable errors --------------------------------------------------------

#[test]
fn errors_read_as_sentences_not_debug_forms() {
    use osaurus_tray::inspect::{fetch_models, Models};
    use osaurus_tray::probe::Prober;
    let port = closed_port();
    let Models::Unavailable(why) = fetch_models(&Prober::default(), port, None) else { panic!() };
    assert_eq!(why, format!("port {port} refuses connections"));
    // prune's refusal when the server is back.
    let server = Osaurus::start(plays(KeyRule::Never, false));
    let rt = tempfile::tempdir().unwrap();
    let dir = publish(rt.path(), "L", &running_config("L", server.port, &fresh(0), false));
    let seen = osaurus_tray::discovery::read::read_instance(&dir, "L".into());
    let err = osaurus_tray::prune::remove(&seen, &Prober::default()).unwrap_err();
    assert!(err.contains("answers as Osaurus"), "{err}");
    // Odd text in a file is escaped as everywhere else, not debug-printed.
    let odd = tempfile::tempdir().unwrap();
    publish(odd.path(), "ODD", &serde_json::json!({"health": "sle\u{202E}ep\n"}));
    let table = stdout(&run_in(odd.path(), &["list", "--all"]));
    assert!(table.contains("unknown health \"sle\\u{202E}ep\\u{A}\""), "{table}");
    assert!(!table.contains("\\u{202e}") && !table.contains("\\n"), "a debug form: {table}");
    for text in [why.as_str(), err.as_str()] {
        for debug in ["Refused", "Healthy", "TimedOut", "Status(", "Failed(", "Some(", "None"] {
            assert!(!text.contains(debug), "{text:?} shows {debug}");
        }
    }
}

// ---- A leftover lives in every base folder it was copied to -----------------

/// The current folder and the legacy one Osaurus copies from at launch.
fn homes() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let home = tempfile::tempdir().unwrap();
    let current = home.path().join(".osaurus/runtime");
    let legacy = home.path().join("Library/Application Support/com.dinoki.osaurus/runtime");
    (home, current, legacy)
}

#[test]
fn prune_removes_every_copy_of_a_leftover_and_reports_each() {
    let (home, current, legacy) = homes();
    let cfg = running_config("LEFT", closed_port(), T1, false);
    let a = publish(&current, "LEFT", &cfg);
    let b = publish(&legacy, "LEFT", &cfg);
    let live = Osaurus::start(plays(KeyRule::Never, false));
    let kept = publish(&legacy, "LIVE", &running_config("LIVE", live.port, &fresh(0), false));
    let mut c = bin();
    c.env("HOME", home.path()).env("XDG_CONFIG_HOME", home.path()).arg("prune");
    let out = run_with_deadline(c, Duration::from_secs(30));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!a.exists() && !b.exists(), "a copy was left: {}", stdout(&out));
    for dir in [&a, &b] {
        assert!(stdout(&out).contains(&format!("removed LEFT {}", dir.display())), "{}", stdout(&out));
    }
    assert!(kept.exists());
    let mut c = bin();
    c.env("HOME", home.path()).args(["list", "--all", "--json", "--no-probe"]);
    let left = json(&run_with_deadline(c, Duration::from_secs(20)));
    assert_eq!(left.len(), 1, "{left:?}");
}

#[test]
fn the_menus_removal_takes_every_copy_too() {
    use osaurus_tray::discovery::RuntimeDirs;
    use osaurus_tray::probe::Prober;
    let (home, current, legacy) = homes();
    let cfg = running_config("LEFT", closed_port(), T1, false);
    let a = publish(&current, "LEFT", &cfg);
    let b = publish(&legacy, "LEFT", &cfg);
    let dirs = RuntimeDirs::defaults(home.path());
    let seen = osaurus_tray::discovery::read::read_instance(&a, "LEFT".into());
    let results = osaurus_tray::prune::remove_everywhere(&seen, &dirs, &Prober::default());
    assert_eq!(results.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>(), [a.clone(), b.clone()]);
    assert!(results.iter().all(|(_, r)| r.is_ok()), "{results:?}");
    assert!(!a.exists() && !b.exists());
}

#[test]
fn an_interrupted_writes_temp_file_is_part_of_the_leftover() {
    use osaurus_tray::probe::Prober;
    let rt = tempfile::tempdir().unwrap();
    let dir = publish(rt.path(), "L", &running_config("L", closed_port(), T1, false));
    // The app died while writing: its temp file stayed beside the config.
    std::fs::write(dir.join(nosync_name()), b"{\n  \"address\" : \"127.0").unwrap();
    let seen = osaurus_tray::discovery::read::read_instance(&dir, "L".into());
    osaurus_tray::prune::remove(&seen, &Prober::default()).unwrap();
    assert!(!dir.exists());
    // Any other file still keeps the folder.
    let dir = publish(rt.path(), "M", &running_config("M", closed_port(), T1, false));
    std::fs::write(dir.join(nosync_name()), b"").unwrap();
    std::fs::write(dir.join("notes.txt"), b"mine").unwrap();
    let seen = osaurus_tray::discovery::read::read_instance(&dir, "M".into());
    let err = osaurus_tray::prune::remove(&seen, &Prober::default()).unwrap_err();
    assert!(err.contains("other files (notes.txt)"), "{err}");
    assert!(dir.join("notes.txt").exists());
}

#[test]
fn a_leftover_whose_port_another_program_took_is_pruned() {
    use osaurus_tray::probe::Prober;
    let impostor = Impostor::start();
    let rt = tempfile::tempdir().unwrap();
    let dir = publish(rt.path(), "L", &running_config("L", impostor.port, &fresh(0), false));
    let seen = osaurus_tray::discovery::read::read_instance(&dir, "L".into());
    osaurus_tray::prune::remove(&seen, &Prober::default()).unwrap();
    assert!(!dir.exists());
}

#[test]
fn the_menus_models_of_an_exposed_server_need_the_key_the_watcher_was_given() {
    use osaurus_tray::discovery::RuntimeDirs;
    use osaurus_tray::inspect::{AccessKey, Models};
    use osaurus_tray::watcher;
    let (_server, rt, _config) = exposed_server_and_folder();
    for key in [None, Some(AccessKey::new(KEY).unwrap())] {
        let (tx, rx) = std::sync::mpsc::channel();
        let options = watcher::Options { access_key: key.clone(), ..watcher::Options::default() };
        let _w = watcher::spawn(RuntimeDirs::explicit(rt.path().into()), options, move |s| {
            let _ = tx.send(s.clone());
        });
        let models = loop {
            let s = rx.recv_timeout(Duration::from_secs(10)).expect("a snapshot with models");
            let found = s.running().next().and_then(|i| s.details(i)).map(|d| d.models.clone());
            if let Some(m) = found.filter(|m| *m != Models::Unknown) {
                break m;
            }
        };
        let expected = match key {
            Some(_) => Models::Listed(MODELS.iter().map(|m| m.to_string()).collect()),
            None => Models::NeedsKey,
        };
        assert_eq!(models, expected);
    }
}

#[test]
fn one_server_named_by_many_files_is_asked_once_from_the_lan() {
    let server = Osaurus::start(plays(KeyRule::LoopbackWhileNotExposed, true));
    let rt = tempfile::tempdir().unwrap();
    for n in 0..20 {
        let id = format!("COPY{n:02}");
        let mut cfg = running_config(&id, server.port, &fresh(0), true);
        cfg["address"] = "127.0.0.1".into();
        cfg["url"] = format!("http://127.0.0.1:{}", server.port).into();
        publish(rt.path(), &id, &cfg);
    }
    let v = json(&run_in(rt.path(), &["list", "--json"]));
    assert_eq!(v.len(), 20);
    let from_lan = server.seen().iter().filter(|s| !s.local.is_loopback()).count();
    let has_lan = osaurus_tray::interfaces::lan_address(None, &osaurus_tray::interfaces::read().unwrap()).is_some();
    assert_eq!(from_lan, usize::from(has_lan), "{:#?}", server.seen());
    if has_lan {
        assert!(v.iter().all(|i| i["lanAccess"] == "guarded"), "{v:#?}");
    }
}
