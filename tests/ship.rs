//! What ships beside the app: help with examples, completions, the man page,
//! and a LaunchAgent that macOS can read.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;

fn run(args: &[&str]) -> std::process::Output {
    let mut c = bin();
    c.args(args);
    run_with_deadline(c, Duration::from_secs(20))
}

#[test]
fn version_is_the_package_version() {
    let out = run(&["--version"]);
    assert_eq!(stdout(&out), format!("osaurus-tray {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn every_command_has_help_with_examples() {
    for cmd in ["list", "url", "env", "open", "watch", "demo", "tray", "models", "prune", "completions", "man"] {
        let out = run(&[cmd, "--help"]);
        assert!(out.status.success(), "{cmd}");
        assert!(stdout(&out).contains("Examples:"), "{cmd} --help has no examples:\n{}", stdout(&out));
    }
    assert!(stdout(&run(&["--help"])).contains("eval \"$(osaurus-tray env)\""));
}

#[test]
fn completions_load_in_their_shells() {
    let bash = run(&["completions", "bash"]);
    assert!(bash.status.success());
    let script = format!("{}\ncomplete -p osaurus-tray", stdout(&bash));
    let check = Command::new("bash").arg("-c").arg(script).output().unwrap();
    assert!(String::from_utf8_lossy(&check.stdout).contains("osaurus-tray"), "bash did not register the completion");
    for shell in ["zsh", "fish"] {
        let out = run(&["completions", shell]);
        assert!(out.status.success() && stdout(&out).contains("prune"), "{shell}");
    }
    assert_eq!(run(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn the_man_page_documents_the_commands() {
    let out = run(&["man"]);
    let page = stdout(&out);
    assert!(page.contains(".TH osaurus-tray 1"), "{page}");
    for cmd in ["list", "watch", "prune", "models"] {
        assert!(page.contains(cmd), "the man page does not mention {cmd}");
    }
}

#[test]
fn the_launch_agent_is_a_valid_plist() {
    let home = tempfile::tempdir().unwrap();
    let agent = osaurus_tray::autostart::Autostart::launch_agent(home.path());
    agent.set(true, std::path::Path::new("/Applications/Osaurus Tray.app/Contents/MacOS/osaurus-tray")).unwrap();
    let out = Command::new("python3")
        .args(["-c", "import plistlib,sys,json; print(json.dumps(plistlib.load(open(sys.argv[1],'rb'))))"])
        .arg(agent.file())
        .output()
        .expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["Label"], "io.github.osaurus-tray");
    assert_eq!(v["ProgramArguments"][0], "/Applications/Osaurus Tray.app/Contents/MacOS/osaurus-tray");
    assert_eq!(v["RunAtLoad"], true);
}

#[test]
#[cfg(target_os = "linux")]
fn without_a_desktop_the_tray_says_so_and_leaves_nothing() {
    let runtime = tempfile::tempdir().unwrap();
    for args in [&["tray"][..], &["demo"][..]] {
        let mut c = bin();
        c.args(args).env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY").env("XDG_RUNTIME_DIR", runtime.path());
        let out = run_with_deadline(c, Duration::from_secs(20));
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains("No graphical session") && !err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn a_process_serial_number_is_ignored_on_macos_only() {
    // LaunchServices may start the app from Finder with `-psn_0_<n>`.
    let out = run(&["-psn_0_4242", "--version"]);
    if cfg!(target_os = "macos") {
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stdout(&out), format!("osaurus-tray {}\n", env!("CARGO_PKG_VERSION")));
    } else {
        assert!(!out.status.success(), "-psn_ is only dropped on macOS: {}", stdout(&out));
        assert!(stderr(&out).contains("unexpected argument"), "{}", stderr(&out));
    }
}
