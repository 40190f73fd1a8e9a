//! Everything that differs between macOS and Linux, in one place.

use tray_icon::{Icon, TrayIcon, TrayIconBuilder};

use crate::icon::{render, IconKind, Style};
use crate::notifications::Notification;

/// Launching Osaurus is possible from the menu.
pub const CAN_START_OSAURUS: bool = cfg!(target_os = "macos");

/// The status item can show a title beside the icon.
pub const HAS_TITLE: bool = cfg!(target_os = "macos");

/// The icon's pixel size: 2x artwork for macOS's 22 pt menu bar.
const ICON_PX: u32 = if cfg!(target_os = "macos") { 44 } else { 32 };

fn icon(kind: IconKind) -> Icon {
    let style = if cfg!(target_os = "macos") { Style::Template } else { Style::Colour };
    Icon::from_rgba(render(kind, ICON_PX, style), ICON_PX, ICON_PX).expect("icon pixels match their size")
}

/// Whether this session can show a tray at all, in one sentence if not.
pub fn check_desktop() -> Result<(), String> {
    #[cfg(target_os = "linux")]
    {
        let set = |v: &str| std::env::var_os(v).is_some_and(|s| !s.is_empty());
        if !set("DISPLAY") && !set("WAYLAND_DISPLAY") {
            return Err("No graphical session (DISPLAY and WAYLAND_DISPLAY are unset): the tray needs a desktop. \
                        In a terminal, `osaurus-tray watch` shows the same information."
                .into());
        }
    }
    Ok(())
}

/// Sets up the event loop before it runs: menu-bar only on macOS (tao's
/// default `Regular` policy would add a Dock icon, overriding LSUIElement).
pub fn prepare<T: 'static>(event_loop: &mut tao::event_loop::EventLoop<T>) {
    #[cfg(target_os = "macos")]
    {
        use tao::platform::macos::{ActivationPolicy, EventLoopExtMacOS};
        event_loop.set_activation_policy(ActivationPolicy::Accessory);
    }
    #[cfg(not(target_os = "macos"))]
    let _ = event_loop;
}

/// Adds the platform's icon and naming to the builder.
pub fn with_icon(builder: TrayIconBuilder, kind: IconKind) -> TrayIconBuilder {
    #[cfg(target_os = "macos")]
    return builder.with_autosave_name("osaurus-tray").with_icon_templated(icon(kind));
    #[cfg(not(target_os = "macos"))]
    builder.with_icon(icon(kind))
}

/// Changes the icon shown.
pub fn set_icon(tray: &TrayIcon, kind: IconKind) {
    #[cfg(target_os = "macos")]
    let result = tray.set_icon_templated(Some(icon(kind)));
    #[cfg(not(target_os = "macos"))]
    let result = tray.set_icon(Some(icon(kind)));
    if let Err(e) = result {
        eprintln!("osaurus-tray: cannot change the tray icon: {e}");
    }
}

/// Launches the Osaurus app (macOS), the way its own docs do.
pub fn start_osaurus() -> Result<(), String> {
    #[cfg(target_os = "macos")]
    {
        let status = std::process::Command::new("/usr/bin/open")
            .args(["-b", "com.dinoki.osaurus"])
            .status()
            .map_err(|e| format!("Could not start Osaurus: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err("Could not start Osaurus: is it installed?".into())
        }
    }
    #[cfg(not(target_os = "macos"))]
    Err("Starting Osaurus is only possible on macOS.".into())
}

/// Shows a desktop notification, on a short-lived thread so that a slow
/// notification service never stalls the menu. Failures are logged.
pub fn notify(n: &Notification) {
    static REPORTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let n = n.clone();
    std::thread::spawn(move || {
        if let Err(e) = show_notification(&n) {
            // Say it once: without a notification service every call fails.
            if !REPORTED.swap(true, std::sync::atomic::Ordering::Relaxed) {
                eprintln!("osaurus-tray: could not show a notification: {e}");
            }
        }
    });
}

#[cfg(target_os = "macos")]
fn show_notification(n: &Notification) -> Result<(), String> {
    // AppleScript string literals: escape backslashes and quotes.
    let q = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let script =
        format!("display notification \"{}\" with title \"Osaurus Tray\" subtitle \"{}\"", q(&n.body), q(&n.title));
    let status =
        std::process::Command::new("/usr/bin/osascript").args(["-e", &script]).status().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("osascript exited with {status}"))
    }
}

#[cfg(not(target_os = "macos"))]
fn show_notification(n: &Notification) -> Result<(), String> {
    notify_rust::Notification::new()
        .appname("Osaurus Tray")
        .summary(&n.title)
        .body(&n.body)
        .icon("osaurus-tray")
        .show()
        .map(|_| ())
        .map_err(|e| e.to_string())
}
