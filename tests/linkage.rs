//! The command-line executable loads no GUI: scripts that run `url` or `env`
//! at every shell prompt, and a `watch` left running for days, must not pay
//! for GTK, X11 or D-Bus. The app executable is the one that links them.
//! (ELF and the desktop check are Linux's.)
#![cfg(target_os = "linux")]

use std::process::Command;

/// Libraries only a GUI (or its desktop bus) needs.
const GUI: [&str; 12] =
    ["gtk", "gdk", "cairo", "pango", "atk", "X11", "xcb", "appindicator", "dbus", "glib", "gobject", "gio"];

/// The shared libraries `exe` names (its ELF `NEEDED` entries).
fn needed(exe: &str) -> Vec<String> {
    let out = Command::new("readelf").args(["-d", exe]).output().expect("readelf (binutils) is needed");
    assert!(out.status.success(), "readelf -d {exe}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| l.split('[').nth(1)?.split(']').next().map(str::to_owned))
        .collect()
}

fn gui_libraries(libs: &[String]) -> Vec<&String> {
    libs.iter().filter(|l| GUI.iter().any(|g| l.contains(g))).collect()
}

#[test]
fn the_command_line_links_no_gui_library() {
    let cli = needed(env!("CARGO_BIN_EXE_osaurus-tray"));
    assert!(!cli.is_empty(), "no NEEDED entries read: the check would prove nothing");
    assert_eq!(gui_libraries(&cli), Vec::<&String>::new(), "the command line links GUI libraries: {cli:?}");
    // The same check finds them in the app, so it can fail.
    let app = needed(env!("CARGO_BIN_EXE_osaurus-tray-app"));
    assert!(gui_libraries(&app).iter().any(|l| l.contains("gtk")), "the app links no GTK? {app:?}");
}

#[test]
fn the_command_line_starts_the_app_beside_it_for_the_menu_bar_commands() {
    // A copy of the command line alone in a folder: no app beside it.
    let dir = tempfile::tempdir().unwrap();
    let cli = dir.path().join("osaurus-tray");
    std::fs::copy(env!("CARGO_BIN_EXE_osaurus-tray"), &cli).unwrap();
    let out = Command::new(&cli).args(["tray"]).env("DISPLAY", ":none").output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("osaurus-tray-app is missing"), "{err}");
    // Commands that need no tray still work there.
    let out = Command::new(&cli).args(["--runtime-dir", dir.path().to_str().unwrap(), "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "nothing runs: exit 1");
    assert!(String::from_utf8_lossy(&out.stderr).contains("No running Osaurus instance"));
    // With the app beside it, `tray` reaches the app: here it refuses for
    // want of a desktop, in the app's words.
    std::fs::copy(env!("CARGO_BIN_EXE_osaurus-tray-app"), dir.path().join("osaurus-tray-app")).unwrap();
    let out = Command::new(&cli).args(["tray"]).env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY").output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("No graphical session"), "{out:?}");
}
