//! The watcher when the places it watches change under it: a symbolic link
//! above the runtime folder repointed, a runtime folder that cannot be read
//! for a while.

mod common;

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const SOON: Duration = Duration::from_secs(5);
const T1: &str = "2025-09-08T12:00:00Z";

/// Points `link` at `target` the way `ln -sfn` does: a new link renamed over
/// the old one.
fn repoint(link: &Path, target: &Path) {
    let tmp = link.with_extension("new");
    symlink(target, &tmp).unwrap();
    fs::rename(&tmp, link).unwrap();
}

#[test]
fn a_link_above_the_runtime_folder_that_is_repointed_is_followed() {
    // ~/.osaurus -> a volume, then `ln -sfn` to another volume.
    let root = tempfile::tempdir().unwrap();
    let one = root.path().join("volume-one");
    let two = root.path().join("volume-two");
    publish(&one.join("runtime"), "A", &running_config("A", 1337, T1, false));
    publish(&two.join("runtime"), "B", &running_config("B", 1338, T1, false));
    let home = root.path().join("home");
    fs::create_dir(&home).unwrap();
    let dot = home.join(".osaurus");
    symlink(&one, &dot).unwrap();
    let runtime = dot.join("runtime");

    let mut w = WatchProc::start(&runtime, &["--no-probe"], &[]);
    w.wait_for(SOON, "A through the link", |v| line_ids(v) == ["A"]);
    repoint(&dot, &two);
    w.wait_for(SOON, "B after the link above the runtime folder moved", |v| line_ids(v) == ["B"]);
    // Changes behind the new link are followed too.
    publish(&two.join("runtime"), "C", &running_config("C", 1339, T1, false));
    let line = w.wait_for(SOON, "C written behind the new link", |v| line_ids(v).len() == 2);
    let listed = json(&run_in(&runtime, &["list", "--all", "--json", "--no-probe"]));
    assert_eq!(line["instances"].as_array().unwrap(), &listed, "watch agrees with list");
    // And the old volume no longer counts.
    publish(&one.join("runtime"), "D", &running_config("D", 1340, T1, false));
    let lines = w.drain(Duration::from_millis(500));
    assert!(
        lines.iter().all(|l| !line_ids(l["instances"].as_array().unwrap()).contains(&"D".to_owned())),
        "{lines:#?}"
    );
}

/// `watch --json` with the permission checks a normal user has: run as root
/// (as CI is), the process would read any folder whatever its mode. The
/// capabilities that let root bypass them are dropped with `setpriv`.
fn watch_without_root_powers(runtime: &Path) -> Option<WatchProc> {
    let probe = Command::new("setpriv")
        .args(["--bounding-set=-dac_override,-dac_read_search", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !probe {
        eprintln!("setpriv cannot drop capabilities here: permission checks cannot be tested");
        return None;
    }
    let mut c = Command::new("setpriv");
    c.arg("--bounding-set=-dac_override,-dac_read_search").arg(env!("CARGO_BIN_EXE_osaurus-tray"));
    c.env_remove("OSAURUS_RUNTIME_DIR");
    c.arg("--runtime-dir").arg(runtime).args(["watch", "--json", "--no-probe"]);
    Some(WatchProc::spawn(c))
}

fn warnings(line: &Value) -> Vec<String> {
    line["warnings"]
        .as_array()
        .unwrap_or_else(|| panic!("a watch line without a warnings array: {line}"))
        .iter()
        .map(|w| w.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_runtime_folder_that_cannot_be_read_is_named_in_each_line_until_it_can() {
    let outer = tempfile::tempdir().unwrap();
    let runtime = outer.path().join("runtime");
    publish(&runtime, "A", &running_config("A", 1337, T1, false));
    let Some(mut w) = watch_without_root_powers(&runtime) else { return };
    let first = w.wait_for(SOON, "A", |v| line_ids(v) == ["A"]);
    assert_eq!(warnings(&first), Vec::<String>::new());

    fs::set_permissions(&runtime, fs::Permissions::from_mode(0o000)).unwrap();
    let locked = w.wait_for(SOON, "the folder unreadable", |v| v.is_empty());
    let said = warnings(&locked);
    assert!(
        said.iter().any(|s| s.contains(&*runtime.to_string_lossy()) && s.contains("permission denied")),
        "the line says nothing of the unreadable folder: {said:?}"
    );

    fs::set_permissions(&runtime, fs::Permissions::from_mode(0o755)).unwrap();
    let back = w.wait_for(SOON, "A again", |v| line_ids(v) == ["A"]);
    assert_eq!(warnings(&back), Vec::<String>::new());

    // Back on events, not on a 2 s poll: each change shows well within a poll's period.
    for (n, id) in ["B", "C", "D"].into_iter().enumerate() {
        let start = Instant::now();
        publish(&runtime, id, &running_config(id, 1338 + n as u16, T1, false));
        w.wait_for(SOON, id, |v| v.iter().any(|i| i["instanceId"] == id));
        let took = start.elapsed();
        assert!(took < Duration::from_millis(900), "{id} took {took:?}: still polling? stderr: {}", w.stderr());
    }
}
