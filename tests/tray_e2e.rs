//! Runs the headless end-to-end test of the menu-bar app (tests/e2e/tray.sh)
//! against the built binary. It needs Xvfb, D-Bus, a StatusNotifier watcher,
//! gdbus and xclip; where they are missing the test says so and passes,
//! unless OSAURUS_TRAY_E2E_REQUIRED=1 (as in CI), where it fails.

use std::process::Command;

const TOOLS: [&str; 7] =
    ["Xvfb", "dbus-run-session", "dbus-monitor", "status-notifier-watcher", "gdbus", "xclip", "perl"];

fn missing_tools() -> Vec<&'static str> {
    TOOLS
        .into_iter()
        .filter(|t| {
            !Command::new("sh").arg("-c").arg(format!("command -v {t}")).output().is_ok_and(|o| o.status.success())
        })
        .collect()
}

#[test]
fn tray_end_to_end_under_xvfb() {
    let missing = missing_tools();
    if !missing.is_empty() {
        let required = std::env::var("OSAURUS_TRAY_E2E_REQUIRED").is_ok_and(|v| v == "1");
        assert!(!required, "the tray end-to-end test needs: {}", missing.join(", "));
        eprintln!("SKIPPED: the tray end-to-end test needs {}", missing.join(", "));
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/tray.sh");
    let out = Command::new("bash").arg(script).arg(env!("CARGO_BIN_EXE_osaurus-tray")).output().expect("run tray.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(out.status.success(), "tray.sh failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("e2e: 11 passed, 0 failed"), "{stdout}");
}
