//! Everything that differs between macOS and Linux, in one place.

use tray_icon::{Icon, TrayIcon, TrayIconBuilder};

use osaurus_tray::icon::{render, IconKind, Style};
use osaurus_tray::notifications::Notification;

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

/// Sets up the process for the toolkit; call first thing in `main`, before
/// any thread starts. On Linux, GDK opens OpenGL when it opens the display
/// (to pick visuals for GL), which maps Mesa and, with a software renderer,
/// libLLVM: tens of megabytes for a menu that never draws with GL. The tray
/// turns that off unless the user chose otherwise, until the toolkit has
/// started ([`after_toolkit`]), so that programs it opens are not affected.
pub fn before_toolkit() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("GDK_GL").is_none() {
        std::env::set_var("GDK_GL", "disable");
        GL_SWITCHED_OFF.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

#[cfg(target_os = "linux")]
static GL_SWITCHED_OFF: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Undoes what [`before_toolkit`] set, once GDK has read it: a browser or
/// file manager started from the menu gets the user's environment.
pub fn after_toolkit() {
    #[cfg(target_os = "linux")]
    if GL_SWITCHED_OFF.swap(false, std::sync::atomic::Ordering::Relaxed) {
        std::env::remove_var("GDK_GL");
    }
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

/// Whether [`relabel_submenu`] can change a submenu's label where it is
/// shown. On Linux that needs GTK started on this thread (the tray's event
/// loop does it); without it a relabelled submenu is replaced instead.
pub fn can_relabel_submenus() -> bool {
    #[cfg(target_os = "linux")]
    return gtk::is_initialized_main_thread();
    #[cfg(not(target_os = "linux"))]
    true
}

/// Makes the submenu row at `path` (positions from the top of `menu`) show
/// `label`, after muda's `Submenu::set_text` has been called. That is all
/// macOS needs. On Linux muda's row is a box holding an icon and a label,
/// which `set_text` (`gtk_menu_item_set_label`) does not reach, so the label
/// widget in the box is set here; libdbusmenu passes it on to the panel.
pub fn relabel_submenu(menu: &tray_icon::menu::Menu, path: &[usize], label: &str) {
    #[cfg(target_os = "linux")]
    {
        use gtk::prelude::*;
        use tray_icon::menu::ContextMenu;

        fn row(menu: gtk::Menu, path: &[usize]) -> Option<gtk::MenuItem> {
            let (first, rest) = path.split_first()?;
            let item = menu.children().get(*first)?.clone().downcast::<gtk::MenuItem>().ok()?;
            match rest {
                [] => Some(item),
                _ => row(item.submenu()?.downcast::<gtk::Menu>().ok()?, rest),
            }
        }
        fn text_of(widget: gtk::Widget) -> Option<gtk::Label> {
            match widget.downcast::<gtk::Label>() {
                Ok(label) => Some(label),
                Err(widget) => widget.downcast::<gtk::Container>().ok()?.children().into_iter().find_map(text_of),
            }
        }
        // muda's GTK text: mnemonics on, so a literal `_` is doubled.
        let gtk_text = label.replace('_', "__");
        match row(menu.gtk_context_menu(), path).and_then(|r| r.child()).and_then(text_of) {
            Some(text) => text.set_text_with_mnemonic(&gtk_text),
            None => eprintln!(
                "osaurus-tray: the menu row at {} was not found to relabel",
                path.iter().map(|n| n.to_string()).collect::<Vec<_>>().join("/")
            ),
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (menu, path, label);
}
